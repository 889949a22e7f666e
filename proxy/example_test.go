package proxy_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/proxy"
	"github.com/netkit/websocket/server"
)

// Dialing a WebSocket server through an HTTP proxy with CONNECT and Basic credentials: the
// Dialer from HTTPConnect goes into client.DialOptions.NetDialContext. The example starts an
// echo server and a small CONNECT proxy (net/http) on 127.0.0.1 to show the tunnel at work.
func ExampleHTTPConnect() {
	// An echo server on 127.0.0.1 (package server).
	srv := server.CreateWebSocketServer()
	srv.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
		srv.Send(m.Data, m.ClientConnection, nil)
	}))
	if err := srv.Start(&server.WebSocketServerConfig{ServerIP: "127.0.0.1"}, nil); err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		stopped := make(chan struct{})
		srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
		<-stopped
	}()

	// A CONNECT proxy on 127.0.0.1 that wants the user "alice" with the password "s3cret".
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	tunnels := make(chan struct{}, 1)
	proxySrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
		if r.Method != http.MethodConnect || r.Header.Get("Proxy-Authorization") != want {
			w.Header().Set("Proxy-Authenticate", `Basic realm="proxy"`)
			w.WriteHeader(http.StatusProxyAuthRequired)
			return
		}
		fmt.Println("proxy: CONNECT to the echo server:", r.Host == srv.Addr().String())
		target, err := net.Dial("tcp", r.Host) // a real proxy limits the targets it tunnels to
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			target.Close()
			return
		}
		rw.WriteString("HTTP/1.1 200 Connection established\r\n\r\n")
		rw.Flush()
		copied := make(chan struct{})
		go func() { io.Copy(target, rw.Reader); target.Close(); close(copied) }()
		io.Copy(c, target)
		c.Close()
		<-copied
		tunnels <- struct{}{}
	})}
	go proxySrv.Serve(ln)
	defer proxySrv.Close()

	ctx := context.Background()
	wsURL := "ws://" + srv.Addr().String() + "/"

	// Wrong credentials: the proxy's refusal is a *proxy.ConnectError with its status.
	bad, _ := proxy.HTTPConnect(&url.URL{Scheme: "http", User: url.UserPassword("alice", "guess"), Host: ln.Addr().String()}, nil)
	_, _, err = client.Dial(ctx, wsURL, &client.DialOptions{NetDialContext: bad})
	var ce *proxy.ConnectError
	fmt.Println("wrong password:", errors.As(err, &ce) && ce.StatusCode == 407, errors.Is(err, proxy.ErrProxyAuthRequired))

	dial, err := proxy.HTTPConnect(&url.URL{Scheme: "http", User: url.UserPassword("alice", "s3cret"), Host: ln.Addr().String()}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	c, _, err := client.Dial(ctx, wsURL, &client.DialOptions{NetDialContext: dial})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.WriteMessage(ctx, client.Text, []byte("through the tunnel"))
	_, p, err := c.ReadMessage(ctx, nil)
	fmt.Printf("echo: %s %v\n", p, err)
	c.Close(client.CloseNormal, "")
	<-tunnels // the proxy saw the tunnel end

	// Output:
	// wrong password: true true
	// proxy: CONNECT to the echo server: true
	// echo: through the tunnel <nil>
}

// Environment applies the rules of HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY (the
// meaning net/http gives them): ws:// targets use the http proxy, wss:// targets the https
// one, ALL_PROXY is the fallback of both, NO_PROXY lists what is reached directly, and
// localhost and loopback addresses are never proxied. FromEnvironment reads the process's
// variables (EnvironmentFromOS) and returns the Dialer for a target; the facade's SYSTEM proxy
// (a nil ProxyConfiguration) follows the same rules.
func ExampleEnvironment() {
	env := proxy.Environment{
		HTTPProxy: "http://proxy.corp.example:3128",
		AllProxy:  "socks5h://socks.corp.example:1080",
		NoProxy:   "*.internal.example,10.0.0.0/8",
	}
	for _, target := range []string{
		"ws://feed.example.com/",
		"wss://feed.example.com/", // no HTTPS_PROXY: ALL_PROXY
		"wss://api.internal.example/",
		"ws://10.1.2.3:9001/",
		"ws://127.0.0.1:9001/",
	} {
		u, _ := url.Parse(target)
		p, err := env.ProxyURL(u)
		switch {
		case err != nil:
			fmt.Println(target, err)
		case p == nil:
			fmt.Println(target, "direct")
		default:
			fmt.Println(target, "via", p)
		}
	}

	// The Dialer for one target, to put into client.DialOptions.NetDialContext:
	u, _ := url.Parse("ws://feed.example.com/")
	dial, err := env.Dialer(u, nil)
	fmt.Println(dial != nil, err)

	// Output:
	// ws://feed.example.com/ via http://proxy.corp.example:3128
	// wss://feed.example.com/ via socks5h://socks.corp.example:1080
	// wss://api.internal.example/ direct
	// ws://10.1.2.3:9001/ direct
	// ws://127.0.0.1:9001/ direct
	// true <nil>
}

// The seed's exclusionList: hosts that bypass the proxy, by exact name, "*" wildcard, IP
// address or CIDR range. WithExclusions sends them to a direct Dialer.
func ExampleParseExclusions() {
	ex, err := proxy.ParseExclusions([]string{"localhost", "*.corp.example", "10.0.0.0/8", "::1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, host := range []string{"localhost:8080", "ws.corp.example", "corp.example", "10.2.3.4:443", "[::1]:80", "example.com"} {
		fmt.Println(host, ex.Match(host))
	}

	proxied, _ := proxy.FromURL(&url.URL{Scheme: "http", Host: "proxy.corp.example:3128"}, nil)
	dial := proxy.WithExclusions(proxied, ex, nil) // nil: proxy.Direct for excluded hosts
	_ = dial                                       // client.DialOptions{NetDialContext: dial}

	// Output:
	// localhost:8080 true
	// ws.corp.example true
	// corp.example false
	// 10.2.3.4:443 true
	// [::1]:80 true
	// example.com false
}
