package handshake

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/internal/httplex"
)

// ServerRequest is a client's opening handshake as read by [ReadRequest] (RFC 6455 §4.2.1).
type ServerRequest struct {
	Method  string // "GET" in a request that passed validation
	Target  string // request-target as sent: path and query, e.g. "/chat?room=1"
	Host    string // the Host header
	Key     string // Sec-WebSocket-Key, base64 of 16 bytes
	Origin  string // the Origin header, "" when absent
	Version string // Sec-WebSocket-Version, "13" in a request that passed validation
	// Protocols are the offered subprotocols in the client's order of preference, from all
	// Sec-WebSocket-Protocol fields.
	Protocols []string
	// Extensions are the elements of all Sec-WebSocket-Extensions fields, e.g.
	// "permessage-deflate; client_max_window_bits", in the client's order.
	Extensions []string
	Header     http.Header // all request headers, canonical keys, repeated values kept
	Fields     []Field     // the same headers in wire order with their original case
	// Deflate holds the agreed permessage-deflate parameters when [Upgrader.Upgrade]
	// accepted the extension (Upgrader.Deflate set and an acceptable offer); nil otherwise.
	// ReadRequest never sets it.
	Deflate *deflate.Parameters
}

// ReadRequest reads a client's opening handshake from br and validates it (RFC 6455 §4.2.1):
// method GET (else 405), HTTP/1.1 or later, exactly one Host, Upgrade listing "websocket",
// Connection listing "upgrade", one Sec-WebSocket-Key that is base64 of 16 bytes, no body, and
// well-formed subprotocol and extension lists (else 400), Sec-WebSocket-Version 13 (else 426
// with "Sec-WebSocket-Version: 13"), within lim (else 431).
//
// Every refusal is a *[RejectError] carrying the response to send and wrapping the cause
// ([ErrBadMethod], [ErrMalformedRequest], [ErrNoHost], [ErrNoUpgrade], [ErrNoConnection],
// [ErrBadKey], [ErrBadVersion], [ErrHeaderTooLarge]); when the header could be parsed the
// ServerRequest is returned with it. Reader errors (timeouts, io.EOF when the client closed
// before sending anything, io.ErrUnexpectedEOF within the header) are returned wrapped, with no
// RejectError: there is nobody left to answer.
//
// ReadRequest consumes exactly the request header; bytes the client sent after it stay in br.
// Empty lines before the request line are skipped (RFC 7230 §3.5).
func ReadRequest(br *bufio.Reader, lim *Limits) (*ServerRequest, error) {
	l := lim.orDefault()
	s, n, err := readHeader(br, &l, true, "request")
	if err != nil {
		if errors.Is(err, ErrHeaderTooLarge) {
			return nil, reject(http.StatusRequestHeaderFieldsTooLarge, err)
		}
		return nil, err
	}
	start, fields, h, err := parseFields(s, n, nil, ErrMalformedRequest)
	if err != nil {
		return nil, reject(http.StatusBadRequest, err)
	}
	req := &ServerRequest{Header: h, Fields: fields}
	var major, minor int
	if major, minor, err = req.parseRequestLine(start); err != nil {
		return nil, reject(http.StatusBadRequest, err)
	}
	if req.Method != http.MethodGet {
		re := reject(http.StatusMethodNotAllowed, ErrBadMethod)
		re.Header = http.Header{"Allow": {"GET"}}
		return req, re
	}
	if major != 1 || minor < 1 {
		return req, reject(http.StatusBadRequest, fmt.Errorf("%w: HTTP/%d.%d, want HTTP/1.1", ErrMalformedRequest, major, minor))
	}
	if len(h["Content-Length"]) > 0 && (len(h["Content-Length"]) > 1 || h["Content-Length"][0] != "0") ||
		len(h["Transfer-Encoding"]) > 0 {
		return req, reject(http.StatusBadRequest, fmt.Errorf("%w: the upgrade request has a body", ErrMalformedRequest))
	}
	if hosts := h["Host"]; len(hosts) != 1 || hosts[0] == "" {
		return req, reject(http.StatusBadRequest, ErrNoHost)
	}
	req.Host = h["Host"][0]
	if !hasToken(h["Upgrade"], "websocket") {
		return req, reject(http.StatusBadRequest, ErrNoUpgrade)
	}
	if !hasToken(h["Connection"], "upgrade") {
		return req, reject(http.StatusBadRequest, ErrNoConnection)
	}
	if vs := h["Sec-Websocket-Version"]; len(vs) > 0 {
		req.Version = vs[0]
	}
	if vs := h["Sec-Websocket-Version"]; len(vs) != 1 || vs[0] != "13" {
		re := reject(http.StatusUpgradeRequired, ErrBadVersion)
		re.Header = http.Header{"Sec-Websocket-Version": {"13"}}
		return req, re
	}
	if ks := h["Sec-Websocket-Key"]; len(ks) != 1 || !validKey(ks[0]) {
		return req, reject(http.StatusBadRequest, ErrBadKey)
	}
	req.Key = h["Sec-Websocket-Key"][0]
	if os := h["Origin"]; len(os) > 0 {
		req.Origin = os[0]
	}
	if err := req.parseLists(); err != nil {
		return req, reject(http.StatusBadRequest, err)
	}
	return req, nil
}

// parseRequestLine parses "GET /chat HTTP/1.1" (RFC 7230 §3.1.1).
func (req *ServerRequest) parseRequestLine(line string) (major, minor int, err error) {
	m := httplex.TokenEnd(line, 0)
	if m == 0 || m == len(line) || line[m] != ' ' {
		return 0, 0, fmt.Errorf("%w: bad request line", ErrMalformedRequest)
	}
	t := m + 1
	for t < len(line) && line[t] != ' ' {
		t++
	}
	if t == m+1 || t == len(line) {
		return 0, 0, fmt.Errorf("%w: bad request line", ErrMalformedRequest)
	}
	major, minor, ok := parseVersion(line[t+1:])
	if !ok || len(line) != t+9 {
		return 0, 0, fmt.Errorf("%w: bad request line", ErrMalformedRequest)
	}
	req.Method, req.Target = line[:m], line[m+1:t]
	return major, minor, nil
}

// parseLists fills Protocols and Extensions, checking their syntax.
func (req *ServerRequest) parseLists() error {
	for _, v := range req.Header["Sec-Websocket-Protocol"] {
		for rest := v; rest != ""; {
			var e string
			if e, rest = httplex.CutElement(rest); e == "" {
				continue
			}
			if !httplex.IsToken(e) {
				return fmt.Errorf("%w: a subprotocol in Sec-WebSocket-Protocol is not a token", ErrMalformedRequest)
			}
			req.Protocols = append(req.Protocols, e)
		}
	}
	for _, v := range req.Header["Sec-Websocket-Extensions"] {
		for rest := v; rest != ""; {
			var e string
			if e, rest = httplex.CutElement(rest); e == "" {
				continue
			}
			if _, ok := extensionName(e); !ok {
				return fmt.Errorf("%w: bad Sec-WebSocket-Extensions element", ErrMalformedRequest)
			}
			req.Extensions = append(req.Extensions, e)
		}
	}
	return nil
}

// Upgrader is the server side of the opening handshake. Its zero value accepts same-origin and
// non-browser clients and selects no subprotocol. An Upgrader may be used by many goroutines
// at once as long as its fields are not changed.
type Upgrader struct {
	// Protocols are the subprotocols the server speaks. The first subprotocol in the client's
	// list that appears here is selected (the client's preference wins).
	Protocols []string
	// CheckOrigin decides whether to accept the request (RFC 6455 §10.2); false answers 403
	// Forbidden. Nil accepts requests without an Origin header and requests whose Origin's
	// host[:port] equals Host (case-insensitively), and refuses cross-origin requests.
	CheckOrigin func(r *ServerRequest) bool
	// Header holds extra headers for every response, 101 or rejection. It may not set the
	// headers the handshake writes (Upgrade, Connection, Sec-WebSocket-Accept, -Protocol,
	// -Extensions, Content-Length, Transfer-Encoding); names must be tokens and values free of
	// control characters. An invalid Header fails every Upgrade with a *HeaderError after a
	// 500 response.
	Header http.Header
	// Limits bound the request header; zero fields mean the defaults.
	Limits Limits
	// Deflate, when not nil, accepts permessage-deflate (RFC 7692): the first acceptable
	// offer is answered as [deflate.ServerOptions.Negotiate] says, and the agreed
	// parameters are reported in ServerRequest.Deflate. Nil accepts no extension, as before.
	// Options with window bits outside 0 and 8..15 fail every Upgrade after a 500 response,
	// like an invalid Header.
	//
	// The connection must then compress: give conn.Config.Compression the codecs of
	// ServerRequest.Deflate (deflate.Parameters.NewCodecsLevel with server true and
	// Deflate.Level), or the peer's
	// compressed frames (RSV1, RFC 7692 §6) fail it with 1002.
	Deflate *deflate.ServerOptions
}

// Upgrade reads the client's handshake from br and answers on w. On success it writes the 101
// response (with the selected subprotocol, and the permessage-deflate response when Deflate
// accepted an offer) and returns the request and the subprotocol ("" for none); the
// connection then speaks WebSocket, and any bytes the client sent after its request are still
// in br.
//
// When the request must be refused Upgrade writes the response of the *[RejectError] (400,
// 403 for a refused origin, 405, 426 with "Sec-WebSocket-Version: 13", 431) with a short
// text body and returns that error, and the request if it could be parsed; the caller should
// close the connection. Reader errors are returned without writing anything. A failed write is
// returned wrapped.
//
// Upgrade writes with a single call to w.Write.
func (u *Upgrader) Upgrade(br *bufio.Reader, w io.Writer) (*ServerRequest, string, error) {
	if err := checkHeader(u.Header, ownedByServer); err != nil {
		_ = WriteReject(w, http.StatusInternalServerError, "server misconfigured", nil)
		return nil, "", err
	}
	if u.Deflate != nil {
		if err := u.Deflate.Check(); err != nil {
			_ = WriteReject(w, http.StatusInternalServerError, "server misconfigured", nil)
			return nil, "", fmt.Errorf(errPrefix+"Upgrader.Deflate: %w", err)
		}
	}
	req, err := ReadRequest(br, &u.Limits)
	if err == nil && !u.originOK(req) {
		err = reject(http.StatusForbidden, ErrOriginDenied)
	}
	if err != nil {
		var re *RejectError
		if errors.As(err, &re) {
			if werr := WriteReject(w, re.StatusCode, re.Reason, mergeHeader(re.Header, u.Header)); werr != nil {
				return req, "", fmt.Errorf("%w; writing the rejection: %v", err, werr)
			}
		}
		return req, "", err
	}
	protocol := selectProtocol(req.Protocols, u.Protocols)
	bp := writePool.Get().(*[]byte)
	b := (*bp)[:0]
	if u.Deflate != nil {
		if agreed, ok := u.Deflate.Negotiate(req.Extensions); ok {
			req.Deflate = &agreed
		}
	}
	b = appendResponse(b, req.Key, protocol, req.Deflate, u.Header)
	_, err = w.Write(b)
	putWriteBuf(bp, b)
	if err != nil {
		return req, protocol, fmt.Errorf(errPrefix+"writing response: %w", err)
	}
	return req, protocol, nil
}

func (u *Upgrader) originOK(req *ServerRequest) bool {
	if u.CheckOrigin != nil {
		return u.CheckOrigin(req)
	}
	if req.Origin == "" {
		return true
	}
	o, err := url.Parse(req.Origin)
	return err == nil && o.Host != "" && equalFold(o.Host, req.Host)
}

func selectProtocol(client, server []string) string {
	for _, c := range client {
		for _, s := range server {
			if c == s {
				return c
			}
		}
	}
	return ""
}

func mergeHeader(a, b http.Header) http.Header {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	m := make(http.Header, len(a)+len(b))
	for k, v := range b {
		m[k] = v
	}
	for k, v := range a {
		m[k] = append(m[k][:len(m[k]):len(m[k])], v...)
	}
	return m
}

var writePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func putWriteBuf(bp *[]byte, b []byte) {
	if cap(b) <= maxPooledScratch {
		*bp = b[:0]
		writePool.Put(bp)
	}
}

// AppendResponse appends the 101 response for a request with Sec-WebSocket-Key key to dst
// (RFC 6455 §4.2.2):
//
//	HTTP/1.1 101 Switching Protocols
//	Upgrade: websocket
//	Connection: Upgrade
//	Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
//	Sec-WebSocket-Protocol: chat
//	(extra headers, sorted by name, one line per value)
//
// with CRLF line endings and the empty line. The protocol line is written when protocol is a
// token, and omitted when it is "" (or not a token, which could not be sent safely). Extra
// headers that would fail the checks of Upgrader.Header are skipped; check them first with an
// Upgrader, or send them only through it, to get an error instead.
//
// Allocation: none when dst has room and extra has at most 16 names.
func AppendResponse(dst []byte, key, protocol string, extra http.Header) []byte {
	return appendResponse(dst, key, protocol, nil, extra)
}

// AppendResponseDeflate is AppendResponse with a permessage-deflate response: when agreed
// is not nil, "Sec-WebSocket-Extensions: " and agreed's element follow the protocol line.
// Pass the parameters returned by [deflate.ServerOptions.Negotiate] for the request's
// Extensions; window bits outside 8..15 are not written (see [deflate.Parameters.Validate]).
//
// Allocation: none when dst has room and extra has at most 16 names.
func AppendResponseDeflate(dst []byte, key, protocol string, agreed *deflate.Parameters, extra http.Header) []byte {
	return appendResponse(dst, key, protocol, agreed, extra)
}

func appendResponse(dst []byte, key, protocol string, agreed *deflate.Parameters, extra http.Header) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = appendAccept(dst, key)
	dst = append(dst, "\r\n"...)
	if httplex.IsToken(protocol) {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = append(dst, protocol...)
		dst = append(dst, "\r\n"...)
	}
	if agreed != nil {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = agreed.Append(dst)
		dst = append(dst, "\r\n"...)
	}
	dst = appendCleanHeader(dst, extra)
	return append(dst, "\r\n"...)
}

// appendCleanHeader appends the headers of extra that pass checkHeader for the server side.
func appendCleanHeader(dst []byte, extra http.Header) []byte {
	if checkHeader(extra, ownedByServer) == nil {
		return appendHeader(dst, extra)
	}
	clean := make(http.Header, len(extra))
	for name, values := range extra {
		if checkHeader(http.Header{name: values}, ownedByServer) == nil {
			clean[name] = values
		}
	}
	return appendHeader(dst, clean)
}

// WriteReject writes a refusal of a handshake to w with one Write call:
//
//	HTTP/1.1 426 Upgrade Required
//	Connection: close
//	Content-Length: 28
//	Content-Type: text/plain; charset=utf-8
//	(extra headers, sorted by name, one line per value)
//
//	unsupported WebSocket version
//
// The body is reason followed by a newline. Status must be 200 to 599; extra must pass the
// checks of Upgrader.Header (a *HeaderError otherwise, and nothing is written) and may
// replace Content-Type. Write errors are returned as they are.
func WriteReject(w io.Writer, status int, reason string, extra http.Header) error {
	if status < 200 || status > 599 {
		return fmt.Errorf(errPrefix+"WriteReject: status %d is not 200-599", status)
	}
	if err := checkHeader(extra, ownedByServer); err != nil {
		return err
	}
	bp := writePool.Get().(*[]byte)
	b := append((*bp)[:0], "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\nConnection: close\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(reason)+1), 10)
	b = append(b, "\r\n"...)
	if !hasName(extra, "Content-Type") {
		b = append(b, "Content-Type: text/plain; charset=utf-8\r\n"...)
	}
	b = appendHeader(b, extra)
	b = append(b, "\r\n"...)
	b = append(b, reason...)
	b = append(b, '\n')
	_, err := w.Write(b)
	putWriteBuf(bp, b)
	return err
}

func hasName(h http.Header, name string) bool {
	for k := range h {
		if equalFold(k, name) {
			return true
		}
	}
	return false
}
