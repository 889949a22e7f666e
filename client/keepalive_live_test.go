package client

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// The keepalive rules of issue 9, checked against real servers on loopback: the ping cadence
// measured at the server, a frame that arrives slowly, an application that holds the reader
// back, Close and CloseNow with a ping stuck in flight, and a dead server still found dead.

// pingServer is our server role answering pings (its reader runs all along) and recording when
// each ping arrived.
func pingServer(t *testing.T) (url string, pings <-chan time.Time) {
	t.Helper()
	ch := make(chan time.Time, 256)
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		for {
			if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
				return
			}
		}
	}, func(s *wstest.Server) {
		s.Config.OnPing = func([]byte) {
			select {
			case ch <- time.Now():
			default:
			}
		}
	})
	return srv.URL, ch
}

// checkCadence takes n pings from pings and checks the gaps between them: the median within
// interval ±20%, and every gap within half and two and a half times the interval (the
// server's reader, which records them, may be late for one on a loaded machine).
func checkCadence(t *testing.T, pings <-chan time.Time, n int, interval time.Duration) {
	t.Helper()
	var at []time.Time
	for len(at) < n {
		select {
		case p := <-pings:
			at = append(at, p)
		case <-time.After(3*interval + 5*time.Second):
			t.Fatalf("%d pings, want %d", len(at), n)
		}
	}
	var gaps []time.Duration
	for i := 1; i < len(at); i++ {
		gaps = append(gaps, at[i].Sub(at[i-1]))
	}
	t.Logf("gaps between pings at the server: %v", gaps)
	sorted := slices.Clone(gaps)
	slices.Sort(sorted)
	if med := sorted[len(sorted)/2]; med < interval*8/10 || med > interval*12/10 {
		t.Errorf("median gap %v, want %v ±20%%", med, interval)
	}
	if sorted[0] < interval/2 || sorted[len(sorted)-1] > interval*5/2 {
		t.Errorf("gaps from %v to %v, want none under %v nor over %v", sorted[0], sorted[len(sorted)-1], interval/2, interval*5/2)
	}
}

// TestKeepalivePingsEveryIntervalOfSilence: with a server that only answers pings, pings go
// out every PingInterval, whatever PongTimeout is (they went out every PingInterval +
// PongTimeout).
func TestKeepalivePingsEveryIntervalOfSilence(t *testing.T) {
	const interval = 300 * time.Millisecond
	for _, timeout := range []time.Duration{200 * time.Millisecond, 300 * time.Millisecond, time.Second} {
		t.Run(fmt.Sprintf("pongTimeout=%v", timeout), func(t *testing.T) {
			t.Parallel()
			url, pings := pingServer(t)
			c, _, err := Dial(context.Background(), url, &DialOptions{PingInterval: interval, PongTimeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			read := make(chan error, 1)
			go func() {
				_, _, err := c.ReadMessage(context.Background(), nil)
				read <- err
			}()
			checkCadence(t, pings, 9, interval)
			if err := c.Close(frame.CloseNormal, ""); err != nil {
				t.Errorf("Close: %v", err)
			}
			var ce *conn.CloseError
			if err := <-read; !errors.As(err, &ce) || !ce.Remote || ce.Code != frame.CloseNormal {
				t.Errorf("read: %v, want the server's 1000", err)
			}
		})
	}
}

// TestFacadeKeepalivePingsEveryIntervalOfSilence is the cadence through the facade, with the
// platform's options in seconds (1 s / 2 s): a ping a second, not every three.
//
// The cadence tests are not parallel: they run before the parallel tests of the package (64
// MiB writes, 4 MiB frames), whose CPU use under -race would delay the pongs and the timers
// they measure.
func TestFacadeKeepalivePingsEveryIntervalOfSilence(t *testing.T) {
	url, pings := pingServer(t)
	ws := CreateWebSocket()
	ev := newEventLog(ws)
	if err := ws.Connect(url, &WebSocketRequestOptions{Proxy: NoProxy{}, PingInterval: 1, PongTimeout: 2}, nil); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, "OPEN", 10*time.Second)
	checkCadence(t, pings, 6, time.Second)
	ws.Close(nil, nil)
	ev.waitFor(t, "CLOSE 1000", 10*time.Second)
	if errs := ev.count("ERROR"); errs != 0 {
		t.Errorf("%d ERROR events: %q", errs, ev.all())
	}
}

// slowFrameServer sends one binary message of size bytes in a single frame, paced over
// about d, after a header that announces it whole; it never answers a ping (a pong cannot go
// inside a frame, and this server sends none at all), then closes with 1000.
func slowFrameServer(t *testing.T, size int, d time.Duration) (url string, payload []byte) {
	t.Helper()
	payload = make([]byte, size)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	const chunks = 64
	srv := wstest.NewRaw(t, func(nc net.Conn) {
		br, ok := acceptRaw(nc)
		if !ok {
			return
		}
		swallowed := make(chan struct{})
		go func() { // the client's pings, and its close, are read and dropped
			defer close(swallowed)
			io.Copy(io.Discard, br)
		}()
		defer func() { nc.Close(); <-swallowed }()
		hdr := []byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint64(hdr[2:], uint64(size))
		if _, err := nc.Write(hdr); err != nil {
			return
		}
		step := size / chunks
		for i := 0; i < size; i += step {
			time.Sleep(d / chunks)
			if _, err := nc.Write(payload[i:min(i+step, size)]); err != nil {
				return
			}
		}
		nc.Write([]byte{0x88, 2, 0x03, 0xe8})
		select {
		case <-swallowed:
		case <-time.After(10 * time.Second):
		}
	})
	return srv.URL, payload
}

// TestKeepaliveSurvivesSlowFrame: a 4 MiB frame that takes 4 s to arrive, with 1 s / 0.5 s
// keepalive. Its bytes are signs of life: the connection survives and the message arrives
// (it was killed with "pong timeout" after 1.5 s).
func TestKeepaliveSurvivesSlowFrame(t *testing.T) {
	t.Parallel()
	url, payload := slowFrameServer(t, 4<<20, 4*time.Second)
	c, _, err := Dial(context.Background(), url, &DialOptions{PingInterval: time.Second, PongTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	start := time.Now()
	typ, p, err := c.ReadMessage(context.Background(), nil)
	if err != nil || typ != conn.Binary || !bytes.Equal(p, payload) {
		t.Fatalf("after %v: type %v, %d bytes (equal %v), %v; want the 4 MiB message", time.Since(start), typ, len(p), bytes.Equal(p, payload), err)
	}
	if d := time.Since(start); d < 3*time.Second {
		t.Fatalf("the frame took %v, want about 4 s: the test proves nothing", d)
	}
	var ce *conn.CloseError
	if _, _, err := c.ReadMessage(context.Background(), nil); !errors.As(err, &ce) || !ce.Remote || ce.Code != frame.CloseNormal {
		t.Errorf("after the message: %v, want the server's 1000", err)
	}
}

// TestFacadeKeepaliveSurvivesSlowFrame is the same through the facade, 1 s / 1 s keepalive.
func TestFacadeKeepaliveSurvivesSlowFrame(t *testing.T) {
	t.Parallel()
	url, payload := slowFrameServer(t, 4<<20, 4*time.Second)
	ws := CreateWebSocket()
	ev := newEventLog(ws)
	if err := ws.Connect(url, &WebSocketRequestOptions{Proxy: NoProxy{}, PingInterval: 1, PongTimeout: 1}, nil); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, "CLOSE", 20*time.Second)
	want := []string{"OPEN", "MESSAGE 4194304", "CLOSE 1000"}
	if got := ev.all(); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	if m := ev.messages(); len(m) != 1 || !bytes.Equal(m[0], payload) {
		t.Error("the message's bytes differ")
	}
}

// TestKeepalivePongTimeoutCountsAnyBytes: 300 ms / 300 ms keepalive; the server stays
// silent until the client's ping is out, never answers it, and then sends a 10-byte message
// one byte every 100 ms. Those bytes are not a pong, but they are signs of life: the
// connection survives the 1.3 s the message takes (it was killed 300 ms after the ping).
func TestKeepalivePongTimeoutCountsAnyBytes(t *testing.T) {
	srv := wstest.NewRaw(t, func(nc net.Conn) {
		br, ok := acceptRaw(nc)
		if !ok {
			return
		}
		// The client's ping (6 bytes: header and mask key, no payload) is read, not answered.
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(br, make([]byte, 6)); err != nil {
			t.Errorf("server: no ping: %v", err)
			return
		}
		nc.SetReadDeadline(time.Time{})
		swallowed := make(chan struct{})
		go func() { defer close(swallowed); io.Copy(io.Discard, br) }()
		defer func() { nc.Close(); <-swallowed }()
		nc.Write([]byte{0x82, 10})
		for i := range 10 {
			time.Sleep(100 * time.Millisecond)
			if _, err := nc.Write([]byte{byte('0' + i)}); err != nil {
				return
			}
		}
		nc.Write([]byte{0x88, 2, 0x03, 0xe8})
		select {
		case <-swallowed:
		case <-time.After(10 * time.Second):
		}
	})
	c, _, err := Dial(context.Background(), srv.URL, &DialOptions{PingInterval: 300 * time.Millisecond, PongTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if _, p, err := c.ReadMessage(context.Background(), nil); err != nil || string(p) != "0123456789" {
		t.Fatalf("ReadMessage: %q, %v; want the slow message", p, err)
	}
	var ce *conn.CloseError
	if _, _, err := c.ReadMessage(context.Background(), nil); !errors.As(err, &ce) || !ce.Remote || ce.Code != frame.CloseNormal {
		t.Errorf("after the message: %v, want the server's 1000", err)
	}
}

// laterServer is our server role that answers pings and, after the first message, sends the
// others one every gap; the client closes.
func laterServer(t *testing.T, msgs []string, gap time.Duration) string {
	t.Helper()
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		read := make(chan struct{})
		go func() { // answers pings, and the client's close
			defer close(read)
			for {
				if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
					return
				}
			}
		}()
		for i, m := range msgs {
			if i > 0 {
				time.Sleep(gap)
			}
			if c.WriteMessage(context.Background(), conn.Text, []byte(m)) != nil {
				break
			}
		}
		<-read
	})
	return srv.URL
}

// TestKeepaliveSurvivesReaderHeldBack: the blocking API with 1 s / 1 s keepalive; the
// application reads the first message, then does not read for 4 s while the server answers
// pings and sends four more messages. The server was taken for dead after 2 s and the
// messages lost; now no pong deadline runs while no read waits, and every message arrives.
func TestKeepaliveSurvivesReaderHeldBack(t *testing.T) {
	t.Parallel()
	msgs := []string{"m1", "m2", "m3", "m4", "m5"}
	url := laterServer(t, msgs, 700*time.Millisecond)
	c, _, err := Dial(context.Background(), url, &DialOptions{PingInterval: time.Second, PongTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for i, want := range msgs {
		_, p, err := c.ReadMessage(context.Background(), nil)
		if err != nil || string(p) != want {
			t.Fatalf("message %d: %q, %v; want %q", i, p, err, want)
		}
		if i == 0 {
			time.Sleep(4 * time.Second)
		}
	}
	if err := c.Close(frame.CloseNormal, ""); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestFacadeKeepaliveSurvivesSlowCallback: a MESSAGE callback that blocks 4 s with 1 s / 1 s
// keepalive, while the server answers pings and sends four more messages. It got ERROR "pong
// timeout" and CLOSE 1006, and the messages were lost; now all five arrive, in order.
func TestFacadeKeepaliveSurvivesSlowCallback(t *testing.T) {
	t.Parallel()
	msgs := []string{"m1", "m2", "m3", "m4", "m5"}
	url := laterServer(t, msgs, 700*time.Millisecond)
	ws := CreateWebSocket()
	ev := newEventLog(ws)
	var once sync.Once
	ws.On(EventMessage, NewWebSocketAsyncCallback(func(*AsyncError, MessageData) {
		once.Do(func() { time.Sleep(4 * time.Second) })
	}))
	if err := ws.Connect(url, &WebSocketRequestOptions{Proxy: NoProxy{}, PingInterval: 1, PongTimeout: 1}, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(ev.messages()) < len(msgs) && ev.count("CLOSE") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	ws.Close(nil, nil)
	ev.waitFor(t, "CLOSE", 10*time.Second)
	want := []string{"OPEN", "MESSAGE 2", "MESSAGE 2", "MESSAGE 2", "MESSAGE 2", "MESSAGE 2", "CLOSE 1000"}
	if got := ev.all(); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	for i, m := range ev.messages() {
		if string(m) != msgs[i] {
			t.Errorf("message %d: %q, want %q", i, m, msgs[i])
		}
	}
}

// stuckPing dials a silent server (it neither reads nor writes) with a ping due after 200 ms
// and a long pong timeout, and blocks a 64 MiB write on the full socket buffers, so that the
// ping, once due, is stuck behind it for the pong timeout. It returns when the ping is in
// flight.
func stuckPing(t *testing.T, closeTimeout time.Duration) (c *Conn, wrote <-chan error) {
	t.Helper()
	url := silentServer(t)
	c, _, err := Dial(context.Background(), url, &DialOptions{PingInterval: 200 * time.Millisecond,
		PongTimeout: 5 * time.Second, CloseTimeout: closeTimeout})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() { ch <- c.WriteMessage(context.Background(), conn.Binary, make([]byte, 64<<20)) }()
	time.Sleep(600 * time.Millisecond) // the ping is due at 200 ms, and stuck
	return c, ch
}

// TestKeepaliveCloseNowDoesNotWaitForPing: CloseNow with a keepalive ping stuck in flight to a
// silent server returns at once (it waited up to the pong timeout for the ping), and the
// blocked write and the ping are cut.
func TestKeepaliveCloseNowDoesNotWaitForPing(t *testing.T) {
	const closeTimeout = 300 * time.Millisecond
	c, wrote := stuckPing(t, closeTimeout)
	start := time.Now()
	c.CloseNow()
	if d := time.Since(start); d > closeTimeout {
		t.Errorf("CloseNow took %v, want at once (close timeout %v)", d, closeTimeout)
	}
	expectWriteFailed(t, wrote, "CloseNow")
}

// expectWriteFailed waits for the result of the blocked write of stuckPing, which after was
// to end: it must be an error.
func expectWriteFailed(t *testing.T, wrote <-chan error, after string) {
	t.Helper()
	select {
	case err := <-wrote:
		if err == nil {
			t.Error("the blocked 64 MiB write succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the blocked write did not return after %s", after)
	}
}

// TestKeepaliveCloseDoesNotWaitForPing: Close in the same state returns within CloseTimeout
// (and a margin), with ErrCloseTimeout: it had waited for the ping first.
func TestKeepaliveCloseDoesNotWaitForPing(t *testing.T) {
	const closeTimeout = 300 * time.Millisecond
	c, wrote := stuckPing(t, closeTimeout)
	start := time.Now()
	err := c.Close(frame.CloseNormal, "")
	if d := time.Since(start); d > closeTimeout+time.Second {
		t.Errorf("Close took %v, close timeout %v", d, closeTimeout)
	}
	if !errors.Is(err, conn.ErrCloseTimeout) {
		t.Errorf("Close: %v, want ErrCloseTimeout", err)
	}
	expectWriteFailed(t, wrote, "Close")
}

// TestFacadeKeepaliveCloseDoesNotWaitForPing: the facade's Close with a Send blocked by a
// silent server and a keepalive ping stuck behind it: CLOSE comes when Close gives up on the
// stalled write (no progress for the close timeout, conn.DefaultCloseTimeout), not after the
// pong timeout (20 s).
func TestFacadeKeepaliveCloseDoesNotWaitForPing(t *testing.T) {
	t.Parallel()
	url := silentServer(t)
	ws := CreateWebSocket()
	ev := newEventLog(ws)
	if err := ws.Connect(url, &WebSocketRequestOptions{Proxy: NoProxy{}, PingInterval: 4, PongTimeout: 20}, nil); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, "OPEN", 10*time.Second)
	ws.Send(ArrayData(make([]byte, 64<<20)), nil) // fills the socket buffers within the 4 s, even under -race
	time.Sleep(4500 * time.Millisecond)           // the ping is due at 4 s, and stuck
	start := time.Now()
	ws.Close(nil, nil)
	ev.waitFor(t, "CLOSE", conn.DefaultCloseTimeout+5*time.Second)
	if d := time.Since(start); d > conn.DefaultCloseTimeout+2*time.Second {
		t.Errorf("CLOSE %v after Close, want within %v", d, conn.DefaultCloseTimeout)
	}
	if got := ev.all(); !slices.Equal(got, []string{"OPEN", "ERROR", "CLOSE 1006"}) {
		t.Errorf("events %q", got)
	}
}

// TestKeepaliveFindsSilentServerDead: a server that completes the handshake, then neither
// reads nor writes, with the socket open: a reader waiting all along sees ErrPongTimeout
// PingInterval + PongTimeout after the dial.
func TestKeepaliveFindsSilentServerDead(t *testing.T) {
	const interval, timeout = 200 * time.Millisecond, 300 * time.Millisecond
	url := silentServer(t)
	c, _, err := Dial(context.Background(), url, &DialOptions{PingInterval: interval, PongTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	start := time.Now()
	_, _, err = c.ReadMessage(context.Background(), nil)
	d := time.Since(start)
	if !errors.Is(err, ErrPongTimeout) {
		t.Errorf("read: %v, want ErrPongTimeout", err)
	}
	if d < interval+timeout-50*time.Millisecond || d > interval+timeout+time.Second {
		t.Errorf("found dead after %v, want about %v", d, interval+timeout)
	}
}

// eventLog records a WebSocket's OPEN, MESSAGE (with the payload's length), ERROR and CLOSE
// (with the code) events, and the messages' bytes.
type eventLog struct {
	mu   sync.Mutex
	evs  []string
	msgs [][]byte
}

func newEventLog(ws *WebSocket) *eventLog {
	l := &eventLog{}
	add := func(s string) { l.mu.Lock(); l.evs = append(l.evs, s); l.mu.Unlock() }
	ws.On(EventOpen, NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { add("OPEN") }))
	ws.On(EventMessage, NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) {
		var p []byte
		switch m := m.(type) {
		case StringData:
			p = []byte(m)
		case ArrayData:
			p = bytes.Clone(m)
		}
		l.mu.Lock()
		l.msgs = append(l.msgs, p)
		l.mu.Unlock()
		add(fmt.Sprintf("MESSAGE %d", len(p)))
	}))
	ws.On(EventError, NewWebSocketErrorCallback(func(*BusinessException) { add("ERROR") }))
	ws.On(EventClose, NewWebSocketAsyncCallback(func(_ *AsyncError, r CloseResult) { add(fmt.Sprintf("CLOSE %d", r.Code)) }))
	return l
}

func (l *eventLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.evs)
}

func (l *eventLog) messages() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

// count returns the number of events that start with prefix.
func (l *eventLog) count(prefix string) int {
	n := 0
	for _, e := range l.all() {
		if len(e) >= len(prefix) && e[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

// waitFor waits until an event starting with prefix was recorded.
func (l *eventLog) waitFor(t *testing.T, prefix string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for l.count(prefix) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v; events %q", prefix, limit, l.all())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
