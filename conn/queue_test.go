package conn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/frame"
)

// smallBuffers shrinks the kernel buffers of both ends, so that the send queue, not the
// socket, holds what the peer has not read.
func smallBuffers(t *testing.T, cn, sn net.Conn) {
	t.Helper()
	if err := cn.(*net.TCPConn).SetWriteBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	if err := sn.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
}

// doneLog collects the results of Enqueue's done functions in order.
type doneLog struct {
	mu   sync.Mutex
	errs []error
	all  chan struct{}
	want int
}

func newDoneLog(want int) *doneLog { return &doneLog{all: make(chan struct{}), want: want} }

func (d *doneLog) done(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.errs = append(d.errs, err)
	if len(d.errs) == d.want {
		close(d.all)
	}
}

func (d *doneLog) wait(t *testing.T) []error {
	t.Helper()
	select {
	case <-d.all:
	case <-time.After(20 * time.Second):
		t.Fatalf("only %d of %d done calls", len(d.errs), d.want)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.errs
}

// enqueue is c.Enqueue reporting to log; a message written at once (no done call) is logged
// as written.
func enqueue(c *Conn, typ MessageType, p []byte, log *doneLog) error {
	written, err := c.Enqueue(typ, p, log.done)
	if written {
		log.done(nil)
	}
	return err
}

func TestEnqueuePastCapFailsAtOnceAndKeepsEverythingQueued(t *testing.T) {
	const big = 32 << 20 // more than the socket buffers hold: the writer blocks on it
	for _, tc := range []struct {
		name       string
		cfg        Config
		smallFit   int // small messages accepted behind the big one
		wantBytes  int64
		wantMsgs   int
		smallBytes int
	}{
		{"message cap", Config{SendQueueMessages: 8, SendQueueBytes: -1}, 7, big + 7*10, 8, 10},
		{"byte cap", Config{SendQueueBytes: big + 100}, 10, big + 100, 11, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cn, sn := tcpPair(t)
			cfg := tc.cfg
			cfg.Role = frame.RoleClient
			c := New(cn, nil, &cfg)
			s := New(sn, nil, &Config{Role: frame.RoleServer, MaxMessageSize: -1})
			log := newDoneLog(1 + tc.smallFit)
			if err := enqueue(c, Binary, make([]byte, big), log); err != nil {
				t.Fatalf("first Enqueue (queue empty): %v", err)
			}
			for i := range tc.smallFit {
				if err := enqueue(c, Text, fmt.Appendf(nil, "message %02d", i), log); err != nil {
					t.Fatalf("Enqueue %d: %v", i, err)
				}
			}
			if b, n := c.Buffered(); b != tc.wantBytes || n != tc.wantMsgs {
				t.Errorf("Buffered() = %d bytes, %d messages; want %d, %d", b, n, tc.wantBytes, tc.wantMsgs)
			}
			start := time.Now()
			_, err := c.Enqueue(Text, []byte("one too many"), log.done)
			if !errors.Is(err, ErrQueueFull) {
				t.Fatalf("Enqueue past the cap: %v, want ErrQueueFull", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("Enqueue past the cap took %v, want at once", d)
			}
			t.Logf("error: %v", err)
			if b, n := c.Buffered(); b != tc.wantBytes || n != tc.wantMsgs {
				t.Errorf("after the refusal Buffered() = %d bytes, %d messages; want %d, %d", b, n, tc.wantBytes, tc.wantMsgs)
			}
			// The server now reads: every accepted message arrives, in order.
			ctx := context.Background()
			typ, p, err := s.ReadMessage(ctx, nil)
			if err != nil || typ != Binary || len(p) != big {
				t.Fatalf("first message: %v %d bytes %v", typ, len(p), err)
			}
			for i := range tc.smallFit {
				_, p, err := s.ReadMessage(ctx, nil)
				if want := fmt.Sprintf("message %02d", i); err != nil || string(p) != want {
					t.Fatalf("message %d: %q %v, want %q", i, p, err, want)
				}
			}
			for i, err := range log.wait(t) {
				if err != nil {
					t.Errorf("done %d: %v", i, err)
				}
			}
			if b, n := c.Buffered(); b != 0 || n != 0 {
				t.Errorf("drained Buffered() = %d, %d; want 0, 0", b, n)
			}
			c.CloseNow()
			s.CloseNow()
		})
	}
}

func TestCloseFlushesQueueToSlowSteadyReaderLongerThanCloseTimeout(t *testing.T) {
	const (
		timeout = 300 * time.Millisecond
		n       = 50
		size    = 32 << 10
		pause   = 25 * time.Millisecond // n*pause: 1.25 s, several close timeouts
	)
	cn, sn := tcpPair(t)
	smallBuffers(t, cn, sn)
	c := New(cn, nil, &Config{Role: frame.RoleClient, CloseTimeout: timeout})
	s := New(sn, nil, &Config{Role: frame.RoleServer, CloseTimeout: 5 * time.Second})
	log := newDoneLog(n)
	for i := range n {
		p := make([]byte, size)
		p[0] = byte(i)
		if err := enqueue(c, Binary, p, log); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			time.Sleep(pause)
			_, p, err := s.ReadMessage(context.Background(), nil)
			if err != nil {
				if i != n {
					err = fmt.Errorf("after %d messages: %w", i, err)
				} else if ce := (*CloseError)(nil); errors.As(err, &ce) && ce.Remote && ce.Code == frame.CloseNormal {
					err = nil
				}
				got <- err
				return
			}
			if len(p) != size || p[0] != byte(i) {
				got <- fmt.Errorf("message %d: %d bytes, first %d", i, len(p), p[0])
				return
			}
		}
	}()
	start := time.Now()
	if err := c.Close(frame.CloseNormal, ""); err != nil {
		t.Fatalf("Close after %v: %v", time.Since(start), err)
	}
	t.Logf("Close took %v with CloseTimeout %v", time.Since(start), timeout)
	if err := waitErr(t, got, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	for i, err := range log.wait(t) {
		if err != nil {
			t.Errorf("done %d: %v", i, err)
		}
	}
}

func TestCloseCutsQueueStalledByPeerThatNeverReads(t *testing.T) {
	const timeout = 300 * time.Millisecond
	cn, sn := tcpPair(t)
	smallBuffers(t, cn, sn)
	c := New(cn, nil, &Config{Role: frame.RoleClient, CloseTimeout: timeout})
	log := newDoneLog(20)
	for range 20 {
		if err := enqueue(c, Binary, make([]byte, 64<<10), log); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	err := c.Close(frame.CloseNormal, "")
	d := time.Since(start)
	if !errors.Is(err, ErrQueueStalled) {
		t.Fatalf("Close: %v, want ErrQueueStalled", err)
	}
	if d < timeout || d > timeout+3*time.Second {
		t.Errorf("Close returned after %v, want about %v", d, timeout)
	}
	failed := 0
	for _, err := range log.wait(t) {
		if err != nil {
			failed++
			if !errors.Is(err, ErrClosed) {
				t.Errorf("done: %v, want ErrClosed", err)
			}
		}
	}
	if failed == 0 {
		t.Error("every message reported written to a peer that read nothing")
	}
	_, _, rerr := c.ReadMessage(context.Background(), nil)
	wantClose(t, rerr, frame.CloseAbnormal, false)
	if _, err := c.Enqueue(Text, []byte("late"), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Enqueue after the end: %v, want ErrClosed", err)
	}
}

// A reading goroutine that fails the connection for a protocol violation first writes the
// messages queued before: an echo enqueued before the bad frame was read reaches the peer
// ahead of the close frame.
func TestFailWritesQueuedMessagesBeforeTheCloseFrame(t *testing.T) {
	cn, sn := tcpPair(t)
	c := New(cn, nil, &Config{Role: frame.RoleClient})
	s := New(sn, nil, &Config{Role: frame.RoleServer})
	ctx := context.Background()
	if err := s.WriteMessage(ctx, Text, []byte("echo me")); err != nil {
		t.Fatal(err)
	}
	_, p, err := c.ReadMessage(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Hold the queue's writer behind the frame lock until the bad frame is in: the echo is
	// still queued when the reader fails the connection.
	c.frameLock.lock(ctx)
	if _, err := c.Enqueue(Text, p, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Write([]byte{0x80 | 0x40 | 0x1, 0}); err != nil { // text with RSV1
		t.Fatal(err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		c.unlockFrame(ctx)
	}()
	_, _, err = c.ReadMessage(ctx, nil)
	wantClose(t, err, frame.CloseProtocolError, false)
	typ, p, err := s.ReadMessage(ctx, nil)
	if err != nil || typ != Text || string(p) != "echo me" {
		t.Fatalf("server read %v %q %v, want the echo first", typ, p, err)
	}
	_, _, err = s.ReadMessage(ctx, nil)
	wantClose(t, err, frame.CloseProtocolError, true)
}

// The steady path of a sender that does not outrun its peer: Enqueue writes each message
// itself, at once, with no goroutine started and nothing allocated.
func TestEnqueueWritesAtOnceWhenTheSocketTakesIt(t *testing.T) {
	c, s := connPair(t, nil, nil)
	read := make(chan int, 1)
	go func() {
		var buf []byte
		n := 0
		for {
			_, p, err := s.ReadMessage(context.Background(), buf)
			if err != nil {
				read <- n
				return
			}
			n++
			buf = p
		}
	}()
	msg := make([]byte, 64)
	inline := 0
	allocs := testing.AllocsPerRun(200, func() {
		written, err := c.Enqueue(Binary, msg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if written {
			inline++
		}
	})
	if inline < 190 { // a loaded machine may leave the odd one to the writer goroutine
		t.Errorf("%d of 201 messages written at once, want nearly all", inline)
	}
	if allocs != 0 {
		t.Errorf("Enqueue allocates %.1f times per message, want 0", allocs)
	}
	if err := c.Close(frame.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	if n := <-read; n != 201 {
		t.Errorf("server read %d messages, want 201", n)
	}
}

// A frame the socket takes only in part is finished by the writer goroutine before any
// message queued after it: to a peer that reads nothing at first, everything arrives in order.
func TestEnqueueFrameTakenInPartIsFinishedBeforeTheQueue(t *testing.T) {
	cn, sn := tcpPair(t)
	smallBuffers(t, cn, sn)
	c := New(cn, nil, &Config{Role: frame.RoleClient})
	s := New(sn, nil, &Config{Role: frame.RoleServer})
	const n = 300
	log := newDoneLog(n)
	inline := 0
	for i := range n {
		p := make([]byte, 1000+i)
		for j := range p {
			p[j] = byte(i + j)
		}
		written, err := c.Enqueue(Binary, p, log.done)
		if err != nil {
			t.Fatal(err)
		}
		if written {
			inline++
			log.done(nil)
		}
	}
	if b, m := c.Buffered(); inline == n || m == 0 || b == 0 {
		t.Fatalf("%d of %d written at once, %d queued (%d bytes): the socket never filled", inline, n, m, b)
	}
	t.Logf("%d of %d written at once", inline, n)
	for i := range n {
		_, p, err := s.ReadMessage(context.Background(), nil)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if len(p) != 1000+i {
			t.Fatalf("message %d has %d bytes, want %d", i, len(p), 1000+i)
		}
		for j := range p {
			if p[j] != byte(i+j) {
				t.Fatalf("message %d byte %d is %d, want %d", i, j, p[j], byte(i+j))
			}
		}
	}
	for i, err := range log.wait(t) {
		if err != nil {
			t.Errorf("done %d: %v", i, err)
		}
	}
	c.CloseNow()
	s.CloseNow()
}

// A failure with messages queued to a peer that reads nothing is bounded by one CloseTimeout:
// the queue gets that long, and then the connection is closed (our close frame could not go
// out either).
func TestFailWithQueueStalledByPeerEndsWithinCloseTimeout(t *testing.T) {
	const timeout = time.Second
	cn, sn := tcpPair(t)
	smallBuffers(t, cn, sn)
	c := New(cn, nil, &Config{Role: frame.RoleClient, CloseTimeout: timeout})
	log := newDoneLog(32)
	for range 32 {
		if err := enqueue(c, Binary, make([]byte, 64<<10), log); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sn.Write([]byte{0x80 | 0x40 | 0x1, 0}); err != nil { // text with RSV1
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err := c.ReadMessage(context.Background(), nil)
	d := time.Since(start)
	wantClose(t, err, frame.CloseProtocolError, false)
	if d > timeout*17/10 { // waiting again for the close frame would take two
		t.Errorf("the failure took %v, want about one CloseTimeout (%v)", d, timeout)
	}
	failed := 0
	for _, err := range log.wait(t) {
		if err != nil {
			failed++
		}
	}
	if failed == 0 {
		t.Error("every message reported written to a peer that read nothing")
	}
}

// EnqueueCopy lets the caller reuse its buffer at once: a queued message was copied (the peer
// gets the bytes as they were at the call), a message written at once was not (no allocation).
func TestEnqueueCopyQueuedMessageSurvivesCallerReuse(t *testing.T) {
	cn, sn := tcpPair(t)
	smallBuffers(t, cn, sn) // the socket cannot take the 1 MiB message at once
	c := New(cn, nil, &Config{Role: frame.RoleClient})
	s := New(sn, nil, &Config{Role: frame.RoleServer})
	// The reader reuses its buffer and reports each message's length and whether all its
	// bytes equal the first: it allocates nothing per message.
	type msg struct {
		n       int
		first   byte
		uniform bool
		err     error
	}
	got := make(chan msg, 64)
	go func() {
		var buf []byte
		for {
			_, p, err := s.ReadMessage(context.Background(), buf)
			m := msg{n: len(p), err: err, uniform: true}
			if len(p) > 0 {
				m.first = p[0]
				for _, b := range p {
					m.uniform = m.uniform && b == p[0]
				}
			}
			got <- m
			if err != nil {
				return
			}
			buf = p
		}
	}()
	// A message larger than the socket's buffer is queued, or its rest is; those after it
	// queue behind it. Its own bytes were copied too: the caller clears them at once.
	big := make([]byte, 1<<20)
	for j := range big {
		big[j] = 0xa5
	}
	if written, err := c.EnqueueCopy(Binary, big, nil); err != nil || written {
		t.Fatalf("EnqueueCopy(1 MiB) = %v, %v; want queued", written, err)
	}
	clear(big)
	buf := make([]byte, 300)
	const n = 20
	for i := range n {
		for j := range buf {
			buf[j] = byte(i)
		}
		if _, err := c.EnqueueCopy(Binary, buf, nil); err != nil {
			t.Fatal(err)
		}
	}
	clear(buf)
	if m := <-got; m.err != nil || m.n != len(big) || !m.uniform || m.first != 0xa5 {
		t.Fatalf("first message: %d bytes, first %#x, uniform %v, %v; want %d bytes of 0xa5", m.n, m.first, m.uniform, m.err, len(big))
	}
	for i := range n {
		m := <-got
		if m.err != nil {
			t.Fatal(m.err)
		}
		if m.n != len(buf) || !m.uniform || m.first != byte(i) {
			t.Fatalf("message %d: %d bytes, first %d, uniform %v; want %d bytes of %d (the queue kept the caller's buffer, not a copy)",
				i, m.n, m.first, m.uniform, len(buf), i)
		}
	}
	waitQueueEmpty(t, c)
	inline := 0
	allocs := testing.AllocsPerRun(100, func() {
		if written, err := c.EnqueueCopy(Binary, buf[:64], nil); err != nil {
			t.Fatal(err)
		} else if written {
			inline++
		}
		<-got
	})
	if inline < 90 {
		t.Errorf("%d of 101 messages written at once, want nearly all", inline)
	}
	if allocs > 0.1 {
		t.Errorf("EnqueueCopy written at once allocates %.2f times per message, want 0", allocs)
	}
	if err := c.Close(frame.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
}

// waitQueueEmpty waits until c's send queue holds nothing.
func waitQueueEmpty(t *testing.T, c *Conn) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, n := c.Buffered(); b == 0 && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("send queue did not drain")
		}
		time.Sleep(time.Millisecond)
	}
}

// A client's large messages are queued as frames masked on the way in (frame.Prepare) and, with
// the writer idle, written in part from Send's own goroutine: whatever the mix of sizes, the
// caller's reuse of its buffer and a peer that reads nothing at first, every message arrives
// whole, unmasked right and in order.
func TestEnqueueCopyPreparedFramesArriveInOrder(t *testing.T) {
	cn, sn := tcpPair(t)
	smallBuffers(t, cn, sn)
	c := New(cn, nil, &Config{Role: frame.RoleClient})
	s := New(sn, nil, &Config{Role: frame.RoleServer})
	const n = 60
	size := func(i int) int {
		if i%3 == 0 {
			return 100<<10 + i // over the inline maximum: prepared, written in part at once
		}
		return 200 + i
	}
	log := newDoneLog(n)
	buf := make([]byte, 200<<10) // one buffer, overwritten for each message
	for i := range n {
		p := buf[:size(i)]
		for j := range p {
			p[j] = byte(i*7 + j)
		}
		typ := Binary
		if i%2 == 1 {
			typ = Text
			for j := range p {
				p[j] = 'a' + byte(i%26)
			}
		}
		written, err := c.EnqueueCopy(typ, p, log.done)
		if err != nil {
			t.Fatal(err)
		}
		if written {
			log.done(nil)
		}
	}
	if _, m := c.Buffered(); m == 0 {
		t.Fatal("nothing queued: the socket never filled")
	}
	for i := range n {
		typ, p, err := s.ReadMessage(context.Background(), nil)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if len(p) != size(i) {
			t.Fatalf("message %d has %d bytes, want %d", i, len(p), size(i))
		}
		for j := range p {
			want := byte(i*7 + j)
			if i%2 == 1 {
				want = 'a' + byte(i%26)
			}
			if p[j] != want {
				t.Fatalf("message %d (%v) byte %d is %d, want %d", i, typ, j, p[j], want)
			}
		}
	}
	for i, err := range log.wait(t) {
		if err != nil {
			t.Errorf("done %d: %v", i, err)
		}
	}
	c.CloseNow()
	s.CloseNow()
}

// countingConn counts the writes to its net.Conn.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes int
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// Small messages that wait in the queue share writes (writeBatch): a sender that outran the
// socket costs a fraction of a write per message, and every message still arrives whole, in
// order, masked right (client) or unmasked (server), with a done call each.
func TestQueuedSmallMessagesShareWrites(t *testing.T) {
	for _, role := range []frame.Role{frame.RoleClient, frame.RoleServer} {
		t.Run(role.String(), func(t *testing.T) {
			cn, sn := tcpPair(t)
			peer := frame.RoleServer
			if role == frame.RoleServer {
				peer = frame.RoleClient
			}
			// Not a *net.TCPConn: nothing is written inline, every message goes through the queue.
			cc := &countingConn{Conn: cn}
			c := New(cc, nil, &Config{Role: role})
			s := New(sn, nil, &Config{Role: peer})
			const n = 2000
			log := newDoneLog(n)
			buf := make([]byte, 300)
			for i := range n {
				p := buf[:10+i%290]
				for j := range p {
					p[j] = byte(i + j)
				}
				if written, err := c.EnqueueCopy(Binary, p, log.done); err != nil || written {
					t.Fatalf("message %d: written %v, %v", i, written, err)
				}
			}
			for i := range n {
				_, p, err := s.ReadMessage(context.Background(), nil)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if len(p) != 10+i%290 {
					t.Fatalf("message %d has %d bytes, want %d", i, len(p), 10+i%290)
				}
				for j := range p {
					if p[j] != byte(i+j) {
						t.Fatalf("message %d byte %d is %d, want %d", i, j, p[j], byte(i+j))
					}
				}
			}
			for i, err := range log.wait(t) {
				if err != nil {
					t.Fatalf("done %d: %v", i, err)
				}
			}
			cc.mu.Lock()
			writes := cc.writes
			cc.mu.Unlock()
			t.Logf("%d messages in %d writes", n, writes)
			if writes > n/4 {
				t.Errorf("%d messages took %d writes, want at most %d: queued messages are not batched", n, writes, n/4)
			}
			c.CloseNow()
			s.CloseNow()
		})
	}
}
