package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/server"
)

// A server that refuses the opening handshake: Dial's error is a *client.StatusError with
// the status, the response headers and the start of the body (the blocking API).
func ExampleStatusError() {
	// A server on 127.0.0.1 that refuses every client without a token with 403.
	srv := server.CreateWebSocketServer()
	err := srv.Start(&server.WebSocketServerConfig{
		ServerIP: "127.0.0.1",
		HandshakeHook: func(req *handshake.ServerRequest) (int, string) {
			if req.Header.Get("Authorization") != "Bearer s3cret" {
				return 403, "no valid token"
			}
			return 0, ""
		},
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		stopped := make(chan struct{})
		srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
		<-stopped
	}()
	url := "ws://" + srv.Addr().String() + "/"

	_, _, err = client.Dial(context.Background(), url, nil)
	var se *client.StatusError
	if errors.As(err, &se) {
		fmt.Println("refused:", se.StatusCode, se.Status, strings.TrimSpace(string(se.Body)))
	}

	c, _, err := client.Dial(context.Background(), url, &client.DialOptions{
		Header: map[string][]string{"Authorization": {"Bearer s3cret"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("with the token:", c.Response().StatusCode)
	c.Close(client.CloseNormal, "")

	// Output:
	// refused: 403 Forbidden no valid token
	// with the token: 101
}

// How a connection ended: once it has, every read returns a *client.CloseError. Remote tells
// whether the code and reason are the server's (it closed, or answered our close) or describe
// what this end did (1009 for a message over MaxMessageSize, 1006 for a connection lost
// without a closing handshake).
func ExampleCloseError() {
	// A server on 127.0.0.1 that sends a 2 KiB message, or closes with 4000 on "close please".
	srv := server.CreateWebSocketServer()
	srv.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
		if m.Data.String() == "close please" {
			srv.Close(m.ClientConnection, &server.WebSocketCloseOptions{Code: 4000, Reason: "maintenance"}, nil)
			return
		}
		srv.Send(server.StringData(strings.Repeat("x", 2048)), m.ClientConnection, nil)
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

	// The server closes.
	c, _, err := client.Dial(ctx, url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	c.WriteMessage(ctx, client.Text, []byte("close please"))
	_, _, err = c.ReadMessage(ctx, nil)
	var ce *client.CloseError
	if errors.As(err, &ce) {
		fmt.Printf("server closed: %d %q remote=%v\n", ce.Code, ce.Reason, ce.Remote)
	}
	fmt.Println("write after close:", errors.Is(c.WriteMessage(ctx, client.Text, []byte("late")), client.ErrClosed))
	c.CloseNow()

	// This end fails the connection: a message larger than MaxMessageSize.
	c, _, err = client.Dial(ctx, url, &client.DialOptions{MaxMessageSize: 1024})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.WriteMessage(ctx, client.Text, []byte("send me 2 KiB"))
	_, _, err = c.ReadMessage(ctx, nil)
	if errors.As(err, &ce) {
		fmt.Printf("too large: %d remote=%v\n", ce.Code, ce.Remote)
	}
	c.CloseNow()

	// Output:
	// server closed: 4000 "maintenance" remote=true
	// write after close: true
	// too large: 1009 remote=false
}

// The facade's errors carry the seed's codes (client.CodeOf reads them from any error): Connect
// returns an *AsyncError for what is known at once (2302001 for a URL that is not ws:// or
// wss://), and the ERROR event reports a failed attempt with a *BusinessException, 2302999,
// wrapping the cause (here the server's 403, a *client.StatusError), then CLOSE 1006.
func ExampleBusinessException() {
	// A server on 127.0.0.1 that refuses every client with 403.
	srv := server.CreateWebSocketServer()
	err := srv.Start(&server.WebSocketServerConfig{
		ServerIP:      "127.0.0.1",
		HandshakeHook: func(*handshake.ServerRequest) (int, string) { return 403, "go away" },
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		stopped := make(chan struct{})
		srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
		<-stopped
	}()

	ws := client.CreateWebSocket()
	options := client.NewWebSocketRequestOptions()
	options.Proxy = client.NoProxy{}

	err = ws.Connect("http://"+srv.Addr().String()+"/", options, nil)
	var ae *client.AsyncError
	if errors.As(err, &ae) {
		fmt.Printf("Connect: %d %q\n", ae.Code, ae.Message)
	}

	closed := make(chan struct{})
	ws.On(client.EventError, client.NewWebSocketErrorCallback(func(e *client.BusinessException) {
		var se *client.StatusError
		fmt.Println("ERROR", e.Code, errors.As(e, &se) && se.StatusCode == 403)
	}))
	ws.On(client.EventClose, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, r client.CloseResult) {
		fmt.Println("CLOSE", r.Code)
		close(closed)
	}))
	ws.Connect("ws://"+srv.Addr().String()+"/", options, nil)
	<-closed

	// Output:
	// Connect: 2302001 "URL error"
	// ERROR 2302999 true
	// CLOSE 1006
}
