package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
)

// Message benchmarks run over real loopback TCP. The peer on the other end is the same for
// every implementation, so only the client-side code under test differs:
//   - Write: the client writes masked binary messages; the peer reads and discards the bytes.
//   - Read: the peer streams pre-encoded unmasked binary frames; the client reads messages.
//   - RoundTrip: the client writes a message and reads its echo from a frame-level echo peer.
//
// impl=gobwas is gobwas/ws's low-level API used at its best: a reused bufio.Writer/Reader and
// payload buffer, ws.WriteHeader + ws.Cipher on write, ws.ReadHeader + io.ReadFull on read.
//
// Every benchmark does one warm-up operation before timing, for both implementations, so that
// one-time allocations (the peer's frame and echo buffers, gobwas's scratch, our pooled
// buffers) are not averaged into B/op.

var msgSizes = []struct {
	name string
	n    int
}{
	{"64B", 64}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20},
}

// peer runs fn on the server end in a goroutine and, at cleanup, closes both ends and waits.
func peer(b *testing.B, fn func(server net.Conn)) net.Conn {
	client, server := tcpPair(b)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		fn(server)
	}()
	b.Cleanup(func() {
		client.Close()
		server.Close()
		wg.Wait()
	})
	return client
}

// streamFrames writes the same unmasked binary frame over and over until the connection fails.
func streamFrames(n int) func(net.Conn) {
	return func(server net.Conn) {
		payload := make([]byte, n)
		h := frame.Header{Fin: true, Op: frame.OpBinary, Length: int64(n)}
		wire := frame.AppendHeader(nil, &h)
		wire = append(wire, payload...)
		// Batch small frames so the peer is never the bottleneck.
		batch := wire
		for len(batch) < 64<<10 {
			batch = append(batch, wire...)
		}
		for {
			if _, err := server.Write(batch); err != nil {
				return
			}
		}
	}
}

// echoFrames echoes every frame it reads (unmasking it and sending it back unmasked). It
// allocates nothing per frame, so the allocation columns count only the client under test.
func echoFrames(server net.Conn) {
	br := bufio.NewReaderSize(server, 64<<10)
	bw := bufio.NewWriterSize(server, 64<<10)
	var buf []byte
	out := make([]byte, frame.MaxHeaderSize)
	for {
		hb, _ := br.Peek(2)
		need := 2
		if len(hb) == 2 {
			switch hb[1] & 0x7F {
			case 126:
				need = 4
			case 127:
				need = 10
			}
			if hb[1]&0x80 != 0 {
				need += 4
			}
		}
		hb, err := br.Peek(need)
		if err != nil {
			return
		}
		h, n, err := frame.DecodeHeader(hb)
		if err != nil {
			return
		}
		br.Discard(n)
		if int64(cap(buf)) < h.Length {
			buf = make([]byte, h.Length)
		}
		p := buf[:h.Length]
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		if h.Masked {
			ws.Cipher(p, h.Key, 0)
		}
		h.Masked = false
		if _, err := bw.Write(out[:h.Encode(out)]); err != nil {
			return
		}
		if _, err := bw.Write(p); err != nil || bw.Flush() != nil {
			return
		}
	}
}

func newOurs(c net.Conn) *conn.Conn {
	return conn.New(c, nil, &conn.Config{Role: frame.RoleClient, MaxMessageSize: -1})
}

// gobwasClient is gobwas/ws's low-level client path with reused buffers.
type gobwasClient struct {
	c       net.Conn
	br      *bufio.Reader
	bw      *bufio.Writer
	scratch []byte
}

func newGobwas(c net.Conn) *gobwasClient {
	return &gobwasClient{c: c, br: bufio.NewReaderSize(c, 4096), bw: bufio.NewWriterSize(c, 4096)}
}

func (g *gobwasClient) write(p []byte) error {
	var key [4]byte
	rand.Read(key[:])
	if err := ws.WriteHeader(g.bw, ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: key, Length: int64(len(p))}); err != nil {
		return err
	}
	if cap(g.scratch) < len(p) {
		g.scratch = make([]byte, len(p))
	}
	s := g.scratch[:len(p)]
	copy(s, p)
	ws.Cipher(s, key, 0)
	if _, err := g.bw.Write(s); err != nil {
		return err
	}
	return g.bw.Flush()
}

func (g *gobwasClient) read(buf []byte) ([]byte, error) {
	h, err := ws.ReadHeader(g.br)
	if err != nil {
		return nil, err
	}
	if int64(cap(buf)) < h.Length {
		buf = make([]byte, h.Length)
	}
	buf = buf[:h.Length]
	_, err = io.ReadFull(g.br, buf)
	return buf, err
}

// BenchmarkWrite measures sending one binary message from the client.
func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	for _, s := range msgSizes {
		msg := make([]byte, s.n)
		b.Run("impl=ours/size="+s.name, func(b *testing.B) {
			c := newOurs(peer(b, func(server net.Conn) { io.Copy(io.Discard, server) }))
			if err := c.WriteMessage(ctx, conn.Binary, msg); err != nil { // warm-up
				b.Fatal(err)
			}
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.WriteMessage(ctx, conn.Binary, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("impl=gobwas/size="+s.name, func(b *testing.B) {
			g := newGobwas(peer(b, func(server net.Conn) { io.Copy(io.Discard, server) }))
			if err := g.write(msg); err != nil { // warm-up
				b.Fatal(err)
			}
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				if err := g.write(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead measures receiving one binary message into a reused buffer.
func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	for _, s := range msgSizes {
		b.Run("impl=ours/size="+s.name, func(b *testing.B) {
			c := newOurs(peer(b, streamFrames(s.n)))
			buf := make([]byte, 0, s.n)
			if _, _, err := c.ReadMessage(ctx, buf); err != nil { // warm-up
				b.Fatal(err)
			}
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				_, p, err := c.ReadMessage(ctx, buf)
				if err != nil || len(p) != s.n {
					b.Fatal(err, len(p))
				}
			}
		})
		b.Run("impl=gobwas/size="+s.name, func(b *testing.B) {
			g := newGobwas(peer(b, streamFrames(s.n)))
			buf := make([]byte, 0, s.n)
			if _, err := g.read(buf); err != nil { // warm-up
				b.Fatal(err)
			}
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				p, err := g.read(buf)
				if err != nil || len(p) != s.n {
					b.Fatal(err, len(p))
				}
			}
		})
	}
}

// BenchmarkRoundTrip measures one message sent and its echo received.
func BenchmarkRoundTrip(b *testing.B) {
	ctx := context.Background()
	for _, s := range msgSizes {
		msg := make([]byte, s.n)
		b.Run("impl=ours/size="+s.name, func(b *testing.B) {
			c := newOurs(peer(b, echoFrames))
			buf := make([]byte, 0, s.n)
			if err := c.WriteMessage(ctx, conn.Binary, msg); err != nil { // warm-up
				b.Fatal(err)
			}
			if _, _, err := c.ReadMessage(ctx, buf); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.WriteMessage(ctx, conn.Binary, msg); err != nil {
					b.Fatal(err)
				}
				_, p, err := c.ReadMessage(ctx, buf)
				if err != nil || len(p) != s.n {
					b.Fatal(err, len(p))
				}
			}
		})
		b.Run("impl=gobwas/size="+s.name, func(b *testing.B) {
			g := newGobwas(peer(b, echoFrames))
			buf := make([]byte, 0, s.n)
			if err := g.write(msg); err != nil { // warm-up
				b.Fatal(err)
			}
			if _, err := g.read(buf); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				if err := g.write(msg); err != nil {
					b.Fatal(err)
				}
				p, err := g.read(buf)
				if err != nil || len(p) != s.n {
					b.Fatal(err, len(p))
				}
			}
		})
	}
}
