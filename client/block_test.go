package client

import (
	"bytes"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netkit/websocket/internal/wstest"
)

// TestRealMessagesInOwnBlockSurviveGCAndAppend checks the facade's one-allocation messages
// (the MessageData header in the payload's block): every payload, text and binary, small,
// over one read buffer and over the 1 MiB growth step, is intact after collections, an
// ArrayData's capacity ends at its length, and appending to it leaves the message alone.
func TestRealMessagesInOwnBlockSurviveGCAndAppend(t *testing.T) {
	srv := wstest.New(t, echo)
	ws := CreateWebSocket()
	got := make(chan MessageData, 32)
	opened := make(chan struct{}, 1)
	closed := make(chan struct{})
	_ = ws.On(EventOpen, NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { opened <- struct{}{} }))
	_ = ws.On(EventMessage, NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) { got <- m }))
	_ = ws.On(EventClose, NewWebSocketAsyncCallback(func(*AsyncError, CloseResult) { close(closed) }))
	if err := ws.Connect(srv.URL, realOptions(), nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		t.Fatal("OPEN did not come")
	}
	var want []MessageData
	for i, n := range []int{0, 1, 23, 24, 100, 4096, 70000, 1<<20 + 7} {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte('a' + (i+j)%26)
		}
		want = append(want, StringData(b), ArrayData(b))
	}
	for _, m := range want {
		_ = ws.Send(m, nil)
	}
	var kept []MessageData
	for range want {
		select {
		case m := <-got:
			kept = append(kept, m)
		case <-time.After(30 * time.Second):
			t.Fatal("MESSAGE did not come")
		}
		runtime.GC()
	}
	runtime.GC()
	for i, m := range kept {
		switch w := want[i].(type) {
		case StringData:
			s, ok := m.(StringData)
			if !ok || s != w {
				t.Fatalf("message %d: got %T of %d bytes, want text of %d", i, m, len(m.String()), len(w))
			}
		case ArrayData:
			a, ok := m.(ArrayData)
			if !ok || !bytes.Equal(a, w) {
				t.Fatalf("message %d: got %T, want binary of %d bytes", i, m, len(w))
			}
			if cap(a) != len(a) {
				t.Errorf("message %d: ArrayData capacity %d beyond its length %d", i, cap(a), len(a))
			}
			grown := append(a, "more"...)
			grown[0]++
			if !bytes.Equal(m.(ArrayData), w) {
				t.Fatalf("message %d changed by an append to its ArrayData", i)
			}
		}
	}
	if s := kept[2].String(); !strings.HasPrefix(s, "b") {
		t.Errorf("text message reads %q", s)
	}
	_ = ws.Close(nil, nil)
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("CLOSE did not come")
	}
	wait(t, ws)
}

// TestFacadeReceiveCostsOneAllocationPerMessage counts the client process's allocations while
// the facade receives 2000 messages of 1 KiB from the flooding peer: the payload's block is
// the only one per message.
func TestFacadeReceiveCostsOneAllocationPerMessage(t *testing.T) {
	const n = 2000
	var count atomic.Int64
	done := make(chan struct{})
	ws := CreateWebSocket()
	opened := make(chan struct{}, 1)
	closed := make(chan struct{})
	_ = ws.On(EventOpen, NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { opened <- struct{}{} }))
	_ = ws.On(EventClose, NewWebSocketAsyncCallback(func(*AsyncError, CloseResult) { close(closed) }))
	var before, after runtime.MemStats
	_ = ws.On(EventMessage, NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) {
		switch count.Add(1) {
		case 100: // past the start
			runtime.ReadMemStats(&before)
		case 100 + n:
			runtime.ReadMemStats(&after)
			close(done)
		}
	}))
	if err := ws.Connect(peerURL(t, "/flood?n=1024"), realOptions(), nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		t.Fatal("OPEN did not come")
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("messages did not come")
	}
	_ = ws.Close(nil, nil)
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("CLOSE did not come")
	}
	wait(t, ws)
	// Up to 1.3: under the race detector sync.Pool drops a quarter of what is put back, and
	// the read buffers borrowed per frame come from a pool.
	per := float64(after.Mallocs-before.Mallocs) / n
	t.Logf("%.3f allocations per received message", per)
	if per > 1.3 {
		t.Errorf("%.2f allocations per received message, want 1", per)
	}
}
