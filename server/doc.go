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
// This package imports conn, handshake, frame, tlsconf and internal packages; it must not
// import package client.
package server
