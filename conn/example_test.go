package conn_test

import (
	"bufio"
	"context"
	"fmt"
	"net"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// Example runs both ends of a WebSocket connection over loopback TCP with nothing but the
// engine: the handshake package opens the connection, conn carries the messages, and Close
// performs the closing handshake (RFC 6455 §7).
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()

	// Server: upgrade, then echo each message until the client closes.
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		br := bufio.NewReader(nc)
		u := handshake.Upgrader{Protocols: []string{"echo"}}
		if _, _, err := u.Upgrade(br, nc); err != nil {
			nc.Close()
			return
		}
		prefix, _ := br.Peek(br.Buffered()) // bytes the client sent right after its request
		c := conn.New(nc, prefix, &conn.Config{Role: frame.RoleServer, Subprotocol: "echo"})
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(context.Background(), buf)
			if err != nil {
				return // the client's close was answered; err is a *conn.CloseError
			}
			if c.WriteMessage(context.Background(), typ, msg) != nil {
				return
			}
			buf = msg
		}
	}()

	// Client: handshake, send two messages, read the echoes, close.
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	req := &handshake.Request{Host: ln.Addr().String(), Path: "/", Protocols: []string{"echo"}}
	key := handshake.NewKey()
	wire, err := req.Append(nil, key)
	if err != nil {
		panic(err)
	}
	if _, err := nc.Write(wire); err != nil {
		panic(err)
	}
	br := bufio.NewReader(nc)
	resp, err := handshake.ReadResponse(br, req, key, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, resp.Status, resp.Subprotocol)

	prefix, _ := br.Peek(br.Buffered())
	c := conn.New(nc, prefix, &conn.Config{Role: frame.RoleClient, Subprotocol: resp.Subprotocol})
	ctx := context.Background()
	c.WriteMessage(ctx, conn.Text, []byte("hello"))
	c.WriteMessage(ctx, conn.Binary, []byte{1, 2, 3})
	for range 2 {
		typ, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			panic(err)
		}
		fmt.Println(typ, msg)
	}
	fmt.Println(c.Close(frame.CloseNormal, "bye"))
	<-done
	// Output:
	// 101 Switching Protocols echo
	// text [104 101 108 108 111]
	// binary [1 2 3]
	// <nil>
}
