package handshake

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/netkit/websocket/internal/httplex"
)

// Errors found while validating a handshake. They are returned as they are or wrapped with a
// detail (compare with errors.Is).
var (
	// ErrMalformedResponse means the server's response is not valid HTTP/1.1 (status line,
	// header syntax, obsolete line folding, control characters, a 101 over HTTP/1.0).
	ErrMalformedResponse = errors.New("websocket: handshake: malformed response")
	// ErrMalformedRequest means the client's request is not valid HTTP/1.1 or has a body.
	ErrMalformedRequest = errors.New("websocket: handshake: malformed request")
	// ErrHeaderTooLarge means a line, the whole header or the number of header fields went over
	// the [Limits].
	ErrHeaderTooLarge = errors.New("websocket: handshake: header too large")
	// ErrNoUpgrade means the Upgrade header does not name websocket (§4.1 item 2, §4.2.1 item 3).
	ErrNoUpgrade = errors.New("websocket: handshake: missing Upgrade: websocket")
	// ErrNoConnection means the Connection header has no "upgrade" token (§4.1 item 3,
	// §4.2.1 item 4).
	ErrNoConnection = errors.New("websocket: handshake: missing Connection: Upgrade")
	// ErrBadAccept means Sec-WebSocket-Accept is missing, repeated or does not match the key
	// (§4.1 item 4).
	ErrBadAccept = errors.New("websocket: handshake: Sec-WebSocket-Accept does not match the key")
	// ErrUnofferedSubprotocol means the server selected a subprotocol the client did not offer,
	// or more than one (§4.1 item 6).
	ErrUnofferedSubprotocol = errors.New("websocket: handshake: server selected a subprotocol the client did not offer")
	// ErrUnofferedExtension means the server accepted an extension the client did not offer
	// (§4.1 item 5).
	ErrUnofferedExtension = errors.New("websocket: handshake: server accepted an extension the client did not offer")
	// ErrBadDeflateResponse means the server answered our permessage-deflate offer
	// (Request.Deflate) with an element that RFC 7692 §7.1 does not allow: an unknown or
	// duplicate parameter, a bad value, a window-bits parameter we did not offer or larger
	// than offered, no server_no_context_takeover when we asked for it, or more than one
	// element. The error also wraps the deflate package's error naming the parameter.
	ErrBadDeflateResponse = errors.New("websocket: handshake: invalid permessage-deflate response")
	// ErrBadKey means a Sec-WebSocket-Key is not the base64 encoding of 16 bytes (§4.1, §4.2.1).
	ErrBadKey = errors.New("websocket: handshake: Sec-WebSocket-Key is not base64 of 16 bytes")
	// ErrBadVersion means the client did not ask for Sec-WebSocket-Version 13 (§4.2.1 item 6).
	ErrBadVersion = errors.New("websocket: handshake: unsupported Sec-WebSocket-Version, want 13")
	// ErrBadMethod means the request method is not GET (§4.1, §4.2.1 item 1).
	ErrBadMethod = errors.New("websocket: handshake: request method is not GET")
	// ErrNoHost means the request has no Host header or more than one (§4.2.1 item 2).
	ErrNoHost = errors.New("websocket: handshake: missing Host")
	// ErrOriginDenied means the Upgrader's origin check refused the request (§4.2.2, §10.2).
	ErrOriginDenied = errors.New("websocket: handshake: origin not allowed")
	// ErrInvalidHeader is wrapped by every [*HeaderError].
	ErrInvalidHeader = errors.New("websocket: handshake: invalid header")
	// ErrInvalidRequest means a [Request] field other than a header is unusable (Path).
	ErrInvalidRequest = errors.New("websocket: handshake: invalid request")
)

const errPrefix = "websocket: handshake: "

// HeaderError reports a header that cannot be sent: a name that is not an HTTP token, a value
// with CR, LF, NUL or another control character, a header the handshake writes itself, or an
// invalid subprotocol or extension list. It wraps [ErrInvalidHeader].
//
// Its message names the header but never contains the header's value, which may be a
// credential (Authorization, Cookie, a bearer token in a subprotocol).
type HeaderError struct {
	Name   string // the header name as the caller gave it
	Reason string // what is wrong, without the value
}

// Error returns "websocket: handshake: invalid header "Name": reason". A name that is not a
// token is shown only up to its first invalid byte.
func (e *HeaderError) Error() string {
	name := e.Name
	if i := httplex.FirstNonToken(name); i >= 0 {
		name = name[:i] + "..."
	}
	return errPrefix + "invalid header " + strconv.Quote(name) + ": " + e.Reason
}

// Unwrap returns [ErrInvalidHeader].
func (e *HeaderError) Unwrap() error { return ErrInvalidHeader }

// MaxErrorBody is the most bytes of a non-101 response body kept in [StatusError.Body].
const MaxErrorBody = 4 << 10

// StatusError is returned by [ReadResponse] when the server answers with a status other than
// 101 Switching Protocols: a redirect, an authentication challenge, a rejection.
type StatusError struct {
	StatusCode int         // e.g. 403
	Status     string      // the reason phrase as sent, e.g. "Forbidden"
	Header     http.Header // all response headers, canonical keys, repeated values kept
	Fields     []Field     // the same headers in wire order with their original case
	Location   string      // the Location header (redirects, 3xx), "" when absent
	// Body holds up to MaxErrorBody bytes of the response body: as many as Content-Length
	// says (read from the connection, so bounded by its deadline), otherwise only what had
	// already arrived with the header (chunked coding removed). ReadResponse never waits for
	// a body without a length.
	Body []byte
}

// Error returns "websocket: handshake: unexpected HTTP status 403 Forbidden".
func (e *StatusError) Error() string {
	s := errPrefix + "unexpected HTTP status " + strconv.Itoa(e.StatusCode)
	if e.Status != "" {
		s += " " + e.Status
	}
	if e.Location != "" && e.StatusCode >= 300 && e.StatusCode < 400 {
		s += " (redirect)"
	}
	return s
}

// RejectError is returned by [ReadRequest] and [Upgrader.Upgrade] for a request that must be
// refused. It holds the response to send: [Upgrader.Upgrade] has already written it with
// [WriteReject]; a caller of ReadRequest writes it itself.
type RejectError struct {
	StatusCode int         // 400, 403, 405, 426 or 431
	Reason     string      // short text for the response body; it never echoes request data
	Header     http.Header // headers the response must carry, e.g. Sec-WebSocket-Version: 13
	Err        error       // the cause: ErrBadVersion, ErrNoUpgrade, ErrMalformedRequest, ...
}

// Error returns the cause's message followed by the status, e.g.
// "websocket: handshake: missing Upgrade: websocket (status 400 Bad Request)".
func (e *RejectError) Error() string {
	s := errPrefix + "request rejected"
	if e.Err != nil {
		s = e.Err.Error()
	}
	return s + " (status " + strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode) + ")"
}

// Unwrap returns the cause.
func (e *RejectError) Unwrap() error { return e.Err }

func reject(status int, err error) *RejectError {
	msg := err.Error()
	if len(msg) > len(errPrefix) && msg[:len(errPrefix)] == errPrefix {
		msg = msg[len(errPrefix):]
	}
	return &RejectError{StatusCode: status, Reason: msg, Err: err}
}
