package handshake

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/internal/httplex"
)

// Request describes a client's opening handshake (RFC 6455 §4.1). The zero value with Host set
// asks for "/" with no subprotocols, extensions or extra headers.
type Request struct {
	Host string // Host header: host or host:port, IPv6 in brackets; required
	Path string // request-target: path and query, e.g. "/chat?room=1"; "" means "/"
	// Protocols are the subprotocols to offer, most preferred first; each must be an HTTP
	// token and unique (§4.1 item 10).
	Protocols []string
	// Extensions are the extensions to offer (§9.1), e.g. "x-foo; a=1", in order of
	// preference. The server's answer to them is checked by name only; to negotiate
	// permessage-deflate with its parameters checked, use Deflate instead.
	Extensions []string
	// Deflate, when not nil, offers permessage-deflate (RFC 7692) with these options, first
	// among the extensions, and makes ReadResponse check the server's answer by RFC 7692
	// §7.1 and report the agreed parameters in [Response.Deflate]. Nil offers nothing (and
	// Extensions may then name permessage-deflate as an opaque extension, as before).
	//
	// The connection layer does not compress yet: set this only when your own code handles
	// frames with RSV1 set (RFC 7692 §6).
	Deflate *deflate.ClientOptions
	Origin  string // Origin header, sent when not ""
	// Header holds extra headers. Names must be tokens, values must not contain CR, LF, NUL
	// or other control characters, and the names the handshake writes itself are refused
	// (see Request.Append).
	Header http.Header
}

// ownedByClient lists the headers Request.Append writes or that would change how the message
// is framed; Header may not set them.
var ownedByClient = []string{
	"Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
	"Sec-WebSocket-Accept", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions",
	"Content-Length", "Transfer-Encoding",
}

// ownedByServer lists the headers the server side writes itself; extra headers given to
// Upgrader, AppendResponse and WriteReject may not set them.
var ownedByServer = []string{
	"Upgrade", "Connection", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol",
	"Sec-WebSocket-Extensions", "Content-Length", "Transfer-Encoding",
}

// Append appends the request to dst and returns the extended slice:
//
//	GET /chat HTTP/1.1
//	Host: server.example.com
//	Upgrade: websocket
//	Connection: Upgrade
//	Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
//	Sec-WebSocket-Version: 13
//	Sec-WebSocket-Protocol: chat, superchat
//	Sec-WebSocket-Extensions: permessage-deflate
//	Origin: http://example.com
//	(extra headers, sorted by name, one line per value)
//
// with CRLF line endings, followed by the empty line. Key is the Sec-WebSocket-Key, normally
// from [NewKey]; it must be base64 of 16 bytes ([ErrBadKey]).
//
// Append refuses, with a *[HeaderError], extra header names that are not tokens, values with
// CR, LF, NUL or another control character, names the handshake owns (Host, Upgrade,
// Connection, Sec-WebSocket-Key, -Version, -Accept, -Protocol, -Extensions, Content-Length,
// Transfer-Encoding; Origin when r.Origin is set), subprotocols that are not unique tokens,
// malformed extension offers, and a Deflate with window bits outside 8..15 or together with an
// Extensions entry naming permessage-deflate. A Host or Path that cannot be sent is a *HeaderError or
// [ErrInvalidRequest]. On error dst is returned unchanged.
//
// Allocation: none when dst has room and Header has at most 16 names; one more (for sorting
// the names) with more than 16.
func (r *Request) Append(dst []byte, key string) ([]byte, error) {
	if err := r.check(key); err != nil {
		return dst, err
	}
	path := r.Path
	if path == "" {
		path = "/"
	}
	dst = append(dst, "GET "...)
	dst = append(dst, path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, r.Host...)
	dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	dst = append(dst, key...)
	dst = append(dst, "\r\nSec-WebSocket-Version: 13\r\n"...)
	if len(r.Protocols) > 0 {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		for i, p := range r.Protocols {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, p...)
		}
		dst = append(dst, "\r\n"...)
	}
	if len(r.Extensions) > 0 || r.Deflate != nil {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		sep := false
		if r.Deflate != nil {
			offer, _ := r.Deflate.Offer() // checked by r.check
			dst = offer.Append(dst)
			sep = true
		}
		for _, e := range r.Extensions {
			if sep {
				dst = append(dst, ", "...)
			}
			dst = append(dst, httplex.TrimOWS(e)...)
			sep = true
		}
		dst = append(dst, "\r\n"...)
	}
	if r.Origin != "" {
		dst = append(dst, "Origin: "...)
		dst = append(dst, r.Origin...)
		dst = append(dst, "\r\n"...)
	}
	dst = appendHeader(dst, r.Header)
	return append(dst, "\r\n"...), nil
}

func (r *Request) check(key string) error {
	if !validKey(key) {
		return ErrBadKey
	}
	return r.Check()
}

// Check reports what Append would refuse in r, without a key: a client calls it before it
// opens any connection, so that a request that cannot be sent fails before any I/O. Errors
// are those of Append (a *[HeaderError] names the header but never shows its value, which
// may be a credential). Check allocates nothing when r is valid.
func (r *Request) Check() error {
	if r.Host == "" {
		return &HeaderError{Name: "Host", Reason: "empty"}
	}
	for i := 0; i < len(r.Host); i++ {
		if c := r.Host[i]; c <= ' ' || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '@' {
			return &HeaderError{Name: "Host", Reason: "byte " + strconv.Itoa(i) + " " + describeByte(c) + " is not allowed in a host"}
		}
	}
	if r.Path != "" {
		if r.Path[0] != '/' {
			return fmt.Errorf("%w: Path must start with '/'", ErrInvalidRequest)
		}
		for i := 0; i < len(r.Path); i++ {
			if c := r.Path[i]; c <= ' ' || c >= 0x7f {
				return fmt.Errorf("%w: Path byte %d is %s; percent-encode it", ErrInvalidRequest, i, describeByte(c))
			}
		}
	}
	if err := checkValue("Origin", r.Origin); err != nil {
		return err
	}
	for i, p := range r.Protocols {
		if p == "" {
			return &HeaderError{Name: "Sec-WebSocket-Protocol", Reason: "subprotocol " + strconv.Itoa(i+1) + " is empty"}
		}
		if j := httplex.FirstNonToken(p); j >= 0 {
			return &HeaderError{Name: "Sec-WebSocket-Protocol", Reason: "subprotocol " + strconv.Itoa(i+1) +
				" is not a token: byte " + strconv.Itoa(j) + " is " + describeByte(p[j])}
		}
		if k := slices.Index(r.Protocols[:i], p); k >= 0 {
			return &HeaderError{Name: "Sec-WebSocket-Protocol", Reason: "subprotocols " + strconv.Itoa(k+1) +
				" and " + strconv.Itoa(i+1) + " are the same"}
		}
	}
	for i, e := range r.Extensions {
		if err := checkValue("Sec-WebSocket-Extensions", e); err != nil {
			return err
		}
		n := 0
		for rest := e; rest != ""; {
			var el string
			if el, rest = httplex.CutElement(rest); el == "" {
				continue
			}
			name, ok := extensionName(el)
			if !ok {
				n = -1
				break
			}
			if r.Deflate != nil && equalFold(name, deflate.ExtensionName) {
				return &HeaderError{Name: "Sec-WebSocket-Extensions", Reason: "extension offer " + strconv.Itoa(i+1) +
					" names permessage-deflate, which Request.Deflate offers already"}
			}
			n++
		}
		if n <= 0 {
			return &HeaderError{Name: "Sec-WebSocket-Extensions", Reason: "extension offer " + strconv.Itoa(i+1) +
				" is not token *( \";\" param )"}
		}
	}
	if r.Deflate != nil {
		if _, err := r.Deflate.Offer(); err != nil {
			return fmt.Errorf("%w: Deflate: %w", ErrInvalidRequest, err)
		}
	}
	if r.Origin != "" {
		for name := range r.Header {
			if equalFold(name, "Origin") {
				return &HeaderError{Name: name, Reason: "set both in Request.Origin and in Request.Header"}
			}
		}
	}
	return checkHeader(r.Header, ownedByClient)
}

// checkHeader checks extra headers: names are tokens not in owned, values are clean.
func checkHeader(h http.Header, owned []string) error {
	for name, values := range h {
		if name == "" {
			return &HeaderError{Name: name, Reason: "empty name"}
		}
		if i := httplex.FirstNonToken(name); i >= 0 {
			return &HeaderError{Name: name, Reason: "name is not a token: byte " + strconv.Itoa(i) + " is " + describeByte(name[i])}
		}
		for _, o := range owned {
			if equalFold(name, o) {
				return &HeaderError{Name: name, Reason: "written by the handshake itself; it cannot be set"}
			}
		}
		for _, v := range values {
			if err := checkValue(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkValue(name, v string) error {
	if i := firstBadValueByte(v); i >= 0 {
		return &HeaderError{Name: name, Reason: "value contains " + describeByte(v[i]) + " at byte " + strconv.Itoa(i)}
	}
	return nil
}

// describeByte names a byte for an error message without revealing printable content.
func describeByte(c byte) string {
	switch c {
	case '\r':
		return "CR"
	case '\n':
		return "LF"
	case 0:
		return "NUL"
	case ' ':
		return "a space"
	case '\t':
		return "a tab"
	}
	if c < ' ' || c == 0x7f {
		return fmt.Sprintf("control byte 0x%02x", c)
	}
	if c >= 0x80 {
		return fmt.Sprintf("non-ASCII byte 0x%02x", c)
	}
	return strconv.QuoteRune(rune(c))
}

// appendHeader appends the headers of h sorted by name, one line per value. h must have passed
// checkHeader.
func appendHeader(dst []byte, h http.Header) []byte {
	if len(h) == 0 {
		return dst
	}
	var stack [16]string
	names := stack[:0]
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range h[name] {
			dst = append(dst, name...)
			dst = append(dst, ": "...)
			dst = append(dst, httplex.TrimOWS(v)...)
			dst = append(dst, "\r\n"...)
		}
	}
	return dst
}
