package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/internal/wstest"
)

// These tests check that the blocking API and the seed facade agree on defaults (the
// environment's proxy, the handshake timeout), over real sockets and a real CONNECT proxy.

// routingProxy is an HTTP CONNECT proxy on loopback that tunnels every CONNECT, whatever its
// target, to one address (so a target name that resolves nowhere proves the proxy was used),
// and records each CONNECT target.
type routingProxy struct {
	addr string
	mu   sync.Mutex
	seen []string
}

func newRoutingProxy(t *testing.T, to string) *routingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &routingProxy{addr: ln.Addr().String()}
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
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil || req.Method != http.MethodConnect {
					return
				}
				p.mu.Lock()
				p.seen = append(p.seen, req.Host)
				p.mu.Unlock()
				tc, err := net.Dial("tcp", to)
				if err != nil {
					_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
					return
				}
				track(tc)
				defer tc.Close()
				_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				go func() { _, _ = io.Copy(tc, br); _ = tc.Close() }()
				_, _ = io.Copy(c, tc)
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

func (p *routingProxy) targets() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.seen, " ")
}

// setProxyEnv sets the proxy variables for the test, the lower-case ones emptied.
func setProxyEnv(t *testing.T, httpProxy, noProxy string) {
	for _, k := range []string{"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
	t.Setenv("HTTP_PROXY", httpProxy)
	t.Setenv("NO_PROXY", noProxy)
}

// loopbackName returns a host name that resolves to 127.0.0.1 only: the environment's proxy
// never applies to "localhost" or a loopback IP, so NO_PROXY is tested with a name. The
// machine's host name is used when it resolves to loopback; else, as root, a line for
// netkit-proxy-test.internal is added to /etc/hosts (once).
func loopbackName(t *testing.T) string {
	t.Helper()
	isLoopback := func(name string) bool {
		addrs, err := net.DefaultResolver.LookupHost(context.Background(), name)
		if err != nil || len(addrs) == 0 {
			return false
		}
		for _, a := range addrs {
			if a != "127.0.0.1" {
				return false
			}
		}
		return true
	}
	if h, err := os.Hostname(); err == nil && h != "localhost" && isLoopback(h) {
		return h
	}
	const name = "netkit-proxy-test.internal"
	if isLoopback(name) {
		return name
	}
	f, err := os.OpenFile("/etc/hosts", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("no host name resolves to 127.0.0.1 only, and /etc/hosts cannot be extended: %v", err)
	}
	_, err = fmt.Fprintf(f, "\n127.0.0.1 %s\n", name)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || !isLoopback(name) {
		t.Fatalf("adding %s to /etc/hosts: %v", name, err)
	}
	return name
}

// connectFacade opens url with the facade and options o, and reports whether OPEN came.
func connectFacade(t *testing.T, url string, o *WebSocketRequestOptions) error {
	t.Helper()
	ws := CreateWebSocket()
	done := make(chan error, 2)
	_ = ws.On(EventOpen, NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { done <- nil }))
	_ = ws.On(EventError, NewWebSocketErrorCallback(func(e *BusinessException) { done <- e }))
	if err := ws.Connect(url, o, nil); err != nil {
		return err
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no OPEN or ERROR")
	}
	_ = ws.Close(nil, nil)
	wait(t, ws)
	return err
}

func TestBothAPIsUseTheEnvironmentProxyByDefault(t *testing.T) {
	echoSrv := wstest.New(t, echo)
	px := newRoutingProxy(t, echoSrv.Addr())
	setProxyEnv(t, "http://"+px.addr, "")
	// Only the proxy can reach this name: it resolves nowhere.
	const target = "ws://only-via-proxy.invalid:8080/echo"

	c, _, err := Dial(context.Background(), target, nil)
	if err != nil {
		t.Fatalf("Dial with nil options: %v", err)
	}
	c.CloseNow()
	c, _, err = Dial(context.Background(), target, &DialOptions{PingInterval: -1})
	if err != nil {
		t.Fatalf("Dial with zero Proxy: %v", err)
	}
	c.CloseNow()
	if err := connectFacade(t, target, nil); err != nil {
		t.Fatalf("facade with nil options: %v", err)
	}
	if err := connectFacade(t, target, &WebSocketRequestOptions{}); err != nil {
		t.Fatalf("facade with zero options: %v", err)
	}
	want := strings.Repeat("only-via-proxy.invalid:8080 ", 4)
	if got := px.targets(); got != strings.TrimSpace(want) {
		t.Fatalf("proxy saw %q", got)
	}
}

func TestBothAPIsHonourNoProxyAndGoDirectWhenAsked(t *testing.T) {
	echoSrv := wstest.New(t, echo)
	px := newRoutingProxy(t, echoSrv.Addr())
	name := loopbackName(t)
	_, port, _ := net.SplitHostPort(echoSrv.Addr())
	target := "ws://" + name + ":" + port + "/echo"

	// NO_PROXY lists the name: both APIs go direct.
	setProxyEnv(t, "http://"+px.addr, name)
	c, _, err := Dial(context.Background(), target, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.CloseNow()
	if err := connectFacade(t, target, nil); err != nil {
		t.Fatal(err)
	}
	// Without NO_PROXY, the documented ways to go direct: ProxyDirect and NoProxy.
	setProxyEnv(t, "http://"+px.addr, "")
	c, _, err = Dial(context.Background(), target, &DialOptions{Proxy: ProxyDirect})
	if err != nil {
		t.Fatal(err)
	}
	c.CloseNow()
	if err := connectFacade(t, target, &WebSocketRequestOptions{Proxy: NoProxy{}}); err != nil {
		t.Fatal(err)
	}
	if got := px.targets(); got != "" {
		t.Fatalf("proxy was used: %q", got)
	}
	// And with neither, the proxy is used: the name is not special.
	c, _, err = Dial(context.Background(), target, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.CloseNow()
	if got := px.targets(); got != name+":"+port {
		t.Fatalf("proxy saw %q", got)
	}
}

func TestRedirectChoosesTheProxyForEachTarget(t *testing.T) {
	echoSrv := wstest.New(t, echo)
	px := newRoutingProxy(t, echoSrv.Addr())
	name := loopbackName(t)
	rd := newRedirector(t, func(string) (int, string) { return 302, "ws://only-via-proxy.invalid/echo" })
	_, port, _ := net.SplitHostPort(rd.srv.Listener.Addr().String())
	// The redirector is reached directly (NO_PROXY), the target it names through the proxy.
	setProxyEnv(t, "http://"+px.addr, name)
	c, _, err := Dial(context.Background(), "ws://"+name+":"+port+"/a", &DialOptions{FollowRedirects: true})
	if err != nil {
		t.Fatal(err)
	}
	c.CloseNow()
	if got := px.targets(); got != "only-via-proxy.invalid:80" {
		t.Fatalf("proxy saw %q", got)
	}
	if p := rd.paths(); p != "/a" {
		t.Fatalf("redirector saw %q", p)
	}
}

// silentListener accepts connections and never answers.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var conns []net.Conn
	var mu sync.Mutex
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "ws://" + ln.Addr().String() + "/"
}

func TestHandshakeTimeoutEndsASilentServerInBothAPIs(t *testing.T) {
	url := silentListener(t)
	const timeout = 300 * time.Millisecond

	start := time.Now()
	_, _, err := Dial(context.Background(), url, &DialOptions{HandshakeTimeout: timeout, Proxy: ProxyDirect})
	d := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || d < timeout || d > 3*timeout+time.Second {
		t.Fatalf("Dial: %v after %v", err, d)
	}

	o := realOptions()
	o.HandshakeTimeout = timeout
	start = time.Now()
	err = connectFacade(t, url, o)
	d = time.Since(start)
	if CodeOf(err) != CodeOtherError || !errors.Is(err, context.DeadlineExceeded) || d < timeout || d > 3*timeout+time.Second {
		t.Fatalf("facade: %v after %v", err, d)
	}
}
