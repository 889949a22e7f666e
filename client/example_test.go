package client_test

// Every example starts its own server on 127.0.0.1 with the public API (package server), so
// each can be copied into a program as it is.

import (
	"context"
	"fmt"
	"strings"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/server"
)

// The seed document's example in Go: subscribe to the six events, connect with a header,
// send a greeting once open, and close after the answer.
func Example() {
	// An echo server on 127.0.0.1 (package server) to talk to.
	srv := server.CreateWebSocketServer()
	srv.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
		srv.Send(m.Data, m.ClientConnection, nil)
	}))
	if err := srv.Start(&server.WebSocketServerConfig{ServerIP: "127.0.0.1"}, nil); err != nil {
		fmt.Println(err)
		return
	}
	defer func() { // Stop returns at once; its callback runs once every client is closed
		stopped := make(chan struct{})
		srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
		<-stopped
	}()
	url := "ws://" + srv.Addr().String() + "/"

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
	<-closed // Connect returns at once: wait for the CLOSE event
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
// response. Everything it needs is in package client.
func ExampleDial() {
	// An echo server on 127.0.0.1 (package server) to talk to.
	srv := server.CreateWebSocketServer()
	srv.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
		srv.Send(m.Data, m.ClientConnection, nil)
	}))
	if err := srv.Start(&server.WebSocketServerConfig{ServerIP: "127.0.0.1"}, nil); err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		stopped := make(chan struct{})
		srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
		<-stopped
	}()
	url := "ws://" + srv.Addr().String() + "/"

	ctx := context.Background()
	c, resp, err := client.Dial(ctx, url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode, resp.Status)
	if err := c.WriteMessage(ctx, client.Text, []byte("hi")); err != nil {
		fmt.Println(err)
	}
	typ, p, err := c.ReadMessage(ctx, nil)
	fmt.Printf("%v %s %v\n", typ, p, err)
	fmt.Println(c.Close(client.CloseNormal, "bye"))

	// Output:
	// 101 Switching Protocols
	// text hi <nil>
	// <nil>
}

// Compression is opt-in: DialOptions.Deflate offers permessage-deflate (RFC 7692); when the
// server accepts, the connection compresses what it sends (messages of 128 bytes or more) and
// inflates what arrives compressed, and Response().Deflate holds what was agreed.
//
// The server here is the server facade with PerMessageDeflate, echoing every message.
func ExampleDialOptions_deflate() {
	srv := server.CreateWebSocketServer()
	srv.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
		srv.Send(m.Data, m.ClientConnection, nil)
	}))
	cfg := &server.WebSocketServerConfig{ServerIP: "127.0.0.1", PerMessageDeflate: &deflate.ServerOptions{}}
	if err := srv.Start(cfg, nil); err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		stopped := make(chan struct{})
		srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
		<-stopped
	}()

	ctx := context.Background()
	c, resp, err := client.Dial(ctx, "ws://"+srv.Addr().String()+"/", &client.DialOptions{
		Deflate: &deflate.ClientOptions{ClientNoContextTakeover: true},
	})
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	fmt.Println("agreed:", resp.Header.Get("Sec-WebSocket-Extensions"))
	if err := c.WriteMessage(ctx, client.Text, []byte(strings.Repeat("hello ", 100))); err != nil {
		fmt.Println("write:", err)
	}
	_, p, err := c.ReadMessage(ctx, nil)
	fmt.Println("echo:", len(p), "bytes", err)
	fmt.Println(c.Close(client.CloseNormal, ""))

	// Output:
	// agreed: permessage-deflate; client_no_context_takeover
	// echo: 600 bytes <nil>
	// <nil>
}

// The platform's openInfo event: right after OPEN, the status of the handshake response and
// the subprotocol the server selected from those offered.
func ExampleNewOpenInfoCallback() {
	// A server on 127.0.0.1 that speaks the subprotocol "chat.v2".
	srv := server.CreateWebSocketServer()
	if err := srv.Start(&server.WebSocketServerConfig{ServerIP: "127.0.0.1", Protocol: "chat.v2"}, nil); err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		stopped := make(chan struct{})
		srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
		<-stopped
	}()

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
	ws.Connect("ws://"+srv.Addr().String()+"/", options, nil)
	<-closed
	// Output:
	// OPEN map[101:Switching Protocols]
	// OPENINFO 101 "Switching Protocols" protocol "chat.v2"
	// CLOSE 1000
}

// startEchoServer starts an echo server (package server) on 127.0.0.1 and returns its URL
// and a function that stops it and waits until every connection is closed. The examples
// write this out each time, so that each can be copied alone; tests of this package use it.
func startEchoServer() (url string, stop func()) {
	srv := server.CreateWebSocketServer()
	srv.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
		srv.Send(m.Data, m.ClientConnection, nil)
	}))
	if err := srv.Start(&server.WebSocketServerConfig{ServerIP: "127.0.0.1"}, nil); err != nil {
		panic(err)
	}
	return "ws://" + srv.Addr().String() + "/", func() {
		stopped := make(chan struct{})
		srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
		<-stopped
	}
}
