package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
)

// fakeTransport is an in-memory connection: the test plays the server through it.
type fakeTransport struct {
	in      chan readResult // what the server sends
	written chan string     // what the client wrote: "text:<s>", "binary:<hex>", "close:<code>:<reason>"
	dead    chan struct{}
	once    sync.Once

	// When closeGate is set, close announces itself on closeStarted and waits for the gate
	// before its frame "goes out": if closeNow came first, the frame is lost (closeLost).
	closeStarted chan struct{}
	closeGate    chan struct{}
	closeLost    atomic.Bool

	// The send queue: a writer goroutine exists while it holds messages, as in conn.
	qmu     sync.Mutex
	queue   []fakeItem
	qbytes  int64
	writing bool

	writeErr  error  // when set, writeMessage fails with it
	closeEcho *bool  // when false, close does not get a reply (the peer is silent)
	replyCode uint32 // when set, the peer replies with this code instead of echoing
}

type fakeItem struct {
	text bool
	p    []byte
	done func(error)
}

type readResult struct {
	m   MessageData
	err error
}

var errFakeDropped = errors.New("fake: connection dropped")

func newFake() *fakeTransport {
	return &fakeTransport{
		in:      make(chan readResult, 16),
		written: make(chan string, 1024),
		dead:    make(chan struct{}),
	}
}

func (f *fakeTransport) readMessage(ctx context.Context) (MessageData, error) {
	select {
	case r := <-f.in:
		return r.m, r.err
	case <-f.dead:
		return nil, errFakeDropped
	}
}

func (f *fakeTransport) enqueue(text bool, p []byte, fixed bool, done func(error)) (bool, error) {
	select {
	case <-f.dead:
		return false, conn.ErrClosed
	default:
	}
	if !fixed {
		p = append([]byte(nil), p...)
	}
	f.qmu.Lock()
	f.queue = append(f.queue, fakeItem{text, p, done})
	f.qbytes += int64(len(p))
	start := !f.writing
	f.writing = true
	f.qmu.Unlock()
	if start {
		go f.writeQueue()
	}
	return false, nil
}

func (f *fakeTransport) tryReadMessage() (MessageData, bool, error) {
	if len(f.in) == 0 {
		return nil, false, nil
	}
	m, err := f.readMessage(context.Background())
	return m, true, err
}

func (f *fakeTransport) buffered() (int64, int) {
	f.qmu.Lock()
	defer f.qmu.Unlock()
	return f.qbytes, len(f.queue)
}

// writeQueue writes the queued messages, like conn's writer: a write error ends the
// connection, and the messages after it fail.
func (f *fakeTransport) writeQueue() {
	for {
		f.qmu.Lock()
		if len(f.queue) == 0 {
			f.writing = false
			f.qmu.Unlock()
			return
		}
		it := f.queue[0]
		f.queue = f.queue[1:]
		f.qmu.Unlock()
		err := f.writeMessage(it.text, it.p)
		if err != nil && !errors.Is(err, conn.ErrClosed) {
			f.closeNow()
		}
		f.qmu.Lock()
		f.qbytes -= int64(len(it.p))
		f.qmu.Unlock()
		if it.done != nil {
			it.done(err)
		}
	}
}

// flushed waits until the queue is written or the connection dropped.
func (f *fakeTransport) flushed() {
	for {
		f.qmu.Lock()
		idle := !f.writing
		f.qmu.Unlock()
		if idle {
			return
		}
		select {
		case <-f.dead:
			return
		case <-time.After(time.Millisecond):
		}
	}
}

func (f *fakeTransport) writeMessage(text bool, p []byte) error {
	select {
	case <-f.dead:
		return fmt.Errorf("%w: %w", conn.ErrClosed, errFakeDropped)
	default:
	}
	if f.writeErr != nil {
		return f.writeErr
	}
	if text {
		f.written <- "text:" + string(p)
	} else {
		f.written <- fmt.Sprintf("binary:%x", p)
	}
	return nil
}

func (f *fakeTransport) close(code uint32, reason string) error {
	f.flushed()
	if f.closeGate != nil {
		close(f.closeStarted)
		<-f.closeGate
		select {
		case <-f.dead:
			f.closeLost.Store(true)
			return errFakeDropped
		default:
		}
	}
	f.written <- fmt.Sprintf("close:%d:%s", code, reason)
	if f.closeEcho != nil && !*f.closeEcho {
		return nil
	}
	reply := code
	if f.replyCode != 0 {
		reply = f.replyCode
	}
	select {
	case f.in <- readResult{err: &closedError{code: reply, reason: reason}}:
	case <-f.dead:
	}
	return nil
}

func (f *fakeTransport) closeNow() error {
	f.once.Do(func() { close(f.dead) })
	return nil
}

// serverSend makes the fake server send a message.
func (f *fakeTransport) serverSend(m MessageData) { f.in <- readResult{m: m} }

// serverClose makes the fake server close with code and reason.
func (f *fakeTransport) serverClose(code uint32, reason string) {
	f.in <- readResult{err: &closedError{code: code, reason: reason}}
}

// fakeDialer returns a dialFunc that hands out f; when gate is not nil, the dial waits for it
// (or for the context).
func fakeDialer(f *fakeTransport, gate <-chan struct{}) dialFunc {
	return func(ctx context.Context, u *url.URL, o *WebSocketRequestOptions, p []string, _ *dialState) (transport, *handshakeInfo, error) {
		if gate != nil {
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		// Like a server that speaks every subprotocol, the fake selects the first one offered.
		protocol := ""
		if len(p) > 0 {
			protocol = p[0]
		}
		return f, &handshakeInfo{statusCode: 101, statusText: "Switching Protocols",
			fields:   []headerField{{Name: "Upgrade", Value: "websocket"}, {Name: "Connection", Value: "Upgrade"}, {Name: "X-Multi", Value: "a"}, {Name: "X-Multi", Value: "b"}},
			protocol: protocol}, nil
	}
}

// recorder registers a callback for every event and logs events as lines. It fails the test
// when two callbacks run at the same time.
type recorder struct {
	t       testing.TB
	events  chan string
	running atomic.Int32
	onOpen  func()
	onMsg   func(MessageData)
	onClose func(CloseResult)

	open    *WebSocketAsyncCallback[map[uint32]string]
	message *WebSocketAsyncCallback[MessageData]
	closeCB *WebSocketAsyncCallback[CloseResult]
	errorCB *WebSocketErrorCallback
	dataEnd *DataEndCallback
	headers *HeaderReceiveCallback
}

func (r *recorder) enter() func() {
	if r.running.Add(1) != 1 {
		r.t.Errorf("two callbacks ran at the same time")
	}
	return func() { r.running.Add(-1) }
}

func (r *recorder) log(format string, args ...any) { r.events <- fmt.Sprintf(format, args...) }

func newRecorder(t testing.TB, ws *WebSocket) *recorder {
	r := &recorder{t: t, events: make(chan string, 4096)}
	r.open = NewWebSocketAsyncCallback(func(err *AsyncError, data map[uint32]string) {
		defer r.enter()()
		r.log("OPEN %d %s", len(data), data[101])
		if r.onOpen != nil {
			r.onOpen()
		}
	})
	r.message = NewWebSocketAsyncCallback(func(err *AsyncError, data MessageData) {
		defer r.enter()()
		switch d := data.(type) {
		case StringData:
			r.log("MESSAGE text %s", string(d))
		case ArrayData:
			r.log("MESSAGE binary %x", []byte(d))
		}
		if r.onMsg != nil {
			r.onMsg(data)
		}
	})
	r.closeCB = NewWebSocketAsyncCallback(func(err *AsyncError, data CloseResult) {
		defer r.enter()()
		r.log("CLOSE %d %s", data.Code, data.Reason)
		if r.onClose != nil {
			r.onClose(data)
		}
	})
	r.errorCB = NewWebSocketErrorCallback(func(err *BusinessException) {
		defer r.enter()()
		r.log("ERROR %d", err.Code)
	})
	r.dataEnd = NewDataEndCallback(func() {
		defer r.enter()()
		r.log("DATAEND")
	})
	r.headers = NewHeaderReceiveCallback(func(h ResponseHeaders) {
		defer r.enter()()
		m := h.(MapData)
		r.log("HEADERRECEIVE %s", m["X-Multi"])
	})
	for _, x := range []struct {
		t  OnOffType
		cb Callback
	}{{EventOpen, r.open}, {EventMessage, r.message}, {EventClose, r.closeCB}, {EventError, r.errorCB},
		{EventDataEnd, r.dataEnd}, {EventHeaderReceive, r.headers}} {
		if err := ws.On(x.t, x.cb); err != nil {
			t.Fatalf("On(%v): %v", x.t, err)
		}
	}
	return r
}

// asyncCB returns a bool callback that logs "<name> ok" or "<name> <code>" to r.
func (r *recorder) asyncCB(name string) *WebSocketAsyncCallback[bool] {
	return NewWebSocketAsyncCallback(func(err *AsyncError, ok bool) {
		defer r.enter()()
		if err != nil {
			r.log("%s %d %v", name, err.Code, errors.Unwrap(err))
			return
		}
		r.log("%s %v", name, ok)
	})
}

// until collects events up to and including the first that starts with last.
func (r *recorder) until(last string) []string {
	r.t.Helper()
	var got []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-r.events:
			got = append(got, e)
			if strings.HasPrefix(e, last) {
				return got
			}
		case <-timeout:
			r.t.Fatalf("timed out waiting for %q; got %q", last, got)
			return nil
		}
	}
}

func (r *recorder) expect(want ...string) {
	r.t.Helper()
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < len(want) {
		select {
		case e := <-r.events:
			got = append(got, e)
		case <-timeout:
			r.t.Fatalf("timed out; got %q, want %q", got, want)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		r.t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
}

// wait waits until no callback of ws is pending.
func wait(t testing.TB, ws *WebSocket) {
	t.Helper()
	select {
	case <-ws.q.wait():
	case <-time.After(10 * time.Second):
		t.Fatal("callbacks did not finish")
	}
}
