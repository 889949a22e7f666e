package client

import (
	"context"
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
