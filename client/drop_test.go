package client

import (
	"context"
	"errors"
	"testing"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

func TestReadAfterServerDropsTCPIsLostConnection1006(t *testing.T) {
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) { c.NetConn().Close() })
	c, _, err := Dial(context.Background(), srv.URL, &DialOptions{PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for range 2 { // the same end, every time
		_, _, err := c.ReadMessage(context.Background(), nil)
		var ce *conn.CloseError
		if !errors.As(err, &ce) || ce.Remote || ce.Code != frame.CloseAbnormal {
			t.Fatalf("read after drop: %v", err)
		}
	}
}
