// Package interop holds the interop tests of this module: its client against WebSocket servers
// that nobody here wrote, started on loopback. The peers are a Node server on the npm package ws
// (8.x, node/server.js) and a Python server on Debian's python3-websockets (10.4,
// python/server.py); install.sh installs both. The tests (interop_test.go) need the build tag
// interop, so that `go test ./...` needs neither Node nor Python:
//
//	make interop    # ./interop/install.sh && go test -race -count=1 -tags interop ./interop/
//
// A peer that cannot be started fails the tests; it is never skipped. The package has no code
// of its own and imports nothing.
package interop
