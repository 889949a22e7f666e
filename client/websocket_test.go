package client

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const testURL = "ws://127.0.0.1:1/chat"

func TestEventOrderOnSuccessHeaderReceiveOpenMessageDataEndClose(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	ws.dial = fakeDialer(f, nil)
	r := newRecorder(t, ws)
	if err := ws.Connect(testURL, nil, r.asyncCB("CONNECT")); err != nil {
		t.Fatal(err)
	}
	r.expect("CONNECT true", "HEADERRECEIVE a, b", "OPEN 1 Switching Protocols")
	f.serverSend(StringData("hello"))
	f.serverSend(ArrayData{1, 2, 3})
	f.serverClose(4000, "server says bye")
	r.expect("MESSAGE text hello", "DATAEND", "MESSAGE binary 010203", "DATAEND", "CLOSE 4000 server says bye")
	wait(t, ws)
}

func TestCloseByClientCarriesPeerReply(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	f.replyCode = 1001
	ws.dial = fakeDialer(f, nil)
	r := newRecorder(t, ws)
	r.onOpen = func() { _ = ws.Close(r.asyncCB("CLOSECB"), &WebSocketCloseOptions{Code: 3001, Reason: "done"}) }
	_ = ws.Connect(testURL, nil, nil)
	r.expect("HEADERRECEIVE a, b", "OPEN 1 Switching Protocols", "CLOSECB true", "CLOSE 1001 done")
	if w := <-f.written; w != "close:3001:done" {
		t.Fatalf("wrote %q", w)
	}
	wait(t, ws)
}

func TestSendBetweenConnectAndOpenIsQueuedAndFlushedInOrder(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	gate := make(chan struct{})
	ws.dial = fakeDialer(f, gate)
	r := newRecorder(t, ws)
	_ = ws.Connect(testURL, nil, nil)
	for i := range 5 {
		if err := ws.Send(StringData(strings.Repeat("x", i)), r.asyncCB("SEND")); err != nil {
			t.Fatal(err)
		}
	}
	_ = ws.Send(ArrayData{0xff}, nil)
	if len(f.written) != 0 {
		t.Fatal("wrote before open")
	}
	close(gate)
	r.expect("HEADERRECEIVE a, b", "OPEN 1 Switching Protocols", "SEND true", "SEND true", "SEND true", "SEND true", "SEND true")
	want := []string{"text:", "text:x", "text:xx", "text:xxx", "text:xxxx", "binary:ff"}
	for _, w := range want {
		if g := <-f.written; g != w {
			t.Fatalf("wrote %q, want %q", g, w)
		}
	}
	_ = ws.Close(nil, nil)
	r.until("CLOSE 1000")
	wait(t, ws)
}

func TestSendAndCloseWithoutConnectionAreErrors(t *testing.T) {
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	err := ws.Send(StringData("x"), r.asyncCB("SEND"))
	if CodeOf(err) != CodeOtherError || !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Send before Connect: %v", err)
	}
	err = ws.Close(r.asyncCB("CLOSECB"), nil)
	if CodeOf(err) != CodeOtherError || !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Close before Connect: %v", err)
	}
	r.expect("SEND 2302999 websocket: not connected", "CLOSECB 2302999 websocket: not connected")
	wait(t, ws)
}

func TestSendAfterCloseStartedIsError(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	no := false
	f.closeEcho = &no // the close stays in progress
	ws.dial = fakeDialer(f, nil)
	r := newRecorder(t, ws)
	_ = ws.Connect(testURL, nil, nil)
	r.until("OPEN")
	if err := ws.Close(nil, nil); err != nil {
		t.Fatal(err)
	}
	err := ws.Send(StringData("late"), nil)
	if CodeOf(err) != CodeOtherError || !errors.Is(err, ErrClosing) {
		t.Fatalf("Send after Close: %v", err)
	}
	err = ws.Close(nil, nil)
	if !errors.Is(err, ErrClosing) {
		t.Fatalf("second Close: %v", err)
	}
	f.serverClose(1000, "")
	r.until("CLOSE 1000")
	wait(t, ws)
}

func TestConnectWhileConnectingOrOpenIs2302003(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	gate := make(chan struct{})
	ws.dial = fakeDialer(f, gate)
	r := newRecorder(t, ws)
	_ = ws.Connect(testURL, nil, nil)
	if err := ws.Connect(testURL, nil, r.asyncCB("CONNECT2")); CodeOf(err) != CodeConnectionExists {
		t.Fatalf("Connect while connecting: %v", err)
	}
	r.expect("CONNECT2 2302003 websocket: connection already exists")
	close(gate)
	r.until("OPEN")
	if err := ws.Connect(testURL, nil, nil); CodeOf(err) != CodeConnectionExists {
		t.Fatalf("Connect while open: %v", err)
	}
	_ = ws.Close(nil, nil)
	r.until("CLOSE")
	wait(t, ws)
}

func TestReconnectAfterCloseOnSameObject(t *testing.T) {
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	for i := range 3 {
		f := newFake()
		ws.dial = fakeDialer(f, nil)
		if err := ws.Connect(testURL, nil, nil); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		r.until("OPEN")
		f.serverSend(StringData("hi"))
		r.expect("MESSAGE text hi", "DATAEND")
		_ = ws.Close(nil, nil)
		r.until("CLOSE 1000")
	}
	wait(t, ws)
}

func TestReconnectFromInsideCloseCallback(t *testing.T) {
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	f1, f2 := newFake(), newFake()
	ws.dial = fakeDialer(f1, nil)
	var once sync.Once
	r.onClose = func(CloseResult) {
		once.Do(func() {
			ws.dial = fakeDialer(f2, nil)
			if err := ws.Connect(testURL, nil, nil); err != nil {
				t.Errorf("Connect in CLOSE callback: %v", err)
			}
		})
	}
	_ = ws.Connect(testURL, nil, nil)
	r.until("OPEN")
	f1.serverClose(1000, "first")
	r.expect("CLOSE 1000 first", "HEADERRECEIVE a, b", "OPEN 1 Switching Protocols")
	f2.serverClose(1000, "second")
	r.expect("CLOSE 1000 second")
	wait(t, ws)
}

func TestConnectionLostReportsErrorThenClose1006(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	ws.dial = fakeDialer(f, nil)
	r := newRecorder(t, ws)
	var gotErr *BusinessException
	ec := NewWebSocketErrorCallback(func(e *BusinessException) { gotErr = e })
	_ = ws.On(EventError, ec)
	_ = ws.Connect(testURL, nil, nil)
	r.until("OPEN")
	_ = f.closeNow()
	got := r.until("CLOSE")
	if len(got) != 2 || got[0] != "ERROR 2302999" || !strings.HasPrefix(got[1], "CLOSE 1006 connection lost: fake: connection dropped") {
		t.Fatalf("events %q", got)
	}
	wait(t, ws)
	if !errors.Is(gotErr, errFakeDropped) {
		t.Fatalf("ERROR cause: %v", gotErr)
	}
}

func TestConnectFailureReportsErrorThenClose1006(t *testing.T) {
	ws := CreateWebSocket()
	cause := errors.New("dial tcp 127.0.0.1:1: connection refused")
	ws.dial = func(ctx context.Context, u *url.URL, o *WebSocketRequestOptions, p []string, _ *dialState) (transport, *handshakeInfo, error) {
		return nil, nil, cause
	}
	r := newRecorder(t, ws)
	_ = ws.Connect(testURL, nil, r.asyncCB("CONNECT"))
	r.expect("CONNECT true", "ERROR 2302999", "CLOSE 1006 connect failed: dial tcp 127.0.0.1:1: connection refused")
	wait(t, ws)
}

func TestCloseWhileConnectingAbandonsAttempt(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	ws.dial = fakeDialer(f, make(chan struct{})) // never opens
	r := newRecorder(t, ws)
	_ = ws.Connect(testURL, nil, nil)
	_ = ws.Send(StringData("queued"), r.asyncCB("SEND"))
	if err := ws.Close(r.asyncCB("CLOSECB"), nil); err != nil {
		t.Fatal(err)
	}
	r.expect("SEND 2302999 websocket: connection closed before the request was sent", "CLOSECB true",
		"CLOSE 1006 connection attempt abandoned by Close")
	wait(t, ws)
}

func TestQueuedSendsFailWhenConnectionLost(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	f.writeErr = errors.New("broken pipe")
	ws.dial = fakeDialer(f, nil)
	r := newRecorder(t, ws)
	_ = ws.Connect(testURL, nil, nil)
	r.until("OPEN")
	_ = ws.Send(StringData("a"), r.asyncCB("SEND"))
	got := r.until("CLOSE")
	want := []string{"SEND 2302999 broken pipe", "ERROR 2302999", "CLOSE 1006 connection lost: broken pipe"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("events %q, want %q", got, want)
	}
	wait(t, ws)
}

func TestCallbacksMayCallSendCloseOffWithoutDeadlock(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	ws.dial = fakeDialer(f, nil)
	r := newRecorder(t, ws)
	r.onOpen = func() {
		if err := ws.Send(StringData("from open"), nil); err != nil {
			t.Error(err)
		}
	}
	r.onMsg = func(m MessageData) {
		if err := ws.Off(EventDataEnd, r.dataEnd); err != nil {
			t.Error(err)
		}
		if err := ws.Send(m, nil); err != nil { // echo
			t.Error(err)
		}
		if err := ws.Close(nil, &WebSocketCloseOptions{Code: 1000, Reason: "from message"}); err != nil {
			t.Error(err)
		}
	}
	_ = ws.Connect(testURL, nil, nil)
	r.until("OPEN")
	f.serverSend(StringData("ping me"))
	// DATAEND was removed by the MESSAGE callback before it could run.
	r.expect("MESSAGE text ping me", "CLOSE 1000 from message")
	for _, w := range []string{"text:from open", "text:ping me", "close:1000:from message"} {
		if g := <-f.written; g != w {
			t.Fatalf("wrote %q, want %q", g, w)
		}
	}
	wait(t, ws)
}

func TestEventsNeverRunConcurrently(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	ws.dial = fakeDialer(f, nil)
	r := newRecorder(t, ws) // recorder fails on overlap
	_ = ws.Connect(testURL, nil, nil)
	r.until("OPEN")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				_ = ws.Send(StringData("x"), r.asyncCB("SEND"))
			}
		})
	}
	for i := range 200 {
		f.serverSend(ArrayData{byte(i)})
	}
	wg.Wait()
	f.serverClose(1000, "")
	got := r.until("CLOSE")
	n := 0
	next := 0
	for _, e := range got {
		if strings.HasPrefix(e, "MESSAGE binary ") {
			if want := "MESSAGE binary " + strings.TrimPrefix(strings.ToLower(hexByte(next)), ""); e != want {
				t.Fatalf("message %d out of order: %q", next, e)
			}
			next++
			n++
		}
	}
	if n != 200 {
		t.Fatalf("got %d messages", n)
	}
	wait(t, ws)
}

func hexByte(b int) string {
	return string("0123456789abcdef"[b>>4]) + string("0123456789abcdef"[b&15])
}

func TestOnOffRegistration(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	ws.dial = fakeDialer(f, nil)
	var mu sync.Mutex
	var calls []string
	mk := func(name string) *WebSocketAsyncCallback[MessageData] {
		return NewWebSocketAsyncCallback(func(_ *AsyncError, _ MessageData) {
			mu.Lock()
			calls = append(calls, name)
			mu.Unlock()
		})
	}
	a, b, c := mk("a"), mk("b"), mk("c")
	for _, cb := range []Callback{a, b, c, a} { // a twice: registered once
		if err := ws.On(EventMessage, cb); err != nil {
			t.Fatal(err)
		}
	}
	if err := ws.Off(EventMessage, b); err != nil {
		t.Fatal(err)
	}
	r := newRecorder(t, ws)
	_ = ws.Connect(testURL, nil, nil)
	r.until("OPEN")
	f.serverSend(StringData("1"))
	r.until("DATAEND")
	_ = ws.Off(EventMessage) // all, the recorder's included
	f.serverSend(StringData("2"))
	r.expect("DATAEND")
	_ = ws.Close(nil, nil)
	r.until("CLOSE")
	wait(t, ws)
	if strings.Join(calls, ",") != "a,c" {
		t.Fatalf("calls %v", calls)
	}
}

func TestOnWithWrongCallbackTypeIs401(t *testing.T) {
	ws := CreateWebSocket()
	open := NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) {})
	msg := NewWebSocketAsyncCallback(func(*AsyncError, MessageData) {})
	boolCB := NewWebSocketAsyncCallback(func(*AsyncError, bool) {})
	var nilErr *WebSocketErrorCallback
	tests := []struct {
		name string
		t    OnOffType
		cb   Callback
		want error
	}{
		{"message callback for OPEN", EventOpen, msg, ErrCallbackType},
		{"open callback for MESSAGE", EventMessage, open, ErrCallbackType},
		{"bool callback for CLOSE", EventClose, boolCB, ErrCallbackType},
		{"async callback for ERROR", EventError, msg, ErrCallbackType},
		{"error callback for DATAEND", EventDataEnd, NewWebSocketErrorCallback(nil), ErrCallbackType},
		{"dataend callback for HEADERRECEIVE", EventHeaderReceive, NewDataEndCallback(nil), ErrCallbackType},
		{"typed nil", EventError, nilErr, ErrCallbackType},
		{"nil", EventOpen, nil, ErrNilArgument},
		{"unknown event", OnOffType(42), open, ErrUnknownEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ws.On(tt.t, tt.cb)
			var be *BusinessException
			if !errors.As(err, &be) || be.Code != CodeParameterError || !errors.Is(err, tt.want) {
				t.Fatalf("On: %v", err)
			}
		})
	}
	if err := ws.Off(EventOpen, msg); CodeOf(err) != CodeParameterError {
		t.Fatalf("Off with wrong type: %v", err)
	}
}

// TestServerCloseCrossingOursDoesNotCutOurCloseFrame: the server's close frame arrives while
// the writer is sending ours (RFC 6455 §7.1.2: both sides may start the close at once). The
// connection must not be closed under the writer: our close frame goes out, then CLOSE reports
// the server's code. Found by internal/hostile (a rare race there: the server read EOF instead
// of our close frame).
func TestServerCloseCrossingOursDoesNotCutOurCloseFrame(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	f.closeStarted, f.closeGate = make(chan struct{}), make(chan struct{})
	no := false
	f.closeEcho = &no // the server's own close stands for the reply
	ws.dial = fakeDialer(f, nil)
	r := newRecorder(t, ws)
	r.onOpen = func() { _ = ws.Close(r.asyncCB("CLOSECB"), &WebSocketCloseOptions{Code: 4001}) }
	_ = ws.Connect(testURL, nil, nil)
	r.expect("HEADERRECEIVE a, b", "OPEN 1 Switching Protocols")
	select {
	case <-f.closeStarted:
	case <-time.After(10 * time.Second):
		t.Fatal("close not started")
	}
	f.serverClose(4003, "crossed")
	time.Sleep(100 * time.Millisecond) // the reader has seen the server's close by now
	close(f.closeGate)
	r.expect("CLOSECB true", "CLOSE 4003 crossed")
	if f.closeLost.Load() {
		t.Fatal("the connection was closed before our close frame went out")
	}
	if w := <-f.written; w != "close:4001:" {
		t.Fatalf("wrote %q", w)
	}
	wait(t, ws)
}

// TestOffDuringDeliverySkipsRemovedCallback: a MESSAGE callback that removes the next one (and
// one that removes a DATAEND callback) stops those from being called for the message being
// delivered, though the lock-free dispatch read its list before.
func TestOffDuringDeliverySkipsRemovedCallback(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	ws.dial = fakeDialer(f, nil)
	var mu sync.Mutex
	var calls []string
	note := func(s string) {
		mu.Lock()
		calls = append(calls, s)
		mu.Unlock()
	}
	var b *WebSocketAsyncCallback[MessageData]
	var end2 *DataEndCallback
	a := NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) {
		note("a" + m.String())
		if err := ws.Off(EventMessage, b); err != nil {
			t.Error(err)
		}
		if err := ws.Off(EventDataEnd, end2); err != nil {
			t.Error(err)
		}
	})
	b = NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) { note("b" + m.String()) })
	c := NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) { note("c" + m.String()) })
	end1 := NewDataEndCallback(func() {
		note("e1")
	})
	end2 = NewDataEndCallback(func() { note("e2") })
	for _, cb := range []Callback{a, b, c} {
		if err := ws.On(EventMessage, cb); err != nil {
			t.Fatal(err)
		}
	}
	_ = ws.On(EventDataEnd, end1)
	_ = ws.On(EventDataEnd, end2)
	r := newRecorder(t, ws)
	_ = ws.Connect(testURL, nil, nil)
	r.until("OPEN")
	f.serverSend(StringData("1"))
	r.until("DATAEND")
	f.serverSend(StringData("2"))
	r.until("DATAEND")
	_ = ws.Close(nil, nil)
	r.until("CLOSE")
	wait(t, ws)
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(calls, ","); got != "a1,c1,e1,a2,c2,e1" {
		t.Fatalf("calls %s, want a1,c1,e1,a2,c2,e1", got)
	}
}
