// Package interop holds the interop tests of this module: its client against WebSocket servers
// that nobody here wrote, started on loopback. The peers are a Node server on the npm package ws
// (8.x, node/server.js) and a Python server on Debian's python3-websockets (10.4,
// python/server.py); install.sh installs both. The tests (interop_test.go) need the build tag
// interop, so that `go test ./...` needs neither Node nor Python:
//
//	make interop    # ./interop/install.sh && go test -race -count=1 -tags interop ./interop/
//
// proxy_test.go runs tinyproxy (HTTP CONNECT with Basic authentication) and dante's danted
// (SOCKS5), both from Debian and installed by install.sh, each with a configuration in a
// temporary folder: ws and wss through tinyproxy, a wrong or missing password (401/407, no
// hang), the target never seeing Proxy-Authorization, the exclusion list going direct, SOCKS5
// (socks5 and socks5h) through dante, with and without username/password (a second danted with
// socksmethod username, checking the system account netkitsocks that the test creates as
// root), and the SYSTEM proxy from HTTP_PROXY, NO_PROXY and
// ALL_PROXY.
//
// tls_test.go runs nginx (Debian, installed by install.sh with openssl) as a TLS server that
// requires client certificates, in front of internal/echoserver, with a CA, certificates and
// keys (plain, encrypted PKCS#8, legacy encrypted PEM) made by openssl at test time.
//
// deflate_test.go runs permessage-deflate (RFC 7692) through the engine: our client
// (client.Dial with DialOptions.Deflate) against node/deflate_server.js (ws with
// perMessageDeflate) and python/deflate_server.py (websockets' ServerPerMessageDeflateFactory),
// one peer process per parameter set, and node/deflate_client.js and python/deflate_client.py
// against our server role (handshake.Upgrader with Deflate, conn.Config.Compression). Text and
// binary messages from 0 B to 4 MiB are echoed compressed both ways, in every takeover mode and
// with windows 2^8 to 2^15, and the bytes on the wire are counted to check that they are.
//
// server_test.go runs the other direction for the server facade (package server): the clients
// node/server_client.js (ws) and python/server_client.py (websockets) against it, over ws://
// and wss:// (a certificate made at test time, trusted by the clients through a CA file): echo
// of text and binary messages with their types, the subprotocol selected (Protocol) and
// clients that do not offer it refused with 400, MaxConnectionsForOneClient refusing with 503,
// the server's Close (4000 "bye" reaching the client), and Stop with two clients attached
// (both see 1001, Stop's callback within its bound).
//
// A peer that cannot be started fails the tests; it is never skipped. The package has no code
// of its own and imports nothing.
package interop
