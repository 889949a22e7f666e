package handshake

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/internal/httplex"
)

// Response is a server's successful opening handshake response (RFC 6455 §4.2.2), as
// returned by [ReadResponse].
type Response struct {
	StatusCode int         // always 101 in a Response returned without error
	Status     string      // the reason phrase as sent, e.g. "Switching Protocols"
	Header     http.Header // all response headers, canonical keys, repeated values kept
	Fields     []Field     // the same headers in wire order with their original case
	// Subprotocol is the subprotocol the server selected, one of Request.Protocols, or "".
	Subprotocol string
	// Extensions are the elements of the server's Sec-WebSocket-Extensions, each naming an
	// extension the client offered, with the server's parameters, in the server's order.
	Extensions []string
	// Deflate holds the agreed permessage-deflate parameters (see [deflate.Accept]) when the
	// request offered it through Request.Deflate and the server accepted; nil otherwise.
	Deflate *deflate.Parameters
}

// ReadResponse reads the server's handshake response from br and validates it against the
// request req (nil means no subprotocols and no extensions were offered) and the key that was
// sent (RFC 6455 §4.1, client requirements 1-6):
//
//   - the status must be 101, otherwise the error is a *[StatusError] carrying the status,
//     headers, Location and up to [MaxErrorBody] bytes of body;
//   - HTTP/1.1 or later; Upgrade must list "websocket" and Connection must list "upgrade",
//     both case-insensitively, else [ErrNoUpgrade] or [ErrNoConnection];
//   - exactly one Sec-WebSocket-Accept equal to AcceptKey(key), else [ErrBadAccept];
//   - at most one subprotocol, one that req offered, else [ErrUnofferedSubprotocol];
//   - only extensions that req offered (compared by name), else [ErrUnofferedExtension];
//   - when req.Deflate is set, at most one permessage-deflate element, valid for our offer
//     by RFC 7692 §7.1 ([deflate.Accept]), else [ErrBadDeflateResponse] (RFC 7692 §7.1: the
//     client must fail the connection); the agreed parameters go to Response.Deflate.
//
// Syntax errors are [ErrMalformedResponse]; going over lim is [ErrHeaderTooLarge]; reader
// errors are wrapped (io.EOF when the connection closed before the first byte,
// io.ErrUnexpectedEOF within the header). When the header was read but fails validation (a
// non-101 status included) the parsed Response is returned together with the error, so the
// caller can still report what the server sent.
//
// ReadResponse consumes exactly the response header (and, for a non-101 status, the part of
// the body it keeps): bytes the server sent after the header, such as its first frames, stay
// in br.
//
// Allocation: one string holds the whole header, and Fields, Header and the Response (which
// shares its allocation with the header map's value slices for up to 8 fields) add four more
// for a typical 101: five in all (see BenchmarkReadResponse). The
// strings in the Response stay valid for as long as the caller keeps them.
func ReadResponse(br *bufio.Reader, req *Request, key string, lim *Limits) (*Response, error) {
	l := lim.orDefault()
	// The Response and the header map's values share one allocation when there are few
	// fields (a typical 101 has 3 to 6).
	st := new(responseStore)
	var (
		start, reason      string
		fields             []Field
		h                  http.Header
		major, minor, code int
	)
	for interim := 0; ; interim++ {
		s, n, err := readHeader(br, &l, false, "response")
		if err != nil {
			return nil, err
		}
		start, fields, h, err = parseFields(s, n, st.vals[:0], ErrMalformedResponse)
		if err != nil {
			return nil, err
		}
		major, minor, code, reason, err = parseStatusLine(start)
		if err != nil {
			return nil, err
		}
		// An interim 1xx response other than 101 (100 Continue, 103 Early Hints) has no
		// body and is followed by the final one (RFC 9110 §15.2): skip it, a bounded
		// number of times.
		if code < 100 || code >= 200 || code == http.StatusSwitchingProtocols {
			break
		}
		if interim == MaxInterimResponses {
			return nil, fmt.Errorf("%w: more than %d interim (1xx) responses", ErrMalformedResponse, MaxInterimResponses)
		}
	}
	resp := &st.resp
	*resp = Response{StatusCode: code, Status: reason, Header: h, Fields: fields}
	if code != http.StatusSwitchingProtocols {
		return resp, newStatusError(br, resp)
	}
	if major != 1 || minor < 1 {
		return resp, fmt.Errorf("%w: 101 response over HTTP/%d.%d", ErrMalformedResponse, major, minor)
	}
	return resp, resp.validate(req, key, &st.deflate)
}

// MaxInterimResponses is how many interim 1xx responses (other than 101) ReadResponse skips
// before the final response; one more is an ErrMalformedResponse.
const MaxInterimResponses = 8

// responseStore is a Response with room for the values of its header map.
type responseStore struct {
	resp    Response
	vals    [8]string
	deflate deflate.Parameters
}

// parseStatusLine parses "HTTP/1.1 101 Switching Protocols" (RFC 7230 §3.1.2). The reason
// phrase may be empty and the space before it missing.
func parseStatusLine(line string) (major, minor, code int, reason string, err error) {
	major, minor, ok := parseVersion(line)
	if !ok || len(line) < 12 || line[8] != ' ' || !isDigit(line[9]) || !isDigit(line[10]) ||
		!isDigit(line[11]) || line[9] == '0' || len(line) > 12 && line[12] != ' ' {
		return 0, 0, 0, "", fmt.Errorf("%w: bad status line", ErrMalformedResponse)
	}
	code = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	if len(line) > 12 {
		reason = line[13:]
	}
	return major, minor, code, reason, nil
}

func (resp *Response) validate(req *Request, key string, agreed *deflate.Parameters) error {
	h := resp.Header
	if !hasToken(h["Upgrade"], "websocket") {
		return ErrNoUpgrade
	}
	if !hasToken(h["Connection"], "upgrade") {
		return ErrNoConnection
	}
	switch acc := h["Sec-Websocket-Accept"]; {
	case len(acc) == 0:
		return fmt.Errorf("%w: no Sec-WebSocket-Accept", ErrBadAccept)
	case len(acc) > 1:
		return fmt.Errorf("%w: more than one Sec-WebSocket-Accept", ErrBadAccept)
	case !checkAccept(acc[0], key):
		return ErrBadAccept
	}
	return resp.validateNegotiated(req, agreed)
}

// validateNegotiated checks the subprotocol and extensions the server selected against the
// offer (RFC 6455 §4.1 items 5 and 6; the same over HTTP/1.1 and HTTP/2).
func (resp *Response) validateNegotiated(req *Request, agreed *deflate.Parameters) error {
	h := resp.Header
	var offeredProtocols, offeredExtensions []string
	var deflateOpts *deflate.ClientOptions
	if req != nil {
		offeredProtocols, offeredExtensions, deflateOpts = req.Protocols, req.Extensions, req.Deflate
	}
	switch ps := h["Sec-Websocket-Protocol"]; {
	case len(ps) > 1:
		return fmt.Errorf("%w: more than one Sec-WebSocket-Protocol field", ErrUnofferedSubprotocol)
	case len(ps) == 1 && ps[0] != "":
		for _, p := range offeredProtocols {
			if p == ps[0] {
				resp.Subprotocol = p
				break
			}
		}
		if resp.Subprotocol == "" {
			return fmt.Errorf("%w: %s", ErrUnofferedSubprotocol, quoteShort(ps[0]))
		}
	}
	for _, v := range h["Sec-Websocket-Extensions"] {
		for rest := v; rest != ""; {
			var e string
			if e, rest = httplex.CutElement(rest); e == "" {
				continue
			}
			name, ok := extensionName(e)
			if !ok {
				return fmt.Errorf("%w: bad Sec-WebSocket-Extensions element", ErrMalformedResponse)
			}
			if deflateOpts != nil && equalFold(name, deflate.ExtensionName) {
				if resp.Deflate != nil {
					return fmt.Errorf("%w: more than one permessage-deflate element", ErrBadDeflateResponse)
				}
				offer, err := deflateOpts.Offer()
				if err == nil {
					*agreed, err = deflate.Accept(offer, e)
				}
				if err != nil {
					return fmt.Errorf("%w: %w", ErrBadDeflateResponse, err)
				}
				resp.Deflate = agreed
			} else if !offered(offeredExtensions, name) {
				return fmt.Errorf("%w: %s", ErrUnofferedExtension, quoteShort(name))
			}
			resp.Extensions = append(resp.Extensions, e)
		}
	}
	return nil
}

// offered reports whether one of the extension offers names the extension name.
func offered(offers []string, name string) bool {
	for _, o := range offers {
		for rest := o; rest != ""; {
			var e string
			e, rest = httplex.CutElement(rest)
			if n, ok := extensionName(e); ok && equalFold(n, name) {
				return true
			}
		}
	}
	return false
}

// quoteShort quotes at most 64 bytes of s for an error message.
func quoteShort(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "..."
	}
	return strconv.Quote(s)
}

// newStatusError builds the error for a non-101 response and keeps the start of its body.
func newStatusError(br *bufio.Reader, resp *Response) *StatusError {
	e := &StatusError{
		StatusCode: resp.StatusCode,
		Status:     resp.Status,
		Header:     resp.Header,
		Fields:     resp.Fields,
	}
	if loc := resp.Header["Location"]; len(loc) > 0 {
		e.Location = loc[0]
	}
	e.Body = readErrorBody(br, resp)
	return e
}

// readErrorBody keeps up to MaxErrorBody bytes of a non-101 body. With a Content-Length it
// reads that many bytes (at most MaxErrorBody); otherwise it takes only what br has buffered
// already, so it never waits for a body whose end it cannot know. A chunked body is decoded.
func readErrorBody(br *bufio.Reader, resp *Response) []byte {
	code := resp.StatusCode
	if code < 200 || code == http.StatusNoContent || code == http.StatusNotModified {
		return nil
	}
	if te := resp.Header["Transfer-Encoding"]; len(te) > 0 {
		raw, _ := br.Peek(br.Buffered())
		if !hasToken(te, "chunked") {
			return takeBuffered(br, raw)
		}
		body, used := dechunk(raw, MaxErrorBody)
		_, _ = br.Discard(used)
		return body
	}
	if cl := resp.Header["Content-Length"]; len(cl) > 0 {
		n, ok := parseContentLength(cl[0])
		if ok {
			if n == 0 {
				return nil
			}
			body := make([]byte, min(n, MaxErrorBody))
			k, _ := io.ReadFull(br, body)
			return body[:k]
		}
	}
	raw, _ := br.Peek(br.Buffered())
	return takeBuffered(br, raw)
}

func takeBuffered(br *bufio.Reader, raw []byte) []byte {
	if len(raw) == 0 {
		return nil
	}
	body := bytes.Clone(raw[:min(len(raw), MaxErrorBody)])
	_, _ = br.Discard(len(body))
	return body
}

// dechunk decodes the chunked transfer coding (RFC 7230 §4.1) from p as far as p goes,
// keeping at most max bytes of data. It returns the data and how many bytes of p it used.
func dechunk(p []byte, max int) (body []byte, used int) {
	off := 0
	for {
		i := bytes.IndexByte(p[off:], '\n')
		if i < 0 {
			return body, off
		}
		sizeLine := p[off : off+i]
		if j := bytes.IndexByte(sizeLine, ';'); j >= 0 {
			sizeLine = sizeLine[:j]
		}
		size, ok := parseHex(string(bytes.TrimRight(sizeLine, " \t\r")))
		if !ok {
			return body, off
		}
		data := off + i + 1
		if size == 0 {
			return body, data
		}
		take := int(min(size, int64(len(p)-data), int64(max-len(body))))
		body = append(body, p[data:data+take]...)
		if int64(take) < size {
			return body, data + take
		}
		off = data + take
		switch {
		case bytes.HasPrefix(p[off:], []byte("\r\n")):
			off += 2
		case bytes.HasPrefix(p[off:], []byte("\n")):
			off++
		default:
			return body, off
		}
	}
}

// parseHex parses a chunk size of 1 to 15 hex digits.
func parseHex(s string) (int64, bool) {
	if s == "" || len(s) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := lower(s[i])
		switch {
		case isDigit(c):
			n = n<<4 | int64(c-'0')
		case 'a' <= c && c <= 'f':
			n = n<<4 | int64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return n, true
}
