package client

import (
	"crypto/tls"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
)

// MessageData is the seed's MessageData: the payload of a message, StringData (a text message,
// seed STRING_DATA) or ArrayData (a binary message, seed ARRAY_DATA); in the borrowing mode
// (WebSocketRequestOptions.BorrowMessages) MESSAGE delivers *BorrowedData instead. No other
// type implements it.
type MessageData interface {
	// String returns the text of a StringData, or a short description of an ArrayData.
	String() string
	messageData()
}

// StringData is a text message (seed MessageData.STRING_DATA). It must be valid UTF-8.
type StringData string

// ArrayData is a binary message (seed MessageData.ARRAY_DATA).
type ArrayData []byte

// String returns s.
func (s StringData) String() string { return string(s) }

// String returns "ARRAY_DATA(<n> bytes: <hex of the first 16 bytes>)".
func (a ArrayData) String() string {
	n := min(len(a), 16)
	s := "ARRAY_DATA(" + strconv.Itoa(len(a)) + " bytes: " + hex.EncodeToString(a[:n])
	if n < len(a) {
		s += "..."
	}
	return s + ")"
}

func (StringData) messageData() {}
func (ArrayData) messageData()  {}

// BorrowedData is the payload MESSAGE delivers when WebSocketRequestOptions.BorrowMessages is
// set: a view of the connection's one read buffer, text or binary, that no allocation was made
// for. It is not part of the seed.
//
// Lifetime: Data is valid only until the MESSAGE callback returns. The connection then reads
// the next message into the same memory, and sets Data to nil in the *BorrowedData (which is
// reused too). A callback that needs the bytes later copies them (bytes.Clone, string(Data)),
// and so does Send when given a *BorrowedData. Text is never delivered as a Go string over the
// buffer: a string must never change, and this memory does.
//
// Data is valid UTF-8 when Text is set (RFC 6455 §8.1: the connection checked it).
type BorrowedData struct {
	Text bool   // a text message; else binary
	Data []byte // the payload, valid until the MESSAGE callback returns
}

// String returns a copy of the text of a text message, or, for a binary one, what
// ArrayData.String returns.
func (b *BorrowedData) String() string {
	if b == nil {
		return "<nil>"
	}
	if b.Text {
		return string(b.Data)
	}
	return ArrayData(b.Data).String()
}

func (*BorrowedData) messageData() {}

// OnOffType is the seed's OnOffType: the kind of event On and Off subscribe to.
type OnOffType int

// The six events of the seed (OPEN, MESSAGE, CLOSE, ERROR, DATAEND, HEADERRECEIVE) and the
// platform's later openInfo (EventOpenInfo). The names carry an Event prefix so that they do not
// read like the methods of WebSocket.
const (
	EventOpen          OnOffType = iota // seed OPEN: the connection is open
	EventMessage                        // seed MESSAGE: a whole message arrived
	EventClose                          // seed CLOSE: the connection is closed
	EventError                          // seed ERROR: the connection failed
	EventDataEnd                        // seed DATAEND: the message before it is complete
	EventHeaderReceive                  // seed HEADERRECEIVE: the handshake response headers
	EventOpenInfo                       // platform openInfo: OPEN's data plus the subprotocol, right after OPEN

	numEvents = iota
)

var eventNames = [numEvents]string{"OPEN", "MESSAGE", "CLOSE", "ERROR", "DATAEND", "HEADERRECEIVE", "OPENINFO"}

// String returns the seed's name of t ("OPEN", "MESSAGE", ..., "OPENINFO" for the platform's
// openInfo) or "OnOffType(<n>)".
func (t OnOffType) String() string {
	if t >= 0 && int(t) < numEvents {
		return eventNames[t]
	}
	return "OnOffType(" + strconv.Itoa(int(t)) + ")"
}

func (t OnOffType) valid() bool { return t >= 0 && int(t) < numEvents }

// WebSocketOpenInfo is the platform's WebSocketOpenInfo, given to openInfo (EventOpenInfo)
// callbacks right after OPEN: the handshake response's status code and reason phrase (what
// OPEN reports as a one-entry map) and the subprotocol the server selected from those
// WebSocketRequestOptions.Protocol offered (RFC 6455 §4.1, §11.3.4), "" when none was
// selected (the platform's protocol? left out).
type WebSocketOpenInfo struct {
	Status   uint32 // HTTP status of the handshake response: 101
	Message  string // its reason phrase as sent, e.g. "Switching Protocols"
	Protocol string // the negotiated subprotocol, or ""
}

// ProxyConfiguration is the seed's ProxyConfiguration: NoProxy (NO_PROXY), SystemProxy
// (SYSTEM) or HTTPProxy (HTTPPROXY), plus SOCKS5Proxy (not in the seed). A nil
// ProxyConfiguration means SystemProxy. No other type implements it.
type ProxyConfiguration interface{ proxyConfiguration() }

// NoProxy connects directly (seed ProxyConfiguration.NO_PROXY).
type NoProxy struct{}

// SystemProxy uses the system's proxy settings, the HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and
// NO_PROXY environment variables (seed ProxyConfiguration.SYSTEM, the default).
type SystemProxy struct{}

// HTTPProxy connects through the given HTTP proxy with CONNECT (seed
// ProxyConfiguration.HTTPPROXY). A nil Proxy is a parameter error.
type HTTPProxy struct {
	Proxy *WebSocketHttpProxy
}

// SOCKS5Proxy (not in the seed, whose HTTPPROXY has no SOCKS form) connects through a SOCKS5
// proxy (RFC 1928; RFC 1929 username/password authentication when the URL has user
// information), like ALL_PROXY=socks5://... does with SystemProxy but without the environment.
// URL is socks5://[user:password@]host[:port], which resolves the target's name here, or
// socks5h://..., which lets the proxy resolve it; the port defaults to 1080. The hosts of
// ExclusionList (as in WebSocketHttpProxy) connect directly. A URL that does not parse, has
// another scheme or no host is a parameter error (401) that never shows the password.
type SOCKS5Proxy struct {
	URL           string
	ExclusionList []string
}

func (NoProxy) proxyConfiguration()     {}
func (SystemProxy) proxyConfiguration() {}
func (HTTPProxy) proxyConfiguration()   {}
func (SOCKS5Proxy) proxyConfiguration() {}

// ResponseHeaders is the seed's ResponseHeaders, given to HEADERRECEIVE callbacks: MapData
// (MAP_DATA), ArrayStringData (ARRAY_STRING_DATA) or UndefinedData (UNDEFINED_DATA). This
// package delivers MapData. No other type implements it.
type ResponseHeaders interface{ responseHeaders() }

// MapData holds response header fields by name (seed ResponseHeaders.MAP_DATA). Names are as
// the server sent them; the values of a repeated field are joined with ", " in wire order.
type MapData map[string]string

// ArrayStringData is a list of header strings (seed ResponseHeaders.ARRAY_STRING_DATA).
type ArrayStringData []string

// UndefinedData means there are no headers to report (seed ResponseHeaders.UNDEFINED_DATA).
type UndefinedData struct{}

func (MapData) responseHeaders()         {}
func (ArrayStringData) responseHeaders() {}
func (UndefinedData) responseHeaders()   {}

// CloseResult is the seed's CloseResult, given to CLOSE callbacks: the close code and reason of
// the closing handshake (RFC 6455 §7.1.5, §7.1.6). When the server started the close, they are
// the server's; when we did, they are those of the server's reply. 1005 means the close frame
// had no code; 1006 means the connection ended without a close frame, and Reason says why.
type CloseResult struct {
	Code   uint32
	Reason string
}

// WebSocketCloseOptions is the seed's WebSocketCloseOptions: the code and reason Close sends.
// The seed's defaults are code 1000 and an empty reason; a Code of 0 also means 1000.
type WebSocketCloseOptions struct {
	Code   uint32 // RFC 6455 §7.4 code a client may send; default 1000
	Reason string // at most 123 bytes of UTF-8; default ""
}

// NewWebSocketCloseOptions returns the seed's defaults: code 1000, no reason.
func NewWebSocketCloseOptions() *WebSocketCloseOptions {
	return &WebSocketCloseOptions{Code: 1000}
}

// WebSocketClientCert is the seed's WebSocketClientCert: a client certificate for TLS.
type WebSocketClientCert struct {
	CertPath    string  // PEM certificate (chain) file
	KeyPath     string  // PEM private key file
	KeyPassword *string // password of an encrypted key; nil when the key is not encrypted
}

// WebSocketHttpProxy is the seed's WebSocketHttpProxy: an HTTP proxy and the hosts that bypass
// it. Nil fields are the seed's None. Username and Password, when set, are sent as Basic
// authentication to the proxy; they never appear in error messages.
type WebSocketHttpProxy struct {
	Host          *string  // proxy host name or IP
	Port          *uint16  // proxy port
	ExclusionList []string // hosts that connect directly: exact names, "*.example.com", IPs, CIDRs
	Username      *string
	Password      *string
}

// DefaultCAPath is the seed's default caPath. When it does not exist the system roots are used.
const DefaultCAPath = "/etc/ssl/certs/cacert.pem"

// Keepalive defaults of the platform, in seconds.
const (
	DefaultPingInterval = 30
	DefaultPongTimeout  = 30
)

// WebSocketRequestOptions is the seed's WebSocketRequestOptions plus the options the platform
// added later (pingInterval, pongTimeout, skipServerCertVerification) and a message size
// limit. NewWebSocketRequestOptions returns the defaults; a nil *WebSocketRequestOptions given
// to Connect means the defaults too. In a struct literal, zero fields mean: no extra headers,
// the default caPath, no client certificate, the system proxy, no subprotocol, keepalive off,
// certificates verified, the default message size limit and the default send queue caps, a
// 30 s handshake timeout and no redirects.
//
// Every zero field means what the zero field of DialOptions means (the blocking API), except
// PingInterval and PongTimeout: the platform documents 0 as "disabled" for them, and code
// ported from it writes 0 to mean that, so a zero field turns keepalive off here where
// DialOptions' zero means 30 s (nil options and NewWebSocketRequestOptions give 30 s / 30 s
// in both). The README's "Defaults of the two APIs" lists them side by side.
type WebSocketRequestOptions struct {
	// Header holds extra request header fields. Names the handshake owns (Host, Upgrade,
	// Connection, Sec-WebSocket-*, Content-Length, Transfer-Encoding) and names or values
	// with CR, LF or NUL are parameter errors.
	Header map[string]string
	// CAPath is a PEM file or a directory of PEM files with the CA certificates that verify
	// the server (wss). The default DefaultCAPath is used when it exists, otherwise the system
	// roots; an explicit path that does not exist is error 2302002. "" means the default.
	// Only regular files of at most tlsconf.MaxFileSize bytes are read (symbolic links to
	// them are fine): a FIFO, a device or an oversized file is error 2302999 naming the path;
	// a directory skips such entries (see tlsconf.LoadCAsContext).
	CAPath string
	// ClientCert is the client certificate for TLS; nil for none. Missing files are error
	// 2302002; files that are not regular or are over tlsconf.MaxFileSize bytes 2302999.
	ClientCert *WebSocketClientCert
	// Proxy selects the proxy; nil means SystemProxy (the seed's default SYSTEM).
	Proxy ProxyConfiguration
	// Protocol is the Sec-WebSocket-Protocol value to offer: one subprotocol or a
	// comma-separated list; "" offers none (RFC 6455 §4.1, §11.3.4).
	Protocol string
	// PingInterval is the time, in seconds, without any received byte after which a ping
	// is sent; 0 disables keepalive. Every received byte restarts it, and with a server that
	// only answers pings a ping goes out every PingInterval. The platform default is 30.
	PingInterval uint32
	// PongTimeout is how long, in seconds, the connection may wait on the network after a
	// ping with nothing arriving before it is treated as lost (ERROR, then CLOSE 1006 "pong
	// timeout"); 0 means wait forever. Time in which a MESSAGE callback runs does not count:
	// the connection reads nothing meanwhile, and what the server sent is seen once the
	// callback returns. The platform default is 30. See Keepalive in the package
	// documentation.
	PongTimeout uint32
	// SkipServerCertVerification turns off verification of the server's certificate chain
	// and host name. Only for tests.
	SkipServerCertVerification bool
	// MinSupportTlsProtocol is the platform's minSupportTlsProtocol: the lowest TLS version
	// a wss connection accepts, TLSV10 to TLSV13 (the values of tls.VersionTLS10 to
	// tls.VersionTLS13, which may be assigned directly); 0 means TLS 1.2. A server whose
	// highest version is lower fails the connection (ERROR 2302999 with the TLS alert,
	// "protocol version not supported"). Other values are parameter errors (401). It is the
	// one minimum-version setting of the facade (formerly MinTLSVersion).
	MinSupportTlsProtocol TlsProtocol
	// MaxMessageSize limits the size of a received message in bytes; a larger message closes
	// the connection with 1009. 0 means the engine's default (32 MiB); negative means no limit.
	MaxMessageSize int64
	// SendQueueBytes and SendQueueMessages cap what Send queues and has not written yet:
	// payload bytes and messages (BufferedAmount reports both). 0 means the defaults,
	// DefaultSendQueueBytes (16 MiB) and DefaultSendQueueMessages (4096); negative means no
	// cap. A Send past either cap fails at once with code 2302999 and ErrQueueFull, and
	// nothing queued is dropped. A single message larger than SendQueueBytes is accepted
	// when nothing is queued.
	SendQueueBytes    int64
	SendQueueMessages int
	// BorrowMessages (not in the seed) turns on the borrowing mode: MESSAGE delivers each
	// message as a *BorrowedData over one read buffer that the connection reuses, with no
	// allocation per message, instead of an ArrayData or StringData of its own. The payload
	// is valid only until the MESSAGE callback returns (see BorrowedData). The buffer grows to
	// the largest message received and is kept while the connection lives. The connection
	// reads the next message only once the callbacks of this one returned: when other
	// callbacks are pending (Send results, say), it waits for them before it delivers, so a
	// message is never copied and never overwritten before its callbacks ran.
	BorrowMessages bool
	// PerMessageDeflate (not in the seed) offers permessage-deflate compression (RFC 7692)
	// with these options: window bits and no_context_takeover for each direction, and the
	// level we compress at (deflate.ClientOptions.Level, not negotiated); the zero value,
	// &deflate.ClientOptions{}, offers the defaults (windows of 2^15, context takeover,
	// the default level). nil, the default, offers nothing. When the server accepts, messages of at
	// least 128 bytes are sent compressed, compressed messages received are inflated (the
	// MaxMessageSize limit applies to the inflated size), and HEADERRECEIVE shows the agreed
	// Sec-WebSocket-Extensions. An invalid answer from the server fails the connection
	// (ERROR 2302999 wrapping handshake.ErrBadDeflateResponse, RFC 7692 §7.1); options out of
	// range (window bits outside 8..15, a level outside 0..9) are parameter errors (401).
	PerMessageDeflate *deflate.ClientOptions
	// OnPing and OnPong (not in the seed), when set, are called with the payload of each ping
	// and pong received, from the goroutine reading the connection, before the messages that
	// follow them are read (conn.Config.OnPing and OnPong). The payload is valid only during
	// the call. A ping is answered with a pong whether or not OnPing is set. They must not
	// block: the connection reads nothing meanwhile.
	OnPing, OnPong func(payload []byte)
	// HandshakeTimeout (not in the seed, which has no connect timeout) bounds the whole
	// connection attempt: DNS, TCP, proxy, TLS, the opening handshake and any redirects. 0
	// means DefaultHandshakeTimeout (30 s), as for DialOptions.HandshakeTimeout; negative
	// means no bound (Close still ends the attempt). When it passes, the attempt fails
	// with ERROR 2302999 wrapping context.DeadlineExceeded, then CLOSE 1006.
	HandshakeTimeout time.Duration
	// FollowRedirects (not in the seed; off by default) follows a 301, 302, 303, 307 or
	// 308 answer to the handshake, as DialOptions.FollowRedirects does: http:// maps to
	// ws://, https:// to wss://, wss to ws is refused, Header's Authorization and Cookie go
	// only to the origin of the URL given to Connect, and the proxy is chosen again for
	// each target. HEADERRECEIVE and OPEN report the final response. A loop (ErrRedirectLoop),
	// more than MaxRedirects redirects (ErrTooManyRedirects) or a Location that cannot be
	// followed (handshake.ErrBadRedirect, handshake.ErrRedirectDowngrade) fails the attempt
	// with ERROR 2302999, like any handshake failure. Off, a redirect fails it with 2302999
	// and the *StatusError (status and Location) in the chain.
	FollowRedirects bool
	// MaxRedirects is the most redirects followed when FollowRedirects is set: 0 means
	// DefaultMaxRedirects (10); negative is a parameter error (401).
	MaxRedirects int
	// HTTP2 (not in the seed; HTTP2Off by default) opens wss:// connections over HTTP/2 by
	// RFC 8441's extended CONNECT, as DialOptions.HTTP2 does: HTTP2Auto when the server
	// allows it, with a fallback to the HTTP/1.1 Upgrade; HTTP2Required or ERROR 2302999
	// wrapping ErrHTTP2Unsupported. Over HTTP/2, HEADERRECEIVE shows the response headers
	// and OPEN gives {200: "OK"}: RFC 8441 §5 opens the WebSocket with a 2xx, not a 101.
	// Connections with the same TLS options (CAPath, ClientCert, SkipServerCertVerification,
	// MinSupportTlsProtocol) and proxy share one HTTP/2 connection per origin (the package's
	// HTTP2Pool; see CloseIdleHTTP2Connections). FollowRedirects works over HTTP/2 too.
	// Values above HTTP2Required are parameter errors (401).
	HTTP2 HTTP2Mode
}

// TlsProtocol is the platform's TlsProtocol enum (TLS_V_1_0 .. TLS_V_1_3), the type of
// WebSocketRequestOptions.MinSupportTlsProtocol. Its values are the TLS protocol version
// numbers of crypto/tls, so TLSV13 == tls.VersionTLS13 and a tls.VersionTLS1x constant may be
// used where a TlsProtocol is wanted. The zero value means the default, TLS 1.2.
type TlsProtocol uint16

// The versions of TlsProtocol (platform TLS_V_1_0 .. TLS_V_1_3).
const (
	TLSV10 TlsProtocol = tls.VersionTLS10 // platform TLS_V_1_0: TLS 1.0 (RFC 2246)
	TLSV11 TlsProtocol = tls.VersionTLS11 // platform TLS_V_1_1: TLS 1.1 (RFC 4346)
	TLSV12 TlsProtocol = tls.VersionTLS12 // platform TLS_V_1_2: TLS 1.2 (RFC 5246), the default
	TLSV13 TlsProtocol = tls.VersionTLS13 // platform TLS_V_1_3: TLS 1.3 (RFC 8446)
)

// String returns the platform's name of p ("TLS_V_1_0" .. "TLS_V_1_3"), "default" for 0, or
// "TlsProtocol(0x<hex>)".
func (p TlsProtocol) String() string {
	switch p {
	case 0:
		return "default"
	case TLSV10:
		return "TLS_V_1_0"
	case TLSV11:
		return "TLS_V_1_1"
	case TLSV12:
		return "TLS_V_1_2"
	case TLSV13:
		return "TLS_V_1_3"
	}
	return "TlsProtocol(0x" + strconv.FormatUint(uint64(p), 16) + ")"
}

// valid reports whether p is 0 (the default) or one of TLSV10..TLSV13.
func (p TlsProtocol) valid() bool { return p == 0 || p >= TLSV10 && p <= TLSV13 }

// Defaults of the send queue's caps (WebSocketRequestOptions.SendQueueBytes and
// SendQueueMessages): the engine's, see conn.DefaultSendQueueBytes.
const (
	DefaultSendQueueBytes    = conn.DefaultSendQueueBytes
	DefaultSendQueueMessages = conn.DefaultSendQueueMessages
)

// NewWebSocketRequestOptions returns the seed's and platform's defaults: no extra headers,
// caPath DefaultCAPath, no client certificate, the system proxy, no subprotocol, ping every 30
// s of idleness with a 30 s pong timeout, certificates verified, the default message limit.
func NewWebSocketRequestOptions() *WebSocketRequestOptions {
	return &WebSocketRequestOptions{
		CAPath:       DefaultCAPath,
		Proxy:        SystemProxy{},
		PingInterval: DefaultPingInterval,
		PongTimeout:  DefaultPongTimeout,
	}
}
