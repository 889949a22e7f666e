package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"syscall"
	"testing"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/internal/echoserver"
	"github.com/netkit/websocket/internal/wstest"
)

// Compression benchmarks: each library's client echoes JSON messages of the fixed corpus in
// ../deflate/testdata (1 KiB and 64 KiB) through its own server role over loopback TCP, with
// permessage-deflate on, in two modes: no context takeover both ways (the only mode gorilla
// has) and context takeover with windows of 2^15 both ways (gorilla: not run). wire% is the
// bytes the client read (the server's compressed echoes, headers included) in percent of the
// message bytes: the compression ratio each library achieves. Every client and server
// compresses every message (thresholds at or below 1 KiB).

// compressionCase is one library's client and server with compression in one mode.
type compressionCase struct {
	name       string
	noTakeover bool // the library has no context takeover
	// dial starts the library's echo server (once per benchmark), connects its client through
	// a connection that counts what is read into read, and returns an echo function and a
	// closer.
	dial func(tb testing.TB, takeover bool, read *atomic.Int64) (echo func(msg []byte) ([]byte, error), done func())
}

// gwsEchoHandler serves gws connections with opt, echoing every message (gwsEcho).
func gwsEchoHandler(opt *gws.ServerOption) http.HandlerFunc {
	up := gws.NewUpgrader(&gwsEcho{}, opt)
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		s.ReadLoop()
	}
}

// coderEchoHandler serves coder connections compressing in mode (every message), echoing
// every message.
func coderEchoHandler(mode coder.CompressionMode) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, &coder.AcceptOptions{CompressionMode: mode, CompressionThreshold: 1})
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(64 << 20)
		ctx := context.Background()
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	}
}

// gorillaEchoHandler serves gorilla connections with compression (no context takeover, the
// only mode gorilla has), echoing every message.
func gorillaEchoHandler() http.HandlerFunc {
	up := gorilla.Upgrader{EnableCompression: true}
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(typ, p); err != nil {
				return
			}
		}
	}
}

// oursCompressionCase is ours with both ends compressing at level (deflate.ClientOptions.Level
// and ServerOptions.Level).
func oursCompressionCase(name string, level int) compressionCase {
	return compressionCase{name, false, func(tb testing.TB, takeover bool, read *atomic.Int64) (func([]byte) ([]byte, error), func()) {
		srv, err := echoserver.Start("127.0.0.1:0", echoserver.WithDeflate(deflate.ServerOptions{Level: level}, -1))
		if err != nil {
			tb.Fatal(err)
		}
		ctx := context.Background()
		c, _, err := client.Dial(ctx, srv.URL(), &client.DialOptions{PingInterval: -1, CompressionThreshold: -1,
			Deflate: &deflate.ClientOptions{ClientNoContextTakeover: !takeover, ServerNoContextTakeover: !takeover,
				Level: level},
			NetDialContext: wstest.CountingDial(read)})
		if err != nil {
			tb.Fatal(err)
		}
		var buf []byte
		return func(msg []byte) ([]byte, error) {
				if err := c.WriteMessage(ctx, conn.Text, msg); err != nil {
					return nil, err
				}
				_, p, err := c.ReadMessage(ctx, buf)
				buf = p
				return p, err
			}, func() {
				c.CloseNow()
				srv.Close()
			}
	}}
}

// compressionCases: ours at its default level (the windowed encoder, about klauspost's level
// 5) and at level 1, which gws and gorilla use by default; coder uses compress/flate's
// BestSpeed (level 1) too.
var compressionCases = []compressionCase{
	oursCompressionCase("ours", deflate.DefaultLevel),
	oursCompressionCase("ours-level1", deflate.BestSpeed),
	{"gws", false, func(tb testing.TB, takeover bool, read *atomic.Int64) (func([]byte) ([]byte, error), func()) {
		pmd := gws.PermessageDeflate{Enabled: true, ServerContextTakeover: takeover, ClientContextTakeover: takeover,
			ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
		srv := httptest.NewServer(gwsEchoHandler(&gws.ServerOption{PermessageDeflate: pmd}))
		nc, err := wstest.CountingDial(read)(context.Background(), "tcp", srv.Listener.Addr().String())
		if err != nil {
			tb.Fatal(err)
		}
		h := &gwsClient{got: make(chan []byte, 1)}
		c, _, err := gws.NewClientFromConn(h, &gws.ClientOption{Addr: "ws://" + srv.Listener.Addr().String() + "/",
			PermessageDeflate: pmd}, nc)
		if err != nil {
			tb.Fatal(err)
		}
		go c.ReadLoop()
		return func(msg []byte) ([]byte, error) {
				if err := c.WriteMessage(gws.OpcodeText, msg); err != nil {
					return nil, err
				}
				return <-h.got, nil
			}, func() {
				c.NetConn().Close()
				srv.CloseClientConnections()
				srv.Close()
			}
	}},
	{"coder", false, func(tb testing.TB, takeover bool, read *atomic.Int64) (func([]byte) ([]byte, error), func()) {
		mode := coder.CompressionNoContextTakeover
		if takeover {
			mode = coder.CompressionContextTakeover
		}
		srv := httptest.NewServer(coderEchoHandler(mode))
		ctx := context.Background()
		c, _, err := coder.Dial(ctx, srv.URL, &coder.DialOptions{CompressionMode: mode, CompressionThreshold: 1,
			HTTPClient: &http.Client{Transport: &http.Transport{DialContext: wstest.CountingDial(read)}}})
		if err != nil {
			tb.Fatal(err)
		}
		c.SetReadLimit(64 << 20)
		return func(msg []byte) ([]byte, error) {
				if err := c.Write(ctx, coder.MessageText, msg); err != nil {
					return nil, err
				}
				_, p, err := c.Read(ctx)
				return p, err
			}, func() {
				c.CloseNow()
				srv.CloseClientConnections()
				srv.Close()
			}
	}},
	{"gorilla", true, func(tb testing.TB, takeover bool, read *atomic.Int64) (func([]byte) ([]byte, error), func()) {
		srv := httptest.NewServer(gorillaEchoHandler())
		d := gorilla.Dialer{EnableCompression: true, NetDialContext: wstest.CountingDial(read)}
		c, _, err := d.Dial("ws://"+srv.Listener.Addr().String()+"/", nil)
		if err != nil {
			tb.Fatal(err)
		}
		return func(msg []byte) ([]byte, error) {
				if err := c.WriteMessage(gorilla.TextMessage, msg); err != nil {
					return nil, err
				}
				_, p, err := c.ReadMessage()
				return p, err
			}, func() {
				c.Close()
				srv.CloseClientConnections()
				srv.Close()
			}
	}},
}

// gwsEcho is gws's server handler: every message back with its opcode.
type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnMessage(s *gws.Conn, m *gws.Message) {
	_ = s.WriteMessage(m.Opcode, m.Bytes())
	m.Close()
}

// gwsClient hands each message the client receives to got (a copy: gws reuses its buffer).
type gwsClient struct {
	gws.BuiltinEventHandler
	got chan []byte
}

func (h *gwsClient) OnMessage(_ *gws.Conn, m *gws.Message) {
	h.got <- append([]byte(nil), m.Bytes()...)
	m.Close()
}

// processCPU returns the CPU time (user + system) this process has used, in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkCompressedEcho is one echo of a JSON message with permessage-deflate, per library,
// mode and size; see the comment above compressionCases. Beside ns/op (wall time, which a
// loaded machine stretches) it reports cpu-ns/op: the CPU time of the whole process (client
// and server, both in it) per echo, which depends less on the load.
func BenchmarkCompressedEcho(b *testing.B) {
	sizes := []struct {
		name string
		msg  []byte
	}{{"1KiB", nil}, {"64KiB", nil}}
	for i, f := range []string{"msg-1k.json", "msg-64k.json"} {
		p, err := os.ReadFile("../deflate/testdata/" + f)
		if err != nil {
			b.Fatal(err)
		}
		sizes[i].msg = p
	}
	for _, mode := range []string{"no_takeover", "takeover"} {
		for _, size := range sizes {
			msg := size.msg
			for _, cc := range compressionCases {
				if mode == "takeover" && cc.noTakeover {
					continue
				}
				b.Run(fmt.Sprintf("mode=%s/size=%s/impl=%s", mode, size.name, cc.name), func(b *testing.B) {
					var read atomic.Int64
					echo, done := cc.dial(b, mode == "takeover", &read)
					defer done()
					if got, err := echo(msg); err != nil || string(got) != string(msg) { // warm-up
						b.Fatalf("echo: %v, %d bytes", err, len(got))
					}
					read.Store(0)
					b.SetBytes(int64(len(msg)))
					b.ReportAllocs()
					cpu0 := processCPU()
					for b.Loop() {
						if _, err := echo(msg); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
					b.ReportMetric(100*float64(read.Load())/float64(b.N)/float64(len(msg)), "wire%")
				})
			}
		}
	}
}
