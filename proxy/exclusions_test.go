package proxy

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestExclusions(t *testing.T) {
	ex, err := ParseExclusions([]string{
		"Example.COM", "*.corp.example", ".lan", "ws-*.svc", "10.1.2.3", "[::1]",
		"192.168.0.0/16", "fd00::/8", " ", "",
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		host string
		want bool
	}{
		{"example.com", true},
		{"EXAMPLE.com.", true},
		{"example.com:443", true},
		{"www.example.com", false},
		{"a.corp.example", true},
		{"a.b.corp.example:80", true},
		{"corp.example", false},
		{"notcorp.example", false},
		{"printer.lan", true},
		{"lan", false},
		{"ws-eu.svc", true},
		{"ws-.svc", true},
		{"api.svc", false},
		{"10.1.2.3", true},
		{"10.1.2.3:8080", true},
		{"10.1.2.4", false},
		{"::1", true},
		{"[::1]:443", true},
		{"::ffff:10.1.2.3", true},
		{"192.168.77.1", true},
		{"192.169.0.1", false},
		{"[fd12::1]:80", true},
		{"fe80::1", false},
		{"", false},
	}
	for _, c := range cases {
		if got := ex.Match(c.host); got != c.want {
			t.Errorf("Match(%q) = %v, want %v", c.host, got, c.want)
		}
	}

	all, err := ParseExclusions([]string{"*"})
	if err != nil || !all.Match("anything.example") || !all.Match("1.2.3.4:5") {
		t.Fatal("* does not match everything")
	}
	var none *Exclusions
	if none.Match("x") {
		t.Fatal("nil matches")
	}
	zero, _ := ParseExclusions(nil)
	if zero.Match("x") || zero.Match("127.0.0.1") {
		t.Fatal("empty list matches")
	}
	for _, bad := range []string{"10.0.0.0/33", "a b", "x/y"} {
		if _, err := ParseExclusions([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestWithExclusions(t *testing.T) {
	errProxied := errors.New("proxied")
	errDirect := errors.New("direct")
	ex, err := ParseExclusions([]string{"127.0.0.0/8", "*.local"})
	if err != nil {
		t.Fatal(err)
	}
	d := WithExclusions(func(context.Context, string, string) (net.Conn, error) { return nil, errProxied }, ex,
		func(context.Context, string, string) (net.Conn, error) { return nil, errDirect })
	for addr, want := range map[string]error{"127.0.0.1:80": errDirect, "h.local:1": errDirect, "example.com:80": errProxied} {
		if _, err := d(context.Background(), "tcp", addr); err != want {
			t.Errorf("%s: %v, want %v", addr, err, want)
		}
	}
	// Through the real thing: an excluded target is reached directly, the proxy is unused.
	target := echoTarget(t)
	p := newConnectProxy(t, nil)
	hc, err := HTTPConnect(mustURL(t, "http://"+p.addr), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := WithExclusions(hc, ex, nil)(ctx5(t), "tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, "direct")
	c.Close()
	if n := len(p.requests()); n != 0 {
		t.Fatalf("proxy saw %d requests", n)
	}
}

func TestEnvironment(t *testing.T) {
	e := Environment{HTTPProxy: "http://hp:3128", HTTPSProxy: "https://u:pw@hsp:443", NoProxy: "skip.example,.corp,10.0.0.0/8"}
	cases := []struct{ target, want string }{
		{"ws://a.example/x", "http://hp:3128"},
		{"wss://a.example/x", "https://u:pw@hsp:443"},
		{"ws://skip.example", ""},
		{"ws://x.corp:80", ""},
		{"wss://10.2.3.4", ""},
		{"ws://localhost:80", ""},
		{"ws://127.0.0.1:80", ""},
	}
	for _, c := range cases {
		u, err := e.ProxyURL(mustURL(t, c.target))
		got := ""
		if u != nil {
			got = u.String()
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %q %v, want %q", c.target, got, err, c.want)
		}
	}
	all := Environment{AllProxy: "socks5h://s:1080", HTTPSProxy: "http://hp:1"}
	if u, _ := all.ProxyURL(mustURL(t, "ws://a.example")); u == nil || u.String() != "socks5h://s:1080" {
		t.Errorf("ALL_PROXY fallback: %v", u)
	}
	if u, _ := all.ProxyURL(mustURL(t, "wss://a.example")); u == nil || u.String() != "http://hp:1" {
		t.Errorf("HTTPS_PROXY before ALL_PROXY: %v", u)
	}
	if _, err := e.ProxyURL(mustURL(t, "ftp://a.example")); err == nil {
		t.Error("ftp target accepted")
	}
}

func TestFromEnvironment(t *testing.T) {
	target := echoTarget(t)
	p := newConnectProxy(t, func(p *connectProxy) { p.user, p.pw = "eu", "ep" })
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
	t.Setenv("http_proxy", "http://eu:ep@"+p.addr) // lower case
	// httpproxy never proxies loopback targets, so the choice is made for a name; the dialer
	// it returns is then used with the loopback echo target.
	d, err := FromEnvironment(mustURL(t, "ws://ws.example.test/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The dialer is the proxy's: CONNECT to the echo target through it works.
	c, err := d(ctx5(t), "tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, "env")
	c.Close()
	if n := len(p.requests()); n != 1 {
		t.Fatalf("proxy saw %d requests", n)
	}
	// wss uses HTTPS_PROXY, unset here: direct.
	d, err = FromEnvironment(mustURL(t, "wss://ws.example.test/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err = d(ctx5(t), "tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, "direct")
	c.Close()
	if n := len(p.requests()); n != 1 {
		t.Fatalf("proxy saw %d requests, want still 1", n)
	}
	t.Setenv("NO_PROXY", "*.example.test")
	d, _ = FromEnvironment(mustURL(t, "ws://ws.example.test/"), nil)
	c, err = d(ctx5(t), "tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if n := len(p.requests()); n != 1 {
		t.Fatalf("NO_PROXY ignored: %d requests", n)
	}
	if _, err := FromEnvironment(&url.URL{Scheme: "ws", Host: "h"}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSOCKS5Errors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	for _, s := range []string{"socks5://u:sockspw@" + addr, "socks5h://" + addr} {
		d, err := FromURL(mustURL(t, s), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d(ctx5(t), "tcp", "example.invalid:80")
		var pe *Error
		if !errors.As(err, &pe) || pe.Proxy != addr || strings.Contains(err.Error(), "sockspw") {
			t.Fatalf("%s: %v", s, err)
		}
	}
	// A SOCKS server that never answers: the context bounds the dial.
	release := make(chan struct{})
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln2.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	t.Cleanup(func() {
		close(release)
		_ = ln2.Close()
		for c := range accepted {
			c.Close()
		}
	})
	d, err := SOCKS5(mustURL(t, "socks5h://"+ln2.Addr().String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := d(ctx, "tcp", "example.invalid:80"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
	if _, err := SOCKS5(mustURL(t, "http://h:1"), nil); err == nil {
		t.Fatal("http accepted by SOCKS5")
	}
}
