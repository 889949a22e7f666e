package server

import (
	"errors"
	"strconv"

	"github.com/netkit/websocket/conn"
)

// Error codes of the platform's WebSocketServer. Every *BusinessException and *AsyncError
// carries one of them.
const (
	// CodeParameterError (401): a bad argument: an invalid config field, a callback whose type
	// does not fit the event, a nil message, text that is not UTF-8, a close code that may not
	// be sent (RFC 6455 §7.4) or a close reason over 123 bytes.
	CodeParameterError int32 = 401
	// CodeFileNotExist (2302002): the certificate or key file of ServerCert does not exist.
	CodeFileNotExist int32 = 2302002
	// CodeListenInterface (2302004): the server cannot listen on ServerIP (no such local
	// address).
	CodeListenInterface int32 = 2302004
	// CodeListenPort (2302005): the server cannot listen on ServerPort (in use, or not allowed).
	CodeListenPort int32 = 2302005
	// CodeConnectionNotExist (2302006): Send, Close or BufferedAmount for a connection that is
	// not (or no longer) one of the server's.
	CodeConnectionNotExist int32 = 2302006
	// CodeOtherError (2302999): everything else: Start while started, Stop while stopped, a
	// refused handshake, a lost connection, a full send queue. The cause is wrapped.
	CodeOtherError int32 = 2302999
)

// codeText returns the short description of an error code.
func codeText(code int32) string {
	switch code {
	case CodeParameterError:
		return "parameter error"
	case CodeFileNotExist:
		return "file does not exist"
	case CodeListenInterface:
		return "cannot listen on the network interface"
	case CodeListenPort:
		return "cannot listen on the port"
	case CodeConnectionNotExist:
		return "connection does not exist"
	case CodeOtherError:
		return "other error"
	}
	return "error"
}

// Causes wrapped by the errors of this package; compare with errors.Is.
var (
	// ErrNotRunning: Stop, or a connection operation, on a server that is not started.
	ErrNotRunning = errors.New("websocket server: not started")
	// ErrRunning: Start on a server that is started or still stopping.
	ErrRunning = errors.New("websocket server: already started")
	// ErrConnectionNotExist: Send, Close or BufferedAmount for a connection the server does not
	// have (never had, or already reported closed); code 2302006.
	ErrConnectionNotExist = errors.New("websocket server: connection does not exist")
	// ErrClosing: Send or Close on a connection whose close started (Close, Stop, the client's
	// close frame); code 2302999.
	ErrClosing = errors.New("websocket server: connection is closing")
	// ErrConnectionClosed: a message or close request that was accepted but not carried out
	// because the connection ended first.
	ErrConnectionClosed = errors.New("websocket server: connection closed before the request was carried out")
	// ErrTooManyClients: a client was refused (HTTP 503) because MaxConcurrentClientsNumber
	// connections were open or being opened.
	ErrTooManyClients = errors.New("websocket server: maxConcurrentClientsNumber reached")
	// ErrTooManyForClient: a client was refused (HTTP 503) because its IP address had
	// MaxConnectionsForOneClient connections open or being opened.
	ErrTooManyForClient = errors.New("websocket server: maxConnectionsForOneClient reached")
	// ErrNoSubprotocol: a client that did not offer the configured Protocol was refused (HTTP
	// 400).
	ErrNoSubprotocol = errors.New("websocket server: the client does not offer the server's subprotocol")
	// ErrHandshakeRefused: the HandshakeHook refused a client with a status of its choice.
	ErrHandshakeRefused = errors.New("websocket server: handshake refused by the hook")
	// ErrOriginRefused: CheckOrigin (or the default same-origin rule) refused a client (HTTP
	// 403).
	ErrOriginRefused = errors.New("websocket server: origin refused")
	// ErrQueueFull: a Send that would take the connection's send queue past its cap
	// (SendQueueBytes, SendQueueMessages); code 2302999. It is conn.ErrQueueFull.
	ErrQueueFull = conn.ErrQueueFull
	// ErrCallbackType: On or Off with a callback whose type does not fit the event.
	ErrCallbackType = errors.New("websocket server: callback type does not fit the event")
	// ErrNilArgument: a nil callback, config or message.
	ErrNilArgument = errors.New("websocket server: nil argument")
	// ErrUnknownEvent: an OnOffType that is not one of the four events.
	ErrUnknownEvent = errors.New("websocket server: unknown event type")
	// ErrCloseCode: a close code that RFC 6455 §7.4 does not allow on the wire.
	ErrCloseCode = errors.New("websocket server: close code may not be sent")
	// ErrCloseReason: a close reason over 123 bytes or not valid UTF-8 (RFC 6455 §5.5).
	ErrCloseReason = errors.New("websocket server: close reason over 123 bytes or not UTF-8")
	// ErrTextNotUTF8: StringData that is not valid UTF-8 (RFC 6455 §5.6).
	ErrTextNotUTF8 = errors.New("websocket server: text message is not valid UTF-8")
	// ErrInvalidConfig: a WebSocketServerConfig field that cannot be used; code 401.
	ErrInvalidConfig = errors.New("websocket server: invalid config")
)

// BusinessException is the platform's BusinessException: the error given to error callbacks
// and returned by On and Off. Code is one of the Code constants; Err is the cause.
// Connection, when not nil, is the client connection the error is about (a refused or lost
// client).
//
// The message never contains credentials: key passwords are never formatted.
type BusinessException struct {
	Code       int32
	Message    string // short description of Code, e.g. "connection does not exist"
	Err        error  // cause; may be nil
	Connection *WebSocketConnection
}

// Error returns "websocket server error <code> (<message>)[ <ip>:<port>]: <cause>".
func (e *BusinessException) Error() string {
	return formatError(e.Code, e.Message, e.Connection, e.Err)
}

// Unwrap returns the cause.
func (e *BusinessException) Unwrap() error { return e.Err }

// AsyncError is the platform's BusinessError of a promise: the error given to the callbacks
// of Start, Stop, Send and Close, and returned by them. Code is one of the Code constants;
// Err is the cause.
type AsyncError struct {
	Code    int32
	Message string // short description of Code
	Err     error  // cause; may be nil
}

// Error returns "websocket server error <code> (<message>): <cause>".
func (e *AsyncError) Error() string { return formatError(e.Code, e.Message, nil, e.Err) }

// Unwrap returns the cause.
func (e *AsyncError) Unwrap() error { return e.Err }

func formatError(code int32, msg string, c *WebSocketConnection, cause error) string {
	s := "websocket server error " + strconv.Itoa(int(code)) + " (" + msg + ")"
	if c != nil {
		s += " " + c.String()
	}
	if cause != nil {
		s += ": " + cause.Error()
	}
	return s
}

func newBusiness(code int32, cause error, c *WebSocketConnection) *BusinessException {
	return &BusinessException{Code: code, Message: codeText(code), Err: cause, Connection: c}
}

func newAsync(code int32, cause error) *AsyncError {
	return &AsyncError{Code: code, Message: codeText(code), Err: cause}
}

// CodeOf returns the code of the first *BusinessException or *AsyncError in err's tree, or 0
// when there is none.
func CodeOf(err error) int32 {
	var b *BusinessException
	var a *AsyncError
	switch {
	case errors.As(err, &a):
		return a.Code
	case errors.As(err, &b):
		return b.Code
	}
	return 0
}
