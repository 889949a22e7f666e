package deflate

import (
	"errors"
	"strconv"
	"strings"

	"github.com/netkit/websocket/internal/httplex"
)

// ExtensionName is the registered name of the extension (RFC 7692 §7).
const ExtensionName = "permessage-deflate"

// Window sizes allowed by RFC 7692 §7.1.2: the LZ77 window is 2^bits bytes.
const (
	MinWindowBits = 8
	MaxWindowBits = 15
)

// WindowBitsNoValue in [Parameters.ClientMaxWindowBits] stands for client_max_window_bits sent
// without a value, which only a client's offer may do (RFC 7692 §7.1.2.2): "I can limit my
// window if you ask".
const WindowBitsNoValue = -1

// Parameters are the four extension parameters of permessage-deflate (RFC 7692 §7.1), as they
// appear in one offer or one response. The zero value is the bare "permessage-deflate":
// context takeover both ways and 32 KiB windows.
type Parameters struct {
	// ServerNoContextTakeover: the server resets its compression context after every message
	// (§7.1.1.1).
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client resets its compression context after every message
	// (§7.1.1.2).
	ClientNoContextTakeover bool
	// ServerMaxWindowBits limits the server's LZ77 window to 2^bits bytes: 0 when the
	// parameter is absent (the window is 15 bits), else 8 to 15 (§7.1.2.1).
	ServerMaxWindowBits int
	// ClientMaxWindowBits limits the client's LZ77 window: 0 when absent, 8 to 15 with a
	// value, or WindowBitsNoValue for the parameter without a value, which is valid in an
	// offer only (§7.1.2.2).
	ClientMaxWindowBits int
}

// Parameter names (RFC 7692 §7.1).
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// Errors of parsing and negotiation. Each is returned wrapped in a *[ParamError] or with a
// detail; compare with errors.Is.
var (
	// ErrNotDeflate means an extension element names another extension.
	ErrNotDeflate = errors.New("websocket: deflate: not a permessage-deflate element")
	// ErrSyntax means the element does not follow the extension grammar of RFC 6455 §9.1.
	ErrSyntax = errors.New("websocket: deflate: malformed extension element")
	// ErrUnknownParameter means a parameter RFC 7692 does not define (§7: decline or fail).
	ErrUnknownParameter = errors.New("websocket: deflate: unknown parameter")
	// ErrDuplicateParameter means a parameter appears twice in one element (§7).
	ErrDuplicateParameter = errors.New("websocket: deflate: duplicate parameter")
	// ErrInvalidValue means a value is missing, present where none is allowed, or not an
	// integer 8 to 15 without leading zeros (§7.1.2.1, §7.1.2.2).
	ErrInvalidValue = errors.New("websocket: deflate: invalid parameter value")
	// ErrUnacceptableResponse means a server's response is well formed but not a valid answer
	// to the offer we sent (§7.1.1.1, §7.1.2.1, §7.1.2.2): the client must fail the connection.
	ErrUnacceptableResponse = errors.New("websocket: deflate: response does not answer our offer")
)

// ParamError reports what is wrong with one parameter of an element. It wraps one of the
// errors above. Its message quotes the parameter's name (at most 32 bytes of it) but never its
// value.
type ParamError struct {
	Param  string // the parameter's name as sent, "" when the element as a whole is wrong
	Reason string // what is wrong
	Err    error  // ErrSyntax, ErrUnknownParameter, ErrDuplicateParameter, ErrInvalidValue or ErrUnacceptableResponse
}

// Error returns e.g. `websocket: deflate: invalid parameter value: "server_max_window_bits":
// must be 8 to 15`.
func (e *ParamError) Error() string {
	s := e.Err.Error()
	if e.Param != "" {
		p := e.Param
		if len(p) > 32 {
			p = p[:32] + "..."
		}
		s += ": " + strconv.Quote(p)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns the sentinel error.
func (e *ParamError) Unwrap() error { return e.Err }

// Parse parses one element of a Sec-WebSocket-Extensions header (one offer, or the server's
// response), e.g. `permessage-deflate; client_max_window_bits; server_max_window_bits=10`.
// The element grammar is that of RFC 6455 §9.1; parameter values may be tokens or quoted
// strings whose unescaped content is a valid token (RFC 7692 §7, which refers to RFC 6455
// §9.1 for the quoted form). Parameter names are compared case-insensitively, and so is the
// extension name.
//
// Parse checks what RFC 7692 §7 requires of every element: only the four known parameters,
// none twice, no value on the no_context_takeover parameters, a value 8 to 15 (decimal, no
// leading zero) on server_max_window_bits, and on client_max_window_bits either no value
// (returned as WindowBitsNoValue) or one from 8 to 15. Whether a parameter is allowed in an
// offer or a response is not checked here; [ClientOptions.Accept] and [ServerOptions.Negotiate]
// do that. An element naming another extension is [ErrNotDeflate]; other errors are a
// *[ParamError].
func Parse(element string) (Parameters, error) {
	var p Parameters
	s := httplex.TrimOWS(element)
	i := httplex.TokenEnd(s, 0)
	if i == 0 {
		return p, &ParamError{Reason: "no extension name", Err: ErrSyntax}
	}
	if !strings.EqualFold(s[:i], ExtensionName) {
		return p, ErrNotDeflate
	}
	var seen [4]bool
	for {
		i = httplex.SkipOWS(s, i)
		if i == len(s) {
			return p, nil
		}
		if s[i] != ';' {
			return p, &ParamError{Reason: "expected ';' between parameters", Err: ErrSyntax}
		}
		i = httplex.SkipOWS(s, i+1)
		j := httplex.TokenEnd(s, i)
		if j == i {
			return p, &ParamError{Reason: "a parameter name is not a token", Err: ErrSyntax}
		}
		name := s[i:j]
		i = httplex.SkipOWS(s, j)
		value, hasValue := "", false
		if i < len(s) && s[i] == '=' {
			hasValue = true
			i = httplex.SkipOWS(s, i+1)
			var ok bool
			if value, i, ok = cutValue(s, i); !ok {
				return p, &ParamError{Param: name, Reason: "value is neither a token nor a quoted token", Err: ErrSyntax}
			}
		}
		k := paramIndex(name)
		if k < 0 {
			return p, &ParamError{Param: name, Reason: "not a parameter of permessage-deflate", Err: ErrUnknownParameter}
		}
		if seen[k] {
			return p, &ParamError{Param: name, Reason: "appears more than once", Err: ErrDuplicateParameter}
		}
		seen[k] = true
		switch k {
		case 0, 1:
			if hasValue {
				return p, &ParamError{Param: name, Reason: "takes no value", Err: ErrInvalidValue}
			}
			if k == 0 {
				p.ServerNoContextTakeover = true
			} else {
				p.ClientNoContextTakeover = true
			}
		case 2, 3:
			bits := WindowBitsNoValue
			if hasValue {
				var ok bool
				if bits, ok = parseBits(value); !ok {
					return p, &ParamError{Param: name, Reason: "value must be an integer 8 to 15 without leading zeros", Err: ErrInvalidValue}
				}
			} else if k == 2 {
				return p, &ParamError{Param: name, Reason: "needs a value 8 to 15", Err: ErrInvalidValue}
			}
			if k == 2 {
				p.ServerMaxWindowBits = bits
			} else {
				p.ClientMaxWindowBits = bits
			}
		}
	}
}

func paramIndex(name string) int {
	for k, n := range [...]string{paramServerNoContextTakeover, paramClientNoContextTakeover, paramServerMaxWindowBits, paramClientMaxWindowBits} {
		if strings.EqualFold(name, n) {
			return k
		}
	}
	return -1
}

// parseBits parses "8" to "15".
func parseBits(v string) (int, bool) {
	switch {
	case len(v) == 1 && v[0] >= '8' && v[0] <= '9':
		return int(v[0] - '0'), true
	case len(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5':
		return 10 + int(v[1]-'0'), true
	}
	return 0, false
}

// cutValue reads a token or a quoted-string at s[i:] and returns the value (unescaped) and the
// index after it. A quoted value must unescape to a token (RFC 6455 §9.1).
func cutValue(s string, i int) (string, int, bool) {
	if i < len(s) && s[i] == '"' {
		var b []byte
		for j := i + 1; j < len(s); j++ {
			c := s[j]
			switch {
			case c == '"':
				v := string(b)
				return v, j + 1, httplex.IsToken(v)
			case c == '\\':
				j++
				if j == len(s) {
					return "", 0, false
				}
				c = s[j]
			}
			if !httplex.IsTchar(c) {
				return "", 0, false
			}
			b = append(b, c)
		}
		return "", 0, false
	}
	j := httplex.TokenEnd(s, i)
	return s[i:j], j, j > i
}

// String returns the element for a Sec-WebSocket-Extensions header, parameters in the order
// of RFC 7692 §7.1, e.g. "permessage-deflate; server_no_context_takeover;
// client_max_window_bits". Window bits outside 8..15 (other than 0, and WindowBitsNoValue for
// the client) are not written; [Parameters.Validate] reports them.
func (p Parameters) String() string { return string(p.Append(nil)) }

// Append appends p.String() to dst.
func (p Parameters) Append(dst []byte) []byte {
	dst = append(dst, ExtensionName...)
	if p.ServerNoContextTakeover {
		dst = append(dst, "; "+paramServerNoContextTakeover...)
	}
	if p.ClientNoContextTakeover {
		dst = append(dst, "; "+paramClientNoContextTakeover...)
	}
	if validBits(p.ServerMaxWindowBits) {
		dst = append(dst, "; "+paramServerMaxWindowBits+"="...)
		dst = strconv.AppendInt(dst, int64(p.ServerMaxWindowBits), 10)
	}
	switch {
	case p.ClientMaxWindowBits == WindowBitsNoValue:
		dst = append(dst, "; "+paramClientMaxWindowBits...)
	case validBits(p.ClientMaxWindowBits):
		dst = append(dst, "; "+paramClientMaxWindowBits+"="...)
		dst = strconv.AppendInt(dst, int64(p.ClientMaxWindowBits), 10)
	}
	return dst
}

func validBits(b int) bool { return b >= MinWindowBits && b <= MaxWindowBits }

// Validate reports window bits that String could not write: ServerMaxWindowBits must be 0 or
// 8..15, ClientMaxWindowBits 0, 8..15 or WindowBitsNoValue. The error is a *[ParamError]
// wrapping [ErrInvalidValue].
func (p Parameters) Validate() error {
	if p.ServerMaxWindowBits != 0 && !validBits(p.ServerMaxWindowBits) {
		return &ParamError{Param: paramServerMaxWindowBits, Reason: "must be 0 (absent) or 8 to 15, is " + strconv.Itoa(p.ServerMaxWindowBits), Err: ErrInvalidValue}
	}
	if c := p.ClientMaxWindowBits; c != 0 && c != WindowBitsNoValue && !validBits(c) {
		return &ParamError{Param: paramClientMaxWindowBits, Reason: "must be 0 (absent), WindowBitsNoValue or 8 to 15, is " + strconv.Itoa(c), Err: ErrInvalidValue}
	}
	return nil
}

// ServerWindowBits returns the window the server compresses with, as bits: 15 when
// server_max_window_bits is absent.
func (p Parameters) ServerWindowBits() int {
	if validBits(p.ServerMaxWindowBits) {
		return p.ServerMaxWindowBits
	}
	return MaxWindowBits
}

// ClientWindowBits returns the window the client compresses with, as bits: 15 when
// client_max_window_bits is absent or has no value.
func (p Parameters) ClientWindowBits() int {
	if validBits(p.ClientMaxWindowBits) {
		return p.ClientMaxWindowBits
	}
	return MaxWindowBits
}

// Elements splits Sec-WebSocket-Extensions header values into their elements (RFC 6455 §9.1,
// the list syntax of RFC 7230 §7): commas inside quoted strings do not split, surrounding
// whitespace is trimmed and empty elements are dropped. It is for servers that read the header
// themselves (net/http: r.Header.Values("Sec-WebSocket-Extensions")) before
// [ServerOptions.Negotiate]; package handshake does this already.
func Elements(values []string) []string {
	var out []string
	for _, v := range values {
		for rest := v; rest != ""; {
			var e string
			if e, rest = httplex.CutElement(rest); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}
