// Package serverconf holds the conformance table of this module's server role (the opening
// handshake of handshake.Upgrader, RFC 6455 §4.2, and a conn.Conn made with frame.RoleServer,
// RFC 6455 §5-§8), played by a raw TCP client on 127.0.0.1.
//
// The raw client lives in the package's tests. It writes its handshake requests by hand and
// builds and parses frames with its own small encoder (§5.2), independent of package frame, so
// that a bug in the engine's encoder cannot hide the same bug in its decoder. Each scenario of
// the table names the RFC section it checks and asserts two things: what the raw client receives
// (HTTP status and headers, the server's close frame and its code, that every server frame is
// unmasked, §5.1) and what the server side reports (the handshake error, the *conn.CloseError).
//
// The package has no code outside its tests. Its tests import the engine (handshake, conn,
// frame); nothing may import it, and it must not import package client.
package serverconf
