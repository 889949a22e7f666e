package h2stream

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A read deadline ends that read only: the stream keeps working after it, which an HTTP/2
// body's own deadline (net/http's server) does not allow.
func TestDeadlineEndsOneReadOnly(t *testing.T) {
	pr, pw := io.Pipe()
	var out syncBuffer
	flushes := 0
	closed := make(chan struct{})
	c := New(Options{In: pr, Out: &out, Flush: func() error { flushes++; return nil },
		OnClose: func() { _ = pr.Close(); close(closed) }})
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	buf := make([]byte, 16)
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	_ = c.SetReadDeadline(time.Time{})
	go func() { _, _ = pw.Write([]byte("hello")) }()
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read after the deadline: %q, %v", buf[:n], err)
	}
	if _, err := c.Write([]byte("world")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	<-closed
	<-c.Done()
	if out.String() != "world" || flushes != 1 {
		t.Fatalf("out %q after %d flushes, want \"world\" after 1", out.String(), flushes)
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("write after Close succeeded")
	}
}

// The end of the incoming body (the peer's END_STREAM) is io.EOF after what it carried, and
// releases the stream.
func TestIncomingEndIsEOF(t *testing.T) {
	released := make(chan struct{})
	c := New(Options{OnClose: func() { close(released) }})
	c.Attach(bytes.NewReader([]byte("last bytes")))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "last bytes" {
		t.Fatalf("%q, %v", got, err)
	}
	<-released
	<-c.Done()
	// Far gives what is written; it reports io.EOF after Close.
	c2 := New(Options{})
	go func() { _, _ = c2.Write([]byte("req")); _ = c2.Close() }()
	b, _ := io.ReadAll(c2.Far())
	if string(b) != "req" {
		t.Fatalf("Far read %q", b)
	}
	<-c2.Done()
}

// With Linger, Close ends our half at once (Far reads io.EOF: the transport sends
// END_STREAM) and releases the stream only when the incoming body ends, or after Linger.
func TestLingerWaitsForThePeersEnd(t *testing.T) {
	pr, pw := io.Pipe()
	released := make(chan time.Time, 1)
	c := New(Options{Linger: time.Minute, OnClose: func() { _ = pr.Close(); released <- time.Now() }})
	c.Attach(pr)
	farDone := make(chan error, 1)
	go func() { _, err := io.ReadAll(c.Far()); farDone <- err }()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-farDone:
		if err != nil {
			t.Fatalf("Far after Close: %v, want io.EOF (END_STREAM)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Far did not end at Close")
	}
	select {
	case <-released:
		t.Fatal("released before the peer ended its side")
	case <-time.After(50 * time.Millisecond):
	}
	_ = pw.Close() // the peer's END_STREAM
	select {
	case <-released:
	case <-time.After(10 * time.Second):
		t.Fatal("not released after the peer's end")
	}
	<-c.Done()

	// A peer that never ends: released after Linger.
	pr2, _ := io.Pipe()
	start := time.Now()
	c2 := New(Options{Linger: 100 * time.Millisecond, OnClose: func() { _ = pr2.Close(); released <- time.Now() }})
	c2.Attach(pr2)
	_ = c2.Close()
	_ = c2.Close() // a second Close neither blocks nor lingers twice
	select {
	case at := <-released:
		if d := at.Sub(start); d < 100*time.Millisecond {
			t.Fatalf("released after %v, before Linger", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not released after Linger")
	}
	<-c2.Done()
}
