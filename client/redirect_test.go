package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// These tests follow redirects served by a real net/http server on loopback (the redirector)
// to the engine's echo server (wstest), over real sockets.

// redirector is a net/http server on loopback that answers every request with the status
// and Location that route gives for its path, and records what it was sent.
type redirector struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []*http.Request // requests in arrival order
}

func newRedirector(t *testing.T, route func(path string) (status int, location string)) *redirector {
	t.Helper()
	r := &redirector{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.got = append(r.got, req)
		r.mu.Unlock()
		status, loc := route(req.URL.RequestURI())
		if loc != "" {
			w.Header().Set("Location", loc)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// url returns the ws:// URL of path on the redirector.
func (r *redirector) url(path string) string {
	return "ws://" + r.srv.Listener.Addr().String() + path
}

func (r *redirector) requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.got...)
}

func (r *redirector) paths() string {
	var p []string
	for _, q := range r.requests() {
		p = append(p, q.URL.RequestURI())
	}
	return strings.Join(p, " ")
}

// dialEcho dials with redirects followed and checks that the connection echoes.
func dialEcho(t *testing.T, url string, o *DialOptions) *Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := Dial(ctx, url, o)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.CloseNow()
	if err := c.WriteMessage(ctx, Text, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.ReadMessage(ctx, nil); err != nil || string(p) != "hi" {
		t.Fatalf("echo: %q, %v", p, err)
	}
	return resp
}

func TestDialFollowsEachRedirectStatusToEcho(t *testing.T) {
	echoSrv := wstest.New(t, echo)
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			// An http:// Location, as most servers write it: mapped to ws://.
			rd := newRedirector(t, func(string) (int, string) {
				return status, "http://" + echoSrv.Addr() + "/echo?from=" + fmt.Sprint(status)
			})
			resp := dialEcho(t, rd.url("/old"), &DialOptions{FollowRedirects: true, Proxy: ProxyDirect})
			if resp.StatusCode != 101 || resp.Header.Get("X-Server") != "ours" {
				t.Fatalf("final response %+v", resp)
			}
			if req := <-echoSrv.Requests; req.Target != "/echo?from="+fmt.Sprint(status) {
				t.Fatalf("echo server saw %q", req.Target)
			}
			if p := rd.paths(); p != "/old" {
				t.Fatalf("redirector saw %q", p)
			}
		})
	}
}

func TestDialRedirectNotFollowedByDefaultIsStatusError(t *testing.T) {
	echoSrv := wstest.New(t, echo)
	rd := newRedirector(t, func(string) (int, string) { return 302, "ws://" + echoSrv.Addr() + "/echo" })
	_, _, err := Dial(context.Background(), rd.url("/old"), &DialOptions{Proxy: ProxyDirect})
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 302 || se.Location != "ws://"+echoSrv.Addr()+"/echo" {
		t.Fatalf("err %v, want a *StatusError 302 with the Location", err)
	}
	if !strings.Contains(err.Error(), "302") {
		t.Fatalf("error does not show the status: %v", err)
	}
	if len(echoSrv.Requests) != 0 {
		t.Fatal("the redirect was followed")
	}
}

func TestDialFollowsRelativeRedirects(t *testing.T) {
	echoSrv := wstest.New(t, echo)
	rd := newRedirector(t, func(p string) (int, string) {
		switch p {
		case "/dir/a":
			return 301, "b?x=1" // relative to /dir/
		case "/dir/b?x=1":
			return 307, "/c" // absolute path, same host
		case "/c":
			return 308, "//" + echoSrv.Addr() + "/echo" // scheme-relative: keeps ws
		}
		return 404, ""
	})
	dialEcho(t, rd.url("/dir/a"), &DialOptions{FollowRedirects: true, Proxy: ProxyDirect})
	if p := rd.paths(); p != "/dir/a /dir/b?x=1 /c" {
		t.Fatalf("redirector saw %q", p)
	}
	if req := <-echoSrv.Requests; req.Target != "/echo" || req.Host != echoSrv.Addr() {
		t.Fatalf("echo server saw %q, Host %q", req.Target, req.Host)
	}
}

func TestDialRedirectSendsCredentialsOnlyToTheFirstOrigin(t *testing.T) {
	echoSrv := wstest.New(t, echo, func(s *wstest.Server) {
		s.Upgrader.CheckOrigin = func(*handshake.ServerRequest) bool { return true }
	})
	rd := newRedirector(t, func(p string) (int, string) {
		if p == "/a" {
			return 302, "/b" // same origin: credentials still go
		}
		return 302, "ws://" + echoSrv.Addr() + "/echo" // another port: another origin
	})
	h := http.Header{"Authorization": {"Bearer secret-token"}, "X-Trace": {"keep-me"}}
	h["cookie"] = []string{"session=secret-cookie"}
	dialEcho(t, "ws://user:secret-pw@"+rd.srv.Listener.Addr().String()+"/a", &DialOptions{
		FollowRedirects: true, Proxy: ProxyDirect, Header: h, Origin: "https://app.example",
	})
	reqs := rd.requests()
	if len(reqs) != 2 {
		t.Fatalf("redirector saw %d requests", len(reqs))
	}
	for _, r := range reqs {
		if r.Header.Get("Authorization") != "Bearer secret-token" || r.Header.Get("Cookie") != "session=secret-cookie" {
			t.Fatalf("same-origin request %s lost its credentials: %v", r.URL, r.Header)
		}
	}
	req := <-echoSrv.Requests
	for k, v := range req.Header {
		if strings.Contains(strings.Join(v, ","), "secret") {
			t.Fatalf("credential sent to another origin: %s: %v", k, v)
		}
	}
	if req.Header.Get("X-Trace") != "keep-me" || req.Header.Get("Origin") != "https://app.example" {
		t.Fatalf("other headers lost: %v", req.Header)
	}
	if h.Get("Authorization") == "" || len(h) != 3 {
		t.Fatal("the caller's Header was modified")
	}
}

func TestDialRedirectFromWssToWsIsRefused(t *testing.T) {
	echoSrv := wstest.New(t, echo)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", "http://"+echoSrv.Addr()+"/echo")
		w.WriteHeader(http.StatusFound)
	}))
	defer tlsSrv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	o := &DialOptions{FollowRedirects: true, Proxy: ProxyDirect}
	o.TLSConfig = tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	_, _, err := Dial(context.Background(), "wss://"+tlsSrv.Listener.Addr().String()+"/", o)
	if !errors.Is(err, handshake.ErrRedirectDowngrade) {
		t.Fatalf("err %v, want ErrRedirectDowngrade", err)
	}
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 302 {
		t.Fatalf("err %v does not carry the 302", err)
	}
	if len(echoSrv.Requests) != 0 {
		t.Fatal("the downgrade was followed")
	}
}

func TestDialRedirectLoopEndsWithErrRedirectLoop(t *testing.T) {
	for _, tc := range []struct {
		name  string
		route func(string) (int, string)
		saw   string
	}{
		{"self", func(string) (int, string) { return 302, "/a" }, "/a"},
		{"two", func(p string) (int, string) {
			if p == "/a" {
				return 301, "/b"
			}
			return 307, "/a"
		}, "/a /b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd := newRedirector(t, tc.route)
			start := time.Now()
			_, _, err := Dial(context.Background(), rd.url("/a"), &DialOptions{FollowRedirects: true, Proxy: ProxyDirect})
			if !errors.Is(err, ErrRedirectLoop) || !strings.Contains(err.Error(), "redirect loop") {
				t.Fatalf("err %v, want ErrRedirectLoop", err)
			}
			if p := rd.paths(); p != tc.saw {
				t.Fatalf("redirector saw %q, want %q", p, tc.saw)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("loop took %v", d)
			}
		})
	}
}

func TestDialTooManyRedirectsStopsAtMaxRedirects(t *testing.T) {
	var n int
	var mu sync.Mutex
	rd := newRedirector(t, func(string) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return 302, fmt.Sprintf("/hop/%d", n)
	})
	for _, tc := range []struct{ max, requests int }{{3, 4}, {0, DefaultMaxRedirects + 1}} {
		before := len(rd.requests())
		_, _, err := Dial(context.Background(), rd.url("/start"), &DialOptions{FollowRedirects: true, MaxRedirects: tc.max, Proxy: ProxyDirect})
		if !errors.Is(err, ErrTooManyRedirects) {
			t.Fatalf("MaxRedirects %d: err %v, want ErrTooManyRedirects", tc.max, err)
		}
		if got := len(rd.requests()) - before; got != tc.requests {
			t.Fatalf("MaxRedirects %d: %d requests, want %d", tc.max, got, tc.requests)
		}
	}
	if _, _, err := Dial(context.Background(), rd.url("/start"), &DialOptions{FollowRedirects: true, MaxRedirects: -1}); !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("negative MaxRedirects: %v", err)
	}
}

func TestDialRedirectWithoutLocationIsTodaysError(t *testing.T) {
	rd := newRedirector(t, func(string) (int, string) { return 302, "" })
	_, _, err := Dial(context.Background(), rd.url("/a"), &DialOptions{FollowRedirects: true, Proxy: ProxyDirect})
	var se *StatusError
	if !errors.Is(err, handshake.ErrBadRedirect) || !errors.As(err, &se) || se.StatusCode != 302 {
		t.Fatalf("err %v", err)
	}
}

func TestConnectFollowsRedirectAndHeaderReceiveShowsFinalResponse(t *testing.T) {
	echoSrv := wstest.New(t, echo)
	rd := newRedirector(t, func(string) (int, string) { return 308, "ws://" + echoSrv.Addr() + "/echo" })
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	var headers MapData
	_ = ws.On(EventHeaderReceive, NewHeaderReceiveCallback(func(h ResponseHeaders) { headers = h.(MapData) }))
	opts := realOptions()
	opts.FollowRedirects = true
	opts.Header = map[string]string{"Authorization": "Bearer secret-token"}
	if err := ws.Connect(rd.url("/old"), opts, r.asyncCB("CONNECT")); err != nil {
		t.Fatal(err)
	}
	r.expect("CONNECT true", "HEADERRECEIVE ", "OPEN 1 Switching Protocols")
	if headers["X-Server"] != "ours" {
		t.Fatalf("HEADERRECEIVE shows %v, not the final response", headers)
	}
	if req := <-echoSrv.Requests; req.Header.Get("Authorization") != "" {
		t.Fatal("Authorization sent to another origin")
	}
	_ = ws.Send(StringData("after redirect"), nil)
	r.expect("MESSAGE text after redirect", "DATAEND")
	_ = ws.Close(nil, nil)
	r.until("CLOSE")
	wait(t, ws)
}

func TestConnectRedirectErrorsAre2302999(t *testing.T) {
	loop := newRedirector(t, func(string) (int, string) { return 302, "/a" })
	for _, tc := range []struct {
		name   string
		follow bool
		want   error
		text   string
	}{
		{"loop", true, ErrRedirectLoop, "redirect loop"},
		{"not followed", false, nil, "302"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := CreateWebSocket()
			r := newRecorder(t, ws)
			var got *BusinessException
			_ = ws.On(EventError, NewWebSocketErrorCallback(func(e *BusinessException) { got = e }))
			opts := realOptions()
			opts.FollowRedirects = tc.follow
			_ = ws.Connect(loop.url("/a"), opts, nil)
			ev := r.until("CLOSE")
			wait(t, ws)
			if len(ev) != 2 || ev[0] != "ERROR 2302999" || !strings.HasPrefix(ev[1], "CLOSE 1006 ") {
				t.Fatalf("events %q", ev)
			}
			if got == nil || got.Code != CodeOtherError || (tc.want != nil && !errors.Is(got, tc.want)) || !strings.Contains(got.Error(), tc.text) {
				t.Fatalf("ERROR %v", got)
			}
		})
	}
	opts := realOptions()
	opts.MaxRedirects = -1
	if err := CreateWebSocket().Connect(loop.url("/a"), opts, nil); CodeOf(err) != CodeParameterError {
		t.Fatalf("negative MaxRedirects: %v", err)
	}
}

func TestRedirectFromWsToWssVerifiesTheNewHostInBothAPIs(t *testing.T) {
	certPath, keyPath, pool, err := wstest.WriteSelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	// The certificate names localhost and 127.0.0.1, not the redirector's host name: only a
	// connection that verifies the name of the host it was redirected to succeeds.
	tlsSrv := wstest.New(t, echo, func(s *wstest.Server) {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	})
	_, tlsPort, _ := net.SplitHostPort(tlsSrv.Addr())
	rd := newRedirector(t, func(string) (int, string) { return 302, "https://localhost:" + tlsPort + "/echo" })
	_, rdPort, _ := net.SplitHostPort(rd.srv.Listener.Addr().String())
	start := "ws://" + loopbackName(t) + ":" + rdPort + "/old"

	dialEcho(t, start, &DialOptions{FollowRedirects: true, Proxy: ProxyDirect, TLSConfig: &tls.Config{RootCAs: pool}})

	opts := realOptions()
	opts.FollowRedirects = true
	opts.CAPath = certPath
	if err := connectFacade(t, start, opts); err != nil {
		t.Fatalf("facade: %v", err)
	}
	// The server records a handshake after answering it: the client may see OPEN first.
	for i := range 2 {
		select {
		case <-tlsSrv.Requests:
		case <-time.After(10 * time.Second):
			t.Fatalf("TLS server saw %d handshakes, want 2", i)
		}
	}
}
