package conn

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/frame"
)

// FuzzConnClientRead feeds a client Conn an arbitrary server byte stream through net.Pipe,
// reading it with ReadMessage and NextReader in turn. It must not panic, every message must
// respect the type, size and UTF-8 rules, every read must end (deadlines bound it), and no
// goroutine may be left behind.
func FuzzConnClientRead(f *testing.F) {
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	f.Add(rawFrame(true, 0, frame.OpText, false, []byte("Hello")))
	f.Add(cat(rawFrame(false, 0, frame.OpText, false, []byte("Hel")), rawFrame(true, 0, frame.OpPing, false, []byte("p")),
		rawFrame(true, 0, frame.OpContinuation, false, []byte("lo")), rawFrame(true, 0, frame.OpClose, false, []byte{3, 232, 'o', 'k'})))
	f.Add(cat(rawFrame(true, 0, frame.OpBinary, false, make([]byte, 300)), rawFrame(true, 0, frame.OpPong, false, nil)))
	f.Add(rawFrame(true, 0, frame.OpText, false, []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")))
	f.Add(rawFrame(true, 0, frame.OpText, false, []byte("\xed\xa0\x80")))
	f.Add(rawFrame(true, frame.Rsv1, frame.OpText, false, nil))
	f.Add(rawFrame(true, 0, frame.OpClose, false, []byte{1}))
	f.Add([]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) { fuzzClientRead(t, data, nil) })
}

// FuzzConnClientReadCompressed is FuzzConnClientRead with permessage-deflate agreed (context
// takeover, window 2^15 from the server): arbitrary compressed payloads, split across frames
// or not, must end in a delivered message that respects the limits and UTF-8, or in a
// *CloseError (1007, 1009, 1002), never in a panic or a hang.
func FuzzConnClientReadCompressed(f *testing.F) {
	zc, _ := deflate.NewCompressor(15, false)
	hello, _ := zc.AppendMessage(nil, []byte("Hello Hello Hello"))
	again, _ := zc.AppendMessage(nil, []byte("Hello again, Hello"))
	f.Add(append(rawFrame(true, frame.Rsv1, frame.OpText, false, hello), rawFrame(true, frame.Rsv1, frame.OpText, false, again)...))
	f.Add(append(rawFrame(false, frame.Rsv1, frame.OpBinary, false, hello[:3]), rawFrame(true, 0, frame.OpContinuation, false, hello[3:])...))
	f.Add(rawFrame(true, frame.Rsv1, frame.OpBinary, false, []byte{0xff, 0x00}))
	f.Add(rawFrame(true, frame.Rsv1, frame.OpText, false, nil))
	f.Add(rawFrame(true, frame.Rsv1, frame.OpText, false, []byte{0x00}))
	f.Fuzz(func(t *testing.T, data []byte) {
		zc, _ := deflate.NewCompressor(15, false)
		zd, _ := deflate.NewDecompressor(15, false)
		fuzzClientRead(t, data, &Compression{Compressor: zc, Decompressor: zd})
	})
}

// fuzzClientRead feeds a client Conn (with z, if not nil) data as the server's byte stream and
// reads it to its end; see FuzzConnClientRead.
func fuzzClientRead(t *testing.T, data []byte, z *Compression) {
	a, b := net.Pipe()
	c := New(a, nil, &Config{Role: frame.RoleClient, ReadBufferSize: 256, MaxMessageSize: 1 << 16,
		CloseTimeout: 50 * time.Millisecond, Compression: z})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the server: sends data, then hangs up
		defer wg.Done()
		b.Write(data)
		b.Close()
	}()
	go func() { // and takes whatever the client writes (pongs, close)
		defer wg.Done()
		io.Copy(io.Discard, b)
	}()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	ctx := context.Background()
	var buf []byte
	for i := 0; ; i++ {
		var typ MessageType
		var msg []byte
		var err error
		if i%2 == 0 {
			typ, msg, err = c.ReadMessage(ctx, buf)
			buf = msg
		} else {
			var r io.Reader
			if typ, r, err = c.NextReader(ctx); err == nil {
				msg, err = io.ReadAll(r)
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("read hung until the deadline")
			}
			var ce *CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("read ended with %v (%T), want a *CloseError", err, err)
			}
			break
		}
		if typ != Text && typ != Binary {
			t.Fatalf("message type %v", typ)
		}
		if len(msg) > 1<<16 {
			t.Fatalf("message of %d bytes over the limit", len(msg))
		}
		if typ == Text && !utf8.Valid(msg) {
			t.Fatalf("invalid UTF-8 text delivered: %q", msg)
		}
	}
	c.CloseNow()
	b.Close()
	wg.Wait()
}
