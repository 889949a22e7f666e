package faults

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
)

// readEnd reads from our end until an error (skipping want messages first) and checks it is
// the end of a connection lost without a close frame (RFC 6455 §7.1.5: 1006, not remote),
// caused by cause when set. It checks that a second read returns the same end.
func readEnd(t *testing.T, c ours, want [][]byte, cause error) *conn.CloseError {
	t.Helper()
	var err error
	within(t, bound, "ReadMessage", func() {
		for _, w := range want {
			var p []byte
			if _, p, err = c.ReadMessage(context.Background(), nil); err != nil || !bytes.Equal(p, w) {
				return
			}
		}
		_, _, err = c.ReadMessage(context.Background(), nil)
	})
	var ce *conn.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("read: %v, want a *conn.CloseError", err)
	}
	if ce.Code != frame.CloseAbnormal || ce.Remote {
		t.Errorf("read: %v (remote %v), want 1006, not remote", ce, ce.Remote)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Errorf("read: %v does not wrap %v", err, cause)
	}
	if _, _, err2 := c.ReadMessage(context.Background(), nil); !errors.As(err2, new(*conn.CloseError)) {
		t.Errorf("second read: %v, want the same *conn.CloseError", err2)
	}
	if err := c.WriteMessage(context.Background(), conn.Text, []byte("late")); !errors.Is(err, conn.ErrClosed) {
		t.Errorf("write after the end: %v, want ErrClosed", err)
	}
	return ce
}

// TestPeerDropsMidFrame drops the TCP connection inside and between frames: our end, client or
// server, must report a lost connection (1006) and never wait for the rest (RFC 6455 §5.2,
// §7.1.5).
func TestPeerDropsMidFrame(t *testing.T) {
	tests := []struct {
		name  string
		bytes func(p *rawPeer) []byte // what the peer sends before it drops
		want  [][]byte                // messages our end receives first
		cause error
	}{
		{"inside a frame header", func(p *rawPeer) []byte {
			return p.frameBytes(true, 0x2, make([]byte, 300))[:3]
		}, nil, io.ErrUnexpectedEOF},
		{"inside a payload", func(p *rawPeer) []byte {
			b := p.frameBytes(true, 0x2, make([]byte, 300))
			return b[:len(b)-100]
		}, nil, io.ErrUnexpectedEOF},
		{"inside a large payload", func(p *rawPeer) []byte {
			b := p.frameBytes(true, 0x2, make([]byte, 1<<20))
			return b[:len(b)-1]
		}, nil, io.ErrUnexpectedEOF},
		{"between the fragments of a message", func(p *rawPeer) []byte {
			// The frame stream ends cleanly between frames: io.EOF, though a message was open.
			return p.frameBytes(false, 0x1, []byte("first half"))
		}, nil, io.EOF},
		{"inside a ping", func(p *rawPeer) []byte {
			b := p.frameBytes(true, 0x9, []byte("ping payload"))
			return b[:len(b)-4]
		}, nil, io.ErrUnexpectedEOF},
		{"between messages", func(p *rawPeer) []byte {
			return append(p.frameBytes(true, 0x1, []byte("one")), p.frameBytes(true, 0x2, []byte("two"))...)
		}, [][]byte{[]byte("one"), []byte("two")}, io.EOF},
		{"right after the handshake", func(p *rawPeer) []byte { return nil }, nil, io.EOF},
	}
	for _, role := range roles {
		for _, tt := range tests {
			t.Run(role.name+"/"+tt.name, func(t *testing.T) {
				c, p := role.pair(t)
				if b := tt.bytes(p); len(b) > 0 {
					p.write(t, b)
				}
				p.nc.Close()
				readEnd(t, c, tt.want, tt.cause)
			})
		}
	}
}

// TestPeerDropsMidClose breaks the closing handshake (RFC 6455 §7.1.2-§7.1.4): a close frame
// cut short, a peer that drops instead of answering our close, a peer that never answers, a
// reply cut short. Close must return an error in time and reads must report 1006.
func TestPeerDropsMidClose(t *testing.T) {
	for _, role := range roles {
		t.Run(role.name+"/peer's close frame cut", func(t *testing.T) {
			c, p := role.pair(t)
			b := p.frameBytes(true, 0x8, []byte{0x03, 0xe8, 'b', 'y', 'e'})
			p.write(t, b[:len(b)-4])
			p.nc.Close()
			readEnd(t, c, nil, io.ErrUnexpectedEOF)
		})
		t.Run(role.name+"/peer drops on our close", func(t *testing.T) {
			c, p := role.pair(t)
			go func() {
				p.nc.SetReadDeadline(time.Now().Add(bound))
				p.br.ReadByte() // the first byte of our close frame
				p.nc.Close()
			}()
			start := time.Now()
			var err error
			within(t, bound, "Close", func() { err = c.Close(frame.CloseNormal, "bye") })
			if err == nil {
				t.Error("Close returned nil without the peer's close frame")
			}
			if d := time.Since(start); d > closeTimeout+slack {
				t.Errorf("Close took %v", d)
			}
			readEnd(t, c, nil, nil)
		})
		t.Run(role.name+"/peer never answers our close", func(t *testing.T) {
			c, _ := role.pair(t)
			start := time.Now()
			var err error
			within(t, bound, "Close", func() { err = c.Close(frame.CloseNormal, "bye") })
			if !errors.Is(err, conn.ErrCloseTimeout) {
				t.Errorf("Close: %v, want ErrCloseTimeout", err)
			}
			if d := time.Since(start); d < closeTimeout/2 || d > closeTimeout+slack {
				t.Errorf("Close took %v, want about CloseTimeout (%v)", d, closeTimeout)
			}
			readEnd(t, c, nil, conn.ErrCloseTimeout)
		})
		t.Run(role.name+"/peer floods data and never answers our close", func(t *testing.T) {
			c, p := role.pair(t)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			defer wg.Wait()
			defer close(stop)
			wg.Go(func() {
				p.flood(stop, p.frameBytes(true, 0x2, make([]byte, 4000)))
			})
			start := time.Now()
			var err error
			within(t, bound, "Close", func() { err = c.Close(frame.CloseNormal, "") })
			if !errors.Is(err, conn.ErrCloseTimeout) {
				t.Errorf("Close: %v, want ErrCloseTimeout", err)
			}
			if d := time.Since(start); d > closeTimeout+slack {
				t.Errorf("Close took %v", d)
			}
		})
		t.Run(role.name+"/peer's close reply cut", func(t *testing.T) {
			c, p := role.pair(t)
			go func() {
				p.nc.SetReadDeadline(time.Now().Add(bound))
				if _, err := p.br.ReadByte(); err != nil {
					return
				}
				b := p.frameBytes(true, 0x8, []byte{0x03, 0xe8})
				p.nc.Write(b[:len(b)-1])
				p.nc.Close()
			}()
			var err error
			within(t, bound, "Close", func() { err = c.Close(frame.CloseNormal, "") })
			if err == nil {
				t.Error("Close returned nil after a cut close reply")
			}
			readEnd(t, c, nil, nil)
		})
	}
}

// TestPeerNeverReads fills the socket buffers with a peer that reads nothing. A write bounded
// by a context must return the context's error in time; the connection is closed only when a
// frame was cut in the middle (frame.ErrIncompleteWrite), and stays usable when the write had
// not started (see conn.Conn).
func TestPeerNeverReads(t *testing.T) {
	for _, role := range roles {
		t.Run(role.name+"/write with a deadline", func(t *testing.T) {
			c, _ := role.pair(t)
			msg := make([]byte, 256<<10)
			var err error
			for i := 0; i < 4096 && err == nil; i++ { // at most 1 GiB; the buffers hold a few MiB
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				start := time.Now()
				within(t, bound, "WriteMessage", func() { err = c.WriteMessage(ctx, conn.Binary, msg) })
				cancel()
				if d := time.Since(start); d > 300*time.Millisecond+slack {
					t.Fatalf("WriteMessage took %v with a 300ms context", d)
				}
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("WriteMessage to a peer that never reads: %v, want context.DeadlineExceeded", err)
			}
			if errors.Is(err, frame.ErrIncompleteWrite) {
				// Cut mid-frame: the connection is over.
				t.Logf("the frame was cut: %v", err)
				readEnd(t, c, nil, frame.ErrIncompleteWrite)
				return
			}
			// Nothing of the frame was written: still usable, and still blocked.
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if err := c.WriteMessage(ctx, conn.Text, []byte("x")); errors.Is(err, conn.ErrClosed) {
				t.Errorf("write after an interrupted write that sent nothing: %v", err)
			}
		})
		t.Run(role.name+"/read answering a ping flood", func(t *testing.T) {
			// Each ping wants a pong; with the peer reading nothing, the pongs fill the
			// buffers and the reading goroutine must not block on them past its context.
			c, p := role.pair(t)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			defer wg.Wait()
			defer close(stop)
			wg.Go(func() {
				p.flood(stop, bytes.Repeat(p.frameBytes(true, 0x9, bytes.Repeat([]byte("p"), 125)), 64))
			})
			for range 3 {
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				start := time.Now()
				var err error
				within(t, 500*time.Millisecond+slack, "ReadMessage", func() { _, _, err = c.ReadMessage(ctx, nil) })
				cancel()
				if d := time.Since(start); d > 500*time.Millisecond+slack {
					t.Errorf("ReadMessage took %v", d)
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					// A pong cut in the middle ends the connection: also in time, and final.
					var ce *conn.CloseError
					if !errors.As(err, &ce) || !errors.Is(err, frame.ErrIncompleteWrite) {
						t.Fatalf("ReadMessage during a ping flood: %v, want context.DeadlineExceeded", err)
					}
					t.Logf("a pong was cut: %v", err)
					return
				}
			}
			var err error
			within(t, closeTimeout+slack, "Close", func() { err = c.Close(frame.CloseNormal, "") })
			if err == nil {
				t.Error("Close succeeded although the peer never answers")
			}
		})
		t.Run(role.name+"/write waiting behind a blocked one", func(t *testing.T) {
			c, _ := role.pair(t)
			bigDone := make(chan error, 1)
			go func() { bigDone <- c.WriteMessage(context.Background(), conn.Binary, make([]byte, 64<<20)) }()
			// Wait until the big write holds the connection: a probe write that gives up at
			// once then fails instead of going out (on a loaded machine a fixed sleep was
			// sometimes shorter than the big write's start, and the writes below went out).
			for deadline := time.Now().Add(10 * time.Second); ; {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
				err := c.WriteMessage(ctx, conn.Text, []byte("probe"))
				cancel()
				if err != nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the 64 MiB write never took the connection")
				}
				time.Sleep(10 * time.Millisecond)
			}
			for _, w := range []struct {
				name string
				f    func(ctx context.Context) error
			}{
				{"WriteMessage", func(ctx context.Context) error { return c.WriteMessage(ctx, conn.Text, []byte("small")) }},
				{"Ping", func(ctx context.Context) error { return c.Ping(ctx, []byte("p")) }},
			} {
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				var err error
				within(t, 300*time.Millisecond+slack, w.name, func() { err = w.f(ctx) })
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, frame.ErrIncompleteWrite) {
					t.Errorf("%s behind a blocked write: %v, want context.DeadlineExceeded with nothing written", w.name, err)
				}
			}
			select {
			case err := <-bigDone:
				t.Fatalf("the 64 MiB write to a peer that never reads returned: %v", err)
			default:
			}
			// Close cannot send its frame while the big write holds the connection: it gives
			// up after CloseTimeout and ends the connection, which ends the big write.
			start := time.Now()
			var err error
			within(t, closeTimeout+slack, "Close", func() { err = c.Close(frame.CloseNormal, "") })
			if !errors.Is(err, conn.ErrCloseTimeout) {
				t.Errorf("Close behind a blocked write: %v, want ErrCloseTimeout", err)
			}
			t.Logf("Close returned after %v", time.Since(start))
			select {
			case err := <-bigDone:
				if err == nil {
					t.Error("the big write succeeded without a reader")
				}
			case <-time.After(bound):
				t.Fatal("the big write did not end with the connection")
			}
		})
	}
}

// TestPeerResets resets the TCP connection (SO_LINGER 0, then close: an RST) while our end
// reads and while it writes: reads report 1006 with the reset as the cause, writes fail, and
// nothing hangs.
func TestPeerResets(t *testing.T) {
	for _, role := range roles {
		t.Run(role.name+"/while we read", func(t *testing.T) {
			c, p := role.pair(t)
			go func() {
				time.Sleep(50 * time.Millisecond)
				p.reset(t)
			}()
			ce := readEnd(t, c, nil, nil)
			if !errors.Is(ce, syscall.ECONNRESET) && !errors.Is(ce, io.EOF) {
				t.Errorf("read after a reset: %v (%v), want ECONNRESET", ce, ce.Err)
			}
		})
		t.Run(role.name+"/while we stream a message", func(t *testing.T) {
			c, p := role.pair(t)
			go func() {
				p.nc.SetReadDeadline(time.Now().Add(bound))
				io.CopyN(io.Discard, p.br, 256<<10)
				p.reset(t)
			}()
			mw, err := c.NextWriter(context.Background(), conn.Binary)
			if err != nil {
				t.Fatal(err)
			}
			chunk := make([]byte, 32<<10)
			within(t, bound, "message writes until the reset", func() {
				for err == nil {
					_, err = mw.Write(chunk)
				}
			})
			if cerr := mw.Close(); cerr == nil {
				t.Error("the message writer's Close succeeded after a reset")
			}
			readEnd(t, c, nil, nil)
		})
		t.Run(role.name+"/while we write", func(t *testing.T) {
			c, p := role.pair(t)
			go func() {
				p.nc.SetReadDeadline(time.Now().Add(bound))
				io.CopyN(io.Discard, p.br, 1<<20)
				p.reset(t)
			}()
			msg := make([]byte, 128<<10)
			var err error
			within(t, bound, "writes until the reset", func() {
				for err == nil {
					err = c.WriteMessage(context.Background(), conn.Binary, msg)
				}
			})
			if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, conn.ErrClosed) {
				t.Errorf("write after a reset: %v, want ECONNRESET or EPIPE", err)
			}
			readEnd(t, c, nil, nil)
		})
	}
}
