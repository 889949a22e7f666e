package conn

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/frame"
)

// BenchmarkRoundTrip sends a message from our client to our server over loopback TCP, which
// echoes it back: WriteMessage and ReadMessage on both ends. Steady state: 0 allocs/op.
func BenchmarkRoundTrip(b *testing.B) {
	for _, n := range []int{64, 1 << 10, 64 << 10, 1 << 20} {
		b.Run(sizeName(n), func(b *testing.B) {
			client, server := connPair(b, nil, nil)
			done := goEcho(server)
			ctx := context.Background()
			msg := payloadOf(n, false, 1)
			buf := make([]byte, 0, n)
			for range 3 { // warm up: the echo's buffer grows to the message size
				client.WriteMessage(ctx, Binary, msg)
				client.ReadMessage(ctx, buf)
			}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if err := client.WriteMessage(ctx, Binary, msg); err != nil {
					b.Fatal(err)
				}
				_, m, err := client.ReadMessage(ctx, buf)
				if err != nil || len(m) != n {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			client.CloseNow()
			<-done
		})
	}
}

// memConn is a net.Conn whose reads replay wire, a stream of whole frames, over and over, and
// whose writes are discarded: the benchmarks below measure the Conn's own CPU cost per message,
// without the loopback socket's.
type memConn struct {
	net.Conn // nil: only the methods below are used
	wire     []byte
	off      int
}

func (m *memConn) Read(p []byte) (int, error) {
	n := copy(p, m.wire[m.off:])
	if m.off += n; m.off == len(m.wire) {
		m.off = 0
	}
	return n, nil
}

func (m *memConn) Write(p []byte) (int, error)      { return len(p), nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }
func (m *memConn) Close() error                     { return nil }

// BenchmarkReadMessage reads server-to-client binary messages of one frame from memory into a
// reused buffer. Steady state: 0 allocs/op.
func BenchmarkReadMessage(b *testing.B) {
	for _, n := range []int{64, 1 << 10, 64 << 10, 1 << 20} {
		b.Run(sizeName(n), func(b *testing.B) {
			benchReadMessage(b, context.Background(), n, &Config{Role: frame.RoleClient})
		})
	}
}

// BenchmarkReadMessageCancellable is BenchmarkReadMessage at 64 B with a context that can be
// cancelled: a message buffered whole needs no context watch. Steady state: 0 allocs/op.
func BenchmarkReadMessageCancellable(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	benchReadMessage(b, ctx, 64, &Config{Role: frame.RoleClient})
}

// benchReadMessage reads messages of n bytes, one frame each, with ctx, from a memConn whose
// wire repeats them, into a reused buffer, over a Conn made with cfg.
func benchReadMessage(b *testing.B, ctx context.Context, n int, cfg *Config) {
	one := rawFrame(true, 0, frame.OpBinary, false, payloadOf(n, false, 1))
	wire := one
	for len(wire) < 64<<10 {
		wire = append(wire, one...)
	}
	c := New(&memConn{wire: wire}, nil, cfg)
	buf := make([]byte, 0, n)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		_, m, err := c.ReadMessage(ctx, buf)
		if err != nil || len(m) != n {
			b.Fatal(err, len(m))
		}
	}
}

// BenchmarkWriteMessage writes client-to-server (masked) binary messages of one frame to a
// connection that discards them. Steady state: 0 allocs/op.
func BenchmarkWriteMessage(b *testing.B) {
	for _, n := range []int{64, 1 << 10, 64 << 10, 1 << 20} {
		b.Run(sizeName(n), func(b *testing.B) {
			c := New(&memConn{}, nil, &Config{Role: frame.RoleClient})
			ctx := context.Background()
			msg := payloadOf(n, false, 1)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.WriteMessage(ctx, Binary, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadMessageTracked is BenchmarkReadMessage at 64 B and 64 KiB with
// Config.TrackReads, over a net.Conn without the raw-read path (every Read of the source is
// counted as a wait: two clock reads): the cost of keepalive's view of the reader on a TLS or
// wrapped connection. Steady state: 0 allocs/op.
func BenchmarkReadMessageTracked(b *testing.B) {
	for _, n := range []int{64, 64 << 10} {
		b.Run(sizeName(n), func(b *testing.B) {
			benchReadMessage(b, context.Background(), n, &Config{Role: frame.RoleClient, TrackReads: true})
		})
	}
}

// BenchmarkRoundTripTracked is BenchmarkRoundTrip at 64 B with Config.TrackReads on the
// client (the raw-read path): the cost keepalive adds to a busy client. Steady state:
// 0 allocs/op.
func BenchmarkRoundTripTracked(b *testing.B) {
	for _, track := range []bool{false, true} {
		name := "untracked"
		if track {
			name = "tracked"
		}
		b.Run(name, func(b *testing.B) {
			client, server := connPair(b, &Config{TrackReads: track}, nil)
			done := goEcho(server)
			ctx := context.Background()
			msg := payloadOf(64, false, 1)
			buf := make([]byte, 0, 64)
			b.SetBytes(64)
			b.ReportAllocs()
			for b.Loop() {
				if err := client.WriteMessage(ctx, Binary, msg); err != nil {
					b.Fatal(err)
				}
				if _, m, err := client.ReadMessage(ctx, buf); err != nil || len(m) != 64 {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			client.CloseNow()
			<-done
		})
	}
}

// BenchmarkCompressedWrite writes messages of JSON-like text with permessage-deflate (window
// 2^15, no context takeover) to a connection that discards them, and reports the compressed
// size in percent of the message (wire%). The sizes around DefaultCompressionThreshold show
// what compressing a short message costs and saves.
func BenchmarkCompressedWrite(b *testing.B) {
	for _, n := range []int{64, 128, 256, 1 << 10, 64 << 10} {
		b.Run(sizeName(n), func(b *testing.B) {
			mc := &memConn{}
			cfg := &Config{Role: frame.RoleClient, Compression: compression(b, deflate.Parameters{ClientNoContextTakeover: true}, false, -1)}
			c := New(mc, nil, cfg)
			ctx := context.Background()
			msg := compressible(n, 1)
			zc, _ := deflate.NewCompressor(15, true)
			out, _ := zc.AppendMessage(nil, msg)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.WriteMessage(ctx, Binary, msg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(100*float64(len(out))/float64(n), "wire%")
		})
	}
}
