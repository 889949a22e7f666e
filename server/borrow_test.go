package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// borrowMsgs is how many messages TestBorrowMessagesDeliversEveryPayloadInWireOrder sends.
const borrowMsgs = 300

// borrowPayload is message i of the borrowing tests: text (ASCII) for even i, binary for odd,
// of a size that cycles through the frame length encodings (RFC 6455 §5.2: 7-bit, 16-bit and
// 64-bit lengths) and grows and shrinks, so that a stale byte of a longer earlier message in
// the reused buffer would show.
func borrowPayload(i int) (text bool, p []byte) {
	sizes := []int{0, 1, 7, 125, 126, 127, 1000, 65535, 65536, 70000, 3, 300000, 2}
	n := sizes[i%len(sizes)] + i
	p = make([]byte, n)
	text = i%2 == 0
	for j := range p {
		if text {
			p[j] = 'a' + byte((i+j)%26)
		} else {
			p[j] = byte(i*7 + j*13)
		}
	}
	return text, p
}

// writeFragmented writes p as one masked client message of k frames (gobwas/ws framing).
func writeFragmented(nc net.Conn, text bool, p []byte, k int) error {
	op := ws.OpBinary
	if text {
		op = ws.OpText
	}
	step := max(1, (len(p)+k-1)/k)
	off := 0
	for {
		end := min(len(p), off+step)
		fin := end == len(p)
		if err := ws.WriteFrame(nc, ws.MaskFrame(ws.NewFrame(op, fin, bytes.Clone(p[off:end])))); err != nil {
			return err
		}
		if fin {
			return nil
		}
		off, op = end, ws.OpContinuation
	}
}

// TestBorrowMessagesDeliversEveryPayloadInWireOrder: with BorrowMessages, a gobwas/ws client
// sends borrowMsgs messages of varying sizes and types, some in up to 5 fragments, and reads
// nothing until it has sent them all. Every messageReceive gets a *BorrowedData with exactly
// the bytes of the next message on the wire, still intact after the callback slept, and the
// *BorrowedData shows nil Data once the callback returned. Every callback echoes its borrowed
// data with Send (the client's socket is full, so most echoes wait in the send queue, and the
// reader overwrites the buffer meanwhile: Send must have copied them) with a result callback
// that sometimes sleeps (the reader must wait for it rather than overwrite the view). The
// client then reads every echo intact and in order; the events run connect, the messages
// with their Send results, close.
func TestBorrowMessagesDeliversEveryPayloadInWireOrder(t *testing.T) {
	s := CreateWebSocketServer()
	var (
		mu       sync.Mutex
		log      []string // "connect", "m<i>", "r<i>", "close"
		failures []string
		n        int
		prev     *BorrowedData
		queued   int // most messages seen in the send queue from a callback
	)
	fail := func(format string, a ...any) {
		if len(failures) < 5 {
			failures = append(failures, fmt.Sprintf(format, a...))
		}
	}
	closed := make(chan CloseResult, 1)
	must(t, s.On(EventConnect, NewConnectCallback(func(WebSocketConnection) {
		mu.Lock()
		log = append(log, "connect")
		mu.Unlock()
	})))
	must(t, s.On(EventMessageReceive, NewMessageReceiveCallback(func(m WebSocketMessage) {
		mu.Lock()
		defer mu.Unlock()
		i := n
		n++
		log = append(log, "m"+itoa(i))
		b, ok := m.Data.(*BorrowedData)
		if !ok {
			fail("message %d is %T, want *BorrowedData", i, m.Data)
			return
		}
		prev = b
		text, want := borrowPayload(i)
		if b.Text != text || !bytes.Equal(b.Data, want) {
			fail("message %d: text %v, %d bytes; want text %v, %d bytes", i, b.Text, len(b.Data), text, len(want))
		}
		if i%7 == 0 {
			time.Sleep(time.Millisecond) // the reader must not read into the view meanwhile
			if !bytes.Equal(b.Data, want) {
				fail("message %d changed while its callback ran", i)
			}
		}
		err := s.Send(b, m.ClientConnection, NewWebSocketAsyncCallback(func(err *AsyncError, _ bool) {
			mu.Lock()
			log = append(log, "r"+itoa(i))
			if err != nil {
				fail("send %d: %v", i, err)
			}
			if b.Data != nil {
				// Results run between messageReceive callbacks, never during one.
				fail("result %d: the *BorrowedData shows %d bytes after its callback", i, len(b.Data))
			}
			mu.Unlock()
			if i%10 == 0 {
				time.Sleep(time.Millisecond) // a pending callback when the next message comes
			}
		}))
		if err != nil {
			fail("send %d: %v", i, err)
		}
		if _, q, err := s.BufferedAmount(m.ClientConnection); err == nil {
			queued = max(queued, q)
		}
	})))
	must(t, s.On(EventClose, NewCloseCallback(func(_ WebSocketConnection, r CloseResult) {
		mu.Lock()
		log = append(log, "close")
		mu.Unlock()
		closed <- r
	})))
	url := start(t, s, &WebSocketServerConfig{BorrowMessages: true})

	nc, _, _, err := ws.Dial(context.Background(), url)
	must(t, err)
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(time.Minute))
	for i := range borrowMsgs {
		text, p := borrowPayload(i)
		must(t, writeFragmented(nc, text, p, 1+(i%3)*(i%5)/2))
	}
	for i := range borrowMsgs {
		p, op, err := wsutil.ReadServerData(nc)
		must(t, err)
		text, want := borrowPayload(i)
		if (op == ws.OpText) != text || !bytes.Equal(p, want) {
			t.Fatalf("echo %d: op %v, %d bytes; want text %v, %d bytes", i, op, len(p), text, len(want))
		}
	}
	must(t, wsutil.WriteClientMessage(nc, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, "done")))
	select {
	case r := <-closed:
		if r.Code != 1000 || r.Reason != "done" {
			t.Errorf("close %d %q, want 1000 \"done\"", r.Code, r.Reason)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no close event")
	}

	mu.Lock()
	defer mu.Unlock()
	for _, f := range failures {
		t.Error(f)
	}
	if n != borrowMsgs {
		t.Fatalf("%d messages, want %d", n, borrowMsgs)
	}
	if queued == 0 {
		t.Error("no echo waited in the send queue: the test does not cover Send's copy")
	}
	if prev == nil || prev.Data != nil {
		t.Error("the last *BorrowedData still shows data after its callback")
	}
	// connect, then m0..m<n-1> in order, each result after its message, close last.
	if len(log) != 2+2*borrowMsgs || log[0] != "connect" || log[len(log)-1] != "close" {
		t.Fatalf("%d events, first %q, last %q", len(log), log[0], log[len(log)-1])
	}
	next, seen := 0, map[string]bool{}
	for _, e := range log[1 : len(log)-1] {
		switch e[0] {
		case 'm':
			if e != "m"+itoa(next) {
				t.Fatalf("event %s where m%d was due", e, next)
			}
			next++
		case 'r':
			if !seen["m"+e[1:]] {
				t.Fatalf("result %s before its message", e)
			}
		}
		seen[e] = true
	}
}

// TestSendBorrowedDataChecks: Send refuses a nil *BorrowedData and text that is not UTF-8 with
// 401, and sends a *BorrowedData of either type, built by the caller, as that type.
func TestSendBorrowedDataChecks(t *testing.T) {
	s, rec, url := echoServer(t, nil)
	nc, _, _, err := ws.Dial(context.Background(), url)
	must(t, err)
	defer nc.Close()
	id := rec.expect(t, "connect").conn
	for _, bad := range []MessageData{(*BorrowedData)(nil), &BorrowedData{Text: true, Data: []byte{0xff}}} {
		err := s.Send(bad, id, nil)
		var ae *AsyncError
		if !errors.As(err, &ae) || ae.Code != CodeParameterError {
			t.Errorf("Send(%v) = %v, want 401", bad, err)
		}
	}
	must(t, s.Send(&BorrowedData{Text: true, Data: []byte("héllo")}, id, nil))
	must(t, s.Send(&BorrowedData{Data: []byte{1, 2}}, id, nil))
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	for _, want := range []struct {
		op ws.OpCode
		p  string
	}{{ws.OpText, "héllo"}, {ws.OpBinary, "\x01\x02"}} {
		p, op, err := wsutil.ReadServerData(nc)
		must(t, err)
		if op != want.op || string(p) != want.p {
			t.Fatalf("got %v %q, want %v %q", op, p, want.op, want.p)
		}
	}
	if s := (&BorrowedData{Text: true, Data: []byte("hi")}).String(); s != "hi" {
		t.Errorf("String() = %q", s)
	}
	if s := (&BorrowedData{Data: []byte{0xab}}).String(); s != "ARRAY_DATA(1 bytes: ab)" {
		t.Errorf("String() = %q", s)
	}
}

// TestDefaultModeMessagesKeptSurviveGCAndAppend checks the default mode's one-allocation
// messages (the MessageData header in the payload's block): a callback keeps every message,
// text and binary, empty, small, over the read buffer, over 1 MiB and in fragments; after more
// messages and collections every payload is intact, an ArrayData's capacity ends at its length,
// and appending to it leaves the message alone.
func TestDefaultModeMessagesKeptSurviveGCAndAppend(t *testing.T) {
	s := CreateWebSocketServer()
	var (
		mu   sync.Mutex
		kept []MessageData
	)
	closed := make(chan struct{})
	must(t, s.On(EventMessageReceive, NewMessageReceiveCallback(func(m WebSocketMessage) {
		mu.Lock()
		kept = append(kept, m.Data)
		mu.Unlock()
		runtime.GC()
	})))
	must(t, s.On(EventClose, NewCloseCallback(func(WebSocketConnection, CloseResult) { close(closed) })))
	url := start(t, s, nil)
	nc, _, _, err := ws.Dial(context.Background(), url)
	must(t, err)
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(time.Minute))
	type msg struct {
		text bool
		p    []byte
	}
	var want []msg
	for i, n := range []int{0, 1, 23, 24, 100, 4096, 70000, 1<<20 + 7} {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte('a' + (i+j)%26)
		}
		want = append(want, msg{true, b}, msg{false, b})
	}
	for i, m := range want {
		must(t, writeFragmented(nc, m.text, m.p, 1+i%4))
	}
	must(t, wsutil.WriteClientMessage(nc, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("no close event")
	}
	runtime.GC()
	mu.Lock()
	defer mu.Unlock()
	if len(kept) != len(want) {
		t.Fatalf("%d messages, want %d", len(kept), len(want))
	}
	for i, m := range kept {
		w := want[i]
		if w.text {
			if s, ok := m.(StringData); !ok || string(s) != string(w.p) {
				t.Fatalf("message %d: got %T of %d bytes, want text of %d", i, m, len(m.String()), len(w.p))
			}
			continue
		}
		a, ok := m.(ArrayData)
		if !ok || !bytes.Equal(a, w.p) {
			t.Fatalf("message %d: got %T, want binary of %d bytes", i, m, len(w.p))
		}
		if cap(a) != len(a) {
			t.Errorf("message %d: ArrayData capacity %d beyond its length %d", i, cap(a), len(a))
		}
		grown := append(a, "more"...)
		grown[0]++
		if !bytes.Equal(m.(ArrayData), w.p) {
			t.Fatalf("message %d changed by an append to its ArrayData", i)
		}
	}
}

// receiveAllocs has a raw client send skip+n masked binary messages of size bytes, written in
// large batches, to a server with cfg, and returns the process's allocations per message while
// the server received the last n (the client side writes pre-built frames: no allocation).
func receiveAllocs(t *testing.T, borrow bool, size, n int) float64 {
	t.Helper()
	const skip = 200
	s := CreateWebSocketServer()
	var before, after runtime.MemStats
	count := 0 // the callbacks of one connection run one at a time
	done := make(chan struct{})
	must(t, s.On(EventMessageReceive, NewMessageReceiveCallback(func(m WebSocketMessage) {
		var l int
		switch d := m.Data.(type) {
		case ArrayData:
			l = len(d)
		case *BorrowedData:
			l = len(d.Data)
		}
		if l != size {
			t.Errorf("message of %d bytes, want %d", l, size)
		}
		count++
		switch count {
		case skip:
			runtime.ReadMemStats(&before)
		case skip + n:
			runtime.ReadMemStats(&after)
			close(done)
		}
	})))
	url := start(t, s, &WebSocketServerConfig{BorrowMessages: borrow})
	nc := rawWS(t, addrOf(url))
	defer nc.Close()
	var frame bytes.Buffer
	must(t, ws.WriteFrame(&frame, ws.MaskFrame(ws.NewBinaryFrame(bytes.Repeat([]byte{'z'}, size)))))
	batch := bytes.Repeat(frame.Bytes(), 100)
	_ = nc.SetDeadline(time.Now().Add(time.Minute))
	for range (skip + n) / 100 {
		if _, err := nc.Write(batch); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the messages did not come")
	}
	return float64(after.Mallocs-before.Mallocs) / float64(n)
}

// TestDefaultModeReceiveCostsOneAllocationPerMessage: in the default mode the payload's block
// (header and payload together) is the only allocation per received message. It was two: the
// payload and the box of its MessageData.
func TestDefaultModeReceiveCostsOneAllocationPerMessage(t *testing.T) {
	// Up to 1.4: under the race detector sync.Pool drops a quarter of what is put back.
	per := receiveAllocs(t, false, 1024, 2000)
	t.Logf("%.3f allocations per received message", per)
	if per > 1.4 {
		t.Errorf("%.2f allocations per received message, want 1", per)
	}
}

// TestBorrowMessagesReceiveAllocatesNothing: in the borrowing mode a received message costs
// no allocation.
func TestBorrowMessagesReceiveAllocatesNothing(t *testing.T) {
	per := receiveAllocs(t, true, 1024, 2000)
	t.Logf("%.3f allocations per received message", per)
	if per > 0.4 {
		t.Errorf("%.2f allocations per received message, want 0", per)
	}
}

// TestSizeClassesMatchTheRuntime checks allocSize against the runtime: the capacity append
// gives a new slice is the size the runtime allocated for it. Sizes at every class boundary
// and around 8 KiB pages past 32 KiB.
func TestSizeClassesMatchTheRuntime(t *testing.T) {
	var sizes []int
	for _, c := range sizeClasses {
		sizes = append(sizes, int(c)-1, int(c), int(c)+1)
	}
	for k := 5; k <= 16; k++ {
		sizes = append(sizes, k<<13-1, k<<13, k<<13+1)
	}
	for _, n := range sizes {
		if n == 0 {
			continue
		}
		if got, want := allocSize(n), cap(append([]byte(nil), make([]byte, n)...)); got != want {
			t.Errorf("allocSize(%d) = %d, the runtime allocates %d", n, got, want)
		}
	}
	for _, c := range []struct {
		n     int
		block bool
	}{{1, true}, {64, true}, {1000, true}, {1024, true}, {4096, false}, {16 << 10, false}, {64 << 10, false}, {100000, true}} {
		if useBlock(c.n) != c.block {
			t.Errorf("useBlock(%d) = %v", c.n, !c.block)
		}
	}
}
