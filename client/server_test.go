package client

import (
	"context"
	"strings"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// echo sends every message back with its type until the connection ends.
func echo(c *conn.Conn, _ *handshake.ServerRequest) {
	ctx := context.Background()
	var buf []byte
	for {
		typ, p, err := c.ReadMessage(ctx, buf)
		if err != nil {
			return
		}
		if typ == conn.Text && strings.HasPrefix(string(p), "close ") {
			// "close <code> <reason>": the server closes.
			var code int
			var reason string
			f := strings.SplitN(string(p), " ", 3)
			for _, ch := range f[1] {
				code = code*10 + int(ch-'0')
			}
			if len(f) > 2 {
				reason = f[2]
			}
			_ = c.Close(frame.CloseCode(code), reason)
			return
		}
		if typ == conn.Text && string(p) == "drop" {
			_ = c.NetConn().Close()
			return
		}
		if err := c.WriteMessage(ctx, typ, p); err != nil {
			return
		}
		buf = p
	}
}
