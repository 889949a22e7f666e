package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/echoserver"
	"github.com/netkit/websocket/internal/wstest"
)

// procResult is what a wscat process did.
type procResult struct {
	code   int
	stdout string
	stderr string
}

func (r procResult) lines() []string {
	return strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
}

func (r procResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%sstderr:\n%s", r.code, r.stdout, r.stderr)
}

// runProc runs the wscat binary with stdin (nil: /dev/null) and args, bounded by 30 s.
func runProc(t *testing.T, stdin io.Reader, args ...string) procResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wscatBin, args...)
	cmd.Stdin = stdin
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("running wscat: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("wscat did not end within 30 s\n%s\n%s", out.String(), errb.String())
	}
	return procResult{cmd.ProcessState.ExitCode(), out.String(), errb.String()}
}

// wantDemoLine is the MESSAGE line of a demo message, formatted here independently.
func wantDemoLine(m client.MessageData) string {
	switch d := m.(type) {
	case client.StringData:
		return "MESSAGE " + string(d)
	case client.ArrayData:
		line := fmt.Sprintf("MESSAGE binary %d bytes %s", len(d), hex.EncodeToString(d[:min(16, len(d))]))
		if len(d) > 16 {
			line += fmt.Sprintf(" ... (%d more)", len(d)-16)
		}
		return line
	}
	return "?"
}

// checkConversation checks the lines of a whole session: HEADERRECEIVE, OPEN, a MESSAGE and
// DATAEND pair for each of messages, then the final CLOSE line.
func checkConversation(t *testing.T, lines []string, messages []string, closeLine string) {
	t.Helper()
	want := []string{"HEADERRECEIVE", "OPEN 101 Switching Protocols"}
	for _, m := range messages {
		want = append(want, m, "DATAEND")
	}
	want = append(want, closeLine)
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), strings.Join(lines, "\n"))
	}
	if !strings.HasPrefix(lines[0], "HEADERRECEIVE ") || !strings.Contains(lines[0], "Upgrade: websocket") {
		t.Fatalf("first line %q, want HEADERRECEIVE with the response headers", lines[0])
	}
	for i := 1; i < len(want); i++ {
		if lines[i] != want[i] {
			t.Fatalf("line %d is %q, want %q\n%s", i+1, lines[i], want[i], strings.Join(lines, "\n"))
		}
	}
}

func TestProcessDemoWithEmptyStdinExits0(t *testing.T) {
	r := runProc(t, nil) // stdin is /dev/null: not a terminal, empty
	if r.code != 0 {
		t.Fatalf("want exit 0\n%v", r)
	}
	var msgs []string
	for _, m := range demoConversation {
		msgs = append(msgs, wantDemoLine(m))
	}
	checkConversation(t, r.lines(), msgs, "CLOSE 1000")
	if !strings.Contains(r.stderr, "embedded echo server at ws://127.0.0.1:") {
		t.Fatalf("stderr does not say which server was started:\n%s", r.stderr)
	}
}

func startEcho(t *testing.T) *echoserver.Server {
	t.Helper()
	srv, err := echoserver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func TestProcessStdinLinesAreSentAndEchoed(t *testing.T) {
	srv := startEcho(t)
	in := "hello\r\nwith\ttab and \\ backslash\n\nünïcode ✓\nlast line without newline"
	r := runProc(t, strings.NewReader(in), srv.URL())
	if r.code != 0 {
		t.Fatalf("want exit 0\n%v", r)
	}
	checkConversation(t, r.lines(), []string{
		"MESSAGE hello", `MESSAGE with\ttab and \ backslash`, "MESSAGE ", "MESSAGE ünïcode ✓",
		"MESSAGE last line without newline",
	}, "CLOSE 1000")
	if r.stderr != "" {
		t.Fatalf("unexpected stderr: %q", r.stderr)
	}
}

func TestProcessNoURLWithInputSendsTheInputNotTheDemo(t *testing.T) {
	r := runProc(t, strings.NewReader("only this\n"))
	if r.code != 0 {
		t.Fatalf("want exit 0\n%v", r)
	}
	checkConversation(t, r.lines(), []string{"MESSAGE only this"}, "CLOSE 1000")
}

func TestProcessBinaryFlagSendsBinaryMessages(t *testing.T) {
	srv := startEcho(t)
	r := runProc(t, strings.NewReader("abc\n0123456789abcdefXYZ\n"), "--binary", srv.URL())
	if r.code != 0 {
		t.Fatalf("want exit 0\n%v", r)
	}
	checkConversation(t, r.lines(), []string{
		"MESSAGE binary 3 bytes 616263",
		"MESSAGE binary 19 bytes 30313233343536373839616263646566 ... (3 more)",
	}, "CLOSE 1000")
}

func TestProcessJSONPrintsOneObjectPerLine(t *testing.T) {
	r := runProc(t, nil, "-json") // the demo, one dash
	if r.code != 0 {
		t.Fatalf("want exit 0\n%v", r)
	}
	type event struct {
		Event      string            `json:"event"`
		Headers    map[string]string `json:"headers"`
		Status     int               `json:"status"`
		StatusText string            `json:"statusText"`
		Type       string            `json:"type"`
		Length     int               `json:"length"`
		Data       string            `json:"data"`
		Code       int               `json:"code"`
		Reason     string            `json:"reason"`
	}
	var events []event
	for i, line := range r.lines() {
		var e event
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("line %d %q is not a JSON event: %v", i+1, line, err)
		}
		events = append(events, e)
	}
	if n := 3 + 2*len(demoConversation); len(events) != n {
		t.Fatalf("%d events, want %d\n%s", len(events), n, r.stdout)
	}
	if e := events[0]; e.Event != "HEADERRECEIVE" || e.Headers["Upgrade"] != "websocket" {
		t.Fatalf("first event %+v", e)
	}
	if e := events[1]; e.Event != "OPEN" || e.Status != 101 || e.StatusText != "Switching Protocols" {
		t.Fatalf("second event %+v", e)
	}
	for i, m := range demoConversation {
		e := events[2+2*i]
		switch d := m.(type) {
		case client.StringData:
			if e.Event != "MESSAGE" || e.Type != "text" || e.Data != string(d) {
				t.Fatalf("event %+v, want text %q", e, d)
			}
		case client.ArrayData:
			b, err := base64.StdEncoding.DecodeString(e.Data)
			if e.Event != "MESSAGE" || e.Type != "binary" || e.Length != len(d) || err != nil || string(b) != string(d) {
				t.Fatalf("event %+v, want binary %x", e, d)
			}
		}
		if e := events[3+2*i]; e.Event != "DATAEND" {
			t.Fatalf("event %+v, want DATAEND", e)
		}
	}
	if e := events[len(events)-1]; e.Event != "CLOSE" || e.Code != 1000 {
		t.Fatalf("last event %+v, want CLOSE 1000", e)
	}
}

func TestProcessEchoSendsEveryMessageBackWithItsType(t *testing.T) {
	type msg struct {
		typ  conn.MessageType
		data string
	}
	sent := []msg{{conn.Text, "one"}, {conn.Binary, "\x00\x01\x02"}, {conn.Text, ""}, {conn.Text, "line\nbreak"}}
	got := make(chan []msg, 1)
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		ctx := context.Background()
		for _, m := range sent {
			if err := c.WriteMessage(ctx, m.typ, []byte(m.data)); err != nil {
				return
			}
		}
		var back []msg
		for range sent {
			typ, p, err := c.ReadMessage(ctx, nil)
			if err != nil {
				break
			}
			back = append(back, msg{typ, string(p)})
		}
		got <- back
		_ = c.Close(frame.CloseNormal, "done")
	})
	// stdin has lines, which --echo must ignore.
	r := runProc(t, strings.NewReader("ignored\n"), srv.URL, "--echo")
	if r.code != 0 {
		t.Fatalf("want exit 0\n%v", r)
	}
	back := <-got
	if fmt.Sprint(back) != fmt.Sprint(sent) {
		t.Fatalf("server got back %v, want %v", back, sent)
	}
	checkConversation(t, r.lines(), []string{
		"MESSAGE one", "MESSAGE binary 3 bytes 000102", "MESSAGE ", `MESSAGE line\nbreak`,
	}, "CLOSE 1000 done")
}

// serverCloses returns a server that closes every connection at once with code and reason.
func serverCloses(t *testing.T, code frame.CloseCode, reason string) *wstest.Server {
	return wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		_ = c.Close(code, reason)
	})
}

func TestProcessExitStatusFollowsTheServersCloseCode(t *testing.T) {
	tests := []struct {
		code frame.CloseCode
		args []string
		want int
	}{
		{frame.CloseNormal, nil, 0},
		{frame.CloseGoingAway, nil, 0},
		{4000, nil, 1},
		{4000, []string{"--close-code", "4000"}, 0},
		{frame.CloseInternalError, nil, 1},
		{frame.ClosePolicyViolation, []string{"--close-code=4000"}, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d%v", tt.code, tt.args), func(t *testing.T) {
			srv := serverCloses(t, tt.code, "server says bye")
			// Standard input stays open (an OS pipe, handed over as it is): the server's
			// close ends wscat.
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			defer pw.Close()
			r := runProc(t, pr, append(tt.args, srv.URL)...)
			if r.code != tt.want {
				t.Fatalf("want exit %d\n%v", tt.want, r)
			}
			checkConversation(t, r.lines(), nil, fmt.Sprintf("CLOSE %d server says bye", tt.code))
		})
	}
}

func TestProcessCloseCodeAndReasonAreSent(t *testing.T) {
	got := make(chan *conn.CloseError, 1)
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		_, _, err := c.ReadMessage(context.Background(), nil)
		ce, _ := err.(*conn.CloseError)
		got <- ce
	})
	r := runProc(t, nil, "--close-code", "4001", "--close-reason", "see you", srv.URL)
	if r.code != 0 {
		t.Fatalf("want exit 0 (the server echoes the code asked for)\n%v", r)
	}
	ce := <-got
	if ce == nil || ce.Code != 4001 || ce.Reason != "see you" {
		t.Fatalf("server saw %v, want close 4001 \"see you\"", ce)
	}
	checkConversation(t, r.lines(), nil, "CLOSE 4001")
}

func TestProcessConnectionRefusedIsErrorAndExit1(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := runProc(t, nil, "ws://"+addr+"/")
	if r.code != 1 {
		t.Fatalf("want exit 1\n%v", r)
	}
	lines := r.lines()
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ERROR 2302999 ") || !strings.Contains(lines[0], "refused") ||
		!strings.HasPrefix(lines[1], "CLOSE 1006 ") {
		t.Fatalf("want ERROR then CLOSE 1006\n%v", r)
	}
}

func TestProcessHandshakeRefusedIsErrorAndExit1(t *testing.T) {
	srv := wstest.NewRaw(t, func(nc net.Conn) {
		br := bufio.NewReader(nc)
		for { // read the request header
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		_ = handshake.WriteReject(nc, 403, "go away", nil)
	})
	r := runProc(t, nil, srv.URL)
	lines := r.lines()
	if r.code != 1 || len(lines) != 2 || !strings.HasPrefix(lines[0], "ERROR 2302999 ") ||
		!strings.Contains(lines[0], "403") || !strings.HasPrefix(lines[1], "CLOSE 1006 ") {
		t.Fatalf("want ERROR with the status, CLOSE 1006, exit 1\n%v", r)
	}
}

func TestProcessSendsHeadersAndShowsResponseHeaders(t *testing.T) {
	srv := wstest.New(t, func(c *conn.Conn, req *handshake.ServerRequest) {
		ctx := context.Background()
		msg := req.Header.Get("X-Test") + "|" + req.Header.Get("X-Multi") + "|" + c.Subprotocol()
		if err := c.WriteMessage(ctx, conn.Text, []byte(msg)); err != nil {
			return
		}
		for {
			if _, _, err := c.ReadMessage(ctx, nil); err != nil {
				return
			}
		}
	}, func(s *wstest.Server) { s.Upgrader.Header = http.Header{"X-Server": {"test"}} })
	r := runProc(t, nil, "-H", "X-Test: 1", "--header=X-Multi: a", "-H", "x-multi: b",
		"--subprotocol", "chat", srv.URL)
	if r.code != 0 {
		t.Fatalf("want exit 0\n%v", r)
	}
	checkConversation(t, r.lines(), []string{"MESSAGE 1|a, b|"}, "CLOSE 1000")
	if !strings.Contains(r.lines()[0], "X-Server: test") {
		t.Fatalf("HEADERRECEIVE misses the server's header: %q", r.lines()[0])
	}
}

func TestProcessSubprotocolWithTheEmbeddedServer(t *testing.T) {
	r := runProc(t, strings.NewReader("x\n"), "--subprotocol", "chat, superchat")
	if r.code != 0 {
		t.Fatalf("want exit 0\n%v", r)
	}
	if !strings.Contains(r.lines()[0], "Sec-WebSocket-Protocol: chat") {
		t.Fatalf("no subprotocol selected: %q", r.lines()[0])
	}
}

func TestProcessUsageErrorsExit2WithOneLine(t *testing.T) {
	missing := t.TempDir() + "/missing.pem"
	tests := [][]string{
		{"--bogus"},
		{"http://example.com/"},
		{"example.com"},
		{"ws://"},
		{"ws://a/", "ws://b/"},
		{"--close-code", "1005"},
		{"--close-code", "70000"},
		{"--close-code", "x"},
		{"--close-reason", strings.Repeat("r", 124)},
		{"--echo"},
		{"-H", "no colon"},
		{"-H", "Host: x"},
		{"-H", "Bad Name: x"},
		{"--subprotocol", "a b"},
		{"--proxy-exclude", "a.example"},
		{"--proxy", "socks4://h:1"},
		{"--proxy", "socks5h://u:p@h:99999"},
		{"--tls-min", "1.1"},
		{"--tls-min", "x"},
		{"--tls-min="},
		{"--proxy", "http://h:99999"},
		{"--cert", "c.pem"},
		{"--key-password-file", missing},
		{"--cert", missing, "--key", missing, "ws://127.0.0.1:9/"},
		{"--ca", missing, "wss://127.0.0.1:9/"},
		{"--ping-interval", "-1"},
		{"--max-message-size", "12X"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runProc(t, nil, args...)
			if r.code != 2 {
				t.Fatalf("want exit 2\n%v", r)
			}
			if r.stdout != "" {
				t.Fatalf("stdout not empty: %q", r.stdout)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "wscat: ") ||
				strings.Contains(r.stderr, "goroutine ") {
				t.Fatalf("want one line on stderr, got %q", r.stderr)
			}
		})
	}
}

func TestProcessHelpExits0(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		r := runProc(t, nil, arg)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "usage: wscat [flags] [URL]") {
			t.Fatalf("%s: want usage and exit 0\n%v", arg, r)
		}
	}
}

// Regression: an interrupt closed normally but exited 0; the convention (node wscat, shells) is
// 130, 128 + SIGINT. The close is still the normal one.
func TestProcessInterruptClosesNormallyAndExits130(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT on windows")
	}
	srv := startEcho(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wscatBin, srv.URL())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "OPEN") {
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	if cmd.ProcessState.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130; output:\n%s", err, strings.Join(lines, "\n"))
	}
	checkConversation(t, lines, nil, "CLOSE 1000")
}

// TestProcessCompressOffersAndEchoes: with --compress, wscat offers permessage-deflate with
// the flags' parameters, HEADERRECEIVE shows the agreed extension, and --echo sends back what
// the compressing server sent, over the compressed connection.
func TestProcessCompressOffersAndEchoes(t *testing.T) {
	long := strings.Repeat("compress me ", 100)
	offers := make(chan string, 1)
	got := make(chan string, 1)
	srv := wstest.New(t, func(c *conn.Conn, req *handshake.ServerRequest) {
		offers <- req.Header.Get("Sec-WebSocket-Extensions")
		ctx := context.Background()
		if err := c.WriteMessage(ctx, conn.Text, []byte(long)); err != nil {
			return
		}
		_, p, err := c.ReadMessage(ctx, nil)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(p)
		_ = c.Close(frame.CloseNormal, "done")
	}, func(s *wstest.Server) {
		s.Upgrader.Deflate = &deflate.ServerOptions{}
		s.Config.Compression = &conn.Compression{Threshold: 1}
	})
	r := runProc(t, strings.NewReader(""), srv.URL, "--echo", "--compress", "--client-window-bits", "9", "--server-no-context-takeover")
	if r.code != 0 {
		t.Fatalf("want exit 0\n%v", r)
	}
	if o := <-offers; o != "permessage-deflate; server_no_context_takeover; client_max_window_bits=9" {
		t.Fatalf("offer %q", o)
	}
	if back := <-got; back != long {
		t.Fatalf("server got back %q", back)
	}
	if !strings.Contains(r.lines()[0], "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=9") {
		t.Fatalf("HEADERRECEIVE line %q", r.lines()[0])
	}
}
