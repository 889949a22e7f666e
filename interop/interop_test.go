//go:build interop

// Package interop_test runs this module's client against WebSocket servers that nobody here
// wrote: Node's ws (8.x, interop/node/server.js) and Python's websockets (10.4 from Debian,
// interop/python/server.py), both on loopback. Both the blocking API (client.Dial) and the
// seed facade (client.CreateWebSocket) are checked: echo of text and binary messages from 0 B
// to 8 MiB, fragmented messages both ways (with pings between the fragments), subprotocol
// negotiation (the server refusing included), request and response headers, server-initiated
// close codes and reasons, the client's own close (also in the middle of a large message), a
// server that drops the TCP connection without a close frame (also while we write), pings both
// ways (keepalive), the message size limit (1009), and many pipelined messages kept in order.
//
// The build tag keeps plain `go test ./...` free of Node and Python. Run it with
// `make interop`, which installs the peers first (interop/install.sh). A peer that cannot be
// started fails the tests; it is never skipped.
package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// Bounds on waiting, so that nothing hangs.
const (
	peerStartTimeout = 20 * time.Second // from exec to the "PORT n" line
	peerStopTimeout  = 5 * time.Second  // from closing stdin to exit, then SIGKILL
	testTimeout      = 60 * time.Second // each test's context
)

// textUnit is the unit the peers' /fragments repeat for a text message: ASCII and 2-, 3- and
// 4-byte UTF-8 sequences, so that byte-offset cuts split characters across fragments.
const textUnit = "fragment \u2713 \u00e9t\u00e9 \U0001F600 "

// echoSizes are the message sizes of the echo tests: the edges of the 7-bit, 16-bit and 64-bit
// payload length forms (RFC 6455 §5.2), and large messages.
var echoSizes = []int{0, 1, 125, 126, 65535, 65536, 1 << 20, 8 << 20}

// peers are the servers under test, started by TestMain.
var peers = []*peer{
	{name: "node", argv: func() []string {
		node, err := exec.LookPath("node")
		if err != nil {
			node = "node"
		}
		return []string{node, "node/server.js", "0"}
	}},
	{name: "python", argv: func() []string {
		py := os.Getenv("INTEROP_PYTHON")
		if py == "" {
			py = "/usr/bin/python3" // Debian's python3-websockets is installed for it
		}
		return []string{py, "python/server.py", "0"}
	}},
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(peersM{m})
}

// peersM runs the tests between starting and stopping the peers, inside goleak's check.
type peersM struct{ m *testing.M }

func (pm peersM) Run() int {
	for _, p := range peers {
		if err := p.start(); err != nil {
			p.err = err
			fmt.Fprintf(os.Stderr, "interop: peer %s did not start: %v\n", p.name, err)
		}
	}
	code := pm.m.Run()
	for _, p := range peers {
		if err := p.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "interop: peer %s: %v\n", p.name, err)
			code = 1
		}
		if p.err != nil {
			code = 1
		}
		if code != 0 || testing.Verbose() {
			if s := p.log.String(); s != "" {
				fmt.Fprintf(os.Stderr, "--- output of peer %s:\n%s", p.name, s)
			}
		}
	}
	return code
}

// peer is one server process.
type peer struct {
	name string
	argv func() []string

	url  string // "ws://127.0.0.1:<port>"
	err  error  // why it did not start
	cmd  *exec.Cmd
	in   io.WriteCloser
	log  lockedBuffer
	exit chan error // receives cmd.Wait's result
}

// start runs the peer and reads its "PORT n" line.
func (p *peer) start() error {
	argv := p.argv()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.WaitDelay = peerStopTimeout
	ports := make(chan string, 1)
	cmd.Stdout = &firstLineWriter{first: ports, rest: &p.log}
	cmd.Stderr = &p.log
	in, err := cmd.StdinPipe() // the peers exit at the end of stdin
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	p.cmd, p.in, p.exit = cmd, in, make(chan error, 1)
	go func() { p.exit <- cmd.Wait() }()

	timer := time.NewTimer(peerStartTimeout)
	defer timer.Stop()
	select {
	case line := <-ports:
		port, ok := strings.CutPrefix(line, "PORT ")
		if n, err := strconv.Atoi(port); !ok || err != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("%s: first line %q, want \"PORT <n>\"", strings.Join(argv, " "), line)
		}
		p.url = "ws://127.0.0.1:" + port
		return nil
	case err := <-p.exit:
		p.exit <- err
		return fmt.Errorf("%s exited before printing its port (%v): %s", strings.Join(argv, " "), err, p.log.String())
	case <-timer.C:
		return fmt.Errorf("%s printed no port within %v: %s", strings.Join(argv, " "), peerStartTimeout, p.log.String())
	}
}

// stop closes the peer's stdin, which makes it exit, and kills it if it does not in time.
func (p *peer) stop() error {
	if p.cmd == nil {
		return nil
	}
	_ = p.in.Close()
	timer := time.NewTimer(peerStopTimeout)
	defer timer.Stop()
	select {
	case err := <-p.exit:
		if err != nil {
			return fmt.Errorf("exited with %v", err)
		}
		return nil
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.exit
		return fmt.Errorf("did not exit within %v of the end of its stdin; killed", peerStopTimeout)
	}
}

// require fails the test when the peer is not running.
func (p *peer) require(t *testing.T) {
	t.Helper()
	if p.err != nil {
		t.Fatalf("peer %s is not running: %v", p.name, p.err)
	}
}

// forEachPeer runs f as a parallel subtest for each peer.
func forEachPeer(t *testing.T, f func(t *testing.T, p *peer)) {
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			p.require(t)
			f(t, p)
		})
	}
}

// firstLineWriter sends the first line written to it on first and the rest to rest.
type firstLineWriter struct {
	first chan<- string
	rest  io.Writer
	line  []byte
	sent  bool
}

func (w *firstLineWriter) Write(b []byte) (int, error) {
	n := len(b)
	if !w.sent {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			w.line = append(w.line, b...)
			return n, nil
		}
		w.line = append(w.line, b[:i]...)
		w.first <- strings.TrimSpace(string(w.line))
		w.sent = true
		b = b[i+1:]
	}
	_, err := w.rest.Write(b)
	return n, err
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ---- Payloads ----

// payload returns n bytes for a message of type typ: valid UTF-8 built from textUnit (padded
// with ASCII where a character would not fit) for Text, seeded pseudo-random bytes for Binary.
func payload(typ conn.MessageType, n int) []byte {
	b := make([]byte, 0, n)
	if typ == conn.Binary {
		b = b[:n]
		rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}).Read(b)
		return b
	}
	for len(b) < n {
		for _, r := range textUnit {
			if len(b)+utf8.RuneLen(r) > n {
				break
			}
			b = utf8.AppendRune(b, r)
		}
		for len(b) < n && len(b)+4 > n {
			b = append(b, 'x')
		}
	}
	return b
}

// fragmentsPayload is what the peers' /fragments send for type and n (see the servers).
func fragmentsPayload(typ conn.MessageType, n int) []byte {
	if typ == conn.Text {
		return []byte(strings.Repeat(textUnit, n))
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func typeName(typ conn.MessageType) string {
	if typ == conn.Text {
		return "text"
	}
	return "binary"
}

// sameBytes fails the test when got differs from want, saying where.
func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Fatalf("%s: got %d bytes, want %d; first difference at byte %d", what, len(got), len(want), i)
}

// ---- Blocking API helpers ----

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// dial connects to path on p with the blocking API; the connection is closed at cleanup.
func dial(ctx context.Context, t *testing.T, p *peer, path string, o *client.DialOptions) (*client.Conn, *handshake.Response) {
	t.Helper()
	c, resp, err := client.Dial(ctx, p.url+path, o)
	if err != nil {
		t.Fatalf("Dial %s%s: %v", p.url, path, err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c, resp
}

// closeNormally performs the closing handshake and checks the peer's reply.
func closeNormally(ctx context.Context, t *testing.T, c *client.Conn, code frame.CloseCode, reason string) {
	t.Helper()
	if err := c.Close(code, reason); err != nil {
		t.Fatalf("Close(%d, %q): %v", code, reason, err)
	}
	_, _, err := c.ReadMessage(ctx, nil)
	ce := closeError(t, err)
	if !ce.Remote || ce.Code != code || ce.Reason != reason {
		t.Fatalf("after Close(%d, %q) reads return %+v, want the peer's echo of the close", code, reason, ce)
	}
}

// closeError returns err's *conn.CloseError or fails the test.
func closeError(t *testing.T, err error) *conn.CloseError {
	t.Helper()
	var ce *conn.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("got error %v, want a *conn.CloseError", err)
	}
	return ce
}

// roundTrip writes want as typ and checks that the same message comes back.
func roundTrip(ctx context.Context, t *testing.T, c *client.Conn, typ conn.MessageType, want []byte) {
	t.Helper()
	if err := c.WriteMessage(ctx, typ, want); err != nil {
		t.Fatalf("WriteMessage(%s, %d bytes): %v", typeName(typ), len(want), err)
	}
	gotTyp, got, err := c.ReadMessage(ctx, nil)
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	if gotTyp != typ {
		t.Fatalf("echo of a %s message is %s", typeName(typ), typeName(gotTyp))
	}
	sameBytes(t, "echo", got, want)
}

// ---- Seed facade helpers ----

// event is one event of the facade, as delivered.
type event struct {
	typ     client.OnOffType
	headers client.ResponseHeaders
	open    map[uint32]string
	msg     client.MessageData
	close   client.CloseResult
	err     *client.BusinessException
}

func (e event) String() string {
	switch e.typ {
	case client.EventHeaderReceive:
		return fmt.Sprintf("HEADERRECEIVE %v", e.headers)
	case client.EventOpen:
		return fmt.Sprintf("OPEN %v", e.open)
	case client.EventMessage:
		if s, ok := e.msg.(client.StringData); ok && len(s) > 64 {
			return fmt.Sprintf("MESSAGE text of %d bytes", len(s))
		}
		return fmt.Sprintf("MESSAGE %v", e.msg)
	case client.EventClose:
		return fmt.Sprintf("CLOSE %d %q", e.close.Code, e.close.Reason)
	case client.EventError:
		return fmt.Sprintf("ERROR %v", e.err)
	}
	return e.typ.String()
}

// facade is a seed WebSocket with every event recorded, in order.
type facade struct {
	ws     *client.WebSocket
	events chan event
	done   chan struct{} // closed at cleanup: callbacks stop recording
	closed bool          // CLOSE was seen
}

// newFacade returns a WebSocket with all six events recorded. At cleanup a connection still
// open is closed and its CLOSE awaited, so that no goroutine outlives the test.
func newFacade(t *testing.T) *facade {
	f := &facade{ws: client.CreateWebSocket(), events: make(chan event, 1024), done: make(chan struct{})}
	record := func(e event) {
		select {
		case f.events <- e:
		case <-f.done:
		}
	}
	on := func(typ client.OnOffType, cb client.Callback) {
		if err := f.ws.On(typ, cb); err != nil {
			t.Fatalf("On(%v): %v", typ, err)
		}
	}
	on(client.EventHeaderReceive, client.NewHeaderReceiveCallback(func(h client.ResponseHeaders) {
		record(event{typ: client.EventHeaderReceive, headers: h})
	}))
	on(client.EventOpen, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, m map[uint32]string) {
		record(event{typ: client.EventOpen, open: m})
	}))
	on(client.EventMessage, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, m client.MessageData) {
		record(event{typ: client.EventMessage, msg: m})
	}))
	on(client.EventDataEnd, client.NewDataEndCallback(func() {
		record(event{typ: client.EventDataEnd})
	}))
	on(client.EventClose, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, r client.CloseResult) {
		record(event{typ: client.EventClose, close: r})
	}))
	on(client.EventError, client.NewWebSocketErrorCallback(func(e *client.BusinessException) {
		record(event{typ: client.EventError, err: e})
	}))
	t.Cleanup(func() {
		if !f.closed && !errors.Is(f.ws.Close(nil, nil), client.ErrNotConnected) {
			deadline := time.After(10 * time.Second)
		wait:
			for {
				select {
				case e := <-f.events:
					if e.typ == client.EventClose {
						break wait
					}
				case <-deadline:
					t.Errorf("cleanup: no CLOSE within 10s")
					break wait
				}
			}
		}
		close(f.done)
	})
	return f
}

// next returns the next event, failing the test when none comes before ctx ends.
func (f *facade) next(ctx context.Context, t *testing.T) event {
	t.Helper()
	select {
	case e := <-f.events:
		if e.typ == client.EventClose {
			f.closed = true
		}
		return e
	case <-ctx.Done():
		t.Fatalf("no event: %v", ctx.Err())
		return event{}
	}
}

// expect returns the next event, failing the test when it is not of type typ.
func (f *facade) expect(ctx context.Context, t *testing.T, typ client.OnOffType) event {
	t.Helper()
	e := f.next(ctx, t)
	if e.typ != typ {
		t.Fatalf("got event %v, want %v", e, typ)
	}
	return e
}

// requestOptions returns the seed defaults without proxies.
func requestOptions() *client.WebSocketRequestOptions {
	o := client.NewWebSocketRequestOptions()
	o.Proxy = client.NoProxy{}
	return o
}

// connect connects f to path on p and waits for HEADERRECEIVE and OPEN; it returns the headers.
func (f *facade) connect(ctx context.Context, t *testing.T, p *peer, path string, o *client.WebSocketRequestOptions) client.MapData {
	t.Helper()
	if o == nil {
		o = requestOptions()
	}
	if err := f.ws.Connect(p.url+path, o, nil); err != nil {
		t.Fatalf("Connect %s%s: %v", p.url, path, err)
	}
	e := f.expect(ctx, t, client.EventHeaderReceive)
	h, ok := e.headers.(client.MapData)
	if !ok {
		t.Fatalf("HEADERRECEIVE carries %T, want client.MapData", e.headers)
	}
	e = f.expect(ctx, t, client.EventOpen)
	if len(e.open) != 1 || e.open[101] != "Switching Protocols" {
		t.Fatalf("OPEN carries %v, want {101: Switching Protocols}", e.open)
	}
	return h
}

// send sends m, failing the test on an error known at once.
func (f *facade) send(t *testing.T, m client.MessageData) {
	t.Helper()
	if err := f.ws.Send(m, nil); err != nil {
		var seen []string
		for len(f.events) > 0 {
			seen = append(seen, (<-f.events).String())
		}
		t.Fatalf("Send: %v (events waiting: %q)", err, seen)
	}
}

// message waits for MESSAGE and its DATAEND, and returns the message's type and bytes.
func (f *facade) message(ctx context.Context, t *testing.T) (conn.MessageType, []byte) {
	t.Helper()
	e := f.expect(ctx, t, client.EventMessage)
	f.expect(ctx, t, client.EventDataEnd)
	switch m := e.msg.(type) {
	case client.StringData:
		return conn.Text, []byte(m)
	case client.ArrayData:
		return conn.Binary, m
	}
	t.Fatalf("MESSAGE carries %T", e.msg)
	return 0, nil
}

// closeNormally closes with code and reason and checks that CLOSE carries the peer's echo.
func (f *facade) closeNormally(ctx context.Context, t *testing.T, code uint32, reason string) {
	t.Helper()
	if err := f.ws.Close(nil, &client.WebSocketCloseOptions{Code: code, Reason: reason}); err != nil {
		t.Fatalf("Close: %v", err)
	}
	e := f.expect(ctx, t, client.EventClose)
	if e.close.Code != code || e.close.Reason != reason {
		t.Fatalf("CLOSE %d %q, want the peer's echo %d %q", e.close.Code, e.close.Reason, code, reason)
	}
}

func messageData(typ conn.MessageType, p []byte) client.MessageData {
	if typ == conn.Text {
		return client.StringData(p)
	}
	return client.ArrayData(bytes.Clone(p))
}

// headerValue looks name up in h without regard to case.
func headerValue(h client.MapData, name string) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// ---- Tests ----

func TestEchoTextAndBinaryFrom0BTo8MiB(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		for _, typ := range []conn.MessageType{conn.Text, conn.Binary} {
			t.Run("blocking/"+typeName(typ), func(t *testing.T) {
				ctx := testContext(t)
				c, _ := dial(ctx, t, p, "/echo", nil)
				for _, n := range echoSizes {
					if !t.Run(strconv.Itoa(n), func(t *testing.T) { roundTrip(ctx, t, c, typ, payload(typ, n)) }) {
						return
					}
				}
				closeNormally(ctx, t, c, frame.CloseNormal, "")
			})
			t.Run("facade/"+typeName(typ), func(t *testing.T) {
				ctx := testContext(t)
				f := newFacade(t)
				f.connect(ctx, t, p, "/echo", nil)
				for _, n := range echoSizes {
					ok := t.Run(strconv.Itoa(n), func(t *testing.T) {
						want := payload(typ, n)
						f.send(t, messageData(typ, want))
						gotTyp, got := f.message(ctx, t)
						if gotTyp != typ {
							t.Fatalf("echo of a %s message is %s", typeName(typ), typeName(gotTyp))
						}
						sameBytes(t, "echo", got, want)
					})
					if !ok {
						return
					}
				}
				f.closeNormally(ctx, t, 1000, "")
			})
		}
	})
}

// TestFragmentedMessagesFromPeerArriveWhole has the peer send one message in fragments
// (cut at byte offsets by node, so UTF-8 sequences span fragments; with pings between them
// where asked) and checks that it arrives as one message, and that the connection goes on.
func TestFragmentedMessagesFromPeerArriveWhole(t *testing.T) {
	cases := []struct {
		typ   conn.MessageType
		n     int // text: repetitions of textUnit; binary: bytes
		count int
		ping  bool
	}{
		{conn.Text, 1, 3, false}, // the second cut splits "é"
		{conn.Text, 4, 4, false},
		{conn.Text, 1000, 7, true},
		{conn.Text, 40000, 13, false}, // about 1 MiB
		{conn.Binary, 0, 3, false},    // three empty frames
		{conn.Binary, 1000, 3, false},
		{conn.Binary, 1 << 20, 16, true},
		{conn.Binary, 8 << 20, 8, false},
	}
	forEachPeer(t, func(t *testing.T, p *peer) {
		for _, tc := range cases {
			q := url.Values{"type": {typeName(tc.typ)}, "n": {strconv.Itoa(tc.n)}, "count": {strconv.Itoa(tc.count)}}
			if tc.ping {
				q.Set("ping", "1")
			}
			path := "/fragments?" + q.Encode()
			name := fmt.Sprintf("%s/n=%d/count=%d/ping=%v", typeName(tc.typ), tc.n, tc.count, tc.ping)
			want := fragmentsPayload(tc.typ, tc.n)
			t.Run("blocking/"+name, func(t *testing.T) {
				ctx := testContext(t)
				c, _ := dial(ctx, t, p, path, nil)
				typ, got, err := c.ReadMessage(ctx, nil)
				if err != nil {
					t.Fatalf("ReadMessage: %v", err)
				}
				if typ != tc.typ {
					t.Fatalf("fragmented %s message arrived as %s", typeName(tc.typ), typeName(typ))
				}
				sameBytes(t, "fragmented message", got, want)
				roundTrip(ctx, t, c, conn.Text, []byte("after the fragments"))
				closeNormally(ctx, t, c, frame.CloseNormal, "")
			})
			t.Run("facade/"+name, func(t *testing.T) {
				ctx := testContext(t)
				f := newFacade(t)
				f.connect(ctx, t, p, path, nil)
				typ, got := f.message(ctx, t)
				if typ != tc.typ {
					t.Fatalf("fragmented %s message arrived as %s", typeName(tc.typ), typeName(typ))
				}
				sameBytes(t, "fragmented message", got, want)
				f.send(t, client.StringData("after the fragments"))
				if typ, got := f.message(ctx, t); typ != conn.Text || string(got) != "after the fragments" {
					t.Fatalf("echo after the fragments: %s %q", typeName(typ), got)
				}
				f.closeNormally(ctx, t, 1000, "")
			})
		}
	})
}

// TestStreamedMessagesToPeerEchoWhole sends messages through the conn's NextWriter in writes
// of many sizes (text cut inside UTF-8 sequences; a write buffer of 4096 bytes makes each
// message many frames; pings between the fragments), and checks that the peer reassembled
// them: its echo is the whole message.
func TestStreamedMessagesToPeerEchoWhole(t *testing.T) {
	chunks := []int{1, 2, 3, 100, 4095, 4096, 4097, 70000, 0, 5, 200000}
	forEachPeer(t, func(t *testing.T, p *peer) {
		for _, typ := range []conn.MessageType{conn.Text, conn.Binary} {
			for _, ping := range []bool{false, true} {
				t.Run(fmt.Sprintf("blocking/%s/ping=%v", typeName(typ), ping), func(t *testing.T) {
					ctx := testContext(t)
					c, _ := dial(ctx, t, p, "/echo", &client.DialOptions{WriteBufferSize: 4096})
					total := 0
					for _, n := range chunks {
						total += n
					}
					want := payload(typ, total)
					w, err := c.NextWriter(ctx, typ)
					if err != nil {
						t.Fatalf("NextWriter: %v", err)
					}
					off := 0
					for i, n := range chunks {
						if _, err := w.Write(want[off : off+n]); err != nil {
							t.Fatalf("Write of chunk %d (%d bytes): %v", i, n, err)
						}
						off += n
						if ping {
							if err := c.Ping(ctx, []byte("between fragments "+strconv.Itoa(i))); err != nil {
								t.Fatalf("Ping between fragments: %v", err)
							}
						}
					}
					if err := w.Close(); err != nil {
						t.Fatalf("closing the message writer: %v", err)
					}
					gotTyp, got, err := c.ReadMessage(ctx, nil)
					if err != nil {
						t.Fatalf("ReadMessage: %v", err)
					}
					if gotTyp != typ {
						t.Fatalf("echo of a streamed %s message is %s", typeName(typ), typeName(gotTyp))
					}
					sameBytes(t, "echo of the streamed message", got, want)
					// An empty streamed message: one final frame with no payload.
					w, err = c.NextWriter(ctx, typ)
					if err != nil {
						t.Fatalf("NextWriter: %v", err)
					}
					if err := w.Close(); err != nil {
						t.Fatalf("closing an empty message writer: %v", err)
					}
					if gotTyp, got, err = c.ReadMessage(ctx, nil); err != nil || gotTyp != typ || len(got) != 0 {
						t.Fatalf("echo of an empty streamed message: %s, %d bytes, %v", typeName(gotTyp), len(got), err)
					}
					closeNormally(ctx, t, c, frame.CloseNormal, "")
				})
			}
		}
	})
}

// TestSubprotocolNegotiation: the peers select "chat" when offered and nothing otherwise. A
// server that selects none of the offered subprotocols leaves the connection without one
// (RFC 6455 §4.1 lets the client fail it; ours opens it with no subprotocol, reported as "",
// and the facade shows no Sec-WebSocket-Protocol header).
func TestSubprotocolNegotiation(t *testing.T) {
	cases := []struct {
		offer []string
		want  string
	}{
		{[]string{"chat"}, "chat"},
		{[]string{"other", "chat"}, "chat"},
		{[]string{"other"}, ""},
		{nil, ""},
	}
	forEachPeer(t, func(t *testing.T, p *peer) {
		for _, tc := range cases {
			name := strings.Join(tc.offer, ",")
			if name == "" {
				name = "none"
			}
			t.Run("blocking/"+name, func(t *testing.T) {
				ctx := testContext(t)
				c, resp := dial(ctx, t, p, "/echo", &client.DialOptions{Subprotocols: tc.offer})
				if resp.Subprotocol != tc.want || c.Subprotocol() != tc.want {
					t.Fatalf("offered %q: Response.Subprotocol %q, Conn.Subprotocol %q, want %q",
						tc.offer, resp.Subprotocol, c.Subprotocol(), tc.want)
				}
				if got := resp.Header.Values("Sec-Websocket-Protocol"); tc.want == "" && len(got) != 0 {
					t.Fatalf("offered %q: response header Sec-WebSocket-Protocol %q, want none", tc.offer, got)
				}
				roundTrip(ctx, t, c, conn.Text, []byte("with subprotocol "+tc.want))
				closeNormally(ctx, t, c, frame.CloseNormal, "")
			})
			t.Run("facade/"+name, func(t *testing.T) {
				ctx := testContext(t)
				f := newFacade(t)
				o := requestOptions()
				o.Protocol = strings.Join(tc.offer, ", ")
				h := f.connect(ctx, t, p, "/echo", o)
				got, ok := headerValue(h, "Sec-WebSocket-Protocol")
				if tc.want == "" && ok {
					t.Fatalf("offered %q: HEADERRECEIVE has Sec-WebSocket-Protocol %q, want none", o.Protocol, got)
				}
				if tc.want != "" && got != tc.want {
					t.Fatalf("offered %q: HEADERRECEIVE has Sec-WebSocket-Protocol %q, want %q", o.Protocol, got, tc.want)
				}
				f.send(t, client.StringData("with subprotocol "+tc.want))
				f.message(ctx, t)
				f.closeNormally(ctx, t, 1000, "")
			})
		}
	})
}

// TestRequestHeadersSeenByPeer: the peer's /headers answers with the request headers it saw.
func TestRequestHeadersSeenByPeer(t *testing.T) {
	// seen reads the peer's JSON message of headers.
	seen := func(t *testing.T, typ conn.MessageType, p []byte) map[string]string {
		t.Helper()
		if typ != conn.Text {
			t.Fatalf("/headers answered with a %s message", typeName(typ))
		}
		var h map[string]string
		if err := json.Unmarshal(p, &h); err != nil {
			t.Fatalf("/headers answered %q: %v", p, err)
		}
		return h
	}
	check := func(t *testing.T, p *peer, h map[string]string, want map[string]string) {
		t.Helper()
		want["host"] = strings.TrimPrefix(p.url, "ws://")
		want["upgrade"] = "websocket"
		want["sec-websocket-version"] = "13"
		for k, v := range want {
			if h[k] != v {
				t.Errorf("peer saw %s: %q, want %q (all: %v)", k, h[k], v, h)
			}
		}
		if !strings.Contains(strings.ToLower(h["connection"]), "upgrade") {
			t.Errorf("peer saw connection: %q, want upgrade", h["connection"])
		}
	}
	forEachPeer(t, func(t *testing.T, p *peer) {
		t.Run("blocking", func(t *testing.T) {
			ctx := testContext(t)
			hdr := make(map[string][]string)
			hdr["X-Interop-Client"] = []string{"blocking"}
			hdr["X-Repeated"] = []string{"one", "two"}
			hdr["Authorization"] = []string{"Bearer t0k3n"}
			c, _ := dial(ctx, t, p, "/headers", &client.DialOptions{Header: hdr, Origin: "http://origin.test"})
			typ, msg, err := c.ReadMessage(ctx, nil)
			if err != nil {
				t.Fatalf("ReadMessage: %v", err)
			}
			check(t, p, seen(t, typ, msg), map[string]string{
				"x-interop-client": "blocking",
				"x-repeated":       "one, two",
				"authorization":    "Bearer t0k3n",
				"origin":           "http://origin.test",
			})
			closeNormally(ctx, t, c, frame.CloseNormal, "")
		})
		t.Run("facade", func(t *testing.T) {
			ctx := testContext(t)
			f := newFacade(t)
			o := requestOptions()
			o.Header = map[string]string{"X-Interop-Client": "facade", "Cookie": "a=1; b=2"}
			f.connect(ctx, t, p, "/headers", o)
			typ, msg := f.message(ctx, t)
			check(t, p, seen(t, typ, msg), map[string]string{
				"x-interop-client": "facade",
				"cookie":           "a=1; b=2",
			})
			f.closeNormally(ctx, t, 1000, "")
		})
	})
}

// TestResponseHeadersSeenByClient: the peers add "X-Interop: <name>" to the 101 response.
func TestResponseHeadersSeenByClient(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		t.Run("blocking", func(t *testing.T) {
			ctx := testContext(t)
			c, resp := dial(ctx, t, p, "/echo", nil)
			if resp.StatusCode != 101 {
				t.Errorf("status %d, want 101", resp.StatusCode)
			}
			if got := resp.Header.Get("X-Interop"); got != p.name {
				t.Errorf("Response.Header X-Interop %q, want %q (all: %v)", got, p.name, resp.Header)
			}
			found := false
			for _, fl := range resp.Fields {
				if strings.EqualFold(fl.Name, "X-Interop") && fl.Value == p.name {
					found = true
				}
			}
			if !found {
				t.Errorf("Response.Fields lacks X-Interop: %s (all: %v)", p.name, resp.Fields)
			}
			if c.Response() != resp {
				t.Errorf("Conn.Response() is not the response Dial returned")
			}
			closeNormally(ctx, t, c, frame.CloseNormal, "")
		})
		t.Run("facade", func(t *testing.T) {
			ctx := testContext(t)
			f := newFacade(t)
			h := f.connect(ctx, t, p, "/echo", nil)
			if got, _ := headerValue(h, "X-Interop"); got != p.name {
				t.Errorf("HEADERRECEIVE X-Interop %q, want %q (all: %v)", got, p.name, h)
			}
			if got, _ := headerValue(h, "Upgrade"); !strings.EqualFold(got, "websocket") {
				t.Errorf("HEADERRECEIVE Upgrade %q, want websocket (all: %v)", got, h)
			}
			if _, ok := headerValue(h, "Sec-WebSocket-Accept"); !ok {
				t.Errorf("HEADERRECEIVE lacks Sec-WebSocket-Accept (all: %v)", h)
			}
			f.closeNormally(ctx, t, 1000, "")
		})
	})
}

// TestServerCloseCodeAndReason: the peer closes at once with a code and reason, which must
// arrive as they were sent: in the blocking API's *conn.CloseError and in the facade's CLOSE
// (with no ERROR).
func TestServerCloseCodeAndReason(t *testing.T) {
	long := strings.Repeat("é", 61) + "x" // 123 bytes, the most a close frame carries
	cases := []struct {
		code   uint32
		reason string
	}{
		{1000, ""},
		{1000, "normal"},
		{1001, "going away"},
		{1008, "policy violation"},
		{1011, "internal error"},
		{3000, "registered code"},
		{4001, "bye"},
		{4001, "ciao ✓"},
		{4999, long},
		{1005, ""}, // a close frame with no payload (code=none): no status received
	}
	forEachPeer(t, func(t *testing.T, p *peer) {
		for _, tc := range cases {
			path := "/close?" + url.Values{"code": {strconv.Itoa(int(tc.code))}, "reason": {tc.reason}}.Encode()
			if tc.code == 1005 {
				path = "/close?code=none"
			}
			name := fmt.Sprintf("%d/%d-byte-reason", tc.code, len(tc.reason))
			t.Run("blocking/"+name, func(t *testing.T) {
				ctx := testContext(t)
				c, _ := dial(ctx, t, p, path, nil)
				typ, msg, err := c.ReadMessage(ctx, nil)
				if err == nil {
					t.Fatalf("ReadMessage returned a %s message %q, want the close", typeName(typ), msg)
				}
				ce := closeError(t, err)
				if !ce.Remote || uint32(ce.Code) != tc.code || ce.Reason != tc.reason {
					t.Fatalf("close error %+v, want remote %d %q", ce, tc.code, tc.reason)
				}
				if err := c.WriteMessage(ctx, conn.Text, []byte("too late")); !errors.Is(err, conn.ErrClosed) {
					t.Fatalf("WriteMessage after the peer's close: %v, want conn.ErrClosed", err)
				}
			})
			t.Run("facade/"+name, func(t *testing.T) {
				ctx := testContext(t)
				f := newFacade(t)
				f.connect(ctx, t, p, path, nil)
				e := f.expect(ctx, t, client.EventClose)
				if e.close.Code != tc.code || e.close.Reason != tc.reason {
					t.Fatalf("CLOSE %d %q, want %d %q", e.close.Code, e.close.Reason, tc.code, tc.reason)
				}
			})
		}
	})
}

// TestClientCloseEchoedByPeer: our close with a code and reason; the peers answer with the same
// code and reason, which the facade reports in CLOSE and the blocking API in its reads.
func TestClientCloseEchoedByPeer(t *testing.T) {
	cases := []struct {
		code   uint32
		reason string
	}{
		{1000, ""},
		{1001, "leaving"},
		{4000, "client bye ✓"},
	}
	forEachPeer(t, func(t *testing.T, p *peer) {
		for _, tc := range cases {
			name := fmt.Sprintf("%d/%d-byte-reason", tc.code, len(tc.reason))
			t.Run("blocking/"+name, func(t *testing.T) {
				ctx := testContext(t)
				c, _ := dial(ctx, t, p, "/echo", nil)
				roundTrip(ctx, t, c, conn.Binary, []byte{1, 2, 3})
				closeNormally(ctx, t, c, frame.CloseCode(tc.code), tc.reason)
			})
			t.Run("facade/"+name, func(t *testing.T) {
				ctx := testContext(t)
				f := newFacade(t)
				f.connect(ctx, t, p, "/echo", nil)
				f.closeNormally(ctx, t, tc.code, tc.reason)
			})
		}
	})
}

// dropMessage is what TestPeerDropsTCPConnection sends to path: a short message to the peer
// that drops after one, 32 MiB (more than the loopback socket buffers hold) to the one that
// stops reading and drops 3 s later, so that our write is still going on when the connection
// goes. (The facade's Send copies the 32 MiB first: about 1.6 s under the race detector, so a
// shorter delay let the peer drop before Send was even called.)
func dropMessage(path string) []byte {
	if path == "/drop" {
		return []byte("hello")
	}
	return payload(conn.Binary, 32<<20)
}

// TestPeerDropsTCPConnection: the peer ends the TCP connection without a close frame, right
// after the handshake or after our first message. The blocking API's reads report 1006 (not
// from the peer); the facade reports ERROR (2302999), then CLOSE 1006 with a reason.
func TestPeerDropsTCPConnection(t *testing.T) {
	cases := []struct {
		name, path string
		send       bool
	}{
		{"after-a-message", "/drop", true},
		{"right-away", "/drop?now=1", false},
		{"while-we-send-32MiB", "/drop?stall=1&ms=3000", true},
	}
	forEachPeer(t, func(t *testing.T, p *peer) {
		for _, tc := range cases {
			t.Run("blocking/"+tc.name, func(t *testing.T) {
				ctx := testContext(t)
				msg := dropMessage(tc.path)
				c, _ := dial(ctx, t, p, tc.path, nil)
				if tc.send {
					// To the stalled peer the write fails whether it starts before the drop
					// (blocked, then reset) or after it (the peer's kernel resets).
					err := c.WriteMessage(ctx, conn.Binary, msg)
					switch {
					case tc.path == "/drop" && err != nil:
						t.Fatalf("WriteMessage: %v", err)
					case tc.path != "/drop" && err == nil:
						t.Fatalf("WriteMessage of 32 MiB to a peer that stopped reading and dropped: no error")
					}
				}
				typ, msg, err := c.ReadMessage(ctx, nil)
				if err == nil {
					t.Fatalf("ReadMessage returned a %s message %q, want an error", typeName(typ), msg)
				}
				ce := closeError(t, err)
				if ce.Remote || ce.Code != frame.CloseAbnormal {
					t.Fatalf("close error %+v (remote %v), want a local 1006", ce, ce.Remote)
				}
				// The next read says the same.
				if _, _, err := c.ReadMessage(ctx, nil); closeError(t, err).Code != frame.CloseAbnormal {
					t.Fatalf("second ReadMessage: %v, want 1006", err)
				}
			})
			t.Run("facade/"+tc.name, func(t *testing.T) {
				ctx := testContext(t)
				f := newFacade(t)
				switch {
				case !tc.send:
					f.connect(ctx, t, p, tc.path, nil)
				case tc.path == "/drop":
					f.connect(ctx, t, p, tc.path, nil)
					f.send(t, client.ArrayData(dropMessage(tc.path)))
				default:
					// Queued between Connect and OPEN, so that it is sure to be sent while
					// the connection is open: its write starts at OPEN and is blocked when
					// the peer drops.
					msg := dropMessage(tc.path)
					if err := f.ws.Connect(p.url+tc.path, requestOptions(), nil); err != nil {
						t.Fatalf("Connect: %v", err)
					}
					f.send(t, client.ArrayData(msg))
					f.expect(ctx, t, client.EventHeaderReceive)
					f.expect(ctx, t, client.EventOpen)
				}
				e := f.expect(ctx, t, client.EventError)
				if e.err == nil || e.err.Code != 2302999 {
					t.Fatalf("ERROR %v, want code 2302999", e.err)
				}
				e = f.expect(ctx, t, client.EventClose)
				if e.close.Code != 1006 || e.close.Reason == "" {
					t.Fatalf("CLOSE %d %q, want 1006 with a reason", e.close.Code, e.close.Reason)
				}
			})
		}
	})
}

// TestPeerPingAnswered: the peer pings; our client answers with a pong of the same payload
// while it reads (blocking API) or on its own (facade), and the peer reports the pong.
func TestPeerPingAnswered(t *testing.T) {
	const want = "pong:interop-ping"
	forEachPeer(t, func(t *testing.T, p *peer) {
		t.Run("blocking", func(t *testing.T) {
			ctx := testContext(t)
			c, _ := dial(ctx, t, p, "/ping", nil)
			typ, msg, err := c.ReadMessage(ctx, nil)
			if err != nil || typ != conn.Text || string(msg) != want {
				t.Fatalf("ReadMessage: %s %q %v, want text %q", typeName(typ), msg, err, want)
			}
			closeNormally(ctx, t, c, frame.CloseNormal, "")
		})
		t.Run("facade", func(t *testing.T) {
			ctx := testContext(t)
			f := newFacade(t)
			f.connect(ctx, t, p, "/ping", nil)
			if typ, msg := f.message(ctx, t); typ != conn.Text || string(msg) != want {
				t.Fatalf("MESSAGE %s %q, want text %q", typeName(typ), msg, want)
			}
			f.closeNormally(ctx, t, 1000, "")
		})
	})
}

// TestMessageOverLimitFailsWith1009: a message from the peer over our MaxMessageSize, whole or
// in fragments, fails the connection with 1009 (RFC 6455 §7.4.1): the blocking API's reads
// return a local 1009; the facade reports ERROR, then CLOSE 1009.
func TestMessageOverLimitFailsWith1009(t *testing.T) {
	const limit = 1 << 20
	forEachPeer(t, func(t *testing.T, p *peer) {
		for _, count := range []int{1, 4} {
			path := fmt.Sprintf("/fragments?type=binary&n=%d&count=%d", 2*limit, count)
			name := fmt.Sprintf("%d-fragments", count)
			t.Run("blocking/"+name, func(t *testing.T) {
				ctx := testContext(t)
				c, _ := dial(ctx, t, p, path, &client.DialOptions{MaxMessageSize: limit})
				typ, msg, err := c.ReadMessage(ctx, nil)
				if err == nil {
					t.Fatalf("ReadMessage returned a %s message of %d bytes, over the limit of %d", typeName(typ), len(msg), limit)
				}
				if ce := closeError(t, err); ce.Remote || ce.Code != frame.CloseMessageTooBig {
					t.Fatalf("close error %+v (remote %v), want a local 1009", ce, ce.Remote)
				}
			})
			t.Run("facade/"+name, func(t *testing.T) {
				ctx := testContext(t)
				f := newFacade(t)
				o := requestOptions()
				o.MaxMessageSize = limit
				f.connect(ctx, t, p, path, o)
				e := f.expect(ctx, t, client.EventError)
				if e.err == nil || e.err.Code != 2302999 {
					t.Fatalf("ERROR %v, want code 2302999", e.err)
				}
				if e = f.expect(ctx, t, client.EventClose); e.close.Code != 1009 {
					t.Fatalf("CLOSE %d %q, want 1009", e.close.Code, e.close.Reason)
				}
			})
		}
	})
}

// TestFacadeSendBeforeOpenIsFlushedInOrder: messages sent between Connect and OPEN are queued
// and sent, in order, once the connection is open.
func TestFacadeSendBeforeOpenIsFlushedInOrder(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		ctx := testContext(t)
		f := newFacade(t)
		if err := f.ws.Connect(p.url+"/echo", requestOptions(), nil); err != nil {
			t.Fatalf("Connect: %v", err)
		}
		want := []client.MessageData{client.StringData("first"), client.ArrayData{2}, client.StringData("third")}
		for _, m := range want {
			f.send(t, m)
		}
		f.expect(ctx, t, client.EventHeaderReceive)
		f.expect(ctx, t, client.EventOpen)
		for i, w := range want {
			e := f.expect(ctx, t, client.EventMessage)
			if fmt.Sprintf("%T %v", e.msg, e.msg) != fmt.Sprintf("%T %v", w, w) {
				t.Fatalf("message %d: %T %v, want %T %v", i, e.msg, e.msg, w, w)
			}
			f.expect(ctx, t, client.EventDataEnd)
		}
		f.closeNormally(ctx, t, 1000, "")
	})
}

// TestPipelinedMessagesKeepOrder sends many messages of mixed types and sizes without waiting
// for the echoes (the blocking API writing from one goroutine while another reads), and checks
// that every echo comes back intact and in order.
func TestPipelinedMessagesKeepOrder(t *testing.T) {
	const count = 1000
	msg := func(i int) (conn.MessageType, []byte) {
		typ := conn.Text
		if i%3 == 1 {
			typ = conn.Binary
		}
		b := append(payload(typ, (i*37)%3000), strconv.Itoa(i)...)
		return typ, b
	}
	forEachPeer(t, func(t *testing.T, p *peer) {
		t.Run("blocking", func(t *testing.T) {
			ctx := testContext(t)
			c, _ := dial(ctx, t, p, "/echo", nil)
			werr := make(chan error, 1)
			go func() {
				for i := range count {
					typ, b := msg(i)
					if err := c.WriteMessage(ctx, typ, b); err != nil {
						werr <- fmt.Errorf("WriteMessage %d: %w", i, err)
						return
					}
				}
				werr <- nil
			}()
			var buf []byte
			for i := range count {
				typ, got, err := c.ReadMessage(ctx, buf)
				if err != nil {
					_ = c.CloseNow()
					<-werr
					t.Fatalf("ReadMessage %d: %v", i, err)
				}
				buf = got
				wantTyp, want := msg(i)
				if typ != wantTyp || !bytes.Equal(got, want) {
					_ = c.CloseNow()
					<-werr
					t.Fatalf("echo %d: %s of %d bytes, want %s of %d bytes", i, typeName(typ), len(got), typeName(wantTyp), len(want))
				}
			}
			if err := <-werr; err != nil {
				t.Fatal(err)
			}
			closeNormally(ctx, t, c, frame.CloseNormal, "")
		})
		t.Run("facade", func(t *testing.T) {
			ctx := testContext(t)
			f := newFacade(t)
			f.connect(ctx, t, p, "/echo", nil)
			for i := range count {
				typ, b := msg(i)
				f.send(t, messageData(typ, b))
			}
			for i := range count {
				typ, got := f.message(ctx, t)
				wantTyp, want := msg(i)
				if typ != wantTyp || !bytes.Equal(got, want) {
					t.Fatalf("echo %d: %s of %d bytes, want %s of %d bytes", i, typeName(typ), len(got), typeName(wantTyp), len(want))
				}
			}
			f.closeNormally(ctx, t, 1000, "")
		})
	})
}

// TestClientCloseWhilePeerSends closes at once while the peer is sending an 8 MiB message in
// fragments: the closing handshake must still complete (the message is read and dropped, or
// delivered, before the peer's close reply).
func TestClientCloseWhilePeerSends(t *testing.T) {
	const path = "/fragments?type=binary&n=8388608&count=8"
	forEachPeer(t, func(t *testing.T, p *peer) {
		t.Run("blocking", func(t *testing.T) {
			ctx := testContext(t)
			c, _ := dial(ctx, t, p, path, nil)
			closeNormally(ctx, t, c, 4002, "enough")
		})
		t.Run("facade", func(t *testing.T) {
			ctx := testContext(t)
			f := newFacade(t)
			f.connect(ctx, t, p, path, nil)
			if err := f.ws.Close(nil, &client.WebSocketCloseOptions{Code: 4002, Reason: "enough"}); err != nil {
				t.Fatalf("Close: %v", err)
			}
			for {
				e := f.next(ctx, t)
				switch e.typ {
				case client.EventMessage, client.EventDataEnd:
					continue // the message may be delivered before the close
				case client.EventClose:
					if e.close.Code != 4002 || e.close.Reason != "enough" {
						t.Fatalf("CLOSE %d %q, want the peer's echo 4002 \"enough\"", e.close.Code, e.close.Reason)
					}
					return
				}
				t.Fatalf("got event %v, want CLOSE", e)
			}
		})
	})
}

// pingsReceived asks the peer's /pings how many pings it has received, with the blocking API.
func pingsReceived(ctx context.Context, t *testing.T, c *client.Conn) int {
	t.Helper()
	if err := c.WriteMessage(ctx, conn.Text, []byte("pings?")); err != nil {
		t.Fatalf("WriteMessage: %v", err)
	}
	_, msg, err := c.ReadMessage(ctx, nil)
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	return parsePings(t, msg)
}

func parsePings(t *testing.T, msg []byte) int {
	t.Helper()
	s, ok := strings.CutPrefix(string(msg), "pings:")
	n, err := strconv.Atoi(s)
	if !ok || err != nil {
		t.Fatalf("peer answered %q to \"pings?\", want \"pings:<n>\"", msg)
	}
	return n
}

// TestKeepalivePingsAnsweredByPeer: with keepalive on short intervals, our pings on an idle
// connection reach the peer (it counts them) and are answered by its pongs, so the connection
// stays open past several pong timeouts.
func TestKeepalivePingsAnsweredByPeer(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		t.Run("blocking", func(t *testing.T) {
			ctx := testContext(t)
			c, _ := dial(ctx, t, p, "/pings", &client.DialOptions{
				PingInterval: 100 * time.Millisecond, PongTimeout: 300 * time.Millisecond})
			// Keepalive sees pongs while a read is going on: read, idle, for 1.5 s.
			idle, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
			typ, msg, err := c.ReadMessage(idle, nil)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("idle ReadMessage: %s %q %v, want the idle context's deadline", typeName(typ), msg, err)
			}
			roundTrip(ctx, t, c, conn.Text, []byte("still open"))
			if n := pingsReceived(ctx, t, c); n < 2 {
				t.Fatalf("peer received %d pings in 1.5 s with a ping interval of 100 ms", n)
			}
			closeNormally(ctx, t, c, frame.CloseNormal, "")
		})
		t.Run("facade", func(t *testing.T) {
			ctx := testContext(t)
			f := newFacade(t)
			o := requestOptions()
			o.PingInterval, o.PongTimeout = 1, 1 // seconds
			f.connect(ctx, t, p, "/pings", o)
			idle, cancel := context.WithTimeout(ctx, 3500*time.Millisecond)
			defer cancel()
			select {
			case e := <-f.events:
				t.Fatalf("event %v on an idle connection with keepalive", e)
			case <-idle.Done():
			}
			f.send(t, client.StringData("still open"))
			if typ, msg := f.message(ctx, t); typ != conn.Text || string(msg) != "still open" {
				t.Fatalf("MESSAGE %s %q", typeName(typ), msg)
			}
			f.send(t, client.StringData("pings?"))
			if _, msg := f.message(ctx, t); parsePings(t, msg) < 2 {
				t.Fatalf("peer received %s in 3.5 s with a ping interval of 1 s, want at least 2", msg)
			}
			f.closeNormally(ctx, t, 1000, "")
		})
	})
}
