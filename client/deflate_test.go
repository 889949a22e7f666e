package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/internal/echoserver"
	"github.com/netkit/websocket/internal/wstest"
)

func jsonLike(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"user":"u%d","ok":true},`, i, i%97)
	}
	return b.Bytes()[:n]
}

// TestDialDeflateAgainstOurServer dials our echo server with DialOptions.Deflate in each
// takeover mode and window: the agreed parameters are reported, messages come back intact, and
// what arrives on the wire is compressed.
func TestDialDeflateAgainstOurServer(t *testing.T) {
	srv, err := echoserver.Start("127.0.0.1:0", echoserver.WithDeflate(deflate.ServerOptions{}, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, o := range []deflate.ClientOptions{{}, {ClientNoContextTakeover: true, ServerNoContextTakeover: true},
		{ClientMaxWindowBits: 9, ServerMaxWindowBits: 8}, {ClientMaxWindowBits: 12, ServerNoContextTakeover: true}} {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			var read atomic.Int64
			ctx := context.Background()
			c, resp, err := Dial(ctx, srv.URL(), &DialOptions{Deflate: &o, PingInterval: -1,
				NetDialContext: wstest.CountingDial(&read)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if resp.Deflate == nil || !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
				t.Fatalf("not agreed: %v %q", resp.Deflate, resp.Header.Get("Sec-WebSocket-Extensions"))
			}
			before := read.Load()
			msg := jsonLike(200000)
			for i := range 3 {
				if err := c.WriteMessage(ctx, conn.Text, msg); err != nil {
					t.Fatal(err)
				}
				_, got, err := c.ReadMessage(ctx, nil)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("echo %d: %v, equal %v", i, err, bytes.Equal(got, msg))
				}
			}
			if wire := read.Load() - before; wire > 3*int64(len(msg))/3 {
				t.Fatalf("%d bytes on the wire for 3 x %d bytes: not compressed", wire, len(msg))
			}
			if err := c.Close(frame.CloseNormal, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDialDeflateOffIsTheDefault: without Deflate nothing is offered, and a server that
// accepts compression does not use it.
func TestDialDeflateOffIsTheDefault(t *testing.T) {
	srv, err := echoserver.Start("127.0.0.1:0", echoserver.WithDeflate(deflate.ServerOptions{}, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, resp, err := Dial(context.Background(), srv.URL(), &DialOptions{PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if resp.Deflate != nil || resp.Header.Get("Sec-WebSocket-Extensions") != "" {
		t.Fatalf("agreed without an offer: %v", resp.Header)
	}
}

// TestDialDeflateRefusedByServer: a server without compression answers without the
// extension; the connection works uncompressed.
func TestDialDeflateRefusedByServer(t *testing.T) {
	srv, err := echoserver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c, resp, err := Dial(ctx, srv.URL(), &DialOptions{Deflate: &deflate.ClientOptions{}, PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if resp.Deflate != nil {
		t.Fatal("agreed with a server that does not compress")
	}
	msg := jsonLike(1000)
	if err := c.WriteMessage(ctx, conn.Text, msg); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.ReadMessage(ctx, nil); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("%v", err)
	}
}

// TestFacadePerMessageDeflate: the facade's PerMessageDeflate option offers compression;
// HEADERRECEIVE shows the agreed Sec-WebSocket-Extensions and messages of every size come
// back through the compressing echo server.
func TestFacadePerMessageDeflate(t *testing.T) {
	srv, err := echoserver.Start("127.0.0.1:0", echoserver.WithDeflate(deflate.ServerOptions{}, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	opts := NewWebSocketRequestOptions()
	opts.Proxy = NoProxy{}
	opts.PerMessageDeflate = &deflate.ClientOptions{ServerMaxWindowBits: 10}
	ws := CreateWebSocket()
	headers := make(chan ResponseHeaders, 1)
	msgs := make(chan MessageData, 10)
	closed := make(chan CloseResult, 1)
	ws.On(EventHeaderReceive, NewHeaderReceiveCallback(func(h ResponseHeaders) { headers <- h }))
	ws.On(EventMessage, NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) { msgs <- m }))
	ws.On(EventClose, NewWebSocketAsyncCallback(func(_ *AsyncError, r CloseResult) { closed <- r }))
	if err := ws.Connect(srv.URL(), opts, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-headers:
		ext := h.(MapData)["Sec-WebSocket-Extensions"]
		if ext != "permessage-deflate; server_max_window_bits=10" {
			t.Fatalf("HEADERRECEIVE Sec-WebSocket-Extensions %q", ext)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no HEADERRECEIVE")
	}
	want := []MessageData{StringData(""), StringData("short"), StringData(jsonLike(100000)), ArrayData(jsonLike(1 << 20))}
	for _, m := range want {
		if err := ws.Send(m, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range want {
		select {
		case got := <-msgs:
			if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", m) || got.String() != m.String() {
				t.Fatalf("message %d differs", i)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("message %d did not come back", i)
		}
	}
	if err := ws.Close(nil, nil); err != nil {
		t.Fatal(err)
	}
	if r := <-closed; r.Code != 1000 {
		t.Fatalf("close %+v", r)
	}
}

// TestFacadePerMessageDeflateBadOptionIs401: window bits out of range are a parameter error.
func TestFacadePerMessageDeflateBadOptionIs401(t *testing.T) {
	opts := NewWebSocketRequestOptions()
	opts.PerMessageDeflate = &deflate.ClientOptions{ClientMaxWindowBits: 7}
	ws := CreateWebSocket()
	err := ws.Connect("ws://127.0.0.1:1/", opts, nil)
	if CodeOf(err) != CodeParameterError {
		t.Fatalf("got %v, want a 401", err)
	}
}

// writeCounting counts the bytes written to a connection.
type writeCounting struct {
	net.Conn
	n *atomic.Int64
}

func (w writeCounting) Write(p []byte) (int, error) {
	n, err := w.Conn.Write(p)
	w.n.Add(int64(n))
	return n, err
}

// TestDeflateLevelOnTheWire echoes the 64 KiB JSON corpus with DialOptions.Deflate.Level and
// the echo server's deflate.ServerOptions.Level at 1 and at the default: level 1 writes more
// bytes than the default in each direction (the level reaches both ends' compressors), and
// the message comes back intact.
func TestDeflateLevelOnTheWire(t *testing.T) {
	msg, err := os.ReadFile("../deflate/testdata/msg-64k.json")
	if err != nil {
		t.Fatal(err)
	}
	wire := func(level int) (sent, received int64) {
		srv, err := echoserver.Start("127.0.0.1:0", echoserver.WithDeflate(deflate.ServerOptions{Level: level}, 0))
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		var read, written atomic.Int64
		dial := wstest.CountingDial(&read)
		ctx := context.Background()
		c, _, err := Dial(ctx, srv.URL(), &DialOptions{PingInterval: -1,
			Deflate: &deflate.ClientOptions{Level: level, ClientNoContextTakeover: true, ServerNoContextTakeover: true},
			NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				nc, err := dial(ctx, network, addr)
				return writeCounting{nc, &written}, err
			}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		r0, w0 := read.Load(), written.Load()
		if err := c.WriteMessage(ctx, conn.Text, msg); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.ReadMessage(ctx, nil)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("level %d: %v, equal %v", level, err, bytes.Equal(got, msg))
		}
		return written.Load() - w0, read.Load() - r0
	}
	defSent, defRecv := wire(deflate.DefaultLevel)
	fastSent, fastRecv := wire(deflate.BestSpeed)
	t.Logf("default level: sent %d, received %d; level 1: sent %d, received %d (message %d bytes)", defSent, defRecv, fastSent, fastRecv, len(msg))
	if fastSent <= defSent || fastRecv <= defRecv {
		t.Fatalf("level 1 must compress less than the default both ways: sent %d vs %d, received %d vs %d", fastSent, defSent, fastRecv, defRecv)
	}
	if defSent > int64(len(msg))/3 || fastSent > int64(len(msg))/3 {
		t.Fatalf("not compressed: %d and %d bytes for %d", defSent, fastSent, len(msg))
	}
}

func TestFacadePerMessageDeflateBadLevelIs401(t *testing.T) {
	opts := NewWebSocketRequestOptions()
	opts.PerMessageDeflate = &deflate.ClientOptions{Level: 10}
	ws := CreateWebSocket()
	err := ws.Connect("ws://127.0.0.1:1/", opts, nil)
	if CodeOf(err) != CodeParameterError || !errors.Is(err, deflate.ErrInvalidLevel) {
		t.Fatalf("got %v, want a 401 wrapping deflate.ErrInvalidLevel", err)
	}
}
