package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	xproxy "golang.org/x/net/proxy"
)

// Dialer opens a byte stream to addr ("host:port") on network ("tcp"), directly or through a
// proxy. It has the shape of net.Dialer.DialContext and of client.DialOptions.NetDialContext.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// Direct dials addr itself, with a zero net.Dialer: no proxy.
func Direct(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// DefaultMaxReplySize bounds the status line and header of a CONNECT reply when
// Options.MaxReplySize is zero.
const DefaultMaxReplySize = 16 << 10

// Options configures the proxy dialers. A nil *Options, and every zero field, means the default.
type Options struct {
	// Forward opens the connection to the proxy itself; nil means Direct.
	Forward Dialer
	// TLSConfig is used for TLS to an https:// proxy; nil means the system roots with full
	// verification. It is cloned, never modified; ServerName defaults to the proxy's host.
	TLSConfig *tls.Config
	// MaxReplySize bounds the size of a CONNECT reply's status line and header (bytes); 0
	// means DefaultMaxReplySize.
	MaxReplySize int
	// Header holds extra header fields of the CONNECT request (User-Agent, for example).
	// Host and Proxy-Authorization are written by HTTPConnect and must not be set here.
	Header http.Header
}

func (o *Options) forward() Dialer {
	if o == nil || o.Forward == nil {
		return Direct
	}
	return o.Forward
}

// ErrProxyAuthRequired is in the chain of the error of a CONNECT refused for want of valid
// credentials: status 407 (Proxy Authentication Required), or 401, which some proxies
// (tinyproxy) send for wrong credentials.
var ErrProxyAuthRequired = errors.New("proxy authentication required")

// Error is a failure to reach a target through a proxy other than a refused CONNECT: the
// proxy unreachable, a TLS failure with the proxy, a malformed reply, a SOCKS failure, or the
// context ending. It never holds credentials.
type Error struct {
	Proxy string // the proxy, "host:port"
	Op    string // what failed: "dial", "TLS handshake", "CONNECT", "SOCKS5"
	Err   error  // the cause
}

// Error implements error.
func (e *Error) Error() string {
	return "websocket: proxy " + e.Proxy + ": " + e.Op + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ConnectError is an HTTP proxy's refusal of a CONNECT: its reply had a status other than
// 2xx. Status is the code with its standard text (RFC 9110 §15), e.g. "407 Proxy
// Authentication Required", or the bare code when it has none: the proxy's own reason phrase
// is never shown, since a proxy may echo the request, credentials included, into it.
// errors.Is(err, ErrProxyAuthRequired) holds for 407 and 401.
type ConnectError struct {
	Proxy      string // the proxy, "host:port"
	Target     string // the CONNECT target, "host:port"
	StatusCode int    // e.g. 407
	Status     string // e.g. "407 Proxy Authentication Required"
}

// Error implements error.
func (e *ConnectError) Error() string {
	return fmt.Sprintf("websocket: proxy %s: CONNECT %s refused: %s", e.Proxy, e.Target, e.Status)
}

// Is reports whether target is ErrProxyAuthRequired and the status asks for credentials.
func (e *ConnectError) Is(target error) bool {
	return target == ErrProxyAuthRequired &&
		(e.StatusCode == http.StatusProxyAuthRequired || e.StatusCode == http.StatusUnauthorized)
}

// FromURL returns the Dialer of a proxy URL: http:// and https:// make HTTPConnect, socks5://
// and socks5h:// make SOCKS5. A nil URL means Direct.
func FromURL(proxyURL *url.URL, opts *Options) (Dialer, error) {
	if proxyURL == nil {
		return Direct, nil
	}
	switch strings.ToLower(proxyURL.Scheme) {
	case "http", "https":
		return HTTPConnect(proxyURL, opts)
	case "socks5", "socks5h":
		return SOCKS5(proxyURL, opts)
	}
	return nil, fmt.Errorf("websocket: proxy %s: scheme %q is not supported (want http, https, socks5 or socks5h)",
		proxyURL.Host, proxyURL.Scheme)
}

// hostPort returns the "host:port" of a proxy URL, with the scheme's default port.
func hostPort(u *url.URL, defPort string) (string, error) {
	host := u.Hostname()
	if host == "" {
		return "", fmt.Errorf("websocket: proxy URL without a host (scheme %q)", u.Scheme)
	}
	port := u.Port()
	if port == "" {
		port = defPort
	} else if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "", fmt.Errorf("websocket: proxy %s: port %q is not in 1-65535", host, port)
	}
	return net.JoinHostPort(host, port), nil
}

// HTTPConnect returns a Dialer that tunnels through the HTTP proxy at proxyURL with CONNECT
// (RFC 7231 §4.3.6). The URL is http://[user:password@]host[:port] (port 80 by default) or
// https://... (port 443 by default, TLS to the proxy itself). With user information, each
// CONNECT carries "Proxy-Authorization: Basic" (RFC 7617); the credentials go to the proxy
// only. A reply other than 2xx is a *ConnectError; bytes the proxy sent after its reply are the
// first bytes read from the returned connection.
//
// The reply's status line and header are read up to Options.MaxReplySize bytes and checked
// (HTTP/1.0 or 1.1, a three-digit code, "name: value" lines without control characters); a
// reply that fails is an *Error wrapping ErrMalformedReply that says which line is wrong and
// how, without quoting the proxy's bytes, so that a proxy echoing the request cannot put the
// credentials, plain or Base64, into an error.
func HTTPConnect(proxyURL *url.URL, opts *Options) (Dialer, error) {
	if proxyURL == nil {
		return nil, errors.New("websocket: proxy: nil proxy URL")
	}
	scheme := strings.ToLower(proxyURL.Scheme)
	var defPort string
	switch scheme {
	case "http":
		defPort = "80"
	case "https":
		defPort = "443"
	default:
		return nil, fmt.Errorf("websocket: proxy %s: scheme %q is not an HTTP proxy", proxyURL.Host, proxyURL.Scheme)
	}
	addr, err := hostPort(proxyURL, defPort)
	if err != nil {
		return nil, err
	}
	h := &httpConnect{addr: addr, host: proxyURL.Hostname(), tls: scheme == "https",
		forward: opts.forward(), maxReply: DefaultMaxReplySize}
	if opts != nil {
		if opts.MaxReplySize > 0 {
			h.maxReply = opts.MaxReplySize
		}
		h.tlsConfig = opts.TLSConfig
		for k := range opts.Header {
			switch http.CanonicalHeaderKey(k) {
			case "Host", "Proxy-Authorization":
				return nil, fmt.Errorf("websocket: proxy %s: header %s is written by HTTPConnect", addr, k)
			}
			if !validHeader(k, opts.Header[k]) {
				return nil, fmt.Errorf("websocket: proxy %s: invalid header field %q", addr, k)
			}
		}
		h.header = opts.Header.Clone()
	}
	if u := proxyURL.User; u != nil {
		pw, _ := u.Password()
		h.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw))
	}
	return h.dial, nil
}

// validHeader reports whether a header field can be written without breaking the request.
func validHeader(name string, values []string) bool {
	if name == "" || strings.ContainsAny(name, " \t\r\n:") {
		return false
	}
	for _, v := range values {
		if strings.ContainsAny(v, "\r\n") {
			return false
		}
	}
	return true
}

type httpConnect struct {
	addr      string // proxy "host:port"
	host      string // proxy host, for TLS
	tls       bool
	tlsConfig *tls.Config
	forward   Dialer
	maxReply  int
	header    http.Header
	auth      string // Proxy-Authorization value, or ""
}

func (h *httpConnect) fail(op string, err error) error {
	return &Error{Proxy: h.addr, Op: op, Err: err}
}

// failCtx prefers the context's error once the context has ended: the deadline the context
// set on the connection would show up as a bare I/O timeout.
func (h *httpConnect) failCtx(ctx context.Context, op string, err error) error {
	return h.fail(op, withCtxErr(ctx, err))
}

// withCtxErr puts the context's error in front of err once the context has ended, also when
// the deadline copied from the context fired just before the context's own timer.
func withCtxErr(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if cerr == nil && isTimeout(err) {
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			cerr = context.DeadlineExceeded
		}
	}
	if cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}

func (h *httpConnect) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, h.fail("dial", fmt.Errorf("network %q is not supported through an HTTP proxy", network))
	}
	if _, _, err := net.SplitHostPort(addr); err != nil || strings.ContainsAny(addr, " \t\r\n/") {
		return nil, h.fail("CONNECT", fmt.Errorf("invalid target address %q", addr))
	}
	if err := ctx.Err(); err != nil {
		return nil, h.fail("dial", err)
	}
	c, err := h.forward(ctx, "tcp", h.addr)
	if err != nil {
		return nil, h.failCtx(ctx, "dial", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = c.Close()
		}
	}()
	if dl, has := ctx.Deadline(); has {
		_ = c.SetDeadline(dl)
	}
	// A cancelled context interrupts blocking I/O by expiring the deadline.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if h.tls {
		cfg := h.tlsConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = h.host
		}
		if len(cfg.NextProtos) == 0 {
			cfg.NextProtos = []string{"http/1.1"}
		}
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, h.failCtx(ctx, "TLS handshake", err)
		}
		c = tc
	}

	var b strings.Builder
	b.WriteString("CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n")
	if h.auth != "" {
		b.WriteString("Proxy-Authorization: " + h.auth + "\r\n")
	}
	for k, vs := range h.header {
		for _, v := range vs {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		return nil, h.failCtx(ctx, "CONNECT", fmt.Errorf("writing request: %w", err))
	}

	lr := &cappedReader{r: c, n: h.maxReply}
	br := bufio.NewReaderSize(lr, 4096)
	code, err := readConnectReply(br)
	if err != nil {
		switch {
		case errors.Is(err, errReplyTooLarge):
			err = fmt.Errorf("%w: reply larger than %d bytes before the end of its header", ErrMalformedReply, h.maxReply)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			err = fmt.Errorf("connection closed before a complete reply (%d bytes received): %w",
				h.maxReply-lr.n, io.ErrUnexpectedEOF)
		}
		return nil, h.failCtx(ctx, "CONNECT", err)
	}
	if code < 200 || code > 299 {
		return nil, &ConnectError{Proxy: h.addr, Target: addr, StatusCode: code, Status: statusText(code)}
	}
	var prefix []byte
	if n := br.Buffered(); n > 0 {
		p, _ := br.Peek(n)
		prefix = append([]byte(nil), p...)
	}
	if !stop() {
		return nil, h.fail("CONNECT", ctx.Err())
	}
	_ = c.SetDeadline(time.Time{})
	ok = true
	if len(prefix) > 0 {
		return &prefixConn{Conn: c, prefix: prefix}, nil
	}
	return c, nil
}

// ErrMalformedReply is in the chain of the error of a CONNECT reply that is not HTTP/1.x: a
// bad status line, a bad header line, or a header that does not end within
// Options.MaxReplySize bytes. The error describes the defect (which line, what is wrong) but
// never quotes the proxy's bytes: a hostile or broken proxy that echoes the request would
// otherwise put the Proxy-Authorization value into the error.
var ErrMalformedReply = errors.New("malformed reply")

// statusText is the status of a refused CONNECT as ConnectError shows it: the code and its
// standard text (RFC 9110 §15), not the proxy's reason phrase, which is the proxy's free text
// and may echo the request.
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

// readConnectReply reads the status line and header of a CONNECT reply (RFC 9112 §4, §5) from
// br and returns the status code. The reply's body, if any, is not read: after a 2xx reply
// the bytes that follow belong to the tunnel, and any other reply ends the dial. Errors name
// the defect and the line, and quote none of the proxy's bytes.
func readConnectReply(br *bufio.Reader) (int, error) {
	line, err := readReplyLine(br)
	if err != nil {
		return 0, err
	}
	code, err := parseStatusLine(line)
	if err != nil {
		return 0, err
	}
	for n := 1; ; n++ {
		line, err := readReplyLine(br)
		if err != nil {
			return 0, err
		}
		if len(line) == 0 {
			return code, nil
		}
		if err := checkHeaderLine(line, n == 1); err != nil {
			return 0, fmt.Errorf("%w: header line %d %s", ErrMalformedReply, n, err)
		}
	}
}

// readReplyLine returns the next line of br without its line ending (CRLF, or a bare LF as
// RFC 9112 §2.2 lets a recipient accept). The line is valid until the next read of br.
func readReplyLine(br *bufio.Reader) ([]byte, error) {
	var long []byte
	for {
		frag, err := br.ReadSlice('\n')
		switch {
		case err == nil && long == nil:
			return trimEOL(frag), nil
		case err == nil:
			return trimEOL(append(long, frag...)), nil
		case errors.Is(err, bufio.ErrBufferFull):
			long = append(long, frag...) // bounded by the reply cap
		default:
			return nil, err
		}
	}
}

func trimEOL(b []byte) []byte {
	b = b[:len(b)-1]
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return b
}

// parseStatusLine checks "HTTP/1.x SP 3DIGIT [SP reason-phrase]" and returns the code.
func parseStatusLine(line []byte) (int, error) {
	if len(line) == 0 {
		return 0, fmt.Errorf("%w: empty status line", ErrMalformedReply)
	}
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || (line[7] != '0' && line[7] != '1') || line[8] != ' ' {
		return 0, fmt.Errorf("%w: status line does not begin with HTTP/1.0 or HTTP/1.1 and a space", ErrMalformedReply)
	}
	c := line[9:12]
	if c[0] < '1' || c[0] > '9' || c[1] < '0' || c[1] > '9' || c[2] < '0' || c[2] > '9' || (len(line) > 12 && line[12] != ' ') {
		return 0, fmt.Errorf("%w: status code is not three digits from 100 to 999", ErrMalformedReply)
	}
	if hasCTL(line) {
		return 0, fmt.Errorf("%w: status line holds a control character", ErrMalformedReply)
	}
	return int(c[0]-'0')*100 + int(c[1]-'0')*10 + int(c[2]-'0'), nil
}

// checkHeaderLine checks a header field line (RFC 9110 §5.1, RFC 9112 §5): a token, a colon,
// a value without control characters; or, after the first line, an obsolete line folding
// (leading white space). It says what is wrong, without quoting the line.
func checkHeaderLine(line []byte, first bool) error {
	if line[0] == ' ' || line[0] == '\t' {
		if first {
			return errors.New("begins with white space")
		}
	} else {
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return errors.New("has no colon")
		}
		if colon == 0 || !isToken(line[:colon]) {
			return errors.New("has an empty or invalid field name")
		}
	}
	if hasCTL(line) {
		return errors.New("holds a control character")
	}
	return nil
}

// isToken reports whether b is an RFC 9110 §5.6.2 token.
func isToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// hasCTL reports whether b holds a control character other than HTAB.
func hasCTL(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// cappedReader reads at most n bytes from r, then fails: it bounds the CONNECT reply.
type cappedReader struct {
	r io.Reader
	n int
}

var errReplyTooLarge = errors.New("reply too large")

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errReplyTooLarge
	}
	if len(p) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

// prefixConn is a connection whose first bytes read are prefix: what the proxy sent after its
// CONNECT reply, already read from the network.
type prefixConn struct {
	net.Conn
	prefix []byte
}

// Read returns the prefix first, then reads the connection.
func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// SOCKS5 returns a Dialer that goes through the SOCKS5 proxy at proxyURL (RFC 1928), by
// golang.org/x/net/proxy. The URL is socks5://[user:password@]host[:port] (the target's name
// resolved here) or socks5h://... (the proxy resolves it); the port defaults to 1080. User
// information selects username/password authentication (RFC 1929).
func SOCKS5(proxyURL *url.URL, opts *Options) (Dialer, error) {
	if proxyURL == nil {
		return nil, errors.New("websocket: proxy: nil proxy URL")
	}
	scheme := strings.ToLower(proxyURL.Scheme)
	if scheme != "socks5" && scheme != "socks5h" {
		return nil, fmt.Errorf("websocket: proxy %s: scheme %q is not SOCKS5", proxyURL.Host, proxyURL.Scheme)
	}
	addr, err := hostPort(proxyURL, "1080")
	if err != nil {
		return nil, err
	}
	var auth *xproxy.Auth
	if u := proxyURL.User; u != nil {
		pw, _ := u.Password()
		auth = &xproxy.Auth{User: u.Username(), Password: pw}
	}
	fw := forwardDialer(opts.forward())
	xd, err := xproxy.SOCKS5("tcp", addr, auth, fw)
	if err != nil {
		return nil, &Error{Proxy: addr, Op: "SOCKS5", Err: err}
	}
	cd, ok := xd.(xproxy.ContextDialer)
	if !ok {
		return nil, &Error{Proxy: addr, Op: "SOCKS5", Err: errors.New("dialer without DialContext")}
	}
	remote := scheme == "socks5h"
	return func(ctx context.Context, network, target string) (net.Conn, error) {
		fail := func(err error) error {
			return &Error{Proxy: addr, Op: "SOCKS5", Err: withCtxErr(ctx, err)}
		}
		if err := ctx.Err(); err != nil {
			return nil, fail(err)
		}
		if !remote {
			host, port, err := net.SplitHostPort(target)
			if err != nil {
				return nil, fail(err)
			}
			if net.ParseIP(host) == nil {
				ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
				if err != nil {
					return nil, fail(err)
				}
				if len(ips) == 0 {
					return nil, fail(fmt.Errorf("no address for %s", host))
				}
				target = net.JoinHostPort(ips[0].Unmap().String(), port)
			}
		}
		c, err := cd.DialContext(ctx, network, target)
		if err != nil {
			return nil, fail(err)
		}
		return c, nil
	}, nil
}

// forwardDialer adapts a Dialer to golang.org/x/net/proxy.
type forwardDialer Dialer

func (f forwardDialer) Dial(network, addr string) (net.Conn, error) {
	return f(context.Background(), network, addr)
}

func (f forwardDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}
