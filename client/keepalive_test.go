package client

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// TestKeepaliveCountsMessagesAsSignsOfLife has a server that never answers pings but sends a
// message every 10 ms: the messages alone must keep keepalive from giving up, over twice its
// pong timeout.
func TestKeepaliveCountsMessagesAsSignsOfLife(t *testing.T) {
	const messages = 100
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		swallowed := make(chan struct{})
		go func() {
			defer close(swallowed)
			_, _ = io.Copy(io.Discard, c.NetConn()) // pings are never answered
		}()
		for i := range messages {
			if c.WriteMessage(context.Background(), conn.Binary, []byte{byte(i)}) != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		_ = c.CloseNow()
		<-swallowed
	})
	c, _, err := Dial(context.Background(), srv.URL, &DialOptions{PingInterval: 50 * time.Millisecond, PongTimeout: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range messages {
		_, p, err := c.ReadMessage(ctx, nil)
		if err != nil || len(p) != 1 || p[0] != byte(i) {
			t.Fatalf("message %d after %v: %v %v", i, time.Since(start), p, err)
		}
	}
	if d := time.Since(start); d < 800*time.Millisecond {
		t.Fatalf("the messages took %v, under twice the pong timeout: the test proves nothing", d)
	}
}
