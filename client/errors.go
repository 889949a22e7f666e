package client

import (
	"errors"
	"strconv"

	"github.com/netkit/websocket/conn"
)

// Error codes of the seed API. Every *BusinessException and *AsyncError carries one of them.
const (
	// CodeParameterError (401): a bad argument: an invalid option, a callback whose type does
	// not fit the event, a close code that may not be sent (RFC 6455 §7.4) or a close reason
	// over 123 bytes.
	CodeParameterError int32 = 401
	// CodeURLError (2302001): the URL is not ws:// or wss://, cannot be parsed, or is longer than
	// MaxURLLength (2048 bytes).
	CodeURLError int32 = 2302001
	// CodeFileNotExist (2302002): an explicitly given certificate, key or CA file does not exist.
	CodeFileNotExist int32 = 2302002
	// CodeConnectionExists (2302003): Connect while a connection is being opened or is open.
	CodeConnectionExists int32 = 2302003
	// CodeOtherError (2302999): everything else: close or send without a connection, handshake,
	// TLS or proxy failure, a lost connection. The cause is wrapped.
	CodeOtherError int32 = 2302999
)

// codeText returns the short description of an error code.
func codeText(code int32) string {
	switch code {
	case CodeParameterError:
		return "parameter error"
	case CodeURLError:
		return "URL error"
	case CodeFileNotExist:
		return "file does not exist"
	case CodeConnectionExists:
		return "connection already exists"
	case CodeOtherError:
		return "other error"
	}
	return "error"
}

// Causes wrapped by the errors of this package; compare with errors.Is.
var (
	// ErrNotConnected: Send or Close on a WebSocket with no connection (before Connect or
	// after CLOSE).
	ErrNotConnected = errors.New("websocket: not connected")
	// ErrClosing: Send or Close after Close was called or the connection started to close.
	ErrClosing = errors.New("websocket: close already started")
	// ErrAlreadyConnected: Connect while a connection is being opened or is open.
	ErrAlreadyConnected = errors.New("websocket: connection already exists")
	// ErrConnectionClosed: a message or close request that was accepted but not sent because
	// the connection ended first.
	ErrConnectionClosed = errors.New("websocket: connection closed before the request was sent")
	// ErrCloseWriteTimeout: Close found the messages queued before it making no progress
	// for 5 s (a peer that reads nothing), and cut the connection. It is
	// conn.ErrQueueStalled.
	ErrCloseWriteTimeout = conn.ErrQueueStalled
	// ErrQueueFull: a Send that would take the send queue past its cap
	// (WebSocketRequestOptions.SendQueueBytes, SendQueueMessages); code 2302999. It is
	// conn.ErrQueueFull.
	ErrQueueFull = conn.ErrQueueFull
	// ErrCallbackType: On or Off with a callback whose type does not fit the event.
	ErrCallbackType = errors.New("websocket: callback type does not fit the event")
	// ErrNilArgument: a nil callback or a nil MessageData.
	ErrNilArgument = errors.New("websocket: nil argument")
	// ErrUnknownEvent: an OnOffType that is not one of the six events.
	ErrUnknownEvent = errors.New("websocket: unknown event type")
	// ErrCloseCode: a close code that RFC 6455 §7.4 does not allow on the wire.
	ErrCloseCode = errors.New("websocket: close code may not be sent")
	// ErrCloseReason: a close reason over 123 bytes or not valid UTF-8 (RFC 6455 §5.5, §7.1.6).
	ErrCloseReason = errors.New("websocket: close reason over 123 bytes or not UTF-8")
	// ErrTextNotUTF8: StringData that is not valid UTF-8 (RFC 6455 §5.6).
	ErrTextNotUTF8 = errors.New("websocket: text message is not valid UTF-8")
	// ErrInvalidOption is wrapped by Dial's errors for an option that cannot be used (a header
	// name or value, a subprotocol, the Origin, a negative size or timeout); the error names
	// the option and the value, except a header's value. Dial reports it before any I/O.
	ErrInvalidOption = errors.New("websocket: invalid option")
	// ErrRedirectLoop: with FollowRedirects, a redirect to a URL already requested in the
	// same dial. The last redirect's *handshake.StatusError is in the chain too. In the
	// facade it is code 2302999, like every handshake failure.
	ErrRedirectLoop = errors.New("websocket: redirect loop")
	// ErrTooManyRedirects: with FollowRedirects, one more redirect than MaxRedirects
	// (default DefaultMaxRedirects). The last redirect's *handshake.StatusError is in the
	// chain too. In the facade it is code 2302999.
	ErrTooManyRedirects = errors.New("websocket: too many redirects")
)

// BusinessException is the seed's BusinessException: the error given to ERROR callbacks and
// returned by On and Off. Code is one of the Code constants; Err is the cause.
//
// The message never contains credentials: URLs are shown without their user information and
// proxy passwords and key passwords are never formatted.
type BusinessException struct {
	Code    int32
	Message string // short description of Code, e.g. "URL error"
	Err     error  // cause; may be nil
}

// Error returns "websocket error <code> (<message>): <cause>".
func (e *BusinessException) Error() string { return formatError(e.Code, e.Message, e.Err) }

// Unwrap returns the cause.
func (e *BusinessException) Unwrap() error { return e.Err }

// AsyncError is the seed's AsyncError: the error given to the callbacks of Connect, Send,
// Close and of the OPEN, MESSAGE and CLOSE events, and returned by Connect, Send and Close.
// Code is one of the Code constants; Err is the cause.
type AsyncError struct {
	Code    int32
	Message string // short description of Code
	Err     error  // cause; may be nil
}

// Error returns "websocket error <code> (<message>): <cause>".
func (e *AsyncError) Error() string { return formatError(e.Code, e.Message, e.Err) }

// Unwrap returns the cause.
func (e *AsyncError) Unwrap() error { return e.Err }

func formatError(code int32, msg string, cause error) string {
	s := "websocket error " + strconv.Itoa(int(code)) + " (" + msg + ")"
	if cause != nil {
		s += ": " + cause.Error()
	}
	return s
}

func newBusiness(code int32, cause error) *BusinessException {
	return &BusinessException{Code: code, Message: codeText(code), Err: cause}
}

func newAsync(code int32, cause error) *AsyncError {
	return &AsyncError{Code: code, Message: codeText(code), Err: cause}
}

// asAsync turns an error from a validation helper into an *AsyncError, keeping its code.
func asAsync(err error) *AsyncError {
	var ae *AsyncError
	if errors.As(err, &ae) {
		return ae
	}
	var be *BusinessException
	if errors.As(err, &be) {
		return &AsyncError{Code: be.Code, Message: be.Message, Err: be.Err}
	}
	return newAsync(CodeOtherError, err)
}

// CodeOf returns the code of the first *BusinessException or *AsyncError in err's tree, or 0
// when there is none.
func CodeOf(err error) int32 {
	var c coder
	if errors.As(err, &c) {
		return c.errorCode()
	}
	return 0
}

// coder is implemented by the two error types of the seed API.
type coder interface{ errorCode() int32 }

func (e *BusinessException) errorCode() int32 { return e.Code }
func (e *AsyncError) errorCode() int32        { return e.Code }
