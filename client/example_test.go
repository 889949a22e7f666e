package client_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/internal/echoserver"
)

// startEchoServer starts this module's echo server (our server role) on 127.0.0.1 and returns
// its URL and a function that stops it.
func startEchoServer() (url string, stop func()) {
	srv, err := echoserver.Start("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	return srv.URL(), func() { srv.Close() }
}

// The seed document's example in Go: subscribe to the six events, connect with a header,
// send a greeting once open, and close after the answer.
func Example() {
	url, stop := startEchoServer()
	defer stop()

	options := client.NewWebSocketRequestOptions()
	options.Header = map[string]string{"content-type": "application/json"}
	options.Proxy = client.NoProxy{} // the seed's default is SYSTEM; loopback needs no proxy
	ws := client.CreateWebSocket()
	closed := make(chan struct{})
	sent := make(chan bool, 1)

	// on open
	openCallback := client.NewWebSocketAsyncCallback(func(err *client.AsyncError, data map[uint32]string) {
		if err != nil {
			fmt.Println("open failed:", err)
			return
		}
		fmt.Println("OPEN", data)
		ws.Send(client.StringData("Hello, server!"), client.NewWebSocketAsyncCallback(func(err *client.AsyncError, ok bool) {
			sent <- err == nil && ok
		}))
	})
	ws.On(client.EventOpen, openCallback)

	// on error
	ws.On(client.EventError, client.NewWebSocketErrorCallback(func(err *client.BusinessException) {
		fmt.Println("ERROR", err.Code, err)
	}))

	// on message
	ws.On(client.EventMessage, client.NewWebSocketAsyncCallback(func(err *client.AsyncError, data client.MessageData) {
		fmt.Println("MESSAGE", data)
		ws.Close(nil, client.NewWebSocketCloseOptions())
	}))

	// on close
	ws.On(client.EventClose, client.NewWebSocketAsyncCallback(func(err *client.AsyncError, data client.CloseResult) {
		fmt.Printf("CLOSE %d %q\n", data.Code, data.Reason)
		close(closed)
	}))

	// on dataEnd
	ws.On(client.EventDataEnd, client.NewDataEndCallback(func() { fmt.Println("DATAEND") }))

	// on headerReceive
	ws.On(client.EventHeaderReceive, client.NewHeaderReceiveCallback(func(h client.ResponseHeaders) {
		fmt.Println("HEADERRECEIVE Upgrade:", h.(client.MapData)["Upgrade"])
	}))

	ws.Connect(url, options, client.NewWebSocketAsyncCallback(func(err *client.AsyncError, ok bool) {
		fmt.Println("connect started:", ok)
	}))
	<-closed
	fmt.Println("send succeeded:", <-sent)

	// Output:
	// connect started: true
	// HEADERRECEIVE Upgrade: websocket
	// OPEN map[101:Switching Protocols]
	// MESSAGE Hello, server!
	// DATAEND
	// CLOSE 1000 ""
	// send succeeded: true
}

// Dial is the blocking API: a connection with a context, whole messages, and the handshake
// response.
func ExampleDial() {
	url, stop := startEchoServer()
	defer stop()

	ctx := context.Background()
	c, resp, err := client.Dial(ctx, url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode, resp.Status)
	if err := c.WriteMessage(ctx, conn.Text, []byte("hi")); err != nil {
		fmt.Println(err)
	}
	_, p, err := c.ReadMessage(ctx, nil)
	fmt.Printf("%s %v\n", p, err)
	fmt.Println(c.Close(frame.CloseNormal, "bye"))

	// Output:
	// 101 Switching Protocols
	// hi <nil>
	// <nil>
}

// Compression is opt-in: DialOptions.Deflate offers permessage-deflate (RFC 7692); when the
// server accepts, the connection compresses what it sends (messages of 128 bytes or more) and
// inflates what arrives compressed, and Response().Deflate holds what was agreed.
func ExampleDialOptions_deflate() {
	srv, err := echoserver.Start("127.0.0.1:0", echoserver.WithDeflate(deflate.ServerOptions{}, 0))
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	ctx := context.Background()
	c, resp, err := client.Dial(ctx, srv.URL(), &client.DialOptions{
		Deflate: &deflate.ClientOptions{ClientNoContextTakeover: true},
	})
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	fmt.Println("agreed:", resp.Header.Get("Sec-WebSocket-Extensions"))
	if err := c.WriteMessage(ctx, conn.Text, []byte(strings.Repeat("hello ", 100))); err != nil {
		fmt.Println("write:", err)
	}
	_, p, err := c.ReadMessage(ctx, nil)
	fmt.Println("echo:", len(p), "bytes", err)
	_ = c.Close(frame.CloseNormal, "")

	// Output:
	// agreed: permessage-deflate; client_no_context_takeover
	// echo: 600 bytes <nil>
}

// The platform's openInfo event: right after OPEN, the status of the handshake response and
// the subprotocol the server selected from those offered.
func ExampleNewOpenInfoCallback() {
	srv, err := echoserver.Start("127.0.0.1:0", echoserver.WithSubprotocols("chat.v2"))
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	options := client.NewWebSocketRequestOptions()
	options.Proxy = client.NoProxy{}
	options.Protocol = "chat.v3, chat.v2"
	ws := client.CreateWebSocket()
	closed := make(chan struct{})
	ws.On(client.EventOpen, client.NewWebSocketAsyncCallback(func(err *client.AsyncError, data map[uint32]string) {
		fmt.Println("OPEN", data)
	}))
	ws.On(client.EventOpenInfo, client.NewOpenInfoCallback(func(info client.WebSocketOpenInfo) {
		fmt.Printf("OPENINFO %d %q protocol %q\n", info.Status, info.Message, info.Protocol)
		ws.Close(nil, nil)
	}))
	ws.On(client.EventClose, client.NewWebSocketAsyncCallback(func(err *client.AsyncError, data client.CloseResult) {
		fmt.Println("CLOSE", data.Code)
		close(closed)
	}))
	ws.Connect(srv.URL(), options, nil)
	<-closed
	// Output:
	// OPEN map[101:Switching Protocols]
	// OPENINFO 101 "Switching Protocols" protocol "chat.v2"
	// CLOSE 1000
}
