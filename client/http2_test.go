package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// WebSocket over HTTP/2 (RFC 8441), both roles ours, over real loopback TLS. The server is
// net/http's HTTP/2 server: it accepts extended CONNECT only when the process started with
// GODEBUG=http2xconnect=1, which net/http reads once, in an init function, so that setting
// it in TestMain is too late. TestMain therefore re-executes the test binary with it set
// (h2GodebugEnsure). The server without the setting, for the fallback tests, is this binary
// again in a child process started with the setting removed (plainH2Env).

// plainH2Env selects the child-process mode of the test binary that serves h2Server without
// GODEBUG=http2xconnect=1; its value is "certPath keyPath".
const plainH2Env = "NETKIT_WS_PLAIN_H2"

const h2xconnect = "http2xconnect=1"

// h2GodebugEnsure re-executes the test binary with GODEBUG=http2xconnect=1 added, unless it
// is set already; it returns only when it is (or when re-executing failed, which the tests
// then report).
func h2GodebugEnsure() error {
	g := os.Getenv("GODEBUG")
	if strings.Contains(g, h2xconnect) {
		return nil
	}
	if g != "" {
		g += ","
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	env := append(os.Environ(), "GODEBUG="+g+h2xconnect)
	return execSelf(exe, os.Args, env)
}

// h2Server serves WebSockets on one TLS listener: over HTTP/2 (RFC 8441, net/http's server)
// when the client chooses h2 by ALPN, by the HTTP/1.1 Upgrade otherwise. The request path
// picks the behaviour: /echo echoes every message, /close sends a close frame with 4001
// "bye from server" and waits for the reply.
type h2Server struct {
	ln      net.Listener
	accepts atomic.Int64 // TCP connections accepted
	srv     *http.Server
	h2conns chan net.Conn
	wg      sync.WaitGroup
	up      handshake.Upgrader
	done    chan struct{}
}

// startH2Server starts an h2Server with cert; alpn are the protocols it offers ("h2",
// "http/1.1" when nil).
func startH2Server(cert tls.Certificate, alpn []string, setup ...func(*http.Server)) (*h2Server, error) {
	if alpn == nil {
		alpn = []string{"h2", "http/1.1"}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &h2Server{ln: ln, h2conns: make(chan net.Conn), done: make(chan struct{})}
	s.up.Protocols = []string{"chat", "superchat"}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveHTTP2)}
	for _, f := range setup {
		f(s.srv)
	}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: alpn}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(&chanListener{s})
	}()
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepts.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				tc := tls.Server(nc, tlsCfg)
				_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
				if err := tc.Handshake(); err != nil {
					_ = nc.Close()
					return
				}
				_ = tc.SetDeadline(time.Time{})
				if tc.ConnectionState().NegotiatedProtocol == "h2" {
					select {
					case s.h2conns <- tc:
					case <-s.done:
						_ = tc.Close()
					}
					return
				}
				s.serveHTTP1(tc)
			}()
		}
	}()
	return s, nil
}

func (s *h2Server) addr() string { return s.ln.Addr().String() }

func (s *h2Server) close() {
	close(s.done)
	_ = s.ln.Close()
	_ = s.srv.Close()
	s.wg.Wait()
}

// chanListener hands net/http the TLS connections that chose h2 (net/http's Serve serves a
// *tls.Conn that negotiated h2 with its HTTP/2 server).
type chanListener struct{ s *h2Server }

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.s.h2conns:
		return c, nil
	case <-l.s.done:
		return nil, net.ErrClosed
	}
}
func (l *chanListener) Close() error   { return nil }
func (l *chanListener) Addr() net.Addr { return l.s.ln.Addr() }

func (s *h2Server) serveHTTP2(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/silent": // never answers the CONNECT, until the stream or the server ends
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	case "/redirect":
		w.Header().Set("Location", "/echo")
		w.WriteHeader(http.StatusFound)
		return
	}
	nc, req, proto, err := s.up.UpgradeHTTP2(w, r)
	if err != nil {
		return
	}
	s.serveWS(nc, nil, req.Target, proto)
}

func (s *h2Server) serveHTTP1(nc net.Conn) {
	defer nc.Close()
	br := bufio.NewReader(nc)
	req, proto, err := s.up.Upgrade(br, nc)
	if err != nil {
		return
	}
	var prefix []byte
	if n := br.Buffered(); n > 0 {
		prefix, _ = br.Peek(n)
	}
	s.serveWS(nc, prefix, req.Target, proto)
}

func (s *h2Server) serveWS(nc net.Conn, prefix []byte, target, proto string) {
	c := conn.New(nc, prefix, &conn.Config{Role: frame.RoleServer, Subprotocol: proto, MaxMessageSize: -1})
	defer c.CloseNow()
	ctx := context.Background()
	if target == "/close" {
		_ = c.Close(4001, "bye from server")
		return
	}
	for {
		typ, p, err := c.ReadMessage(ctx, nil)
		if err != nil {
			return
		}
		if err := c.WriteMessage(ctx, typ, p); err != nil {
			return
		}
	}
}

// runPlainH2 is the child process: an h2Server without GODEBUG=http2xconnect=1 (an HTTP/2
// server that does not allow extended CONNECT, and serves HTTP/1.1 upgrades), printing its
// address and serving until stdin is closed.
func runPlainH2(paths string) int {
	certPath, keyPath, _ := strings.Cut(paths, " ")
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := startH2Server(cert, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(s.addr())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

// h2Certs writes a self-signed certificate for 127.0.0.1 and returns it, its files and a
// client TLS config trusting it.
func h2Certs(t testing.TB) (tls.Certificate, string, string, *tls.Config) {
	t.Helper()
	certPath, keyPath, pool, err := wstest.WriteSelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	return cert, certPath, keyPath, &tls.Config{RootCAs: pool}
}

// newH2Server starts an in-process h2Server (extended CONNECT allowed) for the test.
func newH2Server(t *testing.T, alpn []string) (*h2Server, *tls.Config) {
	t.Helper()
	cert, _, _, clientTLS := h2Certs(t)
	s, err := startH2Server(cert, alpn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s, clientTLS
}

// newPool returns an HTTP2Pool whose idle connections are closed when the test ends.
func newPool(t *testing.T) *HTTP2Pool {
	p := new(HTTP2Pool)
	t.Cleanup(p.CloseIdleConnections)
	return p
}

func h2Opts(mode HTTP2Mode, cfg *tls.Config, pool *HTTP2Pool) *DialOptions {
	return &DialOptions{HTTP2: mode, TLSConfig: cfg, HTTP2Pool: pool, Proxy: ProxyDirect, PingInterval: -1}
}

func echoCheck(t *testing.T, c *Conn, typ MessageType, msg []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.WriteMessage(ctx, typ, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	gt, got, err := c.ReadMessage(ctx, nil)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if gt != typ || !bytes.Equal(got, msg) {
		t.Fatalf("echo: got type %v, %d bytes; want %v, %d bytes", gt, len(got), typ, len(msg))
	}
}

func TestHTTP2GodebugInEffect(t *testing.T) {
	if !strings.Contains(os.Getenv("GODEBUG"), h2xconnect) {
		t.Fatalf("GODEBUG=%q: TestMain did not re-execute with %s", os.Getenv("GODEBUG"), h2xconnect)
	}
}

func TestHTTP2RequiredEchoAndClientClose(t *testing.T) {
	s, cfg := newH2Server(t, nil)
	o := h2Opts(HTTP2Required, cfg, newPool(t))
	o.Subprotocols = []string{"superchat", "chat"}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, resp, err := Dial(ctx, "wss://"+s.addr()+"/echo", o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if resp.StatusCode != 200 || resp.Status != "OK" {
		t.Errorf("status %d %q, want 200 \"OK\" (RFC 8441 §5)", resp.StatusCode, resp.Status)
	}
	if resp.Subprotocol != "superchat" || c.Subprotocol() != "superchat" {
		t.Errorf("subprotocol %q/%q, want superchat", resp.Subprotocol, c.Subprotocol())
	}
	if got := resp.Header.Get("Sec-Websocket-Protocol"); got != "superchat" {
		t.Errorf("Sec-WebSocket-Protocol header %q", got)
	}
	if _, ok := c.RemoteAddr().(*net.TCPAddr); !ok || c.RemoteAddr().String() != s.addr() {
		t.Errorf("RemoteAddr %v, want the TCP address %s", c.RemoteAddr(), s.addr())
	}
	echoCheck(t, c, conn.Text, []byte("hello over h2"))
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	echoCheck(t, c, conn.Binary, big)
	echoCheck(t, c, conn.Text, []byte("after the big one"))
	if err := c.Close(frame.CloseNormal, "done"); err != nil {
		t.Fatalf("close handshake: %v", err)
	}
	if n := s.accepts.Load(); n != 1 {
		t.Errorf("%d TCP connections, want 1", n)
	}
}

func TestHTTP2ServerInitiatedClose(t *testing.T) {
	s, cfg := newH2Server(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := Dial(ctx, "wss://"+s.addr()+"/close", h2Opts(HTTP2Required, cfg, newPool(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, _, err = c.ReadMessage(ctx, nil)
	var ce *conn.CloseError
	if !errors.As(err, &ce) || !ce.Remote || ce.Code != 4001 || ce.Reason != "bye from server" {
		t.Fatalf("read after the server's close: %v, want the server's 4001 \"bye from server\"", err)
	}
}

// A cancelled read ends that read only, over HTTP/2 as over TCP: the stream's deadlines
// behave like a socket's.
func TestHTTP2CancelledReadKeepsConnection(t *testing.T) {
	s, cfg := newH2Server(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := Dial(ctx, "wss://"+s.addr()+"/echo", h2Opts(HTTP2Required, cfg, newPool(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	rctx, rcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, _, err = c.ReadMessage(rctx, nil)
	rcancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read with an expiring context: %v", err)
	}
	echoCheck(t, c, conn.Text, []byte("still open"))
	if err := c.Close(frame.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
}

// Many WebSockets to one origin share one TCP (and TLS) connection, and carry messages at
// the same time.
func TestHTTP2ManyWebSocketsOneConnection(t *testing.T) {
	s, cfg := newH2Server(t, nil)
	pool := newPool(t)
	const n = 24
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The first dial opens the connection; the others, at once, share it.
	first, _, err := Dial(ctx, "wss://"+s.addr()+"/echo", h2Opts(HTTP2Required, cfg, pool))
	if err != nil {
		t.Fatal(err)
	}
	conns := []*Conn{first}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := Dial(ctx, "wss://"+s.addr()+"/echo", h2Opts(HTTP2Required, cfg, pool))
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := bytes.Repeat([]byte{byte(i)}, 64<<10+i)
			for range 4 {
				if err := c.WriteMessage(ctx, conn.Binary, msg); err != nil {
					t.Error(err)
					return
				}
				_, got, err := c.ReadMessage(ctx, nil)
				if err != nil || !bytes.Equal(got, msg) {
					t.Errorf("websocket %d: %v, %d bytes", i, err, len(got))
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range conns {
		if err := c.Close(frame.CloseNormal, ""); err != nil {
			t.Error(err)
		}
	}
	if got := s.accepts.Load(); got != 1 {
		t.Fatalf("%d WebSockets used %d TCP connections, want 1", n, got)
	}
	// Closing the WebSockets ended their streams, not the connection: one more reuses it.
	c, _, err := Dial(ctx, "wss://"+s.addr()+"/echo", h2Opts(HTTP2Required, cfg, pool))
	if err != nil {
		t.Fatal(err)
	}
	echoCheck(t, c, conn.Text, []byte("again"))
	_ = c.Close(frame.CloseNormal, "")
	if got := s.accepts.Load(); got != 1 {
		t.Fatalf("after the streams closed, a new WebSocket opened connection %d", got)
	}
}

// startPlainH2 starts the child process serving h2Server without extended CONNECT.
func startPlainH2(t *testing.T) (string, *tls.Config) {
	t.Helper()
	_, certPath, keyPath, cfg := h2Certs(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GODEBUG=") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, plainH2Env+"="+certPath+" "+keyPath)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("child server: %v", err)
	}
	return strings.TrimSpace(line), cfg
}

// Against an HTTP/2 server whose SETTINGS do not enable extended CONNECT (net/http without
// GODEBUG=http2xconnect=1), Auto falls back to the HTTP/1.1 Upgrade and Required fails
// saying why.
func TestHTTP2AutoFallsBackWithoutConnectSetting(t *testing.T) {
	addr, cfg := startPlainH2(t)
	pool := newPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, resp, err := Dial(ctx, "wss://"+addr+"/echo", h2Opts(HTTP2Auto, cfg, pool))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Errorf("status %d, want 101 (the HTTP/1.1 fallback)", resp.StatusCode)
	}
	echoCheck(t, c, conn.Binary, bytes.Repeat([]byte("x"), 1<<20))
	if err := c.Close(frame.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}

	_, _, err = Dial(ctx, "wss://"+addr+"/echo", h2Opts(HTTP2Required, cfg, pool))
	if !errors.Is(err, ErrHTTP2Unsupported) || !strings.Contains(err.Error(), "SETTINGS_ENABLE_CONNECT_PROTOCOL") {
		t.Fatalf("Required against a server without the setting: %v", err)
	}
}

// Against a server that does not choose h2 by ALPN, Auto upgrades on the same TLS
// connection (one TCP connection, one TLS handshake), and Required fails.
func TestHTTP2AutoFallsBackOnALPN(t *testing.T) {
	s, cfg := newH2Server(t, []string{"http/1.1"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, resp, err := Dial(ctx, "wss://"+s.addr()+"/echo", h2Opts(HTTP2Auto, cfg, newPool(t)))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Errorf("status %d, want 101", resp.StatusCode)
	}
	echoCheck(t, c, conn.Text, []byte("over http/1.1"))
	if err := c.Close(frame.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	if n := s.accepts.Load(); n != 1 {
		t.Errorf("%d TCP connections, want 1 (the TLS connection of the h2 attempt reused)", n)
	}
	_, _, err = Dial(ctx, "wss://"+s.addr()+"/echo", h2Opts(HTTP2Required, cfg, newPool(t)))
	if !errors.Is(err, ErrHTTP2Unsupported) || !strings.Contains(err.Error(), "ALPN") {
		t.Fatalf("Required against an HTTP/1.1-only server: %v", err)
	}
}

func TestHTTP2RequiredRefusesWS(t *testing.T) {
	_, _, err := Dial(context.Background(), "ws://127.0.0.1:1/", &DialOptions{HTTP2: HTTP2Required})
	if !errors.Is(err, ErrHTTP2Unsupported) || !strings.Contains(err.Error(), "h2c") {
		t.Fatalf("ws:// in Required mode: %v", err)
	}
	_, _, err = Dial(context.Background(), "wss://127.0.0.1:1/", &DialOptions{HTTP2: 7})
	if !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("HTTP2 mode 7: %v", err)
	}
}

// A server's refusal over HTTP/2 is a *handshake.StatusError with its status, as over
// HTTP/1.1.
func TestHTTP2StatusError(t *testing.T) {
	s, cfg := newH2Server(t, nil)
	o := h2Opts(HTTP2Required, cfg, newPool(t))
	s.up.CheckOrigin = func(r *handshake.ServerRequest) bool { return false }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err := Dial(ctx, "wss://"+s.addr()+"/echo", o)
	var se *handshake.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
		t.Fatalf("refused origin over HTTP/2: %v", err)
	}
}

// The TLS configuration is verified over HTTP/2 as over HTTP/1.1.
func TestHTTP2VerifiesCertificate(t *testing.T) {
	s, _ := newH2Server(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err := Dial(ctx, "wss://"+s.addr()+"/echo", h2Opts(HTTP2Required, &tls.Config{RootCAs: x509.NewCertPool()}, newPool(t)))
	var ue x509.UnknownAuthorityError
	if !errors.As(err, &ue) {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

// The facade over HTTP/2: HEADERRECEIVE shows the HTTP/2 response headers, OPEN gives
// {200: "OK"} (RFC 8441 §5), messages echo, and two connections with the same options share
// one TCP connection.
func TestHTTP2FacadeOpenIs200AndShares(t *testing.T) {
	cert, certPath, _, _ := h2Certs(t)
	s, err := startH2Server(cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	t.Cleanup(CloseIdleHTTP2Connections)
	url := "wss://" + s.addr() + "/echo"
	for i := range 2 {
		ws := CreateWebSocket()
		r := newRecorder(t, ws)
		r.onOpenInfo(ws)
		_ = ws.On(EventOpen, NewWebSocketAsyncCallback(func(err *AsyncError, data map[uint32]string) {
			r.log("OPEN200 %d %q", len(data), data[200])
		}))
		_ = ws.On(EventHeaderReceive, NewHeaderReceiveCallback(func(h ResponseHeaders) {
			r.log("H2HEADER %s", h.(MapData)["Sec-Websocket-Protocol"])
		}))
		opts := realOptions()
		opts.CAPath = certPath
		opts.Protocol = "chat"
		opts.HTTP2 = HTTP2Required
		if err := ws.Connect(url, opts, r.asyncCB("CONNECT")); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(r.until(`OPENINFO 200 OK "chat"`), "|")
		for _, want := range []string{"CONNECT true", "H2HEADER chat", `OPEN200 1 "OK"`} {
			if !strings.Contains(got, want) {
				t.Fatalf("connection %d: events %s, want %s among them", i, got, want)
			}
		}
		_ = ws.Send(StringData("over h2"), nil)
		r.until("MESSAGE text over h2")
		t.Cleanup(func() {
			_ = ws.Close(nil, nil)
			r.until("CLOSE 1000")
			wait(t, ws)
		})
	}
	if n := s.accepts.Load(); n != 1 {
		t.Fatalf("two facade connections used %d TCP connections, want 1", n)
	}
}

func TestHTTP2FacadeRejectsUnknownMode(t *testing.T) {
	ws := CreateWebSocket()
	opts := realOptions()
	opts.HTTP2 = 9
	err := ws.Connect("wss://127.0.0.1:1/", opts, nil)
	if CodeOf(err) != CodeParameterError {
		t.Fatalf("HTTP2 mode 9: %v", err)
	}
}

// Through a SOCKS5 proxy, HTTP/2 is negotiated inside the tunnel and the tunnel is shared:
// three WebSockets, one proxy connection. A dial without the proxy does not reuse it (the
// pool is keyed by the proxy too).
func TestHTTP2ThroughSOCKS5SharesTheTunnel(t *testing.T) {
	s, cfg := newH2Server(t, nil)
	px := wstest.NewSOCKS5(t)
	pu, err := url.Parse("socks5://" + px.Addr)
	if err != nil {
		t.Fatal(err)
	}
	pool := newPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var conns []*Conn
	for range 3 {
		o := h2Opts(HTTP2Auto, cfg, pool)
		o.Proxy = func(*url.URL) (*url.URL, error) { return pu, nil }
		c, resp, err := Dial(ctx, "wss://"+s.addr()+"/echo", o)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("status %d through the proxy, want 200 (HTTP/2)", resp.StatusCode)
		}
		echoCheck(t, c, conn.Text, []byte("tunnelled"))
		conns = append(conns, c)
	}
	if got := px.Targets(); len(got) != 1 || s.accepts.Load() != 1 {
		t.Fatalf("3 WebSockets: proxy targets %v, %d server connections; want one of each", got, s.accepts.Load())
	}
	direct, _, err := Dial(ctx, "wss://"+s.addr()+"/echo", h2Opts(HTTP2Required, cfg, pool))
	if err != nil {
		t.Fatal(err)
	}
	conns = append(conns, direct)
	if n := s.accepts.Load(); n != 2 || len(px.Targets()) != 1 {
		t.Fatalf("a direct dial after proxied ones: %d server connections, proxy targets %v", n, px.Targets())
	}
	for _, c := range conns {
		if err := c.Close(frame.CloseNormal, ""); err != nil {
			t.Error(err)
		}
	}
}

// A server that never answers the extended CONNECT: HandshakeTimeout ends the dial with
// context.DeadlineExceeded, a cancelled ctx with context.Canceled, and neither leaves a
// goroutine behind (TestMain's goleak); the shared connection stays usable.
func TestHTTP2HandshakeTimeoutAndCancel(t *testing.T) {
	s, cfg := newH2Server(t, nil)
	pool := newPool(t)
	o := h2Opts(HTTP2Required, cfg, pool)
	o.HandshakeTimeout = 200 * time.Millisecond
	start := time.Now()
	_, _, err := Dial(context.Background(), "wss://"+s.addr()+"/silent", o)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Fatalf("silent server with HandshakeTimeout 200ms: %v after %v", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, _, err = Dial(ctx, "wss://"+s.addr()+"/silent", h2Opts(HTTP2Required, cfg, pool))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled dial: %v", err)
	}
	c, _, err := Dial(context.Background(), "wss://"+s.addr()+"/echo", h2Opts(HTTP2Required, cfg, pool))
	if err != nil {
		t.Fatal(err)
	}
	echoCheck(t, c, conn.Text, []byte("after the abandoned streams"))
	_ = c.Close(frame.CloseNormal, "")
	if n := s.accepts.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

// A redirect answered over HTTP/2 is followed with FollowRedirects, on the same connection
// (another stream), and fails Dial with its *handshake.StatusError without.
func TestHTTP2Redirect(t *testing.T) {
	s, cfg := newH2Server(t, nil)
	pool := newPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err := Dial(ctx, "wss://"+s.addr()+"/redirect", h2Opts(HTTP2Required, cfg, pool))
	var se *handshake.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusFound || se.Location != "/echo" {
		t.Fatalf("redirect not followed: %v", err)
	}
	o := h2Opts(HTTP2Required, cfg, pool)
	o.FollowRedirects = true
	c, resp, err := Dial(ctx, "wss://"+s.addr()+"/redirect", o)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d after the redirect, want 200", resp.StatusCode)
	}
	echoCheck(t, c, conn.Text, []byte("redirected"))
	_ = c.Close(frame.CloseNormal, "")
	if n := s.accepts.Load(); n != 1 {
		t.Fatalf("%d connections for a redirect over HTTP/2, want 1", n)
	}
}
