package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
)

// TestReadsInterruptedAtRandomLoseNothing interrupts reads with contexts that end after a
// random few microseconds, at any point of a message (header, payload, between fragments, in
// a ping), while the peer streams numbered messages with pings between them. Every message must
// still arrive once, whole, in order and with its type: an interrupted ReadMessage keeps what it
// had read (see conn.Conn) and the next one continues the message.
func TestReadsInterruptedAtRandomLoseNothing(t *testing.T) {
	const total = 600
	for _, dir := range []string{"client reads", "server reads"} {
		{
			t.Run(dir, func(t *testing.T) {
				cc, sc := enginePair(t)
				var w, r *conn.Conn = sc, cc.Conn
				if dir == "server reads" {
					w, r = cc.Conn, sc
				}
				ctx, cancel := context.WithTimeout(context.Background(), 6*bound)
				defer cancel()
				var wg sync.WaitGroup
				defer wg.Wait()
				defer cancel()
				werr := make(chan error, 1)
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(1, 2))
					for s := range total {
						p := seqPayload(s%7, s, rng.IntN(3)*rng.IntN(9000)+13)
						typ := conn.Binary
						if s%3 == 0 {
							typ = conn.Text
							for i := bytes.IndexByte(p, '|') + 1; i < len(p); i++ {
								p[i] = 'a' + p[i]%26
							}
						}
						if s%5 == 0 {
							w.Ping(ctx, []byte("between"))
						}
						var err error
						if s%2 == 0 {
							var mw interface {
								Write([]byte) (int, error)
								Close() error
							}
							if mw, err = w.NextWriter(ctx, typ); err == nil {
								for rest := p; len(rest) > 0 && err == nil; {
									k := min(len(rest), 1+rng.IntN(3000))
									_, err = mw.Write(rest[:k])
									rest = rest[k:]
								}
								if cerr := mw.Close(); err == nil {
									err = cerr
								}
							}
						} else {
							err = w.WriteMessage(ctx, typ, p)
						}
						if err != nil {
							werr <- fmt.Errorf("write %d: %w", s, err)
							return
						}
					}
				})
				rng := rand.New(rand.NewPCG(3, 4))
				interrupted := 0
				var buf []byte
				for s := 0; s < total; {
					d := time.Duration(rng.IntN(300)) * time.Microsecond
					rctx, rcancel := context.WithTimeout(ctx, d)
					var (
						typ conn.MessageType
						p   []byte
						err error
					)
					typ, p, err = r.ReadMessage(rctx, buf)
					rcancel()
					if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
						if ctx.Err() != nil {
							t.Fatalf("message %d: gave up: %v", s, err)
						}
						interrupted++
						continue
					}
					if err != nil {
						select {
						case e := <-werr:
							t.Fatalf("message %d: %v (writer: %v)", s, err, e)
						default:
						}
						t.Fatalf("message %d: %v", s, err)
					}
					if typ != conn.Text && typ != conn.Binary {
						t.Fatalf("message %d: type %v", s, typ)
					}
					var g, got int
					if _, err := fmt.Sscanf(string(p), "g=%02d s=%04d|", &g, &got); err != nil || got != s {
						t.Fatalf("message %d: got %q (%d bytes)", s, trim(p), len(p))
					}
					if wantText := s%3 == 0; wantText != (typ == conn.Text) {
						t.Fatalf("message %d: type %v", s, typ)
					}
					buf = p
					s++
				}
				t.Logf("%d messages, %d reads interrupted", total, interrupted)
				if interrupted == 0 {
					t.Error("no read was interrupted: the test did not test anything")
				}
			})
		}
	}
}

// TestReadsInterruptedMidFrameLoseNothing is the same with a raw peer that dribbles its frames
// in random pieces with pauses, so that the short read contexts end inside frame headers,
// masking keys, payloads and control frames: our end, client or server, must still deliver
// every message whole and in order (RFC 6455 §5.2, §5.4).
func TestReadsInterruptedMidFrameLoseNothing(t *testing.T) {
	const total = 300
	for _, role := range roles {
		t.Run(role.name, func(t *testing.T) {
			c, p := role.pair(t)
			rng := rand.New(rand.NewPCG(5, 6))
			var stream []byte
			for s := range total {
				msg := seqPayload(s%7, s, 13+rng.IntN(600))
				if s%4 == 0 {
					stream = append(stream, p.frameBytes(true, 0x9, []byte("ping"))...)
				}
				if s%2 == 0 { // three fragments, a ping inside
					a, b := len(msg)/3, 2*len(msg)/3
					stream = append(stream, p.frameBytes(false, 0x2, msg[:a])...)
					stream = append(stream, p.frameBytes(false, 0x0, msg[a:b])...)
					stream = append(stream, p.frameBytes(true, 0xA, []byte("pong"))...)
					stream = append(stream, p.frameBytes(true, 0x0, msg[b:])...)
				} else {
					stream = append(stream, p.frameBytes(true, 0x2, msg)...)
				}
			}
			var wg sync.WaitGroup
			defer wg.Wait()
			wg.Go(func() { // drain our pongs so that our writes never block
				p.nc.SetReadDeadline(time.Now().Add(6 * bound))
				p.br.WriteTo(io.Discard)
			})
			defer p.nc.Close()
			wg.Go(func() {
				wrng := rand.New(rand.NewPCG(7, 8))
				for rest := stream; len(rest) > 0; {
					k := min(len(rest), 1+wrng.IntN(40))
					p.nc.SetWriteDeadline(time.Now().Add(bound))
					if _, err := p.nc.Write(rest[:k]); err != nil {
						return
					}
					rest = rest[k:]
					if wrng.IntN(4) == 0 {
						time.Sleep(time.Duration(wrng.IntN(200)) * time.Microsecond)
					}
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 6*bound)
			defer cancel()
			interrupted := 0
			var buf []byte
			for s := 0; s < total; {
				rctx, rcancel := context.WithTimeout(ctx, time.Duration(rng.IntN(200))*time.Microsecond)
				typ, m, err := c.ReadMessage(rctx, buf)
				rcancel()
				if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
					if ctx.Err() != nil {
						t.Fatalf("message %d: gave up: %v", s, err)
					}
					interrupted++
					continue
				}
				if err != nil {
					t.Fatalf("message %d: %v", s, err)
				}
				if want := seqPayload(s%7, s, len(m)); typ != conn.Binary || !bytes.Equal(m, want) {
					t.Fatalf("message %d: type %v, %q (%d bytes)", s, typ, trim(m), len(m))
				}
				buf = m
				s++
			}
			t.Logf("%d messages, %d reads interrupted", total, interrupted)
			if interrupted < total/10 {
				t.Errorf("only %d reads were interrupted", interrupted)
			}
		})
	}
}
