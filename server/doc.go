// Package server is the platform's WebSocketServer (createWebSocketServer, API 19 and later)
// in Go: a WebSocket server driven by methods that return at once and report through
// callbacks and events, in the style of package client's facade.
//
//	srv := server.CreateWebSocketServer()
//	srv.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
//		srv.Send(m.Data, m.ClientConnection, nil) // echo
//	}))
//	err := srv.Start(&server.WebSocketServerConfig{ServerIP: "127.0.0.1", ServerPort: 8080}, nil)
//
// It is built on this module's engine: the server side of the opening handshake of package
// handshake (RFC 6455 §4.2: request validation, 400/405/426/431 refusals, subprotocol
// selection §1.9), and a conn.Conn in the server role for each client (RFC 6455 §5-§7:
// masked client frames required, a protocol violation fails the connection with 1002, text that
// is not UTF-8 with 1007, a message over MaxMessageSize with 1009, the closing handshake from
// either side §7.1.2). TLS (wss://) comes from crypto/tls with the certificate and key read by
// package tlsconf, encrypted keys included.
//
// # Events and concurrency
//
// Every client connection has its own serial queue: its connect event, its messageReceive
// events, the results of Send and Close on it, the error of a failed or lost connection, and
// its close event run one at a time, in that connection's wire order. Callbacks of different
// connections may run at the same time on different goroutines. Callbacks may call Send,
// Close, Stop, On and Off without deadlock. Refused clients (limits, bad handshakes, a refused
// origin or subprotocol, the HandshakeHook) are reported as error events on the server's own
// queue, as are the results of Start and Stop.
//
// # Limits
//
// MaxConcurrentClientsNumber (default 10) and MaxConnectionsForOneClient (default 10, per
// client IP address) are checked when a TCP connection is accepted, before the upgrade: a
// connection in its handshake holds a slot. A client past a limit gets an HTTP 503 response
// whose body says which limit, the TCP connection is closed, and an error event (2302999
// wrapping ErrTooManyClients or ErrTooManyForClient, with the client's WebSocketConnection)
// is emitted. Each connection's send queue is bounded (SendQueueBytes, SendQueueMessages).
//
// # Subprotocol
//
// When WebSocketServerConfig.Protocol is set, the server selects it for every client and
// refuses, with HTTP 400 and an error event (ErrNoSubprotocol), a client that does not offer
// it in Sec-WebSocket-Protocol, including a client that offers no subprotocol at all, as the
// platform does.
//
// # Compression
//
// WebSocketServerConfig.PerMessageDeflate (not in the platform) accepts permessage-deflate
// (RFC 7692): the first acceptable offer of a client's Sec-WebSocket-Extensions is agreed
// within the deflate.ServerOptions caps (RFC 7692 §7.1: window bits 8 to 15 and
// no_context_takeover for each direction), as handshake.Upgrader's Deflate does, and the 101
// response names the agreed parameters. Such a connection compresses the messages Send
// writes from CompressionThreshold bytes on (default 128; deflate.ServerOptions.Level sets the
// level) and inflates compressed messages received, in both delivery modes; MaxMessageSize
// bounds the inflated size (past it, 1009). A client that offers nothing acceptable is served
// uncompressed. It is off by default. With no context takeover in both directions an idle
// connection keeps no window (within the noise of an uncompressed one,
// BenchmarkIdleConnectionMemoryDeflate); with takeover it keeps two windows of up to 2^15
// bytes.
//
// # Received messages: ownership and cost
//
// By default each messageReceive gets its message as a StringData or ArrayData of its own,
// which the callback may keep: the server never writes that memory again. That costs one
// allocation per message, a block holding the MessageData header in front of the payload (as
// in package client), except for a payload that fills its size class, such as 4 KiB, 16 KiB
// or 64 KiB, which the header would push into the next one (16 KiB into 18 KiB): that one is
// the payload and a 24-byte box, two allocations.
//
// With WebSocketServerConfig.BorrowMessages (not in the platform) a received message costs no
// allocation: each connection reads every message into one buffer it reuses, and
// messageReceive gets the connection's *BorrowedData over it, valid only until the callback
// returns (copy what you keep; Send may be given the *BorrowedData itself, and copies it when
// the message must wait in the send queue). The reader then never queues a message behind the
// connection's other callbacks: it waits for them.
//
// Measured against a bare conn-level echo server (handshake.Upgrader and conn.Conn reading
// into one reused buffer, WriteMessage) in the same runs (BenchmarkEchoRoundTrip,
// BenchmarkEchoThroughput: 12 runs of -count 1, each with the bare server, the default facade
// and the borrowing facade back to back; medians of the runs' facade/bare ratios, on a shared
// 2-core machine at load average 2.3-4, whose runs spread by ±15-40%): round trip of 64 B
// 0.96x (1 allocation) and 0.99x borrowing (0); pipelined echo of 64 B 0.83x and 0.87x;
// pipelined echo of 16 KiB 0.79x (2 allocations: the payload's allocation and the collections
// it causes are the gap) and 1.07x borrowing (likely because Send hands a frame the socket
// cannot take at once to a writer goroutine and the reader goes on, where the bare server's
// WriteMessage waits).
// An idle server-side connection costs 4.0 KiB (BenchmarkIdleConnectionMemory).
//
// This package imports conn, handshake, frame, deflate, tlsconf and internal packages; it must not
// import package client.
package server
