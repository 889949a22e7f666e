package client

import (
	"context"
	"net/http"
	"runtime"
	"testing"

	"github.com/netkit/websocket/frame"
)

// Connect cost, in one run against the same in-process server (both ends' work is counted):
// a wss:// WebSocket by the HTTP/1.1 Upgrade (TCP, TLS and the handshake each time) against
// a second WebSocket on an HTTP/2 connection that is already open (one HEADERS exchange).
// Each iteration opens and closes one WebSocket (closing handshake included).
func BenchmarkConnectWSS(b *testing.B) {
	cert, _, _, cfg := h2Certs(b)
	s, err := startH2Server(cert, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	url := "wss://" + s.addr() + "/echo"
	ctx := context.Background()
	b.Run("HTTP1", func(b *testing.B) {
		o := h2Opts(HTTP2Off, cfg, nil)
		b.ReportAllocs()
		for b.Loop() {
			c, _, err := Dial(ctx, url, o)
			if err != nil {
				b.Fatal(err)
			}
			_ = c.Close(frame.CloseNormal, "")
		}
	})
	b.Run("HTTP2Shared", func(b *testing.B) {
		pool := new(HTTP2Pool)
		defer pool.CloseIdleConnections()
		o := h2Opts(HTTP2Required, cfg, pool)
		first, _, err := Dial(ctx, url, o) // opens the shared connection
		if err != nil {
			b.Fatal(err)
		}
		defer first.Close(frame.CloseNormal, "")
		b.ReportAllocs()
		for b.Loop() {
			c, _, err := Dial(ctx, url, o)
			if err != nil {
				b.Fatal(err)
			}
			_ = c.Close(frame.CloseNormal, "")
		}
	})
}

// Memory and goroutines per WebSocket on one shared HTTP/2 connection, both ends counted
// (the server runs in the process): heap in use and goroutines after opening b.N more
// WebSockets on a connection already open, divided by b.N. Run with -benchtime 200x.
//
// x/net/http2's client holds a request-body scratch buffer of min(the server's
// SETTINGS_MAX_FRAME_SIZE, 512 KiB) per open stream: net/http's server advertises 1 MiB, so
// 512 KiB per WebSocket; "frame16k" has the server advertise 16 KiB.
func BenchmarkHTTP2MemoryPerWebSocket(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchH2Memory(b) })
	b.Run("frame16k", func(b *testing.B) {
		benchH2Memory(b, func(s *http.Server) { s.HTTP2 = &http.HTTP2Config{MaxReadFrameSize: 16 << 10} })
	})
}

func benchH2Memory(b *testing.B, setup ...func(*http.Server)) {
	cert, _, _, cfg := h2Certs(b)
	s, err := startH2Server(cert, nil, setup...)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	pool := new(HTTP2Pool)
	defer pool.CloseIdleConnections()
	url := "wss://" + s.addr() + "/echo"
	ctx := context.Background()
	o := h2Opts(HTTP2Required, cfg, pool)
	first, _, err := Dial(ctx, url, o)
	if err != nil {
		b.Fatal(err)
	}
	defer first.Close(frame.CloseNormal, "")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	conns := make([]*Conn, 0, b.N)
	b.ResetTimer()
	for range b.N {
		c, _, err := Dial(ctx, url, o)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/float64(b.N), "heap-B/ws")
	b.ReportMetric(float64(after.StackInuse-before.StackInuse)/float64(b.N), "stack-B/ws")
	b.ReportMetric(float64(runtime.NumGoroutine()-g0)/float64(b.N), "goroutines/ws")
	if n := s.accepts.Load(); n != 1 {
		b.Fatalf("%d connections", n)
	}
	for _, c := range conns {
		_ = c.Close(frame.CloseNormal, "")
	}
}
