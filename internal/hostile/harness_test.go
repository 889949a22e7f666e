package hostile_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/internal/hostile"
)

// Bounds of one scenario run. The machine running the tests may be loaded: the bounds are
// generous, and only exceeding them (a hang) fails a test.
const (
	runBound = 15 * time.Second // a whole scenario, client side
	// slack is what a bounded wait may take beyond its bound before the test calls it a hang.
	slack = 8 * time.Second
	// closeTimeout is the client's close timeout where a test waits for it to expire. Other
	// tests keep the default (5 s): a small one can expire on a loaded machine before the
	// client's close frame is written, and the server would then miss it.
	closeTimeout = 500 * time.Millisecond
)

var allModes = []hostile.Mode{hostile.Whole, hostile.Bytes, hostile.Chunked}

// outcome is what the client must show for a scenario, in both APIs.
//
// Facade (client.WebSocket): HEADERRECEIVE, OPEN, then MESSAGE and DATAEND for each message
// of msgs, then ERROR 2302999 unless remote, then CLOSE with code (and reason when
// checkReason). Blocking API (client.Dial, ReadMessage): the messages of msgs in order, then a
// *conn.CloseError with code and Remote == remote.
type outcome struct {
	msgs        []string // "text:<s>" or "binary:<hex>", see describe
	code        uint16   // close code reported: CLOSE event, CloseError.Code
	remote      bool     // ended by the server's close frame: no ERROR, CloseError.Remote
	reason      string
	checkReason bool
}

// scenario is one entry of a conformance table.
type scenario struct {
	name   string            // RFC section and what is checked
	hs     hostile.Handshake // nil: hostile.Accept()
	script hostile.Script    // what the server does; it also checks what the client sends
	want   outcome
	modes  []hostile.Mode // nil: allModes
	maxMsg int64          // client message size limit; 0: the default
}

// describe formats a message as the tables write it; long ones are summarized.
func describe(text bool, p []byte) string {
	var s string
	if text {
		s = "text:" + string(p)
	} else {
		s = "binary:" + hex.EncodeToString(p)
	}
	if len(s) > 80 {
		kind := "binary"
		if text {
			kind = "text"
		}
		s = fmt.Sprintf("%s:%d bytes crc %08x", kind, len(p), crc32.ChecksumIEEE(p))
	}
	return s
}

func textMsg(s string) string   { return describe(true, []byte(s)) }
func binaryMsg(p []byte) string { return describe(false, p) }

// runTable runs every scenario in each of its modes with both APIs, as subtests
// "<name>/<mode>/<api>": the facade, the blocking API reading whole messages (ReadMessage),
// and the blocking API streaming them (NextReader).
func runTable(t *testing.T, table []scenario) {
	t.Helper()
	for _, sc := range table {
		modes := sc.modes
		if modes == nil {
			modes = allModes
		}
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			for i, m := range modes {
				t.Run(m.String(), func(t *testing.T) {
					seed := uint64(i + 1)
					t.Run("facade", func(t *testing.T) { runFacade(t, sc, m, seed) })
					t.Run("blocking", func(t *testing.T) { runBlocking(t, sc, m, seed, false) })
					t.Run("stream", func(t *testing.T) { runBlocking(t, sc, m, seed, true) })
					t.Run("interrupted", func(t *testing.T) { runInterrupted(t, sc, m, seed) })
				})
			}
			if slices.Contains(modes, hostile.Bytes) {
				// Bytes paced so slowly that nearly every read waits, and is interrupted.
				t.Run("paced/interrupted", func(t *testing.T) { runInterrupted(t, sc, hostile.Paced, 7) })
			}
		})
	}
}

// start starts the scenario's server and stops it at the test's end.
func start(t *testing.T, sc scenario, m hostile.Mode, seed uint64) *hostile.Server {
	t.Helper()
	hs := sc.hs
	if hs == nil {
		hs = hostile.Accept()
	}
	srv, err := hostile.Start(hs, sc.script, m, seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// checkServer fails the test when the server's script failed: the client did not send what
// the scenario requires, or did not close the connection.
func checkServer(t *testing.T, srv *hostile.Server) {
	t.Helper()
	if err := srv.Wait(runBound); err != nil {
		t.Errorf("server: %v", err)
	}
}

// wantEvents returns the facade's event sequence for o.
func (o outcome) wantEvents() []string {
	ev := []string{"HEADERRECEIVE", "OPEN 101 Switching Protocols"}
	for _, m := range o.msgs {
		ev = append(ev, "MESSAGE "+m, "DATAEND")
	}
	if !o.remote {
		ev = append(ev, fmt.Sprintf("ERROR %d", client.CodeOtherError))
	}
	c := fmt.Sprintf("CLOSE %d", o.code)
	if o.checkReason {
		c += " " + o.reason
	}
	return append(ev, c)
}

// recorder logs the events of a client.WebSocket as strings.
type recorder struct {
	mu       sync.Mutex
	events   []string
	errs     []*client.BusinessException
	closed   chan struct{}
	reason   bool // log the CLOSE reason
	onOpen   func()
	closeRes client.CloseResult
}

func newRecorder(t *testing.T, ws *client.WebSocket, logReason bool) *recorder {
	t.Helper()
	r := &recorder{closed: make(chan struct{}), reason: logReason}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ws.On(client.EventHeaderReceive, client.NewHeaderReceiveCallback(func(client.ResponseHeaders) {
		r.log("HEADERRECEIVE")
	})))
	must(ws.On(client.EventOpen, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, st map[uint32]string) {
		r.log(fmt.Sprintf("OPEN 101 %s", st[101]))
		if r.onOpen != nil {
			r.onOpen()
		}
	})))
	must(ws.On(client.EventMessage, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, m client.MessageData) {
		switch d := m.(type) {
		case client.StringData:
			r.log("MESSAGE " + describe(true, []byte(d)))
		case client.ArrayData:
			r.log("MESSAGE " + describe(false, d))
		}
	})))
	must(ws.On(client.EventDataEnd, client.NewDataEndCallback(func() { r.log("DATAEND") })))
	must(ws.On(client.EventError, client.NewWebSocketErrorCallback(func(e *client.BusinessException) {
		r.mu.Lock()
		r.errs = append(r.errs, e)
		r.mu.Unlock()
		r.log(fmt.Sprintf("ERROR %d", e.Code))
	})))
	must(ws.On(client.EventClose, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, c client.CloseResult) {
		s := fmt.Sprintf("CLOSE %d", c.Code)
		if r.reason {
			s += " " + c.Reason
		}
		r.mu.Lock()
		r.closeRes = c
		r.mu.Unlock()
		r.log(s)
		close(r.closed)
	})))
	return r
}

func (r *recorder) log(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}

// waitClose waits for the CLOSE event within d and returns the events so far.
func (r *recorder) waitClose(t *testing.T, d time.Duration) []string {
	t.Helper()
	select {
	case <-r.closed:
	case <-time.After(d):
		r.mu.Lock()
		defer r.mu.Unlock()
		t.Fatalf("no CLOSE event within %v (hang); events: %q", d, r.events)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func facadeOptions(sc scenario) *client.WebSocketRequestOptions {
	return &client.WebSocketRequestOptions{Proxy: client.NoProxy{}, MaxMessageSize: sc.maxMsg}
}

// runFacade runs sc against the seed facade and checks the exact event sequence.
func runFacade(t *testing.T, sc scenario, m hostile.Mode, seed uint64) {
	srv := start(t, sc, m, seed)
	ws := client.CreateWebSocket()
	r := newRecorder(t, ws, sc.want.checkReason)
	if err := ws.Connect(srv.URL, facadeOptions(sc), nil); err != nil {
		t.Fatal(err)
	}
	got := r.waitClose(t, runBound)
	if want := sc.want.wantEvents(); !slices.Equal(got, want) {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
	checkServer(t, srv)
}

func dialOptions(sc scenario) *client.DialOptions {
	return &client.DialOptions{HandshakeTimeout: runBound, PingInterval: -1, MaxMessageSize: sc.maxMsg}
}

// runBlocking runs sc against client.Dial and ReadMessage, or NextReader when stream is set.
func runBlocking(t *testing.T, sc scenario, m hostile.Mode, seed uint64, stream bool) {
	srv := start(t, sc, m, seed)
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	c, _, err := client.Dial(ctx, srv.URL, dialOptions(sc))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.CloseNow()
	var got []string
	var rerr error
	for {
		typ, p, err := readOne(ctx, c, stream)
		if err != nil {
			rerr = err
			break
		}
		got = append(got, describe(typ == conn.Text, p))
	}
	if !slices.Equal(got, sc.want.msgs) {
		t.Errorf("messages:\n got %q\nwant %q", got, sc.want.msgs)
	}
	var ce *conn.CloseError
	switch {
	case !errors.As(rerr, &ce):
		t.Errorf("ReadMessage error = %v, want a *conn.CloseError", rerr)
	case uint16(ce.Code) != sc.want.code || ce.Remote != sc.want.remote:
		t.Errorf("ReadMessage error = %v (code %d, remote %v), want code %d, remote %v",
			rerr, ce.Code, ce.Remote, sc.want.code, sc.want.remote)
	case sc.want.checkReason && ce.Reason != sc.want.reason:
		t.Errorf("close reason = %q, want %q", ce.Reason, sc.want.reason)
	}
	checkServer(t, srv)
}

// Outcomes used by the tables.

// failed is a client that failed the connection with code: it sent a close frame with code
// and reports it (§7.1.7).
func failed(code uint16, msgs ...string) outcome { return outcome{msgs: msgs, code: code} }

// closedBy is a connection the server closed with code (§7.1.5): the client reports the code.
func closedBy(code uint16, msgs ...string) outcome {
	return outcome{msgs: msgs, code: code, remote: true}
}

// lost is a connection that ended without a close frame: 1006 (§7.1.5).
func lost(msgs ...string) outcome { return outcome{msgs: msgs, code: 1006} }

// Scripts used by the tables.

// byeAfter sends frames, then closes with 1000 and expects the client's 1000 echo and TCP close.
func byeAfter(frames ...hostile.Frame) hostile.Script {
	return hostile.Script{hostile.Send(frames...), hostile.Send(hostile.Close(1000, "bye")),
		hostile.ExpectCloseAndEOF(1000)}
}

// violation sends frames and expects the client to fail the connection with code; the client
// may close TCP before the last bytes are written.
func violation(code uint16, frames ...hostile.Frame) hostile.Script {
	return hostile.Script{hostile.SendEarlyFail(frames...), hostile.ExpectCloseAndEOF(code)}
}

// repeatStr returns s repeated n times.
func repeatStr(s string, n int) string { return strings.Repeat(s, n) }

// readOne reads the next message whole, with ReadMessage or through NextReader.
func readOne(ctx context.Context, c *client.Conn, stream bool) (conn.MessageType, []byte, error) {
	if !stream {
		return c.ReadMessage(ctx, nil)
	}
	typ, r, err := c.NextReader(ctx)
	if err != nil {
		return typ, nil, err
	}
	p, err := io.ReadAll(r)
	return typ, p, err
}

// runInterrupted runs sc against ReadMessage called with contexts that expire every few
// hundred microseconds, in the middle of frame headers, payloads and code points: a
// cancelled read keeps what it had read, and the next one continues the message, so the
// messages and the end must be the same as with uninterrupted reads.
func runInterrupted(t *testing.T, sc scenario, m hostile.Mode, seed uint64) {
	srv := start(t, sc, m, seed)
	outer, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	c, _, err := client.Dial(outer, srv.URL, dialOptions(sc))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.CloseNow()
	var got []string
	var rerr error
	for rerr == nil {
		ctx, cancel := context.WithTimeout(outer, 300*time.Microsecond)
		typ, p, err := c.ReadMessage(ctx, nil)
		cancel()
		switch {
		case err == nil:
			got = append(got, describe(typ == conn.Text, p))
		case errors.Is(err, context.DeadlineExceeded) && outer.Err() == nil:
		default:
			rerr = err
		}
	}
	if !slices.Equal(got, sc.want.msgs) {
		t.Errorf("messages:\n got %q\nwant %q", got, sc.want.msgs)
	}
	var ce *conn.CloseError
	switch {
	case !errors.As(rerr, &ce):
		t.Errorf("ReadMessage error = %v, want a *conn.CloseError", rerr)
	case uint16(ce.Code) != sc.want.code || ce.Remote != sc.want.remote:
		t.Errorf("ReadMessage error = %v (code %d, remote %v), want code %d, remote %v",
			rerr, ce.Code, ce.Remote, sc.want.code, sc.want.remote)
	}
	checkServer(t, srv)
}
