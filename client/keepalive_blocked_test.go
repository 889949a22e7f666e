package client

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// silentServer completes the handshake, then neither reads nor writes until the test ends.
// acceptRaw answers the opening handshake on nc, a raw server connection of wstest.NewRaw, with
// a plain 101, and returns the reader of the rest of the client's bytes; false when the
// request could not be read.
func acceptRaw(nc net.Conn) (*bufio.Reader, bool) {
	br := bufio.NewReader(nc)
	req, err := handshake.ReadRequest(br, nil)
	if err != nil {
		return nil, false
	}
	nc.Write(handshake.AppendResponse(nil, req.Key, "", nil))
	return br, true
}

func silentServer(t *testing.T) string {
	t.Helper()
	release := make(chan struct{})
	srv := wstest.NewRaw(t, func(nc net.Conn) {
		if _, ok := acceptRaw(nc); !ok {
			return
		}
		select {
		case <-release:
		case <-time.After(time.Minute):
		}
	})
	t.Cleanup(func() { close(release) })
	return srv.URL
}

// Regression: when a write was blocked by a server that reads nothing, the keepalive ping
// could not be sent; keepalive then quit silently and the dead connection hung forever.
func TestKeepaliveEndsConnectionWhenPingCannotBeSent(t *testing.T) {
	url := silentServer(t)
	c, _, err := Dial(context.Background(), url, &DialOptions{PingInterval: 200 * time.Millisecond, PongTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	wrote := make(chan error, 1)
	go func() { wrote <- c.WriteMessage(context.Background(), conn.Binary, make([]byte, 64<<20)) }()
	read := make(chan error, 1)
	go func() {
		_, _, err := c.ReadMessage(context.Background(), nil)
		read <- err
	}()
	select {
	case err := <-read:
		if !errors.Is(err, ErrPongTimeout) {
			t.Errorf("read: %v, want ErrPongTimeout", err)
		}
	case <-time.After(10 * time.Second):
		c.CloseNow()
		<-read
		t.Fatal("keepalive did not end the dead connection")
	}
	select {
	case err := <-wrote:
		if err == nil {
			t.Error("the blocked write succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the blocked write did not return")
	}
}

// The same through the facade: ERROR, then CLOSE 1006 saying pong timeout, not the write error
// that keepalive's close caused.
func TestFacadeKeepaliveReportsPongTimeoutWhenPingCannotBeSent(t *testing.T) {
	url := silentServer(t)
	ws := CreateWebSocket()
	opened := make(chan struct{}, 1)
	closed := make(chan CloseResult, 1)
	ws.On(EventOpen, NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { opened <- struct{}{} }))
	ws.On(EventClose, NewWebSocketAsyncCallback(func(_ *AsyncError, r CloseResult) { closed <- r }))
	if err := ws.Connect(url, &WebSocketRequestOptions{Proxy: NoProxy{}, PingInterval: 1, PongTimeout: 1}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		t.Fatal("no OPEN")
	}
	ws.Send(ArrayData(make([]byte, 64<<20)), nil)
	select {
	case r := <-closed:
		if r.Code != 1006 || !strings.Contains(r.Reason, "pong timeout") {
			t.Errorf("CLOSE %d %q, want 1006 pong timeout", r.Code, r.Reason)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no CLOSE: the dead connection hung")
	}
}
