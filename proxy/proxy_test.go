package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netkit/websocket/internal/wstest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// echoTarget is a TCP server on loopback that echoes every byte; it stops with the test.
func echoTarget(t *testing.T) string {
	t.Helper()
	return wstest.NewRaw(t, func(c net.Conn) { _, _ = io.Copy(c, c) }).Addr()
}

// connectProxy is a small HTTP CONNECT proxy on loopback, written for the tests: reply decides
// what it answers to each request (nil: check the credentials and tunnel).
type connectProxy struct {
	addr     string
	user, pw string
	// reply, when set, writes the proxy's answer itself; returning true means tunnel after it.
	reply func(c net.Conn, req *http.Request) bool

	mu   sync.Mutex
	reqs []*http.Request
}

func newConnectProxy(t *testing.T, setup func(p *connectProxy)) *connectProxy {
	t.Helper()
	return newConnectProxyOn(t, nil, setup)
}

func newConnectProxyOn(t *testing.T, tlsCfg *tls.Config, setup func(p *connectProxy)) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{addr: ln.Addr().String()}
	if setup != nil {
		setup(p)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			track(c)
			wg.Go(func() {
				defer c.Close()
				if tlsCfg != nil {
					c = tls.Server(c, tlsCfg)
				}
				p.serve(c, track)
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return p
}

func (p *connectProxy) requests() []*http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*http.Request(nil), p.reqs...)
}

func (p *connectProxy) serve(c net.Conn, track func(net.Conn)) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	p.mu.Unlock()
	if p.reply != nil {
		if !p.reply(c, req) {
			return
		}
	} else {
		if req.Method != http.MethodConnect {
			_, _ = io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
			return
		}
		if p.user != "" {
			u, pw, ok := parseProxyAuth(req.Header.Get("Proxy-Authorization"))
			if !ok {
				_, _ = io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"t\"\r\n\r\n")
				return
			}
			if u != p.user || pw != p.pw {
				_, _ = io.WriteString(c, "HTTP/1.1 401 Unauthorized\r\n\r\n")
				return
			}
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	}
	tc, err := net.Dial("tcp", req.Host)
	if err != nil {
		return
	}
	track(tc)
	defer tc.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(tc, br)
		if cw, ok := tc.(*net.TCPConn); ok {
			_ = cw.CloseWrite()
		}
		close(done)
	}()
	_, _ = io.Copy(c, tc)
	_ = c.Close()
	<-done
}

func parseProxyAuth(v string) (user, pw string, ok bool) {
	r := &http.Request{Header: http.Header{"Authorization": {v}}}
	return r.BasicAuth()
}

// roundTrip writes msg through c and reads it back.
func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	if string(buf) != msg {
		t.Fatalf("echo %q, want %q", buf, msg)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestHTTPConnectAuth(t *testing.T) {
	target := echoTarget(t)
	p := newConnectProxy(t, func(p *connectProxy) { p.user, p.pw = "user", "s3cret:pw" })
	d, err := HTTPConnect(mustURL(t, "http://user:s3cret%3Apw@"+p.addr), &Options{Header: http.Header{"User-Agent": {"t"}}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d(ctx5(t), "tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "hello through the tunnel")
	reqs := p.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != "CONNECT" || r.Host != target || r.RequestURI != target || r.Proto != "HTTP/1.1" {
		t.Fatalf("request %s %s %s host %s", r.Method, r.RequestURI, r.Proto, r.Host)
	}
	if got := r.Header.Get("Proxy-Authorization"); got != "Basic dXNlcjpzM2NyZXQ6cHc=" {
		t.Fatalf("Proxy-Authorization %q", got)
	}
	if r.Header.Get("User-Agent") != "t" {
		t.Fatalf("extra header missing: %v", r.Header)
	}
}

func TestHTTPConnectNoCredentialsNoHeader(t *testing.T) {
	target := echoTarget(t)
	p := newConnectProxy(t, nil)
	d, err := HTTPConnect(mustURL(t, "http://"+p.addr), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d(ctx5(t), "tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "x")
	if v, ok := p.requests()[0].Header["Proxy-Authorization"]; ok {
		t.Fatalf("Proxy-Authorization sent without credentials: %q", v)
	}
}

func TestHTTPConnectRefused(t *testing.T) {
	target := echoTarget(t)
	p := newConnectProxy(t, func(p *connectProxy) { p.user, p.pw = "user", "right" })
	cases := []struct {
		name     string
		url      string
		status   int
		authErr  bool
		mustHave string
	}{
		{"no credentials", "http://" + p.addr, 407, true, "407 Proxy Authentication Required"},
		{"wrong password", "http://user:wrong-Passw0rd@" + p.addr, 401, true, "401 Unauthorized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := HTTPConnect(mustURL(t, tc.url), nil)
			if err != nil {
				t.Fatal(err)
			}
			c, err := d(ctx5(t), "tcp", target)
			if err == nil {
				c.Close()
				t.Fatal("no error")
			}
			var ce *ConnectError
			if !errors.As(err, &ce) || ce.StatusCode != tc.status {
				t.Fatalf("error %v, want status %d", err, tc.status)
			}
			if errors.Is(err, ErrProxyAuthRequired) != tc.authErr {
				t.Fatalf("errors.Is(ErrProxyAuthRequired) wrong for %v", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.mustHave) || !strings.Contains(msg, p.addr) || !strings.HasPrefix(msg, "websocket: proxy ") {
				t.Fatalf("message %q", msg)
			}
			if strings.Contains(msg, "wrong-Passw0rd") || strings.Contains(msg, "Basic") {
				t.Fatalf("message shows credentials: %q", msg)
			}
		})
	}
}

func TestHTTPConnectReplies(t *testing.T) {
	target := echoTarget(t)
	cases := []struct {
		name  string
		reply string
		check func(t *testing.T, err error)
	}{
		{"403", "HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!", func(t *testing.T, err error) {
			var ce *ConnectError
			if !errors.As(err, &ce) || ce.StatusCode != 403 || ce.Status != "403 Forbidden" || errors.Is(err, ErrProxyAuthRequired) {
				t.Fatalf("%v", err)
			}
		}},
		{"502", "HTTP/1.0 502 Bad Gateway\r\n\r\n", func(t *testing.T, err error) {
			var ce *ConnectError
			if !errors.As(err, &ce) || ce.StatusCode != 502 {
				t.Fatalf("%v", err)
			}
		}},
		{"garbage", "SSH-2.0-OpenSSH_9.2\r\n\r\n", func(t *testing.T, err error) {
			var pe *Error
			if !errors.As(err, &pe) || pe.Op != "CONNECT" || !strings.Contains(err.Error(), "malformed reply") {
				t.Fatalf("%v", err)
			}
		}},
		{"closed early", "HTTP/1.1 200 OK\r\nX: y", func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "closed before a complete reply") {
				t.Fatalf("%v", err)
			}
		}},
		{"echoed credentials", "HTTP/1.1 400 bad dXNlcjpodW50ZXIy user:hunter2\r\n\r\n", func(t *testing.T, err error) {
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "dXNlcjpodW50ZXIy") {
				t.Fatalf("credentials in %q", err)
			}
		}},
		{"too large", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("a", 1000)+"\r\n", 40) + "\r\n", func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "reply larger than") {
				t.Fatalf("%v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newConnectProxy(t, func(p *connectProxy) {
				p.reply = func(c net.Conn, _ *http.Request) bool {
					_, _ = io.WriteString(c, tc.reply)
					return false
				}
			})
			d, err := HTTPConnect(mustURL(t, "http://user:hunter2@"+p.addr), nil)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			c, err := d(ctx5(t), "tcp", target)
			if err == nil {
				c.Close()
				t.Fatal("no error")
			}
			if time.Since(start) > 3*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("password in %q", err)
			}
			tc.check(t, err)
		})
	}
}

func TestHTTPConnectBytesAfterReply(t *testing.T) {
	target := echoTarget(t)
	p := newConnectProxy(t, func(p *connectProxy) {
		p.reply = func(c net.Conn, _ *http.Request) bool {
			// The reply and the first bytes of the tunnel in one write.
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nX-A: b\r\n\r\nEARLY")
			return true
		}
	})
	d, err := HTTPConnect(mustURL(t, "http://"+p.addr), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d(ctx5(t), "tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "EARLY" {
		t.Fatalf("%q %v", buf, err)
	}
	roundTrip(t, c, "after")
}

func TestHTTPConnectContext(t *testing.T) {
	target := echoTarget(t)
	release := make(chan struct{})
	p := newConnectProxy(t, func(p *connectProxy) {
		p.reply = func(c net.Conn, _ *http.Request) bool {
			<-release // never answers while the test runs
			return false
		}
	})
	t.Cleanup(func() { close(release) }) // before the proxy's cleanup, which waits for it
	d, err := HTTPConnect(mustURL(t, "http://"+p.addr), nil)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := d(ctx, "tcp", target)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
			t.Fatalf("%v after %v", err, time.Since(start))
		}
		if !strings.Contains(err.Error(), p.addr) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(150*time.Millisecond, cancel)
		start := time.Now()
		_, err := d(ctx, "tcp", target)
		if !errors.Is(err, context.Canceled) || time.Since(start) > 3*time.Second {
			t.Fatalf("%v after %v", err, time.Since(start))
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := d(ctx, "tcp", target); !errors.Is(err, context.Canceled) {
			t.Fatalf("%v", err)
		}
	})
}

func TestHTTPConnectUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	d, err := HTTPConnect(mustURL(t, "http://u:topsecret@"+addr), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d(ctx5(t), "tcp", "127.0.0.1:1")
	var pe *Error
	if !errors.As(err, &pe) || pe.Op != "dial" || pe.Proxy != addr || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("%v", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("cause not wrapped: %v", err)
	}
}

func TestHTTPConnectTLSProxy(t *testing.T) {
	target := echoTarget(t)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler()) // only for its certificate
	srv.StartTLS()
	cert := srv.TLS.Certificates[0]
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	srv.Close()

	p := newConnectProxyOn(t, &tls.Config{Certificates: []tls.Certificate{cert}}, func(p *connectProxy) { p.user, p.pw = "u", "p" })
	d, err := HTTPConnect(mustURL(t, "https://u:p@"+p.addr), &Options{TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d(ctx5(t), "tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "inside TLS to the proxy")

	// Without the CA, the proxy's certificate is refused.
	d, err = HTTPConnect(mustURL(t, "https://u:p@"+p.addr), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d(ctx5(t), "tcp", target)
	var pe *Error
	if !errors.As(err, &pe) || pe.Op != "TLS handshake" {
		t.Fatalf("%v", err)
	}
}

func TestHTTPConnectBadArguments(t *testing.T) {
	for _, s := range []string{"ftp://h:1", "http://", "http://h:0", "http://h:99999"} {
		if _, err := HTTPConnect(mustURL(t, s), nil); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
	if _, err := HTTPConnect(mustURL(t, "http://h"), &Options{Header: http.Header{"Proxy-Authorization": {"x"}}}); err == nil {
		t.Error("Proxy-Authorization in Options.Header accepted")
	}
	d, err := HTTPConnect(mustURL(t, "http://127.0.0.1:1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d(ctx5(t), "tcp", "bad target\r\nX: y"); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("bad target: %v", err)
	}
	if _, err := d(ctx5(t), "udp", "h:1"); err == nil {
		t.Error("udp accepted")
	}
	if _, err := FromURL(mustURL(t, "gopher://h:1"), nil); err == nil {
		t.Error("gopher accepted")
	}
}

func TestHTTPConnectForward(t *testing.T) {
	target := echoTarget(t)
	p := newConnectProxy(t, nil)
	var used bool
	d, err := HTTPConnect(mustURL(t, "http://proxy.invalid:8080"), &Options{Forward: func(ctx context.Context, network, addr string) (net.Conn, error) {
		used = addr == "proxy.invalid:8080"
		return Direct(ctx, network, p.addr)
	}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d(ctx5(t), "tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "fw")
	if !used {
		t.Fatal("Forward not used")
	}
}

// TestHTTPConnectAcceptsValidReplyForms: the reply parser that replaced http.ReadResponse
// (whose errors quote the proxy's bytes) still accepts what HTTP/1.x proxies send.
func TestHTTPConnectAcceptsValidReplyForms(t *testing.T) {
	target := echoTarget(t)
	for name, reply := range map[string]string{
		"HTTP/1.0 without reason":   "HTTP/1.0 200\r\n\r\n",
		"bare LF":                   "HTTP/1.1 200 OK\nVia: 1.1 p\n\n",
		"folded header":             "HTTP/1.1 200 OK\r\nX-A: b\r\n  continued\r\n\r\n",
		"tab and obs-text in value": "HTTP/1.1 200 Connection established\r\nX-A:\tb \xe9\r\nX_Weird-Name!: v\r\n\r\n",
		"empty value":               "HTTP/1.1 201 Created\r\nX-A:\r\n\r\n",
		"header line over 4 KiB":    "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", 6000) + "\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			p := newConnectProxy(t, func(p *connectProxy) {
				p.reply = func(c net.Conn, _ *http.Request) bool {
					_, _ = io.WriteString(c, reply)
					return true
				}
			})
			d, err := HTTPConnect(mustURL(t, "http://"+p.addr), nil)
			if err != nil {
				t.Fatal(err)
			}
			c, err := d(ctx5(t), "tcp", target)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			roundTrip(t, c, "through")
		})
	}
}

// TestHTTPConnectMalformedReplyIsErrMalformedReply: each defect of a reply is an *Error
// wrapping ErrMalformedReply that says what is wrong, and the reply's bytes are not in it.
func TestHTTPConnectMalformedReplyIsErrMalformedReply(t *testing.T) {
	target := echoTarget(t)
	for _, tc := range []struct{ reply, want string }{
		{"HTTP/1.1 2x0 OK-SECRET\r\n\r\n", "status code is not three digits"},
		{"HTTP/1.1 099 SECRET\r\n\r\n", "status code is not three digits"},
		{"HTTP/1.1 2000 SECRET\r\n\r\n", "status code is not three digits"},
		{"HTTP/1.2 200 SECRET\r\n\r\n", "status line does not begin"},
		{"http/1.1 200 SECRET\r\n\r\n", "status line does not begin"},
		{"HTTP/1.1 200 OK\r\nX-A: b\r\nSECRET\r\n\r\n", "header line 2 has no colon"},
		{"HTTP/1.1 200 OK\r\n: SECRET\r\n\r\n", "header line 1 has an empty or invalid field name"},
		{"HTTP/1.1 200 OK\r\nX SECRET: v\r\n\r\n", "header line 1 has an empty or invalid field name"},
		{"HTTP/1.1 200 OK\r\nX-A: SECRET\x7f\r\n\r\n", "header line 1 holds a control character"},
		{"HTTP/1.1 200 OK\r\nX-A: SECRET\rB\r\n\r\n", "header line 1 holds a control character"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			p := newConnectProxy(t, func(p *connectProxy) {
				p.reply = func(c net.Conn, _ *http.Request) bool {
					_, _ = io.WriteString(c, tc.reply)
					return false
				}
			})
			d, err := HTTPConnect(mustURL(t, "http://"+p.addr), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = d(ctx5(t), "tcp", target)
			var pe *Error
			if !errors.As(err, &pe) || pe.Op != "CONNECT" || !errors.Is(err, ErrMalformedReply) ||
				!strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("%v, want an *Error wrapping ErrMalformedReply saying %q without the reply", err, tc.want)
			}
		})
	}
}
