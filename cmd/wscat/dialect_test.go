package main

// Black-box tests of wscat's common dialect (issue 13): each flag of node wscat and websocat
// that wscat speaks, its exit statuses, raw mode in a pipe and --wait against a slow server.
// They run the wscat binary built by TestMain against real servers on loopback.

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// reportServer answers each connection with one text message made by report from the request,
// then reads until the client closes.
func reportServer(t *testing.T, report func(req *handshake.ServerRequest) string, setup ...func(*wstest.Server)) *wstest.Server {
	return wstest.New(t, func(c *conn.Conn, req *handshake.ServerRequest) {
		ctx := context.Background()
		if err := c.WriteMessage(ctx, conn.Text, []byte(report(req))); err != nil {
			return
		}
		drainConn(c)
	}, setup...)
}

// drainConn reads (answering pings and the close) until the connection ends.
func drainConn(c *conn.Conn) {
	for {
		if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
			return
		}
	}
}

// slowServer answers the first message after delay with "late <message>". Like an
// event-driven server (node ws, Python websockets), it goes on reading meanwhile, so a close
// from wscat is answered at once and a later answer is never sent.
func slowServer(t *testing.T, delay time.Duration) *wstest.Server {
	return wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		ctx := context.Background()
		_, p, err := c.ReadMessage(ctx, nil)
		if err != nil {
			return
		}
		done := make(chan struct{})
		go func() { drainConn(c); close(done) }()
		time.Sleep(delay)
		_ = c.WriteMessage(ctx, conn.Text, append([]byte("late "), p...)) // fails once closed
		<-done
	})
}

func wantExit(t *testing.T, r procResult, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d\n%v", code, r)
	}
}

func TestDialectConnectFlag(t *testing.T) {
	srv := startEcho(t)
	for _, args := range [][]string{{"-c", srv.URL()}, {"--connect=" + srv.URL()}, {"--json", "--connect", srv.URL(), "--json=false"}} {
		r := runProc(t, strings.NewReader("via -c\n"), args...)
		wantExit(t, r, 0)
		checkConversation(t, r.lines(), []string{"MESSAGE via -c"}, "CLOSE 1000")
	}
	// -c and a URL: two URLs, a usage error.
	r := runProc(t, nil, "-c", srv.URL(), srv.URL())
	wantExit(t, r, 2)
	if !strings.Contains(r.stderr, "one URL at most") {
		t.Fatalf("stderr %q", r.stderr)
	}
}

func TestDialectSubprotocolShortFlag(t *testing.T) {
	srv := reportServer(t, func(req *handshake.ServerRequest) string {
		return "offered " + strings.Join(req.Header.Values("Sec-WebSocket-Protocol"), ",")
	}, func(s *wstest.Server) { s.Upgrader.Protocols = []string{"superchat"} })
	r := runProc(t, nil, "-s", "chat, superchat", srv.URL)
	wantExit(t, r, 0)
	checkConversation(t, r.lines(), []string{"MESSAGE offered chat, superchat"}, "CLOSE 1000")
	if !strings.Contains(r.lines()[0], "Sec-WebSocket-Protocol: superchat") {
		t.Fatalf("HEADERRECEIVE %q", r.lines()[0])
	}
}

// TestDialectNoCheckAndInsecure: a self-signed wss server fails verification (exit 1), and each
// of -n, -k, --no-check and --insecure skips it.
func TestDialectNoCheckAndInsecure(t *testing.T) {
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
	}, func(s *wstest.Server) { s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}} })
	r := runProc(t, strings.NewReader("secure\n"), srv.URL)
	wantExit(t, r, 1)
	if !strings.HasPrefix(r.lines()[0], "ERROR 2302999 ") || !strings.Contains(r.lines()[0], "certificate") {
		t.Fatalf("want a certificate ERROR\n%v", r)
	}
	for _, flag := range []string{"-n", "-k", "--no-check", "--insecure"} {
		r := runProc(t, strings.NewReader("secure\n"), flag, srv.URL)
		wantExit(t, r, 0)
		checkConversation(t, r.lines(), []string{"MESSAGE secure"}, "CLOSE 1000")
	}
}

// TestDialectWaitAgainstASlowServer is the complaint: a server that answers after 1 s.
// By default wscat closes 250 ms after the last message and the answer is lost (the documented
// default, exit 0); with -w 2 it waits 2 s and prints it.
func TestDialectWaitAgainstASlowServer(t *testing.T) {
	r := runProc(t, strings.NewReader("req\n"), slowServer(t, time.Second).URL)
	wantExit(t, r, 0)
	checkConversation(t, r.lines(), nil, "CLOSE 1000")

	start := time.Now()
	r = runProc(t, strings.NewReader("req\n"), "-w", "2", slowServer(t, time.Second).URL)
	took := time.Since(start)
	wantExit(t, r, 0)
	checkConversation(t, r.lines(), []string{"MESSAGE late req"}, "CLOSE 1000")
	if took < 2*time.Second || took > 15*time.Second {
		t.Fatalf("-w 2 took %v, want about 2 s", took)
	}

	// --wait=0.1 is too short for it; decimals are accepted.
	r = runProc(t, strings.NewReader("req\n"), "--wait=0.1", slowServer(t, time.Second).URL)
	wantExit(t, r, 0)
	checkConversation(t, r.lines(), nil, "CLOSE 1000")

	// A server that closes first ends the wait at once.
	start = time.Now()
	r = runProc(t, strings.NewReader("x\n"), "-w", "20", serverCloses(t, frame.CloseNormal, "bye").URL)
	wantExit(t, r, 0)
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("-w 20 with a server that closes took %v", took)
	}
}

// TestDialectNoCloseKeepsPrintingUntilTheServerCloses: input ends at once, the server talks
// for another second and then closes; --no-close prints all of it.
func TestDialectNoCloseKeepsPrintingUntilTheServerCloses(t *testing.T) {
	talker := func() *wstest.Server {
		return wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
			ctx := context.Background()
			if _, _, err := c.ReadMessage(ctx, nil); err != nil {
				return
			}
			done := make(chan struct{})
			go func() { drainConn(c); close(done) }() // reading: a close is answered at once
			defer func() { <-done }()
			for _, m := range []string{"tick 1", "tick 2"} {
				time.Sleep(500 * time.Millisecond)
				if c.WriteMessage(ctx, conn.Text, []byte(m)) != nil {
					return
				}
			}
			_ = c.Close(frame.CloseNormal, "done talking")
		})
	}
	r := runProc(t, strings.NewReader("start\n"), "--no-close", talker().URL)
	wantExit(t, r, 0)
	checkConversation(t, r.lines(), []string{"MESSAGE tick 1", "MESSAGE tick 2"}, "CLOSE 1000 done talking")
	// Without it, wscat closes before the ticks.
	r = runProc(t, strings.NewReader("start\n"), talker().URL)
	wantExit(t, r, 0)
	checkConversation(t, r.lines(), nil, "CLOSE 1000")
}

func TestDialectExecuteSendsThenWaitsAndCloses(t *testing.T) {
	srv := startEcho(t)
	// Standard input is ignored with -x.
	r := runProc(t, strings.NewReader("ignored\n"), "-x", "one", "--execute", "two words", srv.URL())
	wantExit(t, r, 0)
	checkConversation(t, r.lines(), []string{"MESSAGE one", "MESSAGE two words"}, "CLOSE 1000")

	// Without -w, -x waits for an answer: a server that takes 1 s is printed.
	r = runProc(t, nil, "-x", "req", slowServer(t, time.Second).URL)
	wantExit(t, r, 0)
	checkConversation(t, r.lines(), []string{"MESSAGE late req"}, "CLOSE 1000")

	// With --binary the messages are binary.
	r = runProc(t, nil, "-x", "abc", "--binary", srv.URL())
	wantExit(t, r, 0)
	checkConversation(t, r.lines(), []string{"MESSAGE binary 3 bytes 616263"}, "CLOSE 1000")

	// A refused -x message: exit 1, the others still sent.
	r = runProc(t, nil, "-x", "\xff", "-x", "fine", srv.URL())
	wantExit(t, r, 1)
	checkConversation(t, r.lines(), []string{"MESSAGE fine"}, "CLOSE 1000")
	if !strings.Contains(r.stderr, "-x message 1 not sent") {
		t.Fatalf("stderr %q", r.stderr)
	}
}

// TestDialectShowPingPong: a server's ping and the pong to wscat's keepalive ping are printed
// with -P, and not without it.
func TestDialectShowPingPong(t *testing.T) {
	pinger := func() *wstest.Server {
		return wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
			if c.Ping(context.Background(), []byte("hello")) != nil {
				return
			}
			drainConn(c)
		})
	}
	args := []string{"--ping-interval", "1", "-w", "2.5"}
	r := runProc(t, nil, append([]string{"-P", pinger().URL}, args...)...)
	wantExit(t, r, 0)
	out := "\n" + r.stdout
	if !strings.Contains(out, "\nPING 68656c6c6f\n") || !regexp.MustCompile(`\nPONG( [0-9a-f]*)?\n`).MatchString(out) {
		t.Fatalf("want PING 68656c6c6f and a PONG line\n%v", r)
	}
	r = runProc(t, nil, append([]string{"--show-ping-pong", "--json", pinger().URL}, args...)...)
	wantExit(t, r, 0)
	if !strings.Contains(r.stdout, `{"event":"PING","data":"aGVsbG8="}`) || !strings.Contains(r.stdout, `{"event":"PONG"`) {
		t.Fatalf("want JSON PING and PONG\n%v", r)
	}
	r = runProc(t, nil, append([]string{pinger().URL}, args...)...)
	wantExit(t, r, 0)
	if strings.Contains(r.stdout, "PING") || strings.Contains(r.stdout, "PONG") {
		t.Fatalf("ping/pong printed without -P\n%v", r)
	}
}

func TestDialectOriginAndAuth(t *testing.T) {
	srv := reportServer(t, func(req *handshake.ServerRequest) string {
		return req.Header.Get("Origin") + "|" + req.Header.Get("Authorization")
	}, func(s *wstest.Server) {
		s.Upgrader.CheckOrigin = func(r *handshake.ServerRequest) bool { return r.Origin == "https://app.example" }
	})
	want := "MESSAGE https://app.example|Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cr:et"))
	r := runProc(t, nil, "-o", "https://app.example", "--auth", "alice:s3cr:et", srv.URL)
	wantExit(t, r, 0)
	checkConversation(t, r.lines(), []string{want}, "CLOSE 1000")
	r = runProc(t, nil, "--origin=https://app.example", "--auth=alice:s3cr:et", srv.URL)
	wantExit(t, r, 0)
	checkConversation(t, r.lines(), []string{want}, "CLOSE 1000")
	// The server's origin check refuses another origin.
	r = runProc(t, nil, "-o", "https://evil.example", srv.URL)
	wantExit(t, r, 1)
	if !strings.Contains(r.stdout, "403") {
		t.Fatalf("want a 403 ERROR\n%v", r)
	}
}

// TestDialectAuthNeverPrintsTheCredentials: neither a failed connection nor a usage error shows
// the password or its Basic encoding.
func TestDialectAuthNeverPrintsTheCredentials(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	refuse := wstest.NewRaw(t, func(nc net.Conn) {
		br := bufio.NewReader(nc)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		_ = handshake.WriteReject(nc, 401, "no", nil)
	})
	secret := "Pa55w0rd"
	enc := base64.StdEncoding.EncodeToString([]byte("bob:" + secret))
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--auth", "bob:" + secret, "ws://" + addr + "/"}, 1},
		{[]string{"--auth", "bob:" + secret, refuse.URL}, 1},
		{[]string{"--auth", "bob:" + secret, "--json", refuse.URL}, 1},
		{[]string{"--auth", "bob:" + secret, "-H", "Authorization: x", refuse.URL}, 2},
		{[]string{"--auth", secret}, 2},
		{[]string{"--auth", "bob:" + secret, "bob:" + secret + "@127.0.0.1:9"}, 2},
	} {
		r := runProc(t, nil, tc.args...)
		wantExit(t, r, tc.code)
		if all := r.stdout + r.stderr; strings.Contains(all, secret) || strings.Contains(all, enc) {
			t.Fatalf("%v: output shows the credentials\n%v", tc.args, r)
		}
	}
}

func TestDialectVersion(t *testing.T) {
	r := runProc(t, nil, "--version")
	wantExit(t, r, 0)
	if !regexp.MustCompile(`^wscat \S+\n$`).MatchString(r.stdout) || r.stderr != "" {
		t.Fatalf("want one line \"wscat <version>\"\n%v", r)
	}
}

// TestDialectRawInAPipe: -r prints payloads only, one per line, as they are (control
// characters included: stdout is a pipe); binary as hex, or as its bytes with --binary.
func TestDialectRawInAPipe(t *testing.T) {
	srv := startEcho(t)
	r := runProc(t, strings.NewReader("one\ntab\there\x1b[0m\n\nlast"), "-r", srv.URL())
	wantExit(t, r, 0)
	if r.stdout != "one\ntab\there\x1b[0m\n\nlast\n" || r.stderr != "" {
		t.Fatalf("raw text %q\n%v", r.stdout, r)
	}
	// Piped into another program, line by line.
	cmd := exec.Command(wscatBin, "--raw", "-x", "a", "-x", "b", srv.URL())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for sc := bufio.NewScanner(out); sc.Scan(); {
		got = append(got, sc.Text())
	}
	if err := cmd.Wait(); err != nil || strings.Join(got, ",") != "a,b" {
		t.Fatalf("piped: %q, %v", got, err)
	}

	r = runProc(t, strings.NewReader("abc\n\x00\x01\n"), "-r", "--binary", srv.URL())
	wantExit(t, r, 0)
	if r.stdout != "abc\x00\x01" {
		t.Fatalf("raw --binary %q", r.stdout)
	}
	binSrv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		if c.WriteMessage(context.Background(), conn.Binary, []byte{0xde, 0xad, 0xbe, 0xef}) != nil {
			return
		}
		drainConn(c)
	})
	r = runProc(t, nil, "-r", binSrv.URL)
	wantExit(t, r, 0)
	if r.stdout != "deadbeef\n" {
		t.Fatalf("raw binary without --binary %q", r.stdout)
	}
}

// TestDialectRawErrorsGoToStderr: in raw mode stdout holds payloads only; an ERROR and an
// abnormal close go to standard error, with the same exit status.
func TestDialectRawErrorsGoToStderr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := runProc(t, nil, "-r", "ws://"+addr+"/")
	wantExit(t, r, 1)
	if r.stdout != "" || !strings.Contains(r.stderr, "wscat: ERROR 2302999 ") || !strings.Contains(r.stderr, "refused") {
		t.Fatalf("raw error\n%v", r)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	r = runProc(t, pr, "-r", serverCloses(t, 4000, "server says bye").URL)
	wantExit(t, r, 1)
	if r.stdout != "" || !strings.Contains(r.stderr, "wscat: CLOSE 4000 server says bye") {
		t.Fatalf("raw abnormal close\n%v", r)
	}
	if r := runProc(t, nil, "-r", "--json"); r.code != 2 {
		t.Fatalf("-r with --json: %v", r)
	}
}

// TestDialectSOCKS5Proxy: --proxy socks5:// resolves the target's name in wscat and sends the
// proxy an IP; socks5h:// leaves the name to the proxy (here one only the proxy knows).
func TestDialectSOCKS5Proxy(t *testing.T) {
	srv := startEcho(t)
	port := srv.URL()[strings.LastIndex(srv.URL(), ":")+1 : strings.LastIndex(srv.URL(), "/")]
	px := wstest.NewSOCKS5(t, func(s *wstest.SOCKS5) {
		s.User, s.Password = "sock", "sockpw"
		s.Hosts = map[string]string{"ws.proxy-only.invalid": "127.0.0.1"}
	})
	r := runProc(t, strings.NewReader("via socks5h\n"), "--proxy", "socks5h://sock:sockpw@"+px.Addr,
		"ws://ws.proxy-only.invalid:"+port+"/")
	wantExit(t, r, 0)
	checkConversation(t, r.lines(), []string{"MESSAGE via socks5h"}, "CLOSE 1000")
	r = runProc(t, strings.NewReader("via socks5\n"), "--proxy", "socks5://sock:sockpw@"+px.Addr,
		"ws://localhost:"+port+"/")
	wantExit(t, r, 0)
	checkConversation(t, r.lines(), []string{"MESSAGE via socks5"}, "CLOSE 1000")
	targets := px.Targets()
	if len(targets) != 2 || targets[0] != "ws.proxy-only.invalid:"+port || net.ParseIP(strings.TrimSuffix(targets[1], ":"+port)) == nil {
		t.Fatalf("the proxy saw %q: want the name, then an IP", targets)
	}
	// socks5:// cannot resolve the proxy-only name itself.
	r = runProc(t, nil, "--proxy", "socks5://sock:sockpw@"+px.Addr, "ws://ws.proxy-only.invalid:"+port+"/")
	wantExit(t, r, 1)
	// A wrong password fails without showing it.
	r = runProc(t, nil, "--proxy", "socks5://sock:wr0ngpw@"+px.Addr, srv.URL())
	wantExit(t, r, 1)
	if strings.Contains(r.stdout+r.stderr, "wr0ngpw") {
		t.Fatalf("output shows the proxy password\n%v", r)
	}
}

// TestDialectExitStatuses: 0 after a normal close, 1 when a line of input is refused, 130
// after SIGINT (also with --no-close, which otherwise never closes by itself).
func TestDialectExitStatuses(t *testing.T) {
	srv := startEcho(t)
	wantExit(t, runProc(t, strings.NewReader("fine\n"), srv.URL()), 0)
	r := runProc(t, strings.NewReader("ok\n\xc3\x28\nstill sent\n"), srv.URL())
	wantExit(t, r, 1)
	checkConversation(t, r.lines(), []string{"MESSAGE ok", "MESSAGE still sent"}, "CLOSE 1000")
	if !strings.Contains(r.stderr, "line 2 not sent") {
		t.Fatalf("stderr %q", r.stderr)
	}
	// The same bytes as --binary are no text: sent, exit 0.
	wantExit(t, runProc(t, strings.NewReader("\xc3\x28\n"), "--binary", srv.URL()), 0)

	for _, sig := range []os.Signal{os.Interrupt} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, wscatBin, "--no-close", srv.URL())
		cmd.Stdin = strings.NewReader("before the signal\n") // ends at once: --no-close keeps it open
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var lines []string
		for sc := bufio.NewScanner(stdout); sc.Scan(); {
			lines = append(lines, sc.Text())
			if sc.Text() == "DATAEND" {
				time.Sleep(300 * time.Millisecond) // past the default quiet time: --no-close must hold
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
			}
		}
		_ = cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 130 {
			t.Fatalf("%v: exit %d, want 130\n%s", sig, code, strings.Join(lines, "\n"))
		}
		checkConversation(t, lines, []string{"MESSAGE before the signal"}, "CLOSE 1000")
	}
}

// TestDialectURLErrorsSayWhatToType: a URL without ws:// or wss:// is refused (exit 2) with the
// URL to try, and user information is never shown.
func TestDialectURLErrorsSayWhatToType(t *testing.T) {
	for _, tc := range []struct{ arg, try string }{
		{"127.0.0.1:9001", "ws://127.0.0.1:9001"},
		{"localhost", "ws://localhost"},
		{"example.com/chat?room=1", "ws://example.com/chat?room=1"},
		{"http://example.com/x", "ws://example.com/x"},
		{"HTTPS://example.com/x", "wss://example.com/x"},
		{"ftp://example.com/", "ws://example.com/"},
		{"//example.com/", "ws://example.com/"},
	} {
		r := runProc(t, nil, tc.arg)
		want := fmt.Sprintf("wscat: %q is not a WebSocket URL; try %s (wscat -h for help)\n", tc.arg, tc.try)
		if r.code != 2 || r.stderr != want || r.stdout != "" {
			t.Errorf("%s: want exit 2 and %q\n%v", tc.arg, want, r)
		}
	}
	r := runProc(t, nil, "https://ann:hunter2@example.com/")
	if r.code != 2 || strings.Contains(r.stderr, "hunter2") || !strings.Contains(r.stderr, "try wss://xxxxx@example.com/") {
		t.Fatalf("credentials in the URL\n%v", r)
	}
}
