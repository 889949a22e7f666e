// x/net/http2's Transport is marked deprecated in favour of net/http's since x/net v0.62;
// DESIGN.md chose it for the client side of RFC 8441: its extended CONNECT, its error for a
// server without SETTINGS_ENABLE_CONNECT_PROTOCOL and a DialTLSContext that sees the
// request's context. Moving to http.Transport (Protocols HTTP/2 only) is listed in README.
//lint:file-ignore SA1019 x/net/http2.Transport is the chosen client transport (see above)

package client

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/h2stream"
	"github.com/netkit/websocket/tlsconf"
)

// HTTP2Mode selects how Dial opens a wss:// WebSocket: by the HTTP/1.1 Upgrade of RFC 6455
// §4, or as a stream of an HTTP/2 connection by the extended CONNECT of RFC 8441. Over
// HTTP/2 only the opening handshake changes (RFC 8441 §5): framing, masking, the closing
// handshake and keepalive stay RFC 6455's, and the connection returned is the same *Conn.
type HTTP2Mode uint8

const (
	// HTTP2Off (the default) opens every WebSocket with an HTTP/1.1 Upgrade on a connection
	// of its own, as before.
	HTTP2Off HTTP2Mode = iota
	// HTTP2Auto, for wss://, offers "h2" and "http/1.1" by ALPN. When the server chooses h2
	// and its first SETTINGS frame has SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3),
	// the WebSocket is an extended CONNECT stream on a connection shared with the other
	// WebSockets to the same origin (see HTTP2Pool). Otherwise it falls back to the HTTP/1.1
	// Upgrade: on the same TLS connection when the server chose http/1.1 (or no protocol) by
	// ALPN, on a new TLS connection (offering no ALPN) when the server chose h2 but does not
	// allow extended CONNECT. ws:// always uses HTTP/1.1 (no h2c).
	HTTP2Auto
	// HTTP2Required opens the WebSocket over HTTP/2 or fails with an error wrapping
	// ErrHTTP2Unsupported (a server that does not choose h2 by ALPN, or that does not enable
	// extended CONNECT). ws:// URLs fail too: h2c (HTTP/2 over cleartext) is not supported.
	HTTP2Required
)

// String returns "off", "auto" or "required".
func (m HTTP2Mode) String() string {
	switch m {
	case HTTP2Off:
		return "off"
	case HTTP2Auto:
		return "auto"
	case HTTP2Required:
		return "required"
	}
	return fmt.Sprintf("HTTP2Mode(%d)", uint8(m))
}

// ErrHTTP2Unsupported is wrapped by Dial's error in HTTP2Required mode when the WebSocket
// cannot be opened over HTTP/2: the URL is ws:// (no h2c), the server did not choose h2 by
// ALPN, or its SETTINGS do not enable extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL,
// RFC 8441 §3).
var ErrHTTP2Unsupported = errors.New("websocket: WebSocket over HTTP/2 (RFC 8441) not available")

// errNoH2ALPN reports a server that did not choose h2 by ALPN; the TLS connection is kept for
// the HTTP/1.1 fallback (h2DialInfo.fallback).
var errNoH2ALPN = errors.New("server did not choose h2 by ALPN")

// isNoExtendedConnect reports golang.org/x/net/http2's error for a server whose SETTINGS do
// not enable extended CONNECT (unexported there: matched by its text).
func isNoExtendedConnect(err error) bool {
	return err != nil && strings.Contains(err.Error(), "extended connect not supported by peer")
}

// HTTP2Pool holds the HTTP/2 connections of WebSockets opened in HTTP2Auto and HTTP2Required
// modes. Dials with the same TLSConfig (the same pointer) and the same proxy share one
// connection per origin (scheme, host, port): a second WebSocket to an origin costs a
// HEADERS frame and its response, no TCP or TLS handshake. A connection is opened by the
// dial that needs it, with that dial's NetDialContext or proxy, and reused by later dials
// with the same TLSConfig and proxy (with NetDialContext set, by any later dial that also sets
// one). golang.org/x/net/http2's Transport does the per-origin pooling and flow control;
// connections with no open stream close after HTTP2IdleTimeout, or at CloseIdleConnections.
//
// The zero HTTP2Pool is ready to use. DialOptions.HTTP2Pool nil means the package's pool,
// which CloseIdleHTTP2Connections empties.
type HTTP2Pool struct {
	mu         sync.Mutex
	transports map[h2Key]*http2.Transport
}

// http2CloseLinger bounds how long a closed WebSocket's stream waits for the server's
// END_STREAM after sending its own, before it is reset (in the background: Close does not
// wait). Some servers (Apache's mod_http2) end their side only after the client's.
const http2CloseLinger = time.Second

// HTTP2IdleTimeout is how long a pooled HTTP/2 connection with no open stream stays open.
const HTTP2IdleTimeout = 90 * time.Second

// maxPooledTransports bounds the transports a pool keeps (one per TLSConfig and proxy); past
// it a dial gets a transport of its own, whose connection closes HTTP2IdleTimeout after its
// last WebSocket.
const maxPooledTransports = 64

type h2Key struct {
	tls    *tls.Config
	tlsKey string // DialOptions.h2TLSKey (tls is then nil)
	proxy  string // the proxy URL chosen for the target, "" for direct
	custom bool   // NetDialContext set
}

var defaultHTTP2Pool HTTP2Pool

// CloseIdleHTTP2Connections closes the connections of the package's HTTP2Pool that carry no
// WebSocket (see HTTP2Pool.CloseIdleConnections).
func CloseIdleHTTP2Connections() { defaultHTTP2Pool.CloseIdleConnections() }

// CloseIdleConnections closes the pool's connections that carry no open stream. A
// connection whose WebSockets are all closed is idle; one with an open WebSocket stays.
func (p *HTTP2Pool) CloseIdleConnections() {
	p.mu.Lock()
	ts := make([]*http2.Transport, 0, len(p.transports))
	for _, t := range p.transports {
		ts = append(ts, t)
	}
	p.mu.Unlock()
	for _, t := range ts {
		t.CloseIdleConnections()
	}
}

func (p *HTTP2Pool) transport(k h2Key) *http2.Transport {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.transports[k]; t != nil {
		return t
	}
	t := &http2.Transport{DialTLSContext: dialH2TLS, IdleConnTimeout: HTTP2IdleTimeout}
	if len(p.transports) < maxPooledTransports {
		if p.transports == nil {
			p.transports = make(map[h2Key]*http2.Transport)
		}
		p.transports[k] = t
	}
	return t
}

// h2DialKey is the context key of the *h2DialInfo of a dial over HTTP/2.
type h2DialKey struct{}

// h2DialInfo carries a dial's options to the transport's DialTLSContext, and the TLS
// connection of a server that did not choose h2 back to the dial, for its HTTP/1.1 fallback.
type h2DialInfo struct {
	u *url.URL
	o *DialOptions

	mu       sync.Mutex
	fallback net.Conn
	finished bool // the dial took fallback (or gave up on it): a later one is closed
}

func (d *h2DialInfo) stash(nc net.Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.finished || d.fallback != nil {
		_ = nc.Close()
		return
	}
	d.fallback = nc
}

func (d *h2DialInfo) take() net.Conn {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.finished = true
	nc := d.fallback
	d.fallback = nil
	return nc
}

// dialH2TLS is the DialTLSContext of the pool's transports (its network is always "tcp"):
// TCP through the proxy or NetDialContext of the dial that needs the connection (dialNet),
// then TLS offering h2 (and, in Auto mode, http/1.1) by ALPN.
func dialH2TLS(ctx context.Context, _, addr string, _ *tls.Config) (net.Conn, error) {
	info, _ := ctx.Value(h2DialKey{}).(*h2DialInfo)
	if info == nil {
		return nil, errors.New("websocket: HTTP/2 dial without its options")
	}
	nc, err := dialNet(ctx, info.u, addr, info.o)
	if err != nil {
		return nil, err
	}
	cfg := tlsconf.Clone(info.o.TLSConfig, info.u.Hostname())
	cfg.NextProtos = []string{http2.NextProtoTLS}
	if info.o.HTTP2 == HTTP2Auto {
		cfg.NextProtos = append(cfg.NextProtos, "http/1.1")
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		if strings.Contains(err.Error(), "no application protocol") {
			// The server offers none of our protocols by ALPN (RFC 7301 §3.2): h2 only,
			// in Required mode, to a server without it.
			return nil, fmt.Errorf("TLS handshake: %w (%w)", err, errNoH2ALPN)
		}
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != http2.NextProtoTLS {
		if info.o.HTTP2 == HTTP2Auto {
			info.stash(tc)
		} else {
			_ = tc.Close()
		}
		return nil, fmt.Errorf("%w (chose %q)", errNoH2ALPN, p)
	}
	return tc, nil
}

// dialHTTP2 opens the WebSocket as an extended CONNECT stream (RFC 8441 §4-5). When the
// server cannot (Auto mode only), it returns fallback true and, when the server chose
// http/1.1 by ALPN, that TLS connection for the HTTP/1.1 Upgrade.
func dialHTTP2(ctx context.Context, deadline time.Time, u *url.URL, req *handshake.Request, o *DialOptions) (c *Conn, resp *handshake.Response, fallback bool, pre net.Conn, err error) {
	header, err := req.HTTP2Header()
	if err != nil {
		return nil, nil, false, nil, err
	}
	header.Set(handshake.ProtocolHeader, handshake.Protocol)

	key := h2Key{tls: o.TLSConfig, custom: o.NetDialContext != nil}
	if o.h2TLSKey != "" {
		key.tls, key.tlsKey = nil, o.h2TLSKey
	}
	if !key.custom {
		pu, err := proxyFor(u, o)
		if err != nil {
			return nil, nil, false, nil, err
		}
		if pu != nil {
			key.proxy = pu.String()
		}
	}
	pool := o.HTTP2Pool
	if pool == nil {
		pool = &defaultHTTP2Pool
	}
	t := pool.transport(key)

	// The request's context governs the stream for as long as it lives (x/net/http2 resets
	// the stream when it ends), so it is not ctx: it is cancelled by ctx or the dial's
	// deadline only until the response arrives, and by Close afterwards.
	// The info gets a copy of the options: storing o itself would make every dial's options
	// escape to the heap, the HTTP/1.1 ones included (one allocation per connect).
	oc := *o
	info := &h2DialInfo{u: u, o: &oc}
	rctx, cancel := context.WithCancel(context.WithValue(context.WithoutCancel(ctx), h2DialKey{}, info))
	var local, remote net.Addr
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{GotConn: func(gc httptrace.GotConnInfo) {
		local, remote = gc.Conn.LocalAddr(), gc.Conn.RemoteAddr()
	}})
	stopCtx := context.AfterFunc(ctx, cancel)
	var timer *time.Timer
	if !deadline.IsZero() {
		timer = time.AfterFunc(time.Until(deadline), cancel)
	}
	ok := false
	defer func() {
		if !ok {
			cancel()
		}
	}()

	hu := *u
	hu.Scheme = "https"
	hu.User = nil
	// The request body is the far end of the stream's pipe: what the WebSocket writes. The
	// response body is attached once it is there.
	var respBody func() error
	stream := h2stream.New(h2stream.Options{Linger: http2CloseLinger, OnClose: func() {
		if respBody != nil {
			_ = respBody()
		}
		cancel()
	}})
	defer func() {
		if !ok {
			_ = stream.Close()
		}
	}()
	h2req := (&http.Request{Method: http.MethodConnect, URL: &hu, Host: u.Host, Header: header,
		Proto: "HTTP/2", ProtoMajor: 2, Body: stream.Far(), ContentLength: -1}).WithContext(rctx)
	hr, err := t.RoundTrip(h2req)
	ctxOK := stopCtx()
	deadlineOK := timer == nil || timer.Stop()
	if err == nil {
		// Closed by the stream's Close, after the pipe: x/net/http2 waits in Close for the
		// request body's end.
		respBody = hr.Body.Close
		if !ctxOK || !deadlineOK {
			err = context.Canceled
		}
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, nil, false, nil, ctxErr(ctx, err)
		}
		if !deadlineOK {
			return nil, nil, false, nil, fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
		}
		pre := info.take()
		noALPN := pre != nil || errors.Is(err, errNoH2ALPN) || strings.Contains(err.Error(), errNoH2ALPN.Error())
		noConnect := isNoExtendedConnect(err)
		if noALPN || noConnect {
			if o.HTTP2 == HTTP2Auto {
				return nil, nil, true, pre, nil
			}
			if noConnect {
				err = fmt.Errorf("%w: the server's SETTINGS do not enable extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 §3): %w", ErrHTTP2Unsupported, err)
			} else {
				err = fmt.Errorf("%w: %w", ErrHTTP2Unsupported, err)
			}
		}
		return nil, nil, false, nil, err
	}
	hresp, err := handshake.CheckHTTP2Response(req, hr.StatusCode, http.StatusText(hr.StatusCode), hr.Header)
	if err != nil {
		return nil, hresp, false, nil, err
	}
	stream.SetAddrs(local, remote)
	stream.Attach(hr.Body)
	if c, err = openConn(stream, nil, hresp, o); err != nil {
		return nil, hresp, false, nil, err
	}
	ok = true
	return c, hresp, false, nil, nil
}

// facadeTLSKey describes the TLS options of a facade connection, for HTTP2Pool's key: equal
// options share connections. The key password is hashed, never kept as it is.
func facadeTLSKey(opts *WebSocketRequestOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ca=%q skip=%t min=%d", opts.CAPath, opts.SkipServerCertVerification, opts.MinSupportTlsProtocol)
	if cc := opts.ClientCert; cc != nil {
		fmt.Fprintf(&b, " cert=%q key=%q", cc.CertPath, cc.KeyPath)
		if cc.KeyPassword != nil {
			fmt.Fprintf(&b, " pw=%x", sha256.Sum256([]byte(*cc.KeyPassword)))
		}
	}
	return b.String()
}
