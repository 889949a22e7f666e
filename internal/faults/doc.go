// Package faults holds fault-injection and load tests of this module, on real loopback sockets:
// network faults against our client (the facade client.CreateWebSocket and the blocking
// client.Dial) and against our server role (handshake.Upgrader with a conn.Conn in
// frame.RoleServer): the TCP connection dropped in the middle of the opening handshake (RFC 6455
// §4), of a frame (§5.2) and of the closing handshake (§7.1); a peer that never reads, so that
// writes block until their context ends; a peer that resets the connection. Each must end with
// the right events or errors (a *conn.CloseError with 1006 for a connection lost without a
// close frame, §7.1.5), never a hang: every wait in these tests is bounded.
//
// Beside the faults: many goroutines writing on one connection at once, checked for lost,
// duplicated, reordered or interleaved messages (under the race detector, in make test), and,
// behind the build tag load, 10,000 concurrent client connections to our server role (make
// load; the race detector's goroutine limit rules it out of make test).
//
// The package has no code outside its tests. Its tests import package client and the engine;
// nothing may import this package.
package faults
