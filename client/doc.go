// Package client is the WebSocket client of this module: the NetworkKit WebSocket API
// (ohos.net.webSocket: createWebSocket, connect, send, close, on, off and their option and
// callback types) in Go, plus a blocking Go API for services.
//
// # The seed API
//
// Every type, enum variant and member of the seed document has one Go counterpart:
//
//	seed                                         Go
//	createWebSocket()                            CreateWebSocket() *WebSocket
//	WebSocket.connect(url, cb, options)          (*WebSocket).Connect(url, *WebSocketRequestOptions, cb)
//	WebSocket.send(data, cb)                     (*WebSocket).Send(MessageData, cb)
//	WebSocket.close(cb, options)                 (*WebSocket).Close(cb, *WebSocketCloseOptions)
//	WebSocket.on(type, cb) / off(type, cb?)      (*WebSocket).On(OnOffType, Callback) / Off(OnOffType, ...Callback)
//	MessageData.STRING_DATA(s) / ARRAY_DATA(b)   StringData / ArrayData (both implement MessageData)
//	OnOffType.OPEN                               EventOpen
//	OnOffType.MESSAGE                            EventMessage
//	OnOffType.CLOSE                              EventClose
//	OnOffType.ERROR                              EventError
//	OnOffType.DATAEND                            EventDataEnd
//	OnOffType.HEADERRECEIVE                      EventHeaderReceive
//	on('openInfo') (platform, later)             EventOpenInfo
//	ProxyConfiguration.NO_PROXY                  NoProxy{}
//	ProxyConfiguration.SYSTEM                    SystemProxy{} (a nil ProxyConfiguration means the same)
//	ProxyConfiguration.HTTPPROXY(p)              HTTPProxy{Proxy: p}
//	ResponseHeaders.MAP_DATA(m)                  MapData
//	ResponseHeaders.ARRAY_STRING_DATA(a)         ArrayStringData
//	ResponseHeaders.UNDEFINED_DATA               UndefinedData{}
//	WebSocketAsyncCallback<T>(f)                 NewWebSocketAsyncCallback[T](f) *WebSocketAsyncCallback[T]
//	WebSocketErrorCallback(f)                    NewWebSocketErrorCallback(f) *WebSocketErrorCallback
//	Callback0Argument (DATAEND)                  NewDataEndCallback(f) *DataEndCallback
//	Callback1Argument<ResponseHeaders>           NewHeaderReceiveCallback(f) *HeaderReceiveCallback
//	Callback<WebSocketOpenInfo> (platform)       NewOpenInfoCallback(f) *OpenInfoCallback
//	WebSocketOpenInfo{status, message,           WebSocketOpenInfo{Status, Message, Protocol}
//	  protocol?} (platform)                        (Protocol "" when none was negotiated)
//	TlsProtocol.TLS_V_1_0 .. TLS_V_1_3           TlsProtocol: TLSV10 .. TLSV13
//	  (platform)                                   (the values of tls.VersionTLS10 .. 13)
//	minSupportTlsProtocol (platform)             WebSocketRequestOptions.MinSupportTlsProtocol
//	URL of at most 2048 characters               MaxURLLength (2048); longer is 2302001
//	CloseResult, WebSocketCloseOptions,          structs of the same names and fields;
//	WebSocketClientCert, WebSocketHttpProxy,     NewWebSocketRequestOptions and
//	WebSocketRequestOptions                      NewWebSocketCloseOptions give the seed defaults
//	BusinessException, AsyncError                *BusinessException, *AsyncError (Code, cause via Unwrap)
//	Option<T> in callbacks                       a nil *AsyncError; the zero T when there is no data
//
// The callback types are pointers made by constructors so that Off(type, cb) can find the very
// callback that On registered.
//
// The event types and their callbacks:
//
//	EventOpen           *WebSocketAsyncCallback[map[uint32]string]  {101: "Switching Protocols"}
//	EventMessage        *WebSocketAsyncCallback[MessageData]        StringData or ArrayData
//	                                                                (*BorrowedData with BorrowMessages)
//	EventClose          *WebSocketAsyncCallback[CloseResult]
//	EventError          *WebSocketErrorCallback                     *BusinessException
//	EventDataEnd        *DataEndCallback                            after each message
//	EventHeaderReceive  *HeaderReceiveCallback                      MapData of the 101 response
//	EventOpenInfo       *OpenInfoCallback                           WebSocketOpenInfo, right after OPEN
//
// # Events and threads
//
// All callbacks of one WebSocket (events and the callbacks of Connect, Send and Close) run one at
// a time, in order, on a goroutine the WebSocket starts when it has something to deliver and
// that ends when nothing is left; MESSAGE and DATAEND run on the connection's reading goroutine
// itself when no other callback is pending, so a steady stream of messages starts no goroutine
// and the connection reads no further while a MESSAGE callback runs. Events of a connection
// arrive in wire order: HEADERRECEIVE,
// OPEN, openInfo (EventOpenInfo, in the same task as OPEN), then MESSAGE followed by DATAEND
// for each message, then CLOSE. A connection lost without a close frame (RFC 6455 §7.1.5, code
// 1006) reports ERROR first, then CLOSE with 1006 and a reason that says why. A callback may
// call any method of the WebSocket; no lock of the WebSocket is held while a callback runs.
//
// # Sending: the queue and backpressure
//
// Send never blocks: when nothing is queued and the socket takes the frame at once, Send writes
// it itself (the steady path starts no goroutine); otherwise it queues the message, and the
// connection's writing goroutine (which exists only while messages wait) writes the queue in
// order. The queue is bounded by
// WebSocketRequestOptions.SendQueueBytes and SendQueueMessages (default 16 MiB and 4096
// messages); a Send past either fails at once with 2302999 and ErrQueueFull, and nothing
// queued is dropped. BufferedAmount tells how much is queued, in bytes and messages (the
// browser's bufferedAmount): wait while it is high, or for the Send callbacks, to send no
// faster than the server reads. Close writes the queue before its close frame for as long as
// the server reads it; only 5 s without progress cuts the connection (ERROR
// ErrCloseWriteTimeout, CLOSE 1006). Messages queued before a protocol violation of the server
// (1002, 1007, 1009) still go out before our close frame.
//
// # The blocking API
//
// Dial opens a connection with a context and returns it with the handshake response; it is the
// API for services and the transport under the seed facade.
//
// # Defaults, proxies and redirects
//
// A nil *DialOptions and a nil *WebSocketRequestOptions open the same connection, and a zero
// field means the same default in both, but for keepalive (see WebSocketRequestOptions: the
// platform documents a zero pingInterval as "disabled"). Both use the environment's proxy
// (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY) unless told otherwise (DialOptions.Proxy
// ProxyDirect; NoProxy), through one implementation that chooses the proxy again for each
// connection a dial opens. Both bound the attempt by a 30 s handshake timeout
// (DefaultHandshakeTimeout).
//
// Redirects (RFC 6455 §4.1 lets a client follow a 3xx; not in the seed) are off by default and
// followed, in both APIs, with FollowRedirects: 301, 302, 303, 307 and 308 with a Location,
// relative or absolute, http(s) mapped to ws(s), wss to ws refused, at most MaxRedirects
// (DefaultMaxRedirects, 10) of them, Authorization, Cookie and Proxy-Authorization sent only
// to the origin of the URL given; loops end with ErrRedirectLoop, long chains with
// ErrTooManyRedirects (2302999 in the facade).
//
// # Keepalive
//
// Both APIs keep a connection alive with pings and find out when the server is gone (options
// DialOptions.PingInterval and PongTimeout; WebSocketRequestOptions.PingInterval and
// PongTimeout, in seconds; default 30 s / 30 s). The rules:
//
//   - A ping goes out after PingInterval with nothing received. Every received byte restarts
//     the interval, a part of a frame included (a large message arriving slowly keeps the
//     connection alive), not only whole messages and pongs. With a server that only answers
//     pings, a ping goes out every PingInterval: after a pong, the next ping is PingInterval
//     later, so the line is never silent for much longer than PingInterval.
//   - The connection is given up (reads return ErrPongTimeout; the facade reports ERROR, then
//     CLOSE 1006 "pong timeout") when, after a ping, nothing at all has arrived while the
//     reader waited PongTimeout on the network. A silent server is therefore found dead
//     PingInterval + PongTimeout after its last bytes.
//   - Only time in which a read is waiting on the network counts towards PongTimeout. While
//     the application holds the reader back (a MESSAGE callback runs: the facade reads no
//     further meanwhile; no ReadMessage is in progress on a Conn from Dial; a read is busy
//     with input it already has), no pong deadline runs: what the server sent meanwhile waits
//     in the kernel and is seen as soon as the reader comes back, so a slow application never
//     makes a healthy server look dead and loses no message. Pings still go out every
//     PingInterval meanwhile. A Conn that is never read is therefore never given up.
//   - A ping that cannot be written (a write blocked by a server that reads nothing) waits at
//     most PongTimeout and counts as sent for the rule above.
//   - Close and CloseNow never wait for a keepalive ping: a ping being written holds the
//     connection like any write, which Close waits for at most its close timeout before it
//     cuts the connection; CloseNow cuts it at once.
//
// Keepalive is a runtime timer, not a goroutine; the reader's side of it costs a flag load per
// read(2) and a clock read only when a read parks waiting for input (conn.Config.TrackReads).
//
// # WebSocket over HTTP/2
//
// DialOptions.HTTP2 (not in the seed; off by default) opens wss:// WebSockets by the extended
// CONNECT of RFC 8441 as streams of a shared HTTP/2 connection: HTTP2Auto when the server
// allows it (ALPN h2, then SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, RFC 8441 §3) with a
// fallback to the HTTP/1.1 Upgrade, HTTP2Required or ErrHTTP2Unsupported. The request
// carries :method CONNECT, :protocol websocket, :scheme https, :path, :authority,
// Sec-WebSocket-Version 13 and the subprotocol and permessage-deflate offers (§4-§5; no
// Sec-WebSocket-Key, Upgrade or Connection); a 2xx answer opens the WebSocket, so the
// Response's StatusCode is 200, not 101. Framing, masking, the closing handshake and
// keepalive are RFC 6455's (§5). Close ends the stream, not the HTTP/2 connection, which
// HTTP2Pool keeps for the next WebSocket to the origin: in one run
// (BenchmarkConnectWSS, both ends in the process, medians of 3) a WebSocket on an open
// HTTP/2 connection cost 285 µs and 166 allocations against 1389 µs and 872 allocations for
// a wss:// HTTP/1.1 connect (0.21x). The stream is relayed through a net.Pipe for
// socket-like deadlines: one relay goroutine and a 16 KiB buffer per WebSocket, plus
// x/net/http2's body writer goroutine and its request-body scratch buffer of
// min(the server's SETTINGS_MAX_FRAME_SIZE, 512 KiB), on top of the costs below
// (BenchmarkHTTP2MemoryPerWebSocket). ws:// uses HTTP/1.1 (no
// h2c). See handshake.Upgrader.UpgradeHTTP2 for the server side under net/http, which needs
// GODEBUG=http2xconnect=1.
//
// # Cost
//
// An idle connection holds no read or write buffer (see package conn) and one goroutine: the
// one reading it (the caller's, with the blocking API; the WebSocket's own, with the facade,
// whose writing goroutine exists only while messages wait). Keepalive is a timer. Measured
// with 2000 idle connections against a server in another process (BenchmarkIdleConn): about
// 4.7 KiB per connection with the blocking API and 5.2-5.8 KiB with the facade (make
// bench-peers, 5000 connections: 4.6 KiB and 5.7 KiB). A connect and close with Dial and
// context.Background() makes about 32 allocations, 14 of them in net (BenchmarkHandshake); with
// a cancellable context about 40 (net and ours each register one watcher on it; bench-peers:
// 40, and 59 with the facade, whose Close abandons a dial through its session, not a watcher). ReadMessage and WriteMessage allocate nothing with a reused
// buffer. The facade makes one allocation per received message, and none per sent one that
// goes out at once (bench-peers: 0.06 to 1 per sent message, the queue's pooled copies and
// the Send callbacks' reports): a received message is one
// block holding the MessageData header and the payload (a message that arrives in k fragments takes O(log k)
// blocks, each at least twice the last, so reassembly is linear: 4 MiB in 65,536 frames of
// 64 B takes 17, see BenchmarkFragmented); Send copies an ArrayData only when it must queue it
// (into a pooled buffer: the caller may reuse its slice at once) and sends a StringData from
// the string's own bytes.
//
// With WebSocketRequestOptions.BorrowMessages (not in the seed) a received message costs no
// allocation: every message is read into one buffer the connection reuses, and MESSAGE gets a
// *BorrowedData over it whose Data is valid only until the callback returns (copy what you
// keep; text is never a string over the buffer, as a string must not change). The reader then
// never queues a message behind other callbacks: it waits for them, so a borrowed view is
// never overwritten before its callbacks ran. Measured in one bench/peers run (2026-12-03
// 20:10 UTC, medians of 7, receive, facade / borrowing facade / blocking API, MB/s): 64 B
// 392 / 822 / 1014, 1 KiB 570 / 2167 / 2592, 64 KiB 679 / 2892 / 3099, 1 MiB 1117 / 3701 /
// 3991 (README, Benchmarks). Garbage collections, frequent with
// large messages, cost nothing extra: the engine's buffer pools keep a bounded free list that
// survives them.
//
// The client implements RFC 6455 §4.1 (opening handshake, client side) through the handshake
// package and §5-§7 (framing, control frames, closing) through the conn package; it holds no
// protocol logic of its own beyond checking what the seed API lets a user pass (URLs per §3,
// close codes per §7.4). It must not be imported by the engine packages (mask, frame,
// handshake, conn).
package client
