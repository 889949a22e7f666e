// Package bench holds side-by-side benchmarks of this module's engine against other Go
// WebSocket implementations (gobwas/ws today). It is a module of its own, with a replace
// directive to the root, so that no competitor ever enters the library's go.mod.
//
// The peers program (./peers, `make bench-peers`) compares whole clients instead: ours (blocking
// API and seed facade), gorilla/websocket, coder/websocket, gobwas/ws, lxzan/gws and a raw TCP
// floor, against one server process on loopback, and prints Markdown tables.
//
// Every benchmark names its implementation in a sub-benchmark key, impl=ours or impl=gobwas,
// so that `benchstat -col /impl` prints the two side by side (see scripts/bench.sh).
package bench
