package client

import (
	"context"
	"errors"
	"fmt"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// facadeEvents subscribes to OPEN, ERROR and CLOSE of ws.
type facadeEvents struct {
	opened chan struct{}
	errs   chan *BusinessException
	closed chan CloseResult
}

func watchFacade(t *testing.T, ws *WebSocket) *facadeEvents {
	t.Helper()
	ev := &facadeEvents{opened: make(chan struct{}, 1), errs: make(chan *BusinessException, 16), closed: make(chan CloseResult, 1)}
	for _, err := range []error{
		ws.On(EventOpen, NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { ev.opened <- struct{}{} })),
		ws.On(EventError, NewWebSocketErrorCallback(func(e *BusinessException) { ev.errs <- e })),
		ws.On(EventClose, NewWebSocketAsyncCallback(func(_ *AsyncError, r CloseResult) { ev.closed <- r })),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ev
}

func (ev *facadeEvents) waitOpen(t *testing.T) {
	t.Helper()
	select {
	case <-ev.opened:
	case e := <-ev.errs:
		t.Fatalf("ERROR before OPEN: %v", e)
	case <-time.After(10 * time.Second):
		t.Fatal("no OPEN")
	}
}

func (ev *facadeEvents) waitClose(t *testing.T, d time.Duration) CloseResult {
	t.Helper()
	select {
	case r := <-ev.closed:
		return r
	case <-time.After(d):
		t.Fatalf("no CLOSE within %v", d)
		return CloseResult{}
	}
}

// sendResults counts the results of Send callbacks and checks that they come in order.
type sendResults struct {
	mu   sync.Mutex
	ok   int
	errs []*AsyncError
	all  chan struct{}
	want int
}

func newSendResults(want int) *sendResults { return &sendResults{all: make(chan struct{}), want: want} }

func (r *sendResults) cb() *WebSocketAsyncCallback[bool] {
	return NewWebSocketAsyncCallback(func(err *AsyncError, ok bool) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil {
			r.errs = append(r.errs, err)
		} else {
			r.ok++
		}
		if r.ok+len(r.errs) == r.want {
			close(r.all)
		}
	})
}

func (r *sendResults) wait(t *testing.T, d time.Duration) (int, []*AsyncError) {
	t.Helper()
	select {
	case <-r.all:
	case <-time.After(d):
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ok, r.errs
}

func TestSendPastQueueCapFailsAtOnceAndNothingQueuedIsLost(t *testing.T) {
	const big = 32 << 20 // more than the socket buffers hold: it stays in the queue's writer
	release := make(chan struct{})
	got := make(chan []string, 1)
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		<-release // read nothing until the test has filled the queue
		var msgs []string
		for {
			typ, p, err := c.ReadMessage(context.Background(), nil)
			if err != nil {
				got <- msgs
				return
			}
			if typ == conn.Binary {
				msgs = append(msgs, fmt.Sprintf("binary %d", len(p)))
			} else {
				msgs = append(msgs, string(p))
			}
		}
	}, func(s *wstest.Server) { s.Config.MaxMessageSize = -1 })
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	ws := CreateWebSocket()
	ev := watchFacade(t, ws)
	res := newSendResults(8)
	opts := &WebSocketRequestOptions{Proxy: NoProxy{}, SendQueueMessages: 8, SendQueueBytes: -1}
	if err := ws.Connect(srv.URL, opts, nil); err != nil {
		t.Fatal(err)
	}
	// Before OPEN the same cap holds.
	if err := ws.Send(ArrayData(make([]byte, big)), res.cb()); err != nil {
		t.Fatal(err)
	}
	ev.waitOpen(t)
	for i := range 7 {
		if err := ws.Send(StringData(fmt.Sprintf("message %d", i)), res.cb()); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if b, n := ws.BufferedAmount(); b != big+7*9 || n != 8 {
		t.Errorf("BufferedAmount() = %d bytes, %d messages; want %d, 8", b, n, big+7*9)
	}
	refused := make(chan *AsyncError, 1)
	start := time.Now()
	err := ws.Send(StringData("one too many"), NewWebSocketAsyncCallback(func(e *AsyncError, _ bool) { refused <- e }))
	if d := time.Since(start); d > time.Second {
		t.Errorf("Send past the cap took %v, want at once", d)
	}
	if CodeOf(err) != CodeOtherError || !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Send past the cap: %v (code %d), want %d with ErrQueueFull", err, CodeOf(err), CodeOtherError)
	}
	t.Logf("refused: %v", err)
	select {
	case e := <-refused:
		if !errors.Is(e, ErrQueueFull) {
			t.Errorf("callback of the refused Send: %v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the refused Send's callback was not called")
	}
	if b, n := ws.BufferedAmount(); b != big+7*9 || n != 8 {
		t.Errorf("after the refusal BufferedAmount() = %d bytes, %d messages; want %d, 8", b, n, big+7*9)
	}
	close(release)
	if ok, errs := res.wait(t, 20*time.Second); ok != 8 || len(errs) != 0 {
		t.Fatalf("Send callbacks: %d written, errors %v; want 8 written", ok, errs)
	}
	if b, n := ws.BufferedAmount(); b != 0 || n != 0 {
		t.Errorf("drained BufferedAmount() = %d, %d; want 0, 0", b, n)
	}
	_ = ws.Close(nil, nil)
	if r := ev.waitClose(t, 20*time.Second); r.Code != 1000 {
		t.Errorf("CLOSE %d %q", r.Code, r.Reason)
	}
	msgs := <-got
	want := []string{fmt.Sprintf("binary %d", big)}
	for i := range 7 {
		want = append(want, fmt.Sprintf("message %d", i))
	}
	if fmt.Sprint(msgs) != fmt.Sprint(want) {
		t.Errorf("server received %q, want %q", msgs, want)
	}
	wait(t, ws)
}

// Regression: a program that called Send many times and then Close got its messages cut after
// 5 s in all (ERROR, CLOSE 1006) although the server kept reading. Close now waits as long as
// the server takes messages: 40 MiB in 40,000 messages (far more than the socket buffers
// hold), to a server that reads them steadily over some 6 s, all arrive, in order, then CLOSE
// 1000 without ERROR.
func TestManySendsThenCloseToSlowSteadyServerAllWritten(t *testing.T) {
	const n = 40_000
	var received atomic.Int64
	order := make(chan error, 1)
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		var buf []byte
		for i := 0; ; i++ {
			if i%8 == 7 {
				time.Sleep(time.Millisecond) // steady, slow: ~6 s for all
			}
			_, p, err := c.ReadMessage(context.Background(), buf)
			if err != nil {
				order <- nil
				return
			}
			if want := message(i); string(p) != want {
				order <- fmt.Errorf("message %d is %q, want %q", i, p, want)
				return
			}
			received.Add(1)
			buf = p
		}
	})
	ws := CreateWebSocket()
	ev := watchFacade(t, ws)
	if err := ws.Connect(srv.URL, &WebSocketRequestOptions{Proxy: NoProxy{}, SendQueueMessages: -1, SendQueueBytes: -1}, nil); err != nil {
		t.Fatal(err)
	}
	ev.waitOpen(t)
	res := newSendResults(n)
	cb := res.cb()
	for i := range n {
		if err := ws.Send(StringData(message(i)), cb); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	start := time.Now()
	_ = ws.Close(nil, nil)
	r := ev.waitClose(t, 60*time.Second)
	t.Logf("CLOSE %d %q %v after Close; server received %d", r.Code, r.Reason, time.Since(start), received.Load())
	select {
	case e := <-ev.errs:
		t.Errorf("ERROR %v", e)
	default:
	}
	if r.Code != 1000 {
		t.Errorf("CLOSE %d %q, want 1000", r.Code, r.Reason)
	}
	if ok, errs := res.wait(t, 10*time.Second); ok != n {
		t.Errorf("%d Sends reported written, %d failed; want %d written", ok, len(errs), n)
	}
	if err := waitErr(order); err != nil {
		t.Error(err)
	}
	if got := received.Load(); got != n {
		t.Errorf("server received %d messages, want %d", got, n)
	}
	wait(t, ws)
}

// message is the i-th message of the test: 1 KiB that starts with its number.
func message(i int) string {
	b := make([]byte, 1024)
	copy(b, fmt.Sprintf("m%07d ", i))
	for j := 9; j < len(b); j++ {
		b[j] = 'a' + byte(j%26)
	}
	return string(b)
}

func waitErr(ch <-chan error) error {
	select {
	case err := <-ch:
		return err
	case <-time.After(20 * time.Second):
		return errors.New("server did not finish")
	}
}

// goroutinesCreated returns how many goroutines the process has started so far.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// Regression: each Send on an idle queue started the writing goroutine (0.9 goroutines per
// round trip). On the steady path, Send now writes the message itself when the socket takes
// it, and MESSAGE runs on the reading goroutine: a round trip starts no goroutine.
func TestFacadeRoundTripsStartNoGoroutinePerMessage(t *testing.T) {
	const n = 2000
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		var buf []byte
		for {
			typ, p, err := c.ReadMessage(context.Background(), buf)
			if err != nil || c.WriteMessage(context.Background(), typ, p) != nil {
				return
			}
			buf = p
		}
	})
	ws := CreateWebSocket()
	ev := watchFacade(t, ws)
	got := make(chan struct{}, 1)
	if err := ws.On(EventMessage, NewWebSocketAsyncCallback(func(*AsyncError, MessageData) { got <- struct{}{} })); err != nil {
		t.Fatal(err)
	}
	if err := ws.Connect(srv.URL, &WebSocketRequestOptions{Proxy: NoProxy{}}, nil); err != nil {
		t.Fatal(err)
	}
	ev.waitOpen(t)
	wait(t, ws) // the OPEN callbacks' goroutine has ended
	msg := StringData("ping")
	roundTrip := func() {
		if err := ws.Send(msg, nil); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("no echo")
		}
	}
	for range 10 {
		roundTrip()
	}
	before := goroutinesCreated()
	for range n {
		roundTrip()
	}
	per := float64(goroutinesCreated()-before) / n
	t.Logf("%.3f goroutines started per round trip", per)
	if per > 0.05 {
		t.Errorf("%.3f goroutines started per round trip, want none on the steady path", per)
	}
	_ = ws.Close(nil, nil)
	ev.waitClose(t, 20*time.Second)
	wait(t, ws)
}

// Send copies an ArrayData only when it queues it: the caller reuses one buffer for every
// message, the server reads nothing at first (so that messages queue; those over 64 KiB always
// do), and each message must arrive as it was when Send was called.
func TestSendArrayDataCallerMayReuseItsSliceAtOnce(t *testing.T) {
	const n = 200
	// Even messages are 70 KiB (queued), odd ones 1 KiB (written at once when nothing waits).
	msg := func(i int) string {
		if i%2 == 0 {
			return strings.Repeat(message(i), 70)
		}
		return message(i)
	}
	release := make(chan struct{})
	order := make(chan error, 1)
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		<-release
		var buf []byte
		for i := range n {
			_, p, err := c.ReadMessage(context.Background(), buf)
			if err != nil {
				order <- fmt.Errorf("message %d: %w", i, err)
				return
			}
			if want := msg(i); string(p) != want {
				order <- fmt.Errorf("message %d (%d bytes) starts %q, want %d bytes starting %q", i, len(p), p[:min(9, len(p))], len(want), want[:9])
				return
			}
			buf = p
		}
		order <- nil
		_, _, _ = c.ReadMessage(context.Background(), buf)
	})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseOnce) // runs before the server's cleanup, which waits for the handler
	ws := CreateWebSocket()
	ev := watchFacade(t, ws)
	if err := ws.Connect(srv.URL, &WebSocketRequestOptions{Proxy: NoProxy{}}, nil); err != nil {
		t.Fatal(err)
	}
	ev.waitOpen(t)
	buf := make([]byte, 70<<10)
	for i := range n {
		p := buf[:copy(buf, msg(i))]
		if err := ws.Send(ArrayData(p), nil); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
		for j := range p {
			p[j] = 'X' // what a queue that kept the caller's slice would send
		}
	}
	if _, m := ws.BufferedAmount(); m == 0 {
		t.Fatal("no message is queued: the test proves nothing")
	}
	releaseOnce()
	if err := waitErr(order); err != nil {
		t.Error(err)
	}
	_ = ws.Close(nil, nil)
	ev.waitClose(t, 20*time.Second)
	wait(t, ws)
}
