package client

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// borrowMsgs is how many messages TestBorrowMessagesDeliversEveryPayload has the server send.
const borrowMsgs = 400

// borrowPayload is message i of TestBorrowMessagesDeliversEveryPayload: text (ASCII) for even
// i, binary for odd, of a size that cycles through the frame length encodings (RFC 6455
// §5.2: 7-bit, 16-bit and 64-bit lengths) and grows and shrinks, so that a stale byte of a
// longer earlier message in the reused buffer would show.
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

// borrowFragments is how many frames message i is sent in: one for most, up to 5 for some.
func borrowFragments(i int) int { return 1 + (i%3)*(i%5)/2 }

// sendFragmented writes p as one message of k frames, raw, on the server's side.
func sendFragmented(fw *frame.Writer, text bool, p []byte, k int) error {
	op := frame.OpBinary
	if text {
		op = frame.OpText
	}
	step := max(1, (len(p)+k-1)/k)
	off := 0
	for {
		end := min(len(p), off+step)
		fin := end == len(p)
		if err := fw.WriteFrame(fin, op, 0, p[off:end]); err != nil {
			return err
		}
		if fin {
			return nil
		}
		off, op = end, frame.OpContinuation
	}
}

// TestBorrowMessagesDeliversEveryPayload: with BorrowMessages, a real loopback server sends
// borrowMsgs messages of varying sizes and types, some in fragments; every MESSAGE callback
// gets a *BorrowedData with exactly the bytes sent, whose Data is nil once the callback
// returned. Callbacks call Send with the borrowed data (the server gets copies that the next
// reads did not overwrite), sleep now and then while Send results are pending (the reader must
// wait rather than overwrite), Off themselves, and Close on the last message.
func TestBorrowMessagesDeliversEveryPayload(t *testing.T) {
	echoes := make(chan error, 1)
	srv := newBorrowServer(t, echoes)
	ws := CreateWebSocket()
	var (
		mu       sync.Mutex
		n        int
		prev     *BorrowedData
		failures []string
		offCalls int
	)
	fail := func(format string, a ...any) {
		if len(failures) < 5 {
			failures = append(failures, fmt.Sprintf(format, a...))
		}
	}
	slow := NewWebSocketAsyncCallback(func(err *AsyncError, _ bool) {
		if err != nil {
			mu.Lock()
			fail("send: %v", err)
			mu.Unlock()
		}
		time.Sleep(time.Millisecond)
	})
	var selfOff *WebSocketAsyncCallback[MessageData]
	selfOff = NewWebSocketAsyncCallback(func(_ *AsyncError, _ MessageData) {
		mu.Lock()
		offCalls++
		k := offCalls
		mu.Unlock()
		if k == 10 {
			if err := ws.Off(EventMessage, selfOff); err != nil {
				t.Error(err)
			}
		}
	})
	closed := make(chan CloseResult, 1)
	_ = ws.On(EventMessage, NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) {
		mu.Lock()
		defer mu.Unlock()
		b, ok := m.(*BorrowedData)
		if !ok {
			fail("message %d is %T, want *BorrowedData", n, m)
			n++
			return
		}
		prev = b
		text, want := borrowPayload(n)
		if b.Text != text || !bytes.Equal(b.Data, want) {
			fail("message %d: text %v, %d bytes; want text %v, %d bytes", n, b.Text, len(b.Data), text, len(want))
		}
		if n%20 == 0 {
			// Echo it (copied by Send), with a slow result callback: messages keep coming
			// while it is pending.
			if err := ws.Send(b, slow); err != nil {
				fail("send %d: %v", n, err)
			}
		}
		n++
		if n == borrowMsgs {
			if err := ws.Close(nil, nil); err != nil {
				fail("close: %v", err)
			}
		}
	}))
	_ = ws.On(EventMessage, selfOff)
	_ = ws.On(EventClose, NewWebSocketAsyncCallback(func(_ *AsyncError, r CloseResult) { closed <- r }))
	opts := NewWebSocketRequestOptions()
	opts.Proxy = NoProxy{}
	opts.BorrowMessages = true
	if err := ws.Connect(srv, opts, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-closed:
		if r.Code != 1000 {
			t.Errorf("CLOSE %d %q, want 1000", r.Code, r.Reason)
		}
	case <-time.After(time.Minute):
		t.Fatal("CLOSE did not come")
	}
	wait(t, ws)
	select {
	case err := <-echoes:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not check the echoes")
	}
	mu.Lock()
	defer mu.Unlock()
	if n != borrowMsgs {
		t.Errorf("%d messages, want %d", n, borrowMsgs)
	}
	if prev == nil || prev.Data != nil {
		t.Errorf("the *BorrowedData kept after the last callback is %v, want one with Data nil", prev)
	}
	if offCalls != 10 {
		t.Errorf("the callback that removed itself at its 10th call was called %d times", offCalls)
	}
	for _, f := range failures {
		t.Error(f)
	}
}

// newBorrowServer starts a server that sends the messages of borrowPayload, fragmented by
// borrowFragments, then reads the echoes (every 20th message) and reports to echoes whether
// each one is the message it echoes.
func newBorrowServer(t *testing.T, echoes chan<- error) string {
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		fw := frame.NewWriter(c.NetConn(), frame.RoleServer, 0)
		for i := range borrowMsgs {
			text, p := borrowPayload(i)
			if err := sendFragmented(fw, text, p, borrowFragments(i)); err != nil {
				echoes <- err
				return
			}
		}
		var err error
		for i := 0; i < borrowMsgs; i += 20 {
			typ, p, rerr := c.ReadMessage(context.Background(), nil)
			if rerr != nil {
				err = fmt.Errorf("echo of message %d: %w", i, rerr)
				break
			}
			text, want := borrowPayload(i)
			if (typ == conn.Text) != text || !bytes.Equal(p, want) {
				err = fmt.Errorf("echo of message %d: type %v, %d bytes, not the message", i, typ, len(p))
				break
			}
		}
		echoes <- err
		for { // the close
			if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
				return
			}
		}
	})
	return srv.URL
}

// TestBorrowMessagesAllocatesNothingPerMessage: with BorrowMessages, receiving messages of
// 1 KiB from a server in another process allocates nothing per message once the buffer grew
// (the default mode allocates one block per message).
func TestBorrowMessagesAllocatesNothingPerMessage(t *testing.T) {
	for _, c := range []struct {
		borrow bool
		max    float64
		min    float64
	}{{true, 0.05, 0}, {false, 100, 0.5}} {
		t.Run(fmt.Sprintf("borrow=%v", c.borrow), func(t *testing.T) {
			const warm, measured = 2000, 20000
			var got atomic.Int64
			reached := make(chan struct{}, 2)
			ws := CreateWebSocket()
			_ = ws.On(EventMessage, NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) {
				switch k := got.Add(1); k {
				case warm, warm + measured:
					reached <- struct{}{}
				}
			}))
			closed := make(chan struct{})
			_ = ws.On(EventClose, NewWebSocketAsyncCallback(func(*AsyncError, CloseResult) { close(closed) }))
			opts := NewWebSocketRequestOptions()
			opts.Proxy = NoProxy{}
			opts.BorrowMessages = c.borrow
			if err := ws.Connect(peerURL(t, "/flood?n=1024"), opts, nil); err != nil {
				t.Fatal(err)
			}
			within(t, reached, "the warm-up messages")
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			within(t, reached, "the measured messages")
			runtime.ReadMemStats(&after)
			_ = ws.Close(nil, nil)
			within(t, closed, "CLOSE")
			wait(t, ws)
			per := float64(after.Mallocs-before.Mallocs) / measured
			t.Logf("%.4f allocations per message", per)
			if per > c.max || per < c.min {
				t.Fatalf("%.4f allocations per message, want %v to %v", per, c.min, c.max)
			}
		})
	}
}
