package server_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/server"
)

// An echo server: every message goes back to its client, with its type.
func Example() {
	srv := server.CreateWebSocketServer()
	_ = srv.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
		_ = srv.Send(m.Data, m.ClientConnection, nil)
	}))
	started := make(chan *server.AsyncError, 1)
	err := srv.Start(&server.WebSocketServerConfig{ServerIP: "127.0.0.1", ServerPort: 0},
		server.NewWebSocketAsyncCallback(func(err *server.AsyncError, ok bool) { started <- err }))
	if err != nil {
		fmt.Println(err)
		return
	}
	<-started

	c, _, err := client.Dial(context.Background(), "ws://"+srv.Addr().String()+"/", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c.WriteMessage(context.Background(), conn.Text, []byte("hello"))
	_, p, _ := c.ReadMessage(context.Background(), nil)
	fmt.Println(string(p))
	_ = c.Close(1000, "")

	stopped := make(chan struct{})
	_ = srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
	<-stopped
	// Output: hello
}

// The borrowing mode: each message is a *server.BorrowedData over the connection's reused read
// buffer, valid only during the callback. The callback sends it back as it is (Send copies it
// if it must queue it) and keeps a copy of the text.
func ExampleWebSocketServerConfig_borrowMessages() {
	srv := server.CreateWebSocketServer()
	kept := make(chan string, 1)
	_ = srv.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
		b := m.Data.(*server.BorrowedData)
		kept <- string(b.Data) // a copy: b.Data is reused once the callback returns
		_ = srv.Send(b, m.ClientConnection, nil)
	}))
	started := make(chan *server.AsyncError, 1)
	err := srv.Start(&server.WebSocketServerConfig{ServerIP: "127.0.0.1", BorrowMessages: true},
		server.NewWebSocketAsyncCallback(func(err *server.AsyncError, ok bool) { started <- err }))
	if err != nil {
		fmt.Println(err)
		return
	}
	<-started

	c, _, err := client.Dial(context.Background(), "ws://"+srv.Addr().String()+"/", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c.WriteMessage(context.Background(), conn.Text, []byte("borrowed"))
	typ, p, _ := c.ReadMessage(context.Background(), nil)
	fmt.Println(typ == conn.Text, string(p), <-kept)
	_ = c.Close(1000, "")

	stopped := make(chan struct{})
	_ = srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
	<-stopped
	// Output: true borrowed borrowed
}

// Compression (not in the platform): with PerMessageDeflate the server accepts a client's
// permessage-deflate offer (RFC 7692); messages of 128 bytes or more then go out compressed.
// Here the server compresses each message on its own (no context takeover), so an idle
// connection keeps no compression window.
func ExampleWebSocketServerConfig_perMessageDeflate() {
	srv := server.CreateWebSocketServer()
	_ = srv.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
		_ = srv.Send(m.Data, m.ClientConnection, nil)
	}))
	cfg := &server.WebSocketServerConfig{ServerIP: "127.0.0.1",
		PerMessageDeflate: &deflate.ServerOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}}
	if err := srv.Start(cfg, nil); err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		stopped := make(chan struct{})
		_ = srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
		<-stopped
	}()

	ctx := context.Background()
	c, resp, err := client.Dial(ctx, "ws://"+srv.Addr().String()+"/",
		&client.DialOptions{Deflate: &deflate.ClientOptions{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Header.Get("Sec-WebSocket-Extensions"))
	_ = c.WriteMessage(ctx, conn.Text, []byte(strings.Repeat("compress me ", 100)))
	_, p, err := c.ReadMessage(ctx, nil)
	fmt.Println(len(p), err)
	_ = c.Close(1000, "")
	// Output:
	// permessage-deflate; server_no_context_takeover; client_no_context_takeover
	// 1200 <nil>
}
