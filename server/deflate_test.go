package server

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/internal/wstest"
)

// compressible returns n bytes of text that deflate shrinks: numbered words.
func compressible(n int) []byte {
	b := make([]byte, 0, n+16)
	for i := 0; len(b) < n; i++ {
		b = append(b, "word "...)
		b = strconv.AppendInt(b, int64(i%1000), 10)
		b = append(b, ' ')
	}
	return b[:n]
}

// mixed returns n bytes that are half compressible text and half pseudo-random bytes.
func mixed(n int) []byte {
	b := compressible(n)
	x := uint32(2463534242)
	for i := 1; i < n; i += 2 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// TestDeflateEchoEveryTakeoverModeAndWindow: our client, offering permessage-deflate, against
// the server facade with PerMessageDeflate, for each context takeover mode, windows of 2^9 and
// 2^15 and both delivery modes: the client sees the agreed extension, and text and binary
// messages from 0 B to 1 MiB come back intact.
func TestDeflateEchoEveryTakeoverModeAndWindow(t *testing.T) {
	sizes := []int{0, 1, 127, 128, 1000, 64 << 10, 1 << 20}
	for _, mode := range []struct {
		name         string
		server, clnt bool // server_no_context_takeover, client_no_context_takeover
	}{{"takeover", false, false}, {"server_no_context_takeover", true, false},
		{"client_no_context_takeover", false, true}, {"no_context_takeover", true, true}} {
		for _, bits := range []int{9, 15} {
			for _, borrow := range []bool{false, true} {
				name := mode.name + "/bits" + strconv.Itoa(bits)
				if borrow {
					name += "/borrow"
				}
				t.Run(name, func(t *testing.T) {
					_, _, url := echoServer(t, &WebSocketServerConfig{BorrowMessages: borrow,
						PerMessageDeflate: &deflate.ServerOptions{ServerNoContextTakeover: mode.server,
							ClientNoContextTakeover: mode.clnt, ServerMaxWindowBits: bits, ClientMaxWindowBits: bits}})
					c := dial(t, url, &client.DialOptions{Deflate: &deflate.ClientOptions{ClientMaxWindowBits: bits}})
					p := c.Response().Deflate
					if p == nil {
						t.Fatalf("no permessage-deflate agreed; response %v", c.Response().Header)
					}
					if p.ServerNoContextTakeover != mode.server || p.ClientNoContextTakeover != mode.clnt ||
						p.ServerWindowBits() != bits || p.ClientWindowBits() != bits {
						t.Fatalf("agreed %v", p)
					}
					if h := c.Response().Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(h, "permessage-deflate") {
						t.Fatalf("Sec-WebSocket-Extensions %q", h)
					}
					ctx := context.Background()
					for _, n := range sizes {
						for _, typ := range []conn.MessageType{conn.Text, conn.Binary} {
							m := compressible(n)
							if typ == conn.Binary {
								m = mixed(n)
							}
							must(t, c.WriteMessage(ctx, typ, m))
							gt, got, err := c.ReadMessage(ctx, nil)
							if err != nil || gt != typ || !bytes.Equal(got, m) {
								t.Fatalf("%v of %d bytes: got %v of %d bytes, %v", typ, n, gt, len(got), err)
							}
						}
					}
					must(t, c.Close(1000, ""))
				})
			}
		}
	}
}

// TestDeflateOffByDefault: without PerMessageDeflate the server accepts no extension, and a
// client that offered it talks uncompressed.
func TestDeflateOffByDefault(t *testing.T) {
	_, _, url := echoServer(t, nil)
	c := dial(t, url, &client.DialOptions{Deflate: &deflate.ClientOptions{}})
	if c.Response().Deflate != nil || c.Response().Header.Get("Sec-WebSocket-Extensions") != "" {
		t.Fatalf("agreed %v", c.Response().Deflate)
	}
	must(t, c.WriteMessage(context.Background(), conn.Text, compressible(1000)))
	if _, p, err := c.ReadMessage(context.Background(), nil); err != nil || !bytes.Equal(p, compressible(1000)) {
		t.Fatalf("%d bytes, %v", len(p), err)
	}
}

// TestDeflateBadOptionsAre401: window bits and levels out of range refuse Start.
func TestDeflateBadOptionsAre401(t *testing.T) {
	for _, o := range []deflate.ServerOptions{{ServerMaxWindowBits: 7}, {ClientMaxWindowBits: 16}, {Level: 10}} {
		s := CreateWebSocketServer()
		err := s.Start(&WebSocketServerConfig{ServerIP: "127.0.0.1", PerMessageDeflate: &o}, nil)
		if CodeOf(err) != CodeParameterError || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v, want 401", o, err)
			stopWait(t, s)
		}
	}
}

// TestDeflateCompressedMessageOverMaxMessageSizeIs1009: 1 MiB of zeros, a few KiB on the
// wire, inflates past the server's MaxMessageSize of 64 KiB: the server fails the connection
// with 1009, as for an uncompressed message.
func TestDeflateCompressedMessageOverMaxMessageSizeIs1009(t *testing.T) {
	s := CreateWebSocketServer()
	rec := record(t, s)
	url := start(t, s, &WebSocketServerConfig{MaxMessageSize: 64 << 10, PerMessageDeflate: &deflate.ServerOptions{}})
	c := dial(t, url, &client.DialOptions{Deflate: &deflate.ClientOptions{}})
	rec.expect(t, "connect")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	must(t, c.WriteMessage(ctx, conn.Binary, make([]byte, 1<<20)))
	_, _, err := c.ReadMessage(ctx, nil)
	var ce *conn.CloseError
	if !errors.As(err, &ce) || ce.Code != 1009 {
		t.Fatalf("client saw %v, want 1009", err)
	}
	for {
		e := rec.next(t)
		if e.kind == "close" {
			if e.res.Code != 1009 {
				t.Fatalf("close event %+v, want 1009", e.res)
			}
			break
		}
	}
}

// TestDeflateFewerBytesOnTheWire: the echo of 1 MiB of compressible text reaches the client
// in far fewer bytes with compression than without, with and without context takeover.
func TestDeflateFewerBytesOnTheWire(t *testing.T) {
	m := compressible(1 << 20)
	wire := func(z *deflate.ServerOptions) int64 {
		_, _, url := echoServer(t, &WebSocketServerConfig{PerMessageDeflate: z})
		var count atomic.Int64
		c := dial(t, url, &client.DialOptions{Deflate: &deflate.ClientOptions{}, NetDialContext: wstest.CountingDial(&count)})
		before := count.Load()
		must(t, c.WriteMessage(context.Background(), conn.Text, m))
		if _, p, err := c.ReadMessage(context.Background(), nil); err != nil || !bytes.Equal(p, m) {
			t.Fatalf("%d bytes, %v", len(p), err)
		}
		return count.Load() - before
	}
	plain := wire(nil)
	if plain < int64(len(m)) {
		t.Fatalf("uncompressed echo: %d bytes on the wire, less than the message", plain)
	}
	for _, z := range []*deflate.ServerOptions{{}, {ServerNoContextTakeover: true, ClientNoContextTakeover: true}} {
		got := wire(z)
		t.Logf("%+v: %d bytes on the wire, %d uncompressed", *z, got, plain)
		if got*4 > plain {
			t.Errorf("%+v: %d bytes on the wire, want under a quarter of %d", *z, got, plain)
		}
	}
}

// TestDeflateCompressionThreshold: by default a message under 128 bytes goes out
// uncompressed; a negative CompressionThreshold compresses it too.
func TestDeflateCompressionThreshold(t *testing.T) {
	m := bytes.Repeat([]byte("a"), 120)
	for _, tc := range []struct {
		threshold  int
		compressed bool
	}{{0, false}, {-1, true}} {
		_, _, url := echoServer(t, &WebSocketServerConfig{PerMessageDeflate: &deflate.ServerOptions{}, CompressionThreshold: tc.threshold})
		var count atomic.Int64
		c := dial(t, url, &client.DialOptions{Deflate: &deflate.ClientOptions{}, NetDialContext: wstest.CountingDial(&count)})
		before := count.Load()
		must(t, c.WriteMessage(context.Background(), conn.Text, m))
		if _, p, err := c.ReadMessage(context.Background(), nil); err != nil || !bytes.Equal(p, m) {
			t.Fatalf("%d bytes, %v", len(p), err)
		}
		n := count.Load() - before
		if got := n < int64(len(m))/2; got != tc.compressed {
			t.Errorf("threshold %d: %d bytes on the wire for %d, compressed %v, want %v", tc.threshold, n, len(m), got, tc.compressed)
		}
	}
}
