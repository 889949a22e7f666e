package client

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRealMessagesInOwnBlockSurviveGCAndAppend checks the facade's one-allocation messages
// (the MessageData header in the payload's block): every payload, text and binary, small,
// over one read buffer and over the 1 MiB growth step, is intact after collections, an
// ArrayData's capacity ends at its length, and appending to it leaves the message alone.
func TestRealMessagesInOwnBlockSurviveGCAndAppend(t *testing.T) {
	var want []MessageData
	for i, n := range []int{0, 1, 23, 24, 100, 4096, 70000, 1<<20 + 7} {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte('a' + (i+j)%26)
		}
		want = append(want, StringData(b), ArrayData(b))
	}
	kept := echoAndKeep(t, want, 30*time.Second, runtime.GC)
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
}

// TestFacadeReceiveCostsOneAllocationPerMessage counts the client process's allocations while
// the facade receives 2000 messages of 1 KiB from the flooding peer: the payload's block is
// the only one per message.
func TestFacadeReceiveCostsOneAllocationPerMessage(t *testing.T) {
	// Up to 1.3: under the race detector sync.Pool drops a quarter of what is put back, and
	// the read buffers borrowed per frame may overflow the free lists into a pool.
	per := facadeReceiveAllocs(t, 1024, 2000, false)
	t.Logf("%.3f allocations per received message", per)
	if per > 1.3 {
		t.Errorf("%.2f allocations per received message, want 1", per)
	}
}

// TestFacadeReceiveOfLargeMessagesAcrossCollections is the regression test of the read buffer
// pools that garbage collection emptied: receiving 1 MiB messages with a collection after
// each (large messages make collections that frequent by themselves), the payload's block is
// still the only allocation per message. With sync.Pools alone it was 2.5.
func TestFacadeReceiveOfLargeMessagesAcrossCollections(t *testing.T) {
	per := facadeReceiveAllocs(t, 1<<20, 40, true)
	t.Logf("%.3f allocations per received message", per)
	if per > 1.1 {
		t.Errorf("%.2f allocations per received 1 MiB message, want 1", per)
	}
}

// facadeReceiveAllocs receives n messages of size bytes from the flooding peer through the
// facade, after the first 100 (past the start), running runtime.GC after each when gc is set,
// and returns the client process's allocations per message.
func facadeReceiveAllocs(t *testing.T, size, n int, gc bool) float64 {
	t.Helper()
	const skip = 100
	var count atomic.Int64
	done := make(chan struct{})
	ws := CreateWebSocket()
	opened := make(chan struct{}, 1)
	closed := make(chan struct{})
	_ = ws.On(EventOpen, NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { opened <- struct{}{} }))
	_ = ws.On(EventClose, NewWebSocketAsyncCallback(func(*AsyncError, CloseResult) { close(closed) }))
	var before, after runtime.MemStats
	_ = ws.On(EventMessage, NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) {
		if d, ok := m.(ArrayData); !ok || len(d) != size {
			t.Errorf("message of %T, want %d bytes of ArrayData", m, size)
		}
		k := count.Add(1)
		if gc && k >= skip && k < skip+int64(n) {
			runtime.GC()
		}
		switch k {
		case skip:
			runtime.ReadMemStats(&before)
		case skip + int64(n):
			runtime.ReadMemStats(&after)
			close(done)
		}
	}))
	if err := ws.Connect(peerURL(t, "/flood?n="+strconv.Itoa(size)), realOptions(), nil); err != nil {
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
	return float64(after.Mallocs-before.Mallocs) / float64(n)
}

// TestBlockingReceiveOfLargeMessagesAcrossCollections checks that the blocking API reads 1 MiB
// messages into a reused buffer with no allocation, though a collection runs before each.
func TestBlockingReceiveOfLargeMessagesAcrossCollections(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := Dial(ctx, peerURL(t, "/flood?n="+strconv.Itoa(1<<20)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.SetReadDeadline(time.Now().Add(time.Minute)); err != nil { // bounds the reads
		t.Fatal(err)
	}
	buf := make([]byte, 0, 1<<20)
	read := func() {
		// A context that cannot end: one that can is watched while a read waits, which costs
		// conn 3 allocations per 1 MiB message, collections or not.
		_, p, err := c.ReadMessage(context.Background(), buf)
		if err != nil || len(p) != 1<<20 {
			t.Fatalf("ReadMessage: %d bytes, %v", len(p), err)
		}
	}
	read()
	if a := testing.AllocsPerRun(20, func() { runtime.GC(); read() }); a != 0 {
		t.Errorf("%v allocations per 1 MiB message with a collection before each, want 0", a)
	}
}
