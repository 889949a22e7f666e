package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/internal/wstest"
	"github.com/netkit/websocket/server"
)

// listenProc runs wscat with args (server mode) and returns the process, its stdin, a scanner
// of its stdout, and the URL it says it listens on.
func listenProc(t *testing.T, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, wscatBin, args...)
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	stderr, err := cmd.StderrPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() {
		t.Fatalf("no listening line: %v", sc.Err())
	}
	line := sc.Text()
	const prefix = "wscat: listening on "
	if !strings.HasPrefix(line, prefix) {
		t.Fatalf("stderr %q", line)
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	return cmd, stdin, bufio.NewScanner(stdout), strings.TrimPrefix(line, prefix)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func nextLine(t *testing.T, sc *bufio.Scanner) string {
	t.Helper()
	if !sc.Scan() {
		t.Fatalf("no more output: %v", sc.Err())
	}
	return sc.Text()
}

func dialT(t *testing.T, url string, opts *client.DialOptions) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := client.Dial(ctx, url, opts)
	must(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// waitExit0 signals the process and checks that it exits 0, and that the client saw 1001.
func waitExit0(t *testing.T, cmd *exec.Cmd, sig os.Signal, c *client.Conn, before ...func()) {
	t.Helper()
	must(t, cmd.Process.Signal(sig))
	if c != nil {
		ce := new(conn.CloseError)
		for {
			_, _, err := c.ReadMessage(context.Background(), nil)
			if err != nil {
				if !errors.As(err, &ce) || ce.Code != 1001 {
					t.Fatalf("client saw %v, want the server's 1001", err)
				}
				break
			}
		}
	}
	for _, f := range before {
		f() // reads the output before Wait closes it
	}
	err := cmd.Wait()
	if cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("exit %v, want 0", err)
	}
}

func TestListenEchoSendsEveryMessageBackWithItsType(t *testing.T) {
	cmd, _, _, url := listenProc(t, "--listen", "0", "--echo")
	if !strings.HasPrefix(url, "ws://127.0.0.1:") {
		t.Fatalf("url %q: want 127.0.0.1 by default", url)
	}
	c := dialT(t, url, nil)
	ctx := context.Background()
	must(t, c.WriteMessage(ctx, conn.Text, []byte("héllo")))
	must(t, c.WriteMessage(ctx, conn.Binary, []byte{0xff, 0}))
	if typ, p, err := c.ReadMessage(ctx, nil); err != nil || typ != conn.Text || string(p) != "héllo" {
		t.Fatalf("%v %q %v", typ, p, err)
	}
	if typ, p, err := c.ReadMessage(ctx, nil); err != nil || typ != conn.Binary || string(p) != "\xff\x00" {
		t.Fatalf("%v %q %v", typ, p, err)
	}
	waitExit0(t, cmd, syscall.SIGTERM, c)
}

func TestListenPrintsEventsAndSendsStdinToEveryConnection(t *testing.T) {
	cmd, stdin, out, url := listenProc(t, "-l", "127.0.0.1:0")
	a := dialT(t, url, nil)
	if l := nextLine(t, out); !strings.HasPrefix(l, "CONNECT 1 127.0.0.1:") {
		t.Fatalf("line %q", l)
	}
	b := dialT(t, url, nil)
	if l := nextLine(t, out); !strings.HasPrefix(l, "CONNECT 2 127.0.0.1:") {
		t.Fatalf("line %q", l)
	}
	ctx := context.Background()
	must(t, b.WriteMessage(ctx, conn.Text, []byte("from b\nline")))
	if l := nextLine(t, out); l != `MESSAGE 2 from b\nline` {
		t.Fatalf("line %q", l)
	}
	_, err := io.WriteString(stdin, "to all\n")
	must(t, err)
	for _, c := range []*client.Conn{a, b} {
		if _, p, err := c.ReadMessage(ctx, nil); err != nil || string(p) != "to all" {
			t.Fatalf("%q %v", p, err)
		}
	}
	must(t, a.Close(4001, "bye"))
	if l := nextLine(t, out); l != "CLOSE 1 4001 bye" {
		t.Fatalf("line %q", l)
	}
	waitExit0(t, cmd, os.Interrupt, b, func() {
		if l := nextLine(t, out); l != "CLOSE 2 1001" {
			t.Fatalf("line %q", l)
		}
	})
}

func TestListenTLSWithEncryptedKeyAndSubprotocol(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	must(t, os.WriteFile(pw, []byte("s3cret\n"), 0o600))
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, args := range [][]string{
		{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "file:" + pw, "-out", key},
		{"req", "-x509", "-key", key, "-passin", "file:" + pw, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
			"-addext", "subjectAltName=IP:127.0.0.1"},
	} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", args[0], err, out)
		}
	}
	if k, _ := os.ReadFile(key); !strings.Contains(string(k), "ENCRYPTED") {
		t.Fatal("the key is not encrypted")
	}
	cmd, _, _, url := listenProc(t, "--listen", "0", "--echo", "--cert", cert, "--key", key,
		"--key-password-file", pw, "--subprotocol", "chat")
	if !strings.HasPrefix(url, "wss://") {
		t.Fatalf("url %q", url)
	}
	pem, err := os.ReadFile(cert)
	must(t, err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	opts := &client.DialOptions{TLSConfig: &tls.Config{RootCAs: pool}, Subprotocols: []string{"chat"}}
	c := dialT(t, url, opts)
	if c.Subprotocol() != "chat" {
		t.Fatalf("subprotocol %q", c.Subprotocol())
	}
	must(t, c.WriteMessage(context.Background(), conn.Text, []byte("secure")))
	if _, p, err := c.ReadMessage(context.Background(), nil); err != nil || string(p) != "secure" {
		t.Fatalf("%q %v", p, err)
	}
	// A client without the subprotocol is refused.
	if _, _, err := client.Dial(context.Background(), url, &client.DialOptions{TLSConfig: opts.TLSConfig}); err == nil {
		t.Fatal("a client without the subprotocol was accepted")
	}
	waitExit0(t, cmd, syscall.SIGTERM, c)
}

func TestParseArgsListen(t *testing.T) {
	for _, args := range [][]string{
		{"--listen", "0", "ws://127.0.0.1:1/"},
		{"--listen", "99999"},
		{"--listen", "host:80"},
		{"-l", "1:2:3"},
		{"-l", "0", "--subprotocol", "a,b"},
	} {
		var ue *usageError
		if _, err := parseArgs(args); !errors.As(err, &ue) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	o, err := parseArgs([]string{"-l", "[::1]:8080", "--echo"})
	must(t, err)
	if h, p, _ := listenAddr(o.listen); h != "::1" || p != 8080 || !o.echo {
		t.Fatalf("%s %d %v", h, p, o.echo)
	}
	if h, p, _ := listenAddr("9000"); h != "127.0.0.1" || p != 9000 {
		t.Fatalf("%s %d", h, p)
	}
}

// TestListenEchoLosesNothingToAFloodingClient: a client that sends 10,000 messages of 2 KiB
// (20 MB, more than the sockets hold) before it reads any gets every echo, in order: --echo
// waits when the send queue (4096 messages, 16 MiB) is full instead of dropping.
func TestListenEchoLosesNothingToAFloodingClient(t *testing.T) {
	cmd, _, _, url := listenProc(t, "--listen", "0", "--echo")
	c := dialT(t, url, nil)
	const n = 10000
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wrote := make(chan error, 1)
	go func() {
		for i := range n {
			if err := c.WriteMessage(ctx, conn.Text, floodMessage(i)); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	time.Sleep(500 * time.Millisecond) // the server's queue fills while nobody reads
	for i := range n {
		_, p, err := c.ReadMessage(ctx, nil)
		if err != nil || string(p) != string(floodMessage(i)) {
			t.Fatalf("echo %d: %.20q %v", i, p, err)
		}
	}
	must(t, <-wrote)
	waitExit0(t, cmd, syscall.SIGTERM, c)
}

// floodMessage is message i of the flood: its number, padded to 2 KiB.
func floodMessage(i int) []byte {
	b := []byte(strconv.Itoa(i) + " ")
	for len(b) < 2048 {
		b = append(b, 'f')
	}
	return b
}

// Regression: when the send queue filled by bytes (1024 echoes of 16 KiB reach its 16 MiB cap
// long before its 4096 messages), --echo's wait for "at most 2048 messages queued" ended at
// once, and it retried Send in a loop that never slept, burning a core for as long as the
// client did not read (about a million refused Sends a second). Now every refused Send is
// followed by a sleep, and echo waits until the bytes too drained to half: the refusals are
// a handful, and never more than one per millisecond of the test. The listener runs in
// process so that the test can count them.
func TestListenEchoWaitsWithoutSpinningWhenTheQueueIsFullByBytes(t *testing.T) {
	l := &listener{o: &options{echo: true}, srv: server.CreateWebSocketServer(),
		out: &printer{w: io.Discard}, ids: make(map[server.WebSocketConnection]int)}
	must(t, l.subscribe())
	must(t, l.srv.Start(&server.WebSocketServerConfig{ServerIP: "127.0.0.1"}, nil))
	defer func() {
		stopped := make(chan struct{})
		_ = l.srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
		<-stopped
	}()
	start := time.Now()
	c := dialT(t, "ws://"+l.srv.Addr().String()+"/", nil)
	const n, size = 2048, 16 << 10 // 32 MiB: twice the byte cap of the send queue
	msg := func(i int) []byte {
		b := []byte(strconv.Itoa(i) + " ")
		for len(b) < size {
			b = append(b, 'x')
		}
		return b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	wrote := make(chan error, 1)
	go func() {
		for i := range n {
			if err := c.WriteMessage(ctx, conn.Text, msg(i)); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	// Nobody reads until the queue was found full, and for a second after.
	for l.queueFull.Load() == 0 {
		if ctx.Err() != nil {
			t.Fatal("the send queue never filled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second)
	for i := range n {
		_, p, err := c.ReadMessage(ctx, nil)
		if err != nil || string(p) != string(msg(i)) {
			t.Fatalf("echo %d: %.20q %v", i, p, err)
		}
	}
	must(t, <-wrote)
	elapsed := time.Since(start)
	refused := l.queueFull.Load()
	t.Logf("%d Sends refused with a full queue in %v", refused, elapsed.Round(time.Millisecond))
	if limit := int64(elapsed / echoPoll); refused > limit {
		t.Fatalf("%d Sends refused in %v: echo retries without waiting (at most %d expected)", refused, elapsed, limit)
	}
	must(t, c.Close(1000, ""))
}

// TestListenCompressAcceptsPermessageDeflate: --listen --compress with window and takeover
// flags makes the server accept permessage-deflate with those caps: the client sees them
// agreed, and the echo of 256 KiB of text comes back intact in far fewer bytes.
func TestListenCompressAcceptsPermessageDeflate(t *testing.T) {
	cmd, _, _, url := listenProc(t, "--listen", "0", "--echo", "--compress", "--client-window-bits", "9",
		"--server-no-context-takeover", "--compress-level", "9")
	var count atomic.Int64
	c := dialT(t, url, &client.DialOptions{Deflate: &deflate.ClientOptions{ClientMaxWindowBits: 9},
		NetDialContext: wstest.CountingDial(&count)})
	p := c.Response().Deflate
	if p == nil || !p.ServerNoContextTakeover || p.ClientWindowBits() != 9 || p.ServerWindowBits() != 15 {
		t.Fatalf("agreed %v", p)
	}
	m := []byte(strings.Repeat("compress me please ", 256<<10/19))
	before := count.Load()
	must(t, c.WriteMessage(context.Background(), conn.Text, m))
	if _, got, err := c.ReadMessage(context.Background(), nil); err != nil || string(got) != string(m) {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
	if n := count.Load() - before; n*10 > int64(len(m)) {
		t.Fatalf("%d bytes on the wire for an echo of %d", n, len(m))
	}
	waitExit0(t, cmd, syscall.SIGTERM, c)
}
