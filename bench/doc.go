// Package bench holds side-by-side benchmarks of this module's engine against other Go
// WebSocket implementations (gobwas/ws today). It is a module of its own, with a replace
// directive to the root, so that no competitor ever enters the library's go.mod.
//
// Every benchmark names its implementation in a sub-benchmark key, impl=ours or impl=gobwas,
// so that `benchstat -col /impl` prints the two side by side (see scripts/bench.sh).
package bench
