package main

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

func TestParseArgsLocationAndHandshakeTimeout(t *testing.T) {
	o, err := parseArgs([]string{"ws://h/", "-L", "--max-redirects", "3", "--handshake-timeout", "300ms"})
	if err != nil {
		t.Fatal(err)
	}
	r := requestOptions(o)
	if !r.FollowRedirects || r.MaxRedirects != 3 || r.HandshakeTimeout != 300*time.Millisecond {
		t.Fatalf("request options %+v", r)
	}
	for arg, want := range map[string]time.Duration{"5": 5 * time.Second, "0.5": 500 * time.Millisecond, "1m": time.Minute, "0": 0} {
		o, err := parseArgs([]string{"--location", "--handshake-timeout", arg})
		if err != nil || requestOptions(o).HandshakeTimeout != want || !requestOptions(o).FollowRedirects {
			t.Fatalf("--handshake-timeout %s: %v, %v", arg, o, err)
		}
	}
	o, err = parseArgs(nil)
	if r := requestOptions(o); err != nil || r.FollowRedirects || r.MaxRedirects != 0 || r.HandshakeTimeout != 0 {
		t.Fatalf("defaults: %+v, %v", r, err)
	}
	for _, args := range [][]string{
		{"--handshake-timeout", "-1s"}, {"--handshake-timeout", "soon"}, {"--handshake-timeout", "NaN"},
		{"--handshake-timeout", "1e300"}, {"--max-redirects", "2"}, {"-L", "--max-redirects", "-1"},
	} {
		if _, err := parseArgs(args); err == nil {
			t.Errorf("%q accepted", args)
		} else if _, ok := err.(*usageError); !ok {
			t.Errorf("%q: %v is not a usage error", args, err)
		}
	}
}

// redirectTo is a net/http server on loopback that answers every request with status and
// Location loc.
func redirectTo(t *testing.T, status int, loc string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", loc)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return "ws://" + srv.Listener.Addr().String() + "/old"
}

func TestProcessLocationFollowsRedirectToEcho(t *testing.T) {
	echoSrv := startEcho(t)
	url := redirectTo(t, 302, "http://"+echoSrv.Addr().String()+"/")
	r := runProc(t, strings.NewReader("hello\n"), "-L", url)
	lines := r.lines()
	if r.code != 0 || len(lines) < 4 || !strings.HasPrefix(lines[0], "HEADERRECEIVE ") || lines[1] != "OPEN 101 Switching Protocols" ||
		lines[2] != "MESSAGE hello" {
		t.Fatalf("want the echo through the redirect, exit 0\n%v", r)
	}
	// Without -L the redirect is an error with its status.
	r = runProc(t, strings.NewReader("hello\n"), url)
	lines = r.lines()
	if r.code != 1 || len(lines) != 2 || !strings.HasPrefix(lines[0], "ERROR 2302999 ") || !strings.Contains(lines[0], "302") {
		t.Fatalf("want ERROR with 302, exit 1\n%v", r)
	}
}

func TestProcessLocationLoopIsErrorAndExit1(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", "/old")
		w.WriteHeader(307)
	}))
	defer srv.Close()
	r := runProc(t, nil, "-L", "ws://"+srv.Listener.Addr().String()+"/old")
	if lines := r.lines(); r.code != 1 || !strings.HasPrefix(lines[0], "ERROR 2302999 ") || !strings.Contains(lines[0], "redirect loop") {
		t.Fatalf("want ERROR redirect loop, exit 1\n%v", r)
	}
	r = runProc(t, nil, "-L", "--max-redirects", "2", redirectTo(t, 301, "/next"))
	if lines := r.lines(); r.code != 1 || !strings.Contains(lines[0], "redirect") {
		t.Fatalf("want ERROR, exit 1\n%v", r)
	}
}

func TestProcessHandshakeTimeoutEndsASilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // never answered
		}
	})
	defer func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	}()
	start := time.Now()
	r := runProc(t, nil, "--handshake-timeout", "300ms", "ws://"+ln.Addr().String()+"/")
	d := time.Since(start)
	lines := r.lines()
	if r.code != 1 || len(lines) != 2 || !strings.HasPrefix(lines[0], "ERROR 2302999 ") || !strings.Contains(lines[0], "deadline") {
		t.Fatalf("want ERROR deadline exceeded, exit 1\n%v", r)
	}
	// 300 ms plus a process start; far from the default 30 s.
	if d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestHTTP2FlagValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want client.HTTP2Mode
	}{
		{[]string{"wss://h/"}, client.HTTP2Off},
		{[]string{"--http2", "wss://h/"}, client.HTTP2Required},
		{[]string{"--http2=auto", "wss://h/"}, client.HTTP2Auto},
		{[]string{"--http2=required", "wss://h/"}, client.HTTP2Required},
		{[]string{"--http2=off", "wss://h/"}, client.HTTP2Off},
	} {
		o, err := parseArgs(tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		r := requestOptions(o)
		if r.HTTP2 != tc.want {
			t.Errorf("%v: HTTP2 %v, want %v", tc.args, r.HTTP2, tc.want)
		}
	}
	if _, err := parseArgs([]string{"--http2=sometimes", "wss://h/"}); err == nil {
		t.Fatal("--http2=sometimes accepted")
	}
}

// Against a wss server that speaks HTTP/1.1 only, --http2=auto falls back (OPEN 101) and
// --http2 fails saying that HTTP/2 is not available.
func TestHTTP2FlagAgainstHTTP1Server(t *testing.T) {
	certPath, keyPath, _, err := wstest.WriteSelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		ctx := context.Background()
		for {
			typ, p, err := c.ReadMessage(ctx, nil)
			if err != nil || c.WriteMessage(ctx, typ, p) != nil {
				return
			}
		}
	}, func(s *wstest.Server) {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	})
	r := runProc(t, strings.NewReader("hi\n"), "--ca", certPath, "--http2=auto", srv.URL)
	wantExit(t, r, 0)
	if !strings.Contains(r.stdout, "OPEN 101 Switching Protocols") || !strings.Contains(r.stdout, "MESSAGE hi") {
		t.Fatalf("--http2=auto against HTTP/1.1:\n%v", r)
	}
	r = runProc(t, strings.NewReader("hi\n"), "--ca", certPath, "--http2", srv.URL)
	wantExit(t, r, 1)
	if !strings.Contains(r.stdout+r.stderr, "RFC 8441") {
		t.Fatalf("--http2 against HTTP/1.1:\n%v", r)
	}
}
