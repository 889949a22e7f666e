// Command wscat is a command-line WebSocket client in the manner of the wscat of Node.js, built
// on this module's seed API (package client: CreateWebSocket, On for all six events, Connect,
// Send, Close). It is the project's main program: make run starts it.
//
// Usage:
//
//	wscat [flags] [URL]
//
// wscat connects to URL (ws:// or wss://), sends each line of standard input as a text message
// (--binary: as a binary message), and at the end of the input closes the connection (code
// 1000, or --close-code and --close-reason) and waits for the server's close. Every event is
// printed on standard output as one line that starts with the event's name:
//
//	HEADERRECEIVE Connection: Upgrade; Sec-WebSocket-Accept: ...; Upgrade: websocket
//	OPEN 101 Switching Protocols
//	MESSAGE hello
//	DATAEND
//	MESSAGE binary 20 bytes deadbeef000102030405060708090a0b ... (4 more)
//	DATAEND
//	CLOSE 1000
//	ERROR 2302999 other error: dial tcp 127.0.0.1:1: connect: connection refused
//
// Text the server chose (messages, header names and values, the status text, close reasons,
// error text quoting the server) is printed with every character a terminal would act on
// escaped, so that each event stays on one line and a server cannot move the cursor, recolour
// or retitle the terminal, or reorder what it shows: \n, \r and \t by name, other C0 controls,
// DEL and invalid UTF-8 bytes as \xNN, C1 controls (U+0080-U+009F), bidirectional controls
// (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and U+2028/U+2029 as \uXXXX; other
// text, backslashes included, as it is. A binary message shows its length and the hex of its
// first 16 bytes, followed by "... (N more)" when it is longer. --json prints one JSON object
// per event instead, with the exact data (binary as base64), valid JSON in which DEL, C1 and
// bidirectional controls are \u escapes too. Messages of wscat itself (which server it started, warnings, errors) go
// to standard error, so standard output holds events only.
//
// Without a URL, wscat starts an embedded echo server (package internal/echoserver, this
// module's server role) on 127.0.0.1 with a free port, says so on standard error, and connects
// to it: it works with no network. When standard input is then empty and is not a terminal (as
// in make run </dev/null, or CI without input), wscat sends a short demo conversation of a few
// text messages and one binary message, closes with 1000 and exits 0.
//
// --echo sends every received message back, with its type, ignores standard input, and exits
// when the connection closes.
//
// When standard input is a terminal, wscat says on standard error, once connected: "wscat:
// connected; type a message and press Enter to send it, Ctrl-D to close".
//
// An interrupt (Ctrl-C) or SIGTERM ends the input early: wscat closes as at the end of input
// and exits 130 (143 after SIGTERM); a second interrupt ends it at once.
//
// # The common dialect
//
// wscat takes the flags of node's wscat and of websocat that people already type, with their
// meaning, while its event lines stay the default output:
//
//   - -c/--connect URL: the URL (the same as giving it as an argument). A URL that is not ws://
//     or wss:// is a usage error that says what to try: "wscat 127.0.0.1:9001" answers
//     `wscat: "127.0.0.1:9001" is not a WebSocket URL; try ws://127.0.0.1:9001`; http://
//     suggests ws:// and https:// wss://. User information is shown as "xxxxx".
//   - -s: --subprotocol. -o/--origin ORIGIN: the Origin header. --auth USER:PASSWORD: an
//     Authorization: Basic header; the credentials never appear in output or errors.
//   - -n, -k, --no-check: --insecure.
//   - -w/--wait SECONDS: after the input ends, wait that long (decimals allowed) for the
//     server's replies, printing them, then close; the server's close ends it earlier. Without
//     -w, wscat closes once every message was written and no message came for 250 ms (2 s at
//     most after the last one; with the embedded echo server, once every echo came back), so a
//     server that answers later than that needs -w.
//   - --no-close: do not close at the end of the input; print until the server closes or an
//     interrupt.
//   - -x/--execute MESSAGE, repeatable: send these messages in order instead of reading
//     standard input, then wait (-w, or by default until a reply per message came and then
//     250 ms without one, 2 s at most after the last) and close.
//   - -P/--show-ping-pong: print the pings and pongs received, "PING <hex of the payload>" and
//     "PONG <hex>" (client.WebSocketRequestOptions.OnPing and OnPong), when they are read.
//   - -r/--raw: print the message payloads only, one per line: text as it is (escaped as above
//     when standard output is a terminal), binary as lowercase hex, or with --binary its bytes
//     unchanged, without a line ending. No HEADERRECEIVE, OPEN, DATAEND or CLOSE lines; ERROR,
//     a CLOSE other than 1000, 1001 and 1005, and PING/PONG go to standard error as "wscat: "
//     lines.
//   - --version: the module version (runtime/debug.ReadBuildInfo), "devel" when unknown.
//   - --proxy socks5://[user:pass@]host[:port] and socks5h://...: a SOCKS5 proxy
//     (client.SOCKS5Proxy); socks5:// resolves the target's name in wscat, socks5h:// at the
//     proxy.
//
// Flags may come before or after the URL, with one dash or two. They map to the seed's
// WebSocketRequestOptions: -H 'Name: value' (repeatable) to header, --subprotocol to protocol,
// --proxy system|none|http://[user:pass@]host[:port] and --proxy-exclude to proxy (SYSTEM,
// NO_PROXY, HTTPPROXY with its exclusionList), --ca to caPath, --cert, --key and
// --key-password-file to clientCert, --insecure to skipServerCertVerification, --tls-min 1.2|1.3
// to minSupportTlsProtocol, --ping-interval and --pong-timeout (seconds) to pingInterval and
// pongTimeout, --max-message-size to the message size limit, --compress (with
// --client-window-bits, --server-window-bits, --client-no-context-takeover,
// --server-no-context-takeover and --compress-level, each of which implies it) to
// PerMessageDeflate: it offers permessage-deflate (RFC 7692), and the embedded echo server
// accepts it (and compresses at --compress-level too). --proxy socks5://... maps to
// client.SOCKS5Proxy, since the seed's HTTPPROXY has no SOCKS form (--proxy system with
// ALL_PROXY=socks5://... works too). wscat -h lists them all.
//
// --http2 opens wss:// over HTTP/2 (RFC 8441; WebSocketRequestOptions.HTTP2 =
// HTTP2Required) and fails when the server cannot; --http2=auto uses HTTP/2 when the server
// allows it and HTTP/1.1 otherwise (HTTP2Auto). The OPEN line says which was used: "OPEN 200
// OK" over HTTP/2, "OPEN 101 Switching Protocols" over HTTP/1.1.
//
// -L (--location) follows redirects (FollowRedirects; --max-redirects N, default 10, sets
// MaxRedirects) and --handshake-timeout TIME (a Go duration such as 300ms or 5s, or seconds)
// bounds the connection attempt (HandshakeTimeout, default 30 s): both are options of this
// module beyond the seed.
//
// Server mode: wscat --listen [HOST:]PORT (or -l) serves WebSocket clients with the server
// facade (package server) on HOST:PORT, HOST 127.0.0.1 by default and PORT 0 for a free port,
// and says "wscat: listening on ws://HOST:PORT/" on standard error. With --echo it sends every
// message back with its type, printing only CONNECT, CLOSE and ERROR. Without it, it prints each connection's events with a
// connection id numbered from 1 (CONNECT 1 127.0.0.1:40000, MESSAGE 1 hello, CLOSE 1 1000,
// ERROR 127.0.0.1:40002 2302999 ... for a refused client) and sends each line of standard
// input to every open connection. --cert, --key and --key-password-file serve wss://;
// --subprotocol NAME is the subprotocol every client must offer (WebSocketServerConfig.Protocol).
// --compress accepts permessage-deflate (WebSocketServerConfig.PerMessageDeflate, RFC 7692);
// the window-bits and no-context-takeover flags are then the server's caps on each direction
// (each implies --compress) and --compress-level the level of what it sends.
// SIGINT or SIGTERM stops the server (every client closed with 1001) and wscat exits 0.
//
// Exit status:
//
//	0  the connection closed normally: the close code was 1000 or 1001, the --close-code given,
//	   or our close was answered by a close frame without a code (1005)
//	1  an ERROR event (connection refused, handshake or TLS failure, lost connection, ...),
//	   any other close code, such as a server closing with 4000 when --close-code is not 4000,
//	   or a line of input (or an -x message) that was refused, such as a text line that is not
//	   UTF-8 (the other lines are still sent)
//	2  a usage error: a bad flag or argument, a URL that is not ws:// or wss:// (the client's
//	   error 2302001), a request option the client refuses (401) or a certificate file that
//	   does not exist (2302002)
//	130 an interrupt (SIGINT) ended a client, after its normal close; 143 for SIGTERM. In
//	   server mode (--listen) both stop the server and exit 0.
//
// Errors are one line on standard error.
package main
