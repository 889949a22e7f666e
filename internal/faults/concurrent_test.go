package faults

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// enginePair returns a client.Dial connection and the server-role connection it talks to.
func enginePair(t *testing.T) (*client.Conn, *conn.Conn) {
	t.Helper()
	srvc := make(chan *conn.Conn, 1)
	release := make(chan struct{})
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		srvc <- c
		<-release
	})
	t.Cleanup(func() { close(release) }) // runs before the server's cleanup
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	c, _, err := client.Dial(ctx, srv.URL, &client.DialOptions{PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	select {
	case s := <-srvc:
		return c, s
	case <-time.After(bound):
		t.Fatal("the server did not upgrade")
		return nil, nil
	}
}

// seqPayload is message s of writer g: a header naming both, then bytes that depend on g, s
// and their position, n bytes in all (at least the header).
func seqPayload(g, s, n int) []byte {
	p := fmt.Appendf(nil, "g=%02d s=%04d|", g, s)
	for i := len(p); i < n; i++ {
		p = append(p, byte(g*31+s*7+i))
	}
	return p
}

// TestConcurrentWritersOneConnection has 32 goroutines write on one connection at once, in both
// directions: whole messages (WriteMessage), streamed fragmented messages (NextWriter), and
// pings between them. The receiver checks that each goroutine's messages arrive complete, once,
// in order, and unmixed with the others (RFC 6455 §5.4: the fragments of a message are not
// interleaved with those of another).
func TestConcurrentWritersOneConnection(t *testing.T) {
	const writers, perWriter = 32, 40
	for _, dir := range []string{"client to server", "server to client"} {
		t.Run(dir, func(t *testing.T) {
			cc, sc := enginePair(t)
			var (
				w        *conn.Conn
				read     func(ctx context.Context) (conn.MessageType, []byte, error)
				pingPong int
			)
			if dir == "client to server" {
				w = cc.Conn
				read = func(ctx context.Context) (conn.MessageType, []byte, error) { return sc.ReadMessage(ctx, nil) }
			} else {
				w = sc
				read = func(ctx context.Context) (conn.MessageType, []byte, error) { return cc.ReadMessage(ctx, nil) }
			}
			ctx, cancel := context.WithTimeout(context.Background(), 6*bound)
			defer cancel()
			// The writing side must read too, so that the pongs to its pings are taken in.
			readerDone := make(chan struct{})
			go func() {
				defer close(readerDone)
				if dir == "client to server" {
					cc.ReadMessage(ctx, nil)
				} else {
					sc.ReadMessage(ctx, nil)
				}
			}()
			var wg sync.WaitGroup
			errs := make(chan error, writers+1)
			for g := range writers {
				wg.Go(func() {
					for s := range perWriter {
						p := seqPayload(g, s, (g*997+s*131)%20000)
						if g%4 == 0 { // streamed in fragments of at most 1500 bytes
							mw, err := w.NextWriter(ctx, conn.Binary)
							if err != nil {
								errs <- fmt.Errorf("writer %d: NextWriter: %w", g, err)
								return
							}
							for rest := p; len(rest) > 0; {
								k := min(len(rest), 1500)
								if _, err := mw.Write(rest[:k]); err != nil {
									errs <- fmt.Errorf("writer %d: Write: %w", g, err)
									return
								}
								rest = rest[k:]
							}
							if err := mw.Close(); err != nil {
								errs <- fmt.Errorf("writer %d: Close: %w", g, err)
								return
							}
							continue
						}
						if err := w.WriteMessage(ctx, conn.Binary, p); err != nil {
							errs <- fmt.Errorf("writer %d: %w", g, err)
							return
						}
					}
				})
			}
			wg.Go(func() {
				for i := range 200 {
					if err := w.Ping(ctx, fmt.Appendf(nil, "ping %d", i)); err != nil {
						errs <- fmt.Errorf("pinger: %w", err)
						return
					}
					pingPong++
				}
			})
			next := make([]int, writers)
			for got := 0; got < writers*perWriter; got++ {
				typ, p, err := read(ctx)
				if err != nil {
					t.Fatalf("after %d messages: %v", got, err)
				}
				var g, s int
				if _, err := fmt.Sscanf(string(p), "g=%02d s=%04d|", &g, &s); err != nil || g < 0 || g >= writers {
					t.Fatalf("message %d (%d bytes) is not one that was sent: %q", got, len(p), trim(p))
				}
				want := seqPayload(g, s, (g*997+s*131)%20000)
				if typ != conn.Binary || string(p) != string(want) {
					t.Fatalf("message g=%d s=%d: %d bytes, type %v; want %d bytes, intact", g, s, len(p), typ, len(want))
				}
				if s != next[g] {
					t.Fatalf("writer %d: message %d arrived when %d was due (lost, duplicated or reordered)", g, s, next[g])
				}
				next[g]++
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if pingPong != 200 {
				t.Errorf("%d pings sent, want 200", pingPong)
			}
			cancel()
			<-readerDone
		})
	}
}

func trim(p []byte) []byte {
	if len(p) > 40 {
		return p[:40]
	}
	return p
}
