package server

import (
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/handshake"
)

// WebSocketConnection is the platform's WebSocketConnection: a client connection, named by
// the client's IP address and port. It is a value: two WebSocketConnections with the same
// fields name the same connection, and the server uses it to find the connection again in
// Send, Close and BufferedAmount.
type WebSocketConnection struct {
	ClientIP   string // the client's IP address, e.g. "127.0.0.1" or "::1"
	ClientPort uint16 // the client's TCP port
}

// String returns "ip:port" ("[ip]:port" for IPv6).
func (c WebSocketConnection) String() string {
	return net.JoinHostPort(c.ClientIP, strconv.Itoa(int(c.ClientPort)))
}

// MessageData is the platform's string | ArrayBuffer: StringData (a text message) or
// ArrayData (a binary message); in the borrowing mode (WebSocketServerConfig.BorrowMessages)
// messageReceive delivers *BorrowedData instead. No other type implements it.
type MessageData interface {
	// String returns the text of a StringData, or a short description of an ArrayData.
	String() string
	messageData()
}

// StringData is a text message. It must be valid UTF-8.
type StringData string

// ArrayData is a binary message.
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

// BorrowedData is the payload messageReceive delivers when WebSocketServerConfig.BorrowMessages
// is set: a view of the connection's one read buffer, text or binary, that no allocation was
// made for. It is not part of the platform.
//
// Lifetime: Data is valid only until the messageReceive callback returns. The connection then
// reads its next message into the same memory, and sets Data to nil in the *BorrowedData (one
// per connection, reused too). A callback that needs the bytes later copies them (bytes.Clone,
// string(Data)). Send accepts a *BorrowedData, also from inside the callback: the message is
// written from Data before Send returns, or copied into the send queue. Text is never delivered
// as a Go string over the buffer: a string must never change, and this memory does.
//
// Data is valid UTF-8 when Text is set (RFC 6455 §8.1: the connection checked it).
type BorrowedData struct {
	Text bool   // a text message; else binary
	Data []byte // the payload, valid until the messageReceive callback returns
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

// WebSocketMessage is the platform's WebSocketMessage, given to messageReceive callbacks: a
// whole message (fragments reassembled; RFC 6455 §5.4) and the connection it came from. Data
// belongs to the callback: the server never reuses it, except in the borrowing mode
// (WebSocketServerConfig.BorrowMessages), where it is a *BorrowedData valid only until the
// callback returns.
type WebSocketMessage struct {
	Data             MessageData
	ClientConnection WebSocketConnection
}

// CloseResult is the platform's CloseResult, given to close callbacks: the close code and
// reason of the closing handshake (RFC 6455 §7.1.5, §7.1.6). When the client started the
// close they are the client's; when the server did (Close, Stop), those of the client's reply.
// 1005 means the close frame had no code; 1006 means the connection ended without a close
// frame, and Reason says why; 1002, 1007, 1009 are the codes the server failed the connection
// with (a protocol violation, text that is not UTF-8, a message too large).
type CloseResult struct {
	Code   uint32
	Reason string
}

// WebSocketCloseOptions is the platform's WebSocketCloseOptions: the code and reason Close
// sends. A nil *WebSocketCloseOptions, or a Code of 0, means 1000.
type WebSocketCloseOptions struct {
	Code   uint32 // RFC 6455 §7.4 code an endpoint may send; default 1000
	Reason string // at most 123 bytes of UTF-8; default ""
}

// ServerCert is the platform's ServerCert: the certificate and key that make the server
// serve wss:// (TLS 1.2 or later).
type ServerCert struct {
	CertPath string // PEM certificate chain, leaf first
	KeyPath  string // PEM private key: PKCS#1, PKCS#8, EC, encrypted PKCS#8 or legacy encrypted PEM
	// KeyPassword is the password of an encrypted key; nil when the key is not encrypted. It
	// never appears in errors. (Not in the platform, whose keys are not encrypted.)
	KeyPassword *string
}

// Defaults of WebSocketServerConfig.
const (
	DefaultServerIP                   = "0.0.0.0" // the platform's default: every IPv4 interface
	DefaultMaxConcurrentClientsNumber = 10
	DefaultMaxConnectionsForOneClient = 10
	// DefaultHandshakeTimeout bounds the TLS handshake and the reading of a client's opening
	// handshake.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultCloseTimeout bounds each closing handshake, and Stop (see Stop).
	DefaultCloseTimeout = 3 * time.Second
	// DefaultSendQueueBytes and DefaultSendQueueMessages cap each connection's send queue.
	DefaultSendQueueBytes    = 16 << 20
	DefaultSendQueueMessages = 4096
	// DefaultMaxMessageSize bounds a received message (32 MiB); a larger one closes the
	// connection with 1009.
	DefaultMaxMessageSize = 32 << 20
)

// WebSocketServerConfig is the platform's WebSocketServerConfig, plus Go-only options (after
// MaxConnectionsForOneClient) that the platform lacks. Zero fields mean the defaults.
type WebSocketServerConfig struct {
	// ServerIP is the local address to listen on (default "0.0.0.0", every IPv4 interface,
	// as on the platform; "::" for every interface, "127.0.0.1" for loopback only). An
	// address that is not an IP is 401; one that no interface has is 2302004.
	ServerIP string
	// ServerPort is the TCP port to listen on. 0 picks a free port (see Addr); a port that is
	// in use or not allowed is 2302005.
	ServerPort uint16
	// ServerCert, when not nil, makes the server serve wss://: TLS with this certificate. A
	// missing file is 2302002; a file that does not hold a certificate or key is 401.
	ServerCert *ServerCert
	// Protocol is the subprotocol the server speaks (RFC 6455 §1.9, §4.2.2). When set, it is
	// selected for every client, and a client whose Sec-WebSocket-Protocol does not offer it
	// (or that offers none) is refused with HTTP 400, as on the platform. "" accepts every
	// client and selects no subprotocol.
	Protocol string
	// MaxConcurrentClientsNumber bounds the connections open or being opened at once
	// (default 10). Past it a client is refused with HTTP 503 before the upgrade, and the
	// server emits an error event (ErrTooManyClients).
	MaxConcurrentClientsNumber int
	// MaxConnectionsForOneClient bounds the connections of one client IP address (default
	// 10). Past it a client is refused with HTTP 503 before the upgrade, and the server emits
	// an error event (ErrTooManyForClient).
	MaxConnectionsForOneClient int

	// CheckOrigin decides whether to accept a request by its Origin header (RFC 6455 §10.2);
	// false refuses it with HTTP 403. Nil accepts requests without Origin (non-browser
	// clients) and requests whose Origin's host equals the Host header, and refuses
	// cross-origin browser requests (cross-site WebSocket hijacking). Not in the platform.
	CheckOrigin func(req *handshake.ServerRequest) bool
	// HandshakeHook, when set, sees every request that passed the other checks (limits,
	// RFC 6455 §4.2.1, origin, subprotocol) before the upgrade, headers included, and may
	// refuse it: a status of 0 accepts; 400-599 refuses with that status and reason as the
	// response body (401 for authentication, 403, 429...). It runs on the connection's
	// handshake goroutine, possibly concurrently with callbacks, and should not block. Not in
	// the platform.
	HandshakeHook func(req *handshake.ServerRequest) (status int, reason string)
	// Header holds extra header fields for every handshake response, 101 or refusal. Names the
	// handshake writes itself are refused (401).
	Header http.Header
	// HandshakeTimeout bounds the TLS handshake and the reading of the opening handshake
	// (default DefaultHandshakeTimeout).
	HandshakeTimeout time.Duration
	// CloseTimeout bounds each closing handshake and Stop (default DefaultCloseTimeout).
	CloseTimeout time.Duration
	// MaxMessageSize bounds a received message (default DefaultMaxMessageSize; negative:
	// no limit).
	MaxMessageSize int64
	// SendQueueBytes and SendQueueMessages cap each connection's send queue (defaults
	// DefaultSendQueueBytes, DefaultSendQueueMessages; negative: no cap). A Send past either
	// fails at once with 2302999 (ErrQueueFull); nothing queued is dropped.
	SendQueueBytes    int64
	SendQueueMessages int
	// BorrowMessages turns on the borrowing mode: messageReceive delivers each message as a
	// *BorrowedData over one read buffer that the connection reuses, with no allocation per
	// message, instead of a StringData or ArrayData of its own. The payload is valid only
	// until the messageReceive callback returns (see BorrowedData). The buffer grows to the
	// largest message the connection received and is kept while the connection lives. The
	// connection reads its next message only once the callbacks of this one returned: when
	// other callbacks of the connection are pending (Send results, say), it waits for them
	// before it delivers, so a message is never copied and never overwritten before its
	// callbacks ran. Not in the platform.
	BorrowMessages bool
	// PerMessageDeflate, when not nil, accepts permessage-deflate compression (RFC 7692) with
	// these options: the first acceptable offer of a client is agreed (deflate.ServerOptions.
	// Negotiate), window bits and no_context_takeover for each direction as the options cap
	// them, and Level, the compression level of what the server sends (not negotiated). The
	// zero value, &deflate.ServerOptions{}, accepts any offer with windows of 2^15 and context
	// takeover. nil, the default, accepts no extension. On a connection that agreed, messages
	// of at least CompressionThreshold bytes are sent compressed, compressed messages received
	// are inflated (MaxMessageSize bounds the inflated size: past it, 1009), and a client whose
	// offers are all unacceptable is served uncompressed. Options out of range (window bits
	// outside 0 and 8..15, a Level outside 0..9) are 401. Both delivery modes work with it.
	// Not in the platform.
	PerMessageDeflate *deflate.ServerOptions
	// CompressionThreshold is the size under which messages go out uncompressed on a
	// connection that agreed on compression (conn.Compression.Threshold): 0 means
	// conn.DefaultCompressionThreshold (128 bytes), negative compresses every message.
	CompressionThreshold int
}

// OnOffType is the kind of event On and Off subscribe to.
type OnOffType int

// The four events of the platform's WebSocketServer.
const (
	EventConnect        OnOffType = iota // 'connect': a client connection is open
	EventMessageReceive                  // 'messageReceive': a whole message arrived
	EventClose                           // 'close': a client connection is closed
	EventError                           // 'error': a client was refused or a connection failed
	numEvents
)

var eventNames = [numEvents]string{"connect", "messageReceive", "close", "error"}

// String returns the platform's name of the event, e.g. "messageReceive".
func (t OnOffType) String() string {
	if t.valid() {
		return eventNames[t]
	}
	return "OnOffType(" + strconv.Itoa(int(t)) + ")"
}

func (t OnOffType) valid() bool { return t >= 0 && t < numEvents }
