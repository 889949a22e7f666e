package client

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/proxy"
	"github.com/netkit/websocket/tlsconf"
)

// DefaultHandshakeTimeout bounds Dial (TCP, proxy, TLS and the opening handshake) when
// DialOptions.HandshakeTimeout is zero.
const DefaultHandshakeTimeout = 30 * time.Second

// DefaultMaxRedirects is the most redirects Dial and Connect follow, when they follow them,
// if DialOptions.MaxRedirects or WebSocketRequestOptions.MaxRedirects is zero.
const DefaultMaxRedirects = 10

// ProxyFromEnvironment is the default of DialOptions.Proxy: the proxy that the environment
// variables HTTP_PROXY (ws://), HTTPS_PROXY (wss://) and ALL_PROXY (both, when the other is
// unset) name, or none for a target that NO_PROXY lists, for localhost and for loopback
// addresses (proxy.URLFromEnvironment). The environment is read at each dial.
func ProxyFromEnvironment(target *url.URL) (*url.URL, error) { return proxy.URLFromEnvironment(target) }

// ProxyDirect is a DialOptions.Proxy that connects directly to every target, whatever the
// environment says.
func ProxyDirect(*url.URL) (*url.URL, error) { return nil, nil }

// DialOptions configures Dial. A nil *DialOptions, and every zero field, means the default.
type DialOptions struct {
	// Header holds extra request header fields. The names the handshake writes itself (Host,
	// Upgrade, Connection, Sec-WebSocket-*, Content-Length, Transfer-Encoding) are refused.
	Header http.Header
	// Subprotocols are offered in Sec-WebSocket-Protocol, most preferred first.
	Subprotocols []string
	// Origin is sent as the Origin header when not "".
	Origin string
	// HandshakeTimeout bounds the whole of Dial; default DefaultHandshakeTimeout, negative
	// means only ctx bounds it.
	HandshakeTimeout time.Duration
	// MaxMessageSize limits received messages (bytes); 0 means the conn default (32 MiB),
	// negative means no limit. A larger message closes the connection with 1009.
	MaxMessageSize int64
	// ReadBufferSize and WriteBufferSize size the frame buffers; 0 means the conn defaults,
	// negative is an error.
	ReadBufferSize, WriteBufferSize int
	// CloseTimeout bounds the wait for the server's close reply; 0 means the conn default,
	// negative is an error.
	CloseTimeout time.Duration
	// TLSConfig configures wss connections; nil means the system roots with full
	// verification. It is cloned, never modified. ServerName defaults to the URL's host and
	// MinVersion to TLS 1.2.
	TLSConfig *tls.Config
	// NetDialContext opens the byte stream to addr ("host:port"), directly or through a
	// proxy (the hook proxies plug into: an HTTP CONNECT tunnel or SOCKS5 returns the
	// tunnelled connection). TLS, for wss, runs on top of what it returns. Nil means: dial
	// through the proxy that Proxy chooses, or directly. When set, Proxy is not used.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Proxy chooses the proxy of each connection Dial opens (the server's, and each
	// redirect target's) when NetDialContext is nil: it returns the proxy URL for the ws://
	// or wss:// target (http:// and https:// proxies tunnel with CONNECT, socks5:// and
	// socks5h:// use SOCKS5; user information in the proxy URL is sent to the proxy as
	// credentials), or nil to connect directly. Nil Proxy means ProxyFromEnvironment:
	// HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY, as the seed facade's SystemProxy
	// reads them. ProxyDirect always connects directly.
	Proxy func(target *url.URL) (*url.URL, error)
	// FollowRedirects (not in the seed; off by default) makes Dial follow a 301, 302, 303,
	// 307 or 308 answer with a Location: relative or absolute, http:// mapped to ws:// and
	// https:// to wss://. A redirect from wss to ws is refused
	// (handshake.ErrRedirectDowngrade); user information in the URL and the Authorization
	// and Cookie headers are sent only to the origin (scheme, host, port) of the URL given
	// to Dial. A redirect loop ends with ErrRedirectLoop, more than MaxRedirects redirects
	// with ErrTooManyRedirects. HandshakeTimeout bounds all of it. The Response is the final
	// server's. Off, a redirect fails Dial with the *StatusError (status and Location).
	FollowRedirects bool
	// MaxRedirects is the most redirects followed when FollowRedirects is set: 0 means
	// DefaultMaxRedirects (10); negative is an error.
	MaxRedirects int
	// PingInterval is the time without any received byte after which a ping is sent: 0
	// means 30 s (the platform default), negative disables keepalive. Every received byte
	// restarts it; with a server that only answers pings, a ping goes out every
	// PingInterval. See Keepalive in the package documentation.
	PingInterval time.Duration
	// PongTimeout is how long, after a ping, the reader may wait on the network with nothing
	// arriving before the connection is considered lost (it is then closed and reads return
	// ErrPongTimeout): 0 means 30 s, negative waits forever. Time in which no read waits (the
	// application is not reading, or is busy with what it read) does not count.
	PongTimeout time.Duration
	// SendQueueBytes and SendQueueMessages cap the send queue of Enqueue (see
	// conn.Config.SendQueueBytes): 0 means 16 MiB and 4096 messages, negative means no cap.
	SendQueueBytes    int64
	SendQueueMessages int
	// Deflate, when not nil, offers permessage-deflate compression (RFC 7692) with these
	// options (window bits, no_context_takeover, and Level, the compression level of what we
	// send, which is not negotiated); nil, the default, offers nothing. When the
	// server accepts, the connection compresses the messages it sends and inflates those
	// that arrive compressed, and Response().Deflate holds the agreed parameters. An invalid
	// answer fails Dial with handshake.ErrBadDeflateResponse (RFC 7692 §7.1). See
	// Compression in the package documentation for the memory it costs.
	Deflate *deflate.ClientOptions
	// CompressionThreshold is the size under which messages go out uncompressed when
	// compression was agreed (conn.Compression.Threshold): 0 means
	// conn.DefaultCompressionThreshold (128 bytes), negative compresses every message.
	CompressionThreshold int
	// HTTP2 selects the HTTP version of the opening handshake for wss:// URLs: HTTP2Off
	// (the default) for the HTTP/1.1 Upgrade, HTTP2Auto for RFC 8441 extended CONNECT over a
	// shared HTTP/2 connection when the server allows it and HTTP/1.1 otherwise,
	// HTTP2Required for HTTP/2 or an error (ErrHTTP2Unsupported). See HTTP2Mode and
	// "WebSocket over HTTP/2" in the package documentation. FollowRedirects works over
	// HTTP/2 too: the next URL is requested on a stream of the connection pooled for it.
	HTTP2 HTTP2Mode
	// HTTP2Pool holds the shared HTTP/2 connections (HTTP2Auto, HTTP2Required); nil means
	// the package's pool (CloseIdleHTTP2Connections).
	HTTP2Pool *HTTP2Pool

	// h2TLSKey, when not "", stands for TLSConfig in the HTTP2Pool's key: the facade builds
	// a config per connect, from options that facadeTLSKey describes.
	h2TLSKey string

	readLoop    bool              // conn.Config.ReadLoop: the facade reads every connection until it ends
	readAlloc   func(int) []byte  // conn.Config.ReadAlloc: the facade's message blocks
	abort       *dialAbort        // the facade's: Close abandons the dial through it
	compression *conn.Compression // conn.Config.Compression, when the server accepted Deflate
	onPing      func([]byte)      // conn.Config.OnPing: WebSocketRequestOptions.OnPing
	onPong      func([]byte)      // conn.Config.OnPong: WebSocketRequestOptions.OnPong
}

// Dial opens a WebSocket connection to a ws:// or wss:// URL (RFC 6455 §4.1) and returns it
// with the server's handshake response. ctx bounds the dial only; once Dial returns, the
// connection lives until it is closed.
//
// The URL is checked first: one longer than MaxURLLength (2048 bytes) or that is not a valid
// ws:// or wss:// URL fails at once with an *AsyncError of code 2302001 (CodeURLError).
//
// Options are checked before any I/O: a header name that is not a token, a header value or
// Origin with CR, LF or another control character, a header the handshake writes itself, a
// subprotocol that is not a unique token, or a negative size or CloseTimeout fails at once,
// with no connection opened, as an error wrapping ErrInvalidOption (and, for a header, a
// *handshake.HeaderError naming it, never showing its value).
//
// Dial returns either an error or a usable connection, however ctx's cancellation is timed:
// a cancellation that races with the end of the handshake makes Dial fail with ctx's error
// and close the connection, never return one whose I/O the cancellation has cut.
//
// The connection goes through the proxy DialOptions.Proxy chooses: with nil options, the
// environment's (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY), as the seed facade's default
// SystemProxy. Redirects are followed only with DialOptions.FollowRedirects.
//
// A non-101 response is a *handshake.StatusError (status, headers, body) in the error chain;
// the other handshake failures are the handshake package's errors. Errors never show the URL's
// user information.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, *Response, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, nil, err
	}
	var o DialOptions
	if opts != nil {
		o = *opts
	}
	c, resp, err := dial(ctx, u, &o)
	if err != nil {
		return nil, resp, fmt.Errorf("websocket: dial %s: %w", u.Redacted(), err)
	}
	return c, resp, nil
}

func dial(ctx context.Context, u *url.URL, o *DialOptions) (*Conn, *handshake.Response, error) {
	// Every option is checked before any I/O: a request that cannot be sent fails here, not
	// after a TCP connection (and a proxy tunnel, and TLS) were opened for nothing.
	req := handshake.Request{
		Host:      u.Host,
		Path:      u.RequestURI(),
		Protocols: o.Subprotocols,
		Origin:    o.Origin,
		Header:    o.Header,
		Deflate:   o.Deflate,
	}
	if err := checkDialOptions(&req, o); err != nil {
		return nil, nil, err
	}
	timeout := o.HandshakeTimeout
	if timeout == 0 {
		timeout = DefaultHandshakeTimeout
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	ctxBound := false // ctx's own deadline is the bound
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline, ctxBound = d, true
	}
	// The bound is a deadline: on the dial (net.Dialer applies it to the connect as a socket
	// deadline) and then on the connection's I/O. No derived context is made for it: that would
	// cost a timer, a channel and a cancellation registration per dial. dialCtx hands the
	// dialer the earlier deadline and, for a cancellable ctx, ctx's own Done and Err, so that
	// the dialer registers on ctx directly. When ctx's deadline is the bound, ctx is all the
	// dialer needs.
	var dialCtx context.Context = ctx
	if !deadline.IsZero() && !ctxBound {
		dialCtx = &boundContext{ctx, deadline}
	}

	if o.HTTP2 > HTTP2Required {
		return nil, nil, fmt.Errorf("%w: HTTP2 %v is not a mode", ErrInvalidOption, o.HTTP2)
	}

	// One connection per request: a redirect closes it and opens one to the next URL, under
	// the same deadline. Over HTTP/2 a request is a stream, and the next URL's may share the
	// connection.
	target := u
	var visited []string // the URLs requested, when following redirects
	for redirects := 0; ; redirects++ {
		var resp *handshake.Response
		var err error
		var pre net.Conn // a TLS connection from the HTTP/2 attempt, for the HTTP/1.1 Upgrade
		http1 := true
		switch {
		case o.HTTP2 == HTTP2Off:
		case target.Scheme != "wss" && o.HTTP2 == HTTP2Required:
			return nil, nil, fmt.Errorf("%w: %s would need h2c (HTTP/2 over cleartext), which is not supported; use wss://",
				ErrHTTP2Unsupported, target.Redacted())
		case target.Scheme == "wss":
			var c *Conn
			var fallback bool
			c, resp, fallback, pre, err = dialHTTP2(ctx, deadline, target, &req, o)
			if !fallback {
				if err == nil {
					return c, resp, nil
				}
				http1 = false
			}
		}
		if http1 {
			nc, stop, r, prefix, derr := dialOnce(ctx, dialCtx, deadline, target, &req, o, pre)
			if derr == nil {
				return finishDial(ctx, nc, stop, r, prefix, o)
			}
			resp, err = r, derr
		}
		var se *handshake.StatusError
		if !o.FollowRedirects || !errors.As(err, &se) || !handshake.IsRedirect(se.StatusCode) {
			return nil, resp, deadlineErr(ctx, deadline, err)
		}
		next, rerr := handshake.RedirectURL(target, se)
		if rerr != nil {
			return nil, nil, fmt.Errorf("%w (%w)", rerr, se)
		}
		if visited == nil {
			visited = append(visited, target.String())
		}
		ns := next.String()
		for _, v := range visited {
			if v == ns {
				return nil, nil, fmt.Errorf("%w: %s was requested before (%w)", ErrRedirectLoop, next.Redacted(), se)
			}
		}
		limit := o.MaxRedirects
		if limit == 0 {
			limit = DefaultMaxRedirects
		}
		if redirects >= limit {
			return nil, nil, fmt.Errorf("%w: stopped after %d (MaxRedirects) (%w)", ErrTooManyRedirects, limit, se)
		}
		if len(ns) > MaxURLLength {
			return nil, nil, fmt.Errorf("%w: Location of %d bytes is longer than %d (%w)", handshake.ErrBadRedirect, len(ns), MaxURLLength, se)
		}
		visited = append(visited, ns)
		req.Host, req.Path = next.Host, next.RequestURI()
		if !handshake.SameOrigin(u, next) {
			req.Header = withoutCredentials(o.Header)
		} else {
			req.Header = o.Header
		}
		target = next
	}
}

// credentialHeaders are the request headers that carry credentials, which a redirect to
// another origin never gets (RFC 9110 §15.4: a client that redirects must not leak them;
// net/http and Node's ws drop them the same way).
var credentialHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization"}

// withoutCredentials returns h without credentialHeaders (h itself, not a copy, when it has
// none). Names are matched case-insensitively, as a Header set by hand may not be canonical.
func withoutCredentials(h http.Header) http.Header {
	var out http.Header
	for k := range h {
		for _, c := range credentialHeaders {
			if strings.EqualFold(k, c) {
				if out == nil {
					out = h.Clone()
				}
				delete(out, k)
			}
		}
	}
	if out == nil {
		return h
	}
	return out
}

// dialOnce opens the connection to u (through the proxy o chooses, and TLS for wss) and
// performs the opening handshake on it. On success the connection has the dial's deadline
// set, and stop (nil when ctx cannot be cancelled) stops the watcher that expires it when ctx
// ends; on failure the connection is closed and the watcher stopped.
//
// pre, when not nil, is a connection already open to u, TLS included (the HTTP/2 attempt's,
// whose server chose http/1.1 by ALPN): it is used instead of a new one.
func dialOnce(ctx, dialCtx context.Context, deadline time.Time, u *url.URL, req *handshake.Request, o *DialOptions, pre net.Conn) (net.Conn, func() bool, *handshake.Response, []byte, error) {
	addr := u.Host // host:port as in the URL, brackets kept for IPv6
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "wss" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}

	var nc net.Conn
	var err error
	if pre != nil {
		nc = pre
	} else {
		nc, err = dialNet(dialCtx, u, addr, o)
	}
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = nc.Close()
		}
	}()

	if !deadline.IsZero() {
		_ = nc.SetDeadline(deadline)
	}
	// A cancelled ctx interrupts any blocking I/O below by expiring the deadline; ctx.Err() is
	// set by then, so the error can say why. The watcher gets its own copy of nc, so that nc
	// itself stays on the stack. The caller stops it before the connection is handed over.
	// The facade's dial has no watcher: Close abandons it through the session's abort slot
	// (o.abort), which costs no allocation.
	var stop func() bool // its own variable: a deferred function must see it after a return
	switch {
	case o.abort != nil:
		if !o.abort.watch(nc) {
			return nil, nil, nil, nil, context.Canceled
		}
		defer func() {
			if !ok {
				o.abort.release()
			}
		}()
	case ctx.Done() != nil:
		raw := nc
		stop = context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
		defer func() {
			if !ok {
				stop()
			}
		}()
	}

	if u.Scheme == "wss" && pre == nil {
		// The caller's config is cloned, never modified; SNI defaults to the URL's host.
		tc := tls.Client(nc, tlsconf.Clone(o.TLSConfig, u.Hostname()))
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, nil, nil, nil, fmt.Errorf("TLS handshake: %w", err)
		}
		nc = tc
	}

	resp, prefix, err := handshakeOver(nc, req)
	if err != nil {
		return nil, nil, resp, nil, err
	}
	ok = true
	return nc, stop, resp, prefix, nil
}

// proxyFor returns the proxy that o.Proxy (nil: ProxyFromEnvironment) chooses for target, or
// nil to connect directly.
func proxyFor(target *url.URL, o *DialOptions) (*url.URL, error) {
	choose := o.Proxy
	if choose == nil {
		choose = proxy.URLFromEnvironment
	}
	return choose(target)
}

// dialNet opens the TCP connection to addr, the host and port of target: with
// o.NetDialContext when it is set, otherwise through the proxy proxyFor chooses, or directly.
func dialNet(ctx context.Context, target *url.URL, addr string, o *DialOptions) (net.Conn, error) {
	if o.NetDialContext != nil {
		return o.NetDialContext(ctx, "tcp", addr)
	}
	pu, err := proxyFor(target, o)
	if err != nil {
		return nil, err
	}
	if pu == nil {
		return dialTCP(ctx, addr, o.PingInterval >= 0)
	}
	d, err := proxy.FromURL(pu, nil)
	if err != nil {
		return nil, err
	}
	return d(ctx, "tcp", addr)
}

// finishDial hands the handshaken connection over, unless ctx ended meanwhile.
func finishDial(ctx context.Context, nc net.Conn, stop func() bool, resp *handshake.Response, prefix []byte, o *DialOptions) (*Conn, *handshake.Response, error) {
	ok := false
	defer func() {
		if !ok {
			_ = nc.Close()
		}
	}()
	// Only a watcher that will never run lets the connection out: stop reporting false means
	// the watcher ran or is running, and would put a past deadline on a connection already
	// returned (every read and write an i/o timeout from then on). The dial is then
	// cancelled, whatever the order in which the watcher and this goroutine run.
	if stop != nil && !stop() {
		return nil, resp, ctx.Err()
	}
	if o.abort != nil && !o.abort.release() {
		return nil, resp, context.Canceled
	}
	if err := ctx.Err(); err != nil {
		return nil, resp, err
	}
	_ = nc.SetDeadline(time.Time{})
	c, err := openConn(nc, prefix, resp, o)
	if err != nil {
		return nil, resp, err
	}
	ok = true
	return c, resp, nil
}

// openConn makes the connection over nc, the handshake done (HTTP/1.1 or HTTP/2), with the
// compression the server agreed to (resp.Deflate) at the offer's level.
func openConn(nc net.Conn, prefix []byte, resp *handshake.Response, o *DialOptions) (*Conn, error) {
	if resp.Deflate != nil {
		var err error
		if o.compression, err = newCompression(resp.Deflate, false, o.Deflate.Level, o.CompressionThreshold); err != nil {
			return nil, err
		}
	}
	return newConn(nc, prefix, resp, o), nil
}

// The dialers used when DialOptions.NetDialContext is nil. With WebSocket keepalive on (the
// default), TCP keepalive would only duplicate it, and setting it up costs four setsockopt
// calls per connection: pingingDialer leaves it off. directDialer, for connections without
// keepalive, keeps net.Dialer's default.
var (
	pingingDialer = net.Dialer{KeepAlive: -1}
	directDialer  net.Dialer
)

// dialTCP opens the TCP connection to addr ("host:port") with the dialer for the keepalive
// setting; DialContext resolves a name and races IPv6 and IPv4 (RFC 8305), and honours ctx's
// deadline and cancellation during the connect.
//
// net.Dialer.DialTCP would skip the resolver for an IP literal (some ten allocations per dial),
// but it turns its zero local address into an explicit bind to port 0 before the connect. Such
// a bind cannot take a port still in TIME_WAIT, where the connect's own port choice can: a
// client opening and closing thousands of connections to one server then fails with "bind:
// address already in use" (bench/peers' idle benchmark did, on its third repetition).
func dialTCP(ctx context.Context, addr string, pinging bool) (net.Conn, error) {
	d := &directDialer
	if pinging {
		d = &pingingDialer
	}
	return d.DialContext(ctx, "tcp", addr)
}

// boundContext is ctx with an earlier deadline: the bound of a dial handed to net.Dialer,
// which applies it to the connect as a socket deadline. Unlike context.WithDeadline it has no
// timer, channel or cancellation registration of its own: Done and Err are ctx's (nil for
// context.Background(), which keeps net.Dialer from watching the connect), and Value is
// ctx's, so that a watcher the dialer registers lands on ctx itself. When the deadline passes
// the socket times out, and deadlineErr reports context.DeadlineExceeded.
type boundContext struct {
	context.Context
	deadline time.Time
}

// Deadline returns the dial's deadline.
func (c *boundContext) Deadline() (time.Time, bool) { return c.deadline, true }

// Pooled buffers of the opening handshake: the request being written and the reader of the
// response.
var (
	requestBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}
	readerPool  = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
)

// checkDialOptions checks the request Dial will send and the numeric options, before any
// I/O. Errors name the offending option and value; a header is named, never its value (it
// may be a credential).
func checkDialOptions(req *handshake.Request, o *DialOptions) error {
	if err := req.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidOption, err)
	}
	switch {
	case o.ReadBufferSize < 0:
		return fmt.Errorf("%w: ReadBufferSize %d is negative", ErrInvalidOption, o.ReadBufferSize)
	case o.WriteBufferSize < 0:
		return fmt.Errorf("%w: WriteBufferSize %d is negative", ErrInvalidOption, o.WriteBufferSize)
	case o.CloseTimeout < 0:
		return fmt.Errorf("%w: CloseTimeout %v is negative", ErrInvalidOption, o.CloseTimeout)
	case o.MaxRedirects < 0:
		return fmt.Errorf("%w: MaxRedirects %d is negative", ErrInvalidOption, o.MaxRedirects)
	}
	return nil
}

// handshakeOver performs the client's opening handshake on nc (RFC 6455 §4.1) and returns the
// response and the bytes the server sent after it (the first frames), if any.
func handshakeOver(nc net.Conn, req *handshake.Request) (*handshake.Response, []byte, error) {
	// The key lives on this stack: nothing below keeps it.
	var kb [handshake.KeyLen]byte
	key := unsafe.String(&kb[0], len(handshake.AppendKey(kb[:0])))
	bp := requestBufs.Get().(*[]byte)
	buf, err := req.Append((*bp)[:0], key)
	if err == nil {
		_, err = nc.Write(buf)
		if err != nil {
			err = fmt.Errorf("writing handshake: %w", err)
		}
	}
	if cap(buf) <= 4096 {
		*bp = buf[:0]
		requestBufs.Put(bp)
	}
	if err != nil {
		return nil, nil, err
	}
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(nc)
	defer func() {
		br.Reset(nil)
		readerPool.Put(br)
	}()
	resp, err := handshake.ReadResponse(br, req, key, nil)
	if err != nil {
		return resp, nil, err
	}
	var prefix []byte
	if n := br.Buffered(); n > 0 {
		p, _ := br.Peek(n)
		prefix = append([]byte(nil), p...)
	}
	return resp, prefix, nil
}

// deadlineErr is ctxErr for the whole dial: a timeout past the dial's deadline is reported as
// context.DeadlineExceeded (with the I/O error), as if a context had expired.
func deadlineErr(ctx context.Context, deadline time.Time, err error) error {
	if ctx.Err() == nil && !deadline.IsZero() && !time.Now().Before(deadline) &&
		!errors.Is(err, context.DeadlineExceeded) {
		// An I/O timeout, or an error whose reading the deadline cut short (a
		// *handshake.StatusError with part of its body): both stay in the chain.
		return fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
	}
	return ctxErr(ctx, err)
}

// ctxErr prefers the context's error when the context ended: a deadline set by the context
// shows up in I/O as a timeout that would hide why. err stays in the chain too, so that a
// *handshake.StatusError whose body the deadline cut short is still found by errors.As.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}

// dialEngine is the seed facade's transport: Dial with the options of
// WebSocketRequestOptions.
func dialEngine(ctx context.Context, u *url.URL, opts *WebSocketRequestOptions, protocols []string, ds *dialState) (transport, *handshakeInfo, error) {
	var o DialOptions
	if len(opts.Header) > 0 {
		o.Header = make(http.Header, len(opts.Header))
		for k, v := range opts.Header {
			o.Header[k] = []string{v}
		}
	}
	o.Subprotocols = protocols
	o.MaxMessageSize = opts.MaxMessageSize
	o.PingInterval = secondsOrOff(opts.PingInterval)
	o.PongTimeout = secondsOrOff(opts.PongTimeout)
	o.readLoop = true
	o.SendQueueBytes, o.SendQueueMessages = opts.SendQueueBytes, opts.SendQueueMessages
	o.Deflate = opts.PerMessageDeflate
	o.onPing, o.onPong = opts.OnPing, opts.OnPong
	t := &ds.ct
	o.abort = &ds.abort
	if !opts.BorrowMessages {
		o.readAlloc = t.alloc // borrowing reads into the facade's own reused buffer
	}
	o.HandshakeTimeout = opts.HandshakeTimeout
	o.FollowRedirects, o.MaxRedirects = opts.FollowRedirects, opts.MaxRedirects
	var err error
	if u.Scheme == "wss" || opts.FollowRedirects {
		// No server name: each connection (a redirect may go to another host) verifies
		// the name of its own URL's host.
		if o.TLSConfig, err = buildTLSConfig(ctx, opts, ""); err != nil {
			return nil, nil, err
		}
	}
	if o.Proxy, err = proxyFunc(opts.Proxy); err != nil {
		return nil, nil, err
	}
	if o.HTTP2 = opts.HTTP2; o.HTTP2 != HTTP2Off {
		o.h2TLSKey = facadeTLSKey(opts)
	}
	c, resp, err := dial(ctx, u, &o)
	if err != nil {
		return nil, nil, err
	}
	t.c = c
	t.info = handshakeInfo{statusCode: resp.StatusCode, statusText: resp.Status, fields: resp.Fields, protocol: resp.Subprotocol}
	return t, &t.info, nil
}

func secondsOrOff(s uint32) time.Duration {
	if s == 0 {
		return -1
	}
	return time.Duration(s) * time.Second
}

// connTransport adapts *Conn to the facade.
type connTransport struct {
	c    *Conn
	info handshakeInfo // the handshake's response, for HEADERRECEIVE and OPEN
	// closed is readFailed's error after a closing handshake (the reading goroutine's).
	closed closedError
	// The last block alloc made (see messageBlock), on the reading goroutine only.
	block unsafe.Pointer
}

// Each message the facade receives is handed to the user in one allocation: a block that
// holds the MessageData header (a StringData or ArrayData, what an interface's data word
// points to) in front of the payload, instead of the payload and a separate box for the
// header. The block is a []byte allocation, which the garbage collector does not scan (it
// holds no pointers as far as the collector knows): that is safe here because the one
// pointer in it, the header's, points into the block itself. The MessageData's data word
// points to the block, and any ArrayData or StringData taken out of it points into the
// block, so the block lives as long as any of them, and everything the header refers to
// lives with it. The header is written once, before the MessageData exists, and never
// again; the payload's capacity ends at its length, so appending to an ArrayData copies and
// never writes over anything.
const blockHeader = int(unsafe.Sizeof(ArrayData(nil))) // room for either header, 8-aligned

// The MessageData interfaces of the two kinds, whose type words messageBlock copies.
var (
	arrayTemplate  MessageData = ArrayData(nil)
	stringTemplate MessageData = StringData("")
)

// iface is the layout of a non-empty interface value: type word, data word.
type iface struct {
	tab, data unsafe.Pointer
}

// alloc is the conn.Config.ReadAlloc of the facade's connections: a block with room for the
// header, the payload of capacity n after it.
func (t *connTransport) alloc(n int) []byte {
	b := make([]byte, blockHeader+n)
	t.block = unsafe.Pointer(&b[0])
	return b[blockHeader:blockHeader:len(b)]
}

// messageBlock returns p as MessageData in its own block, when p is the payload of the last
// block alloc made (a message read into a buffer from elsewhere, such as one resumed after
// an interruption, is not), else nil.
func (t *connTransport) messageBlock(typ conn.MessageType, p []byte) MessageData {
	block := t.block
	t.block = nil
	if block == nil || len(p) == 0 || uintptr(unsafe.Pointer(&p[0]))-uintptr(block) != uintptr(blockHeader) {
		return nil
	}
	var m MessageData
	if typ == conn.Text {
		*(*StringData)(block) = StringData(unsafe.String(&p[0], len(p)))
		m = stringTemplate
	} else {
		*(*ArrayData)(block) = ArrayData(p[:len(p):len(p)])
		m = arrayTemplate
	}
	(*iface)(unsafe.Pointer(&m)).data = block
	return m
}

// readMessage reads each message into a block of its own, sized to it, which it hands to the
// user (see blockHeader): a binary message as that ArrayData, a text message as a StringData
// over the same bytes (they are never written again), so no read buffer stays with an idle
// connection, text is not copied, and a message costs one allocation.
func (t *connTransport) readMessage(ctx context.Context) (MessageData, error) {
	typ, p, err := t.c.ReadMessage(ctx, nil)
	return t.message(typ, p, err)
}

func (t *connTransport) tryReadMessage() (MessageData, bool, error) {
	typ, p, ok, err := t.c.TryReadMessage(nil)
	if !ok {
		return nil, false, nil
	}
	m, err := t.message(typ, p, err)
	return m, true, err
}

// message turns what conn read (ReadMessage's results) into the facade's message.
func (t *connTransport) message(typ conn.MessageType, p []byte, err error) (MessageData, error) {
	if err != nil {
		return nil, t.readFailed(err)
	}
	if m := t.messageBlock(typ, p); m != nil {
		return m, nil
	}
	if typ == conn.Text {
		if len(p) == 0 {
			return StringData(""), nil
		}
		return StringData(unsafe.String(&p[0], len(p))), nil
	}
	return ArrayData(p), nil
}

// readInto reads the next message into buf[:0], the borrowing mode's reused buffer.
func (t *connTransport) readInto(ctx context.Context, buf []byte) (text bool, p []byte, err error) {
	typ, p, err := t.c.ReadMessage(ctx, buf)
	if err != nil {
		return false, p, t.readFailed(err)
	}
	return typ == conn.Text, p, nil
}

func (t *connTransport) tryReadInto(buf []byte) (text bool, p []byte, ok bool, err error) {
	typ, p, ok, err := t.c.TryReadMessage(buf)
	if err != nil {
		err = t.readFailed(err)
	}
	return typ == conn.Text, p, ok, err
}

// readFailed turns a read error into the facade's: apart from readMessage so that the reading
// goroutine, waiting in readMessage, needs little stack.
//
//go:noinline
func (t *connTransport) readFailed(err error) error {
	ce := errorAs[*conn.CloseError](err)
	switch {
	case ce != nil && ce.Remote:
		t.closed = closedError{code: uint32(ce.Code), reason: ce.Reason} // no allocation per connection
		return &t.closed
	case errors.Is(err, ErrPongTimeout):
		return &failedError{code: uint32(frame.CloseAbnormal), reason: "pong timeout: no answer to a ping", err: err}
	case ce != nil:
		return &failedError{code: uint32(ce.Code), reason: ce.Reason, err: err}
	}
	return err
}

func (t *connTransport) enqueue(text bool, p []byte, fixed bool, done func(error)) (bool, error) {
	typ := conn.Binary
	if text {
		typ = conn.Text
	}
	if fixed {
		return t.c.Enqueue(typ, p, done)
	}
	return t.c.EnqueueCopy(typ, p, done)
}

func (t *connTransport) buffered() (int64, int) { return t.c.Buffered() }

func (t *connTransport) close(code uint32, reason string) error {
	return t.c.Close(frame.CloseCode(code), reason)
}

func (t *connTransport) closeNow() error { return t.c.CloseNow() }

// dialAbort lets Close abandon a facade's dial that has a connection (TCP, then TLS and the
// opening handshake on it) by expiring the connection's deadline, as a context watcher
// (context.AfterFunc) would, but with no allocation: it lives in the session. The dial's
// context is still cancelled too, for the TCP connect and the TLS handshake, which watch it
// themselves.
type dialAbort struct {
	mu        sync.Mutex
	nc        net.Conn // the connection being set up, between watch and release
	abandoned bool
}

// watch registers nc, whose blocking I/O abandon interrupts from then on. It reports false
// when the dial was abandoned already.
func (a *dialAbort) watch(nc net.Conn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.nc = nc
	return !a.abandoned
}

// release ends the watch; it reports false when the dial was abandoned (the connection's
// deadline may have been expired: it must not be handed over). It may be called again.
func (a *dialAbort) release() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.nc = nil
	return !a.abandoned
}

// abandon marks the dial abandoned and interrupts the watched connection's I/O.
func (a *dialAbort) abandon() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.abandoned = true
	if a.nc != nil {
		_ = a.nc.SetDeadline(time.Unix(1, 0))
	}
}
