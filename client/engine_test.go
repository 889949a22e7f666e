package client

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// These tests run the seed facade over the real engine and loopback sockets.

func realOptions() *WebSocketRequestOptions {
	o := NewWebSocketRequestOptions()
	o.Proxy = NoProxy{}
	return o
}

func TestRealEventOrderAndEcho(t *testing.T) {
	srv := wstest.New(t, echo)
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	var headers MapData
	_ = ws.On(EventHeaderReceive, NewHeaderReceiveCallback(func(h ResponseHeaders) { headers = h.(MapData) }))
	opts := realOptions()
	opts.Header = map[string]string{"Content-Type": "application/json"}
	if err := ws.Connect(srv.URL, opts, r.asyncCB("CONNECT")); err != nil {
		t.Fatal(err)
	}
	_ = ws.Send(StringData("queued before open"), nil)
	r.expect("CONNECT true", "HEADERRECEIVE ", "OPEN 1 Switching Protocols")
	if req := <-srv.Requests; req.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("server saw headers %v", req.Header)
	}
	if headers["X-Server"] != "ours" || !strings.EqualFold(headers["Upgrade"], "websocket") {
		t.Fatalf("HEADERRECEIVE %v", headers)
	}
	r.expect("MESSAGE text queued before open", "DATAEND")
	_ = ws.Send(ArrayData{1, 2, 3}, nil)
	_ = ws.Send(StringData("héllo"), nil)
	r.expect("MESSAGE binary 010203", "DATAEND", "MESSAGE text héllo", "DATAEND")
	_ = ws.Close(r.asyncCB("CLOSECB"), &WebSocketCloseOptions{Code: 4001, Reason: "client done"})
	// The engine's server answers a close with the same code and no reason.
	r.expect("CLOSECB true", "CLOSE 4001 ")
	wait(t, ws)
}

func TestRealServerInitiatedCloseCarriesServerCodeAndReason(t *testing.T) {
	srv := wstest.New(t, echo)
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	for _, tc := range []struct {
		code   int
		reason string
	}{{1000, "bye"}, {1001, "going away"}, {1011, "oops"}, {4999, strings.Repeat("r", 123)}} {
		_ = ws.Connect(srv.URL, realOptions(), nil)
		r.until("OPEN")
		_ = ws.Send(StringData(fmt.Sprintf("close %d %s", tc.code, tc.reason)), nil)
		r.expect(fmt.Sprintf("CLOSE %d %s", tc.code, tc.reason))
	}
	wait(t, ws)
}

func TestRealConnectionDropIsErrorThenClose1006(t *testing.T) {
	srv := wstest.New(t, echo)
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	var got *BusinessException
	_ = ws.On(EventError, NewWebSocketErrorCallback(func(e *BusinessException) { got = e }))
	_ = ws.Connect(srv.URL, realOptions(), nil)
	r.until("OPEN")
	_ = ws.Send(StringData("drop"), nil)
	ev := r.until("CLOSE")
	if len(ev) != 2 || ev[0] != "ERROR 2302999" || !strings.HasPrefix(ev[1], "CLOSE 1006 ") {
		t.Fatalf("events %q", ev)
	}
	wait(t, ws)
	if got == nil || got.Code != CodeOtherError || got.Err == nil {
		t.Fatalf("ERROR %v", got)
	}
	t.Logf("ERROR: %v; %s", got, ev[1])
}

func TestRealConnectRefusedIsErrorThenClose1006(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	_ = ws.Connect(url, realOptions(), r.asyncCB("CONNECT"))
	ev := r.until("CLOSE")
	if len(ev) != 3 || ev[0] != "CONNECT true" || ev[1] != "ERROR 2302999" || !strings.HasPrefix(ev[2], "CLOSE 1006 connect failed: ") {
		t.Fatalf("events %q", ev)
	}
	wait(t, ws)
}

func TestRealNon101IsError2302999WithStatus(t *testing.T) {
	srv := wstest.New(t, echo, func(s *wstest.Server) {
		s.Upgrader.CheckOrigin = func(*handshake.ServerRequest) bool { return false }
	})
	ws := CreateWebSocket()
	var got *BusinessException
	_ = ws.On(EventError, NewWebSocketErrorCallback(func(e *BusinessException) { got = e }))
	r := newRecorder(t, ws)
	_ = ws.Connect(srv.URL, realOptions(), nil)
	r.until("CLOSE 1006")
	wait(t, ws)
	if got == nil || got.Code != CodeOtherError || !strings.Contains(got.Error(), "403") {
		t.Fatalf("ERROR %v", got)
	}
}

func TestRealSubprotocolNegotiation(t *testing.T) {
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		_ = c.WriteMessage(context.Background(), conn.Text, []byte("proto="+c.Subprotocol()))
		echo(c, nil)
	}, func(s *wstest.Server) { s.Upgrader.Protocols = []string{"b"} })
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	opts := realOptions()
	opts.Protocol = "a, b"
	_ = ws.Connect(srv.URL, opts, nil)
	r.expect("HEADERRECEIVE ", "OPEN 1 Switching Protocols", "MESSAGE text proto=b", "DATAEND")
	_ = ws.Close(nil, nil)
	r.until("CLOSE 1000")
	wait(t, ws)
}

func TestRealMessageOverLimitClosesWith1009(t *testing.T) {
	srv := wstest.New(t, echo)
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	opts := realOptions()
	opts.MaxMessageSize = 1000
	_ = ws.Connect(srv.URL, opts, nil)
	r.until("OPEN")
	_ = ws.Send(ArrayData(bytes.Repeat([]byte{1}, 999)), nil)
	r.until("DATAEND")
	_ = ws.Send(ArrayData(bytes.Repeat([]byte{1}, 1001)), nil)
	ev := r.until("CLOSE")
	if len(ev) != 2 || ev[0] != "ERROR 2302999" || !strings.HasPrefix(ev[1], "CLOSE 1009 ") {
		t.Fatalf("events %q", ev)
	}
	wait(t, ws)
}

func TestRealPongTimeoutIsErrorThenClose1006(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 2 s")
	}
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		buf := make([]byte, 512)
		for {
			if _, err := c.NetConn().Read(buf); err != nil { // swallows pings
				return
			}
		}
	})
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	opts := realOptions()
	opts.PingInterval, opts.PongTimeout = 1, 1
	_ = ws.Connect(srv.URL, opts, nil)
	r.until("OPEN")
	ev := r.until("CLOSE")
	if len(ev) != 2 || ev[0] != "ERROR 2302999" || !strings.HasPrefix(ev[1], "CLOSE 1006 pong timeout") {
		t.Fatalf("events %q", ev)
	}
	wait(t, ws)
}

func TestRealCallbacksCallSendAndCloseWithoutDeadlock(t *testing.T) {
	srv := wstest.New(t, echo)
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	n := 0
	r.onOpen = func() { _ = ws.Send(StringData("0"), nil) }
	r.onMsg = func(m MessageData) {
		n++
		if n < 100 {
			_ = ws.Send(StringData(fmt.Sprint(n)), nil)
			return
		}
		_ = ws.Close(nil, nil)
	}
	_ = ws.Connect(srv.URL, realOptions(), nil)
	ev := r.until("CLOSE")
	if ev[len(ev)-1] != "CLOSE 1000 " || n != 100 {
		t.Fatalf("n=%d last %q", n, ev[len(ev)-1])
	}
	wait(t, ws)
}

// TestRealMessagesStayIntactAfterLaterOnes keeps every MESSAGE's data and checks it after the
// later messages arrived: each text and binary payload is the user's own, never a buffer the
// connection reuses.
func TestRealMessagesStayIntactAfterLaterOnes(t *testing.T) {
	var want []MessageData
	for i := range 6 {
		if i%2 == 0 {
			want = append(want, StringData(strings.Repeat(string(rune('a'+i)), 40)))
		} else {
			want = append(want, ArrayData(bytes.Repeat([]byte{byte(i)}, 40)))
		}
	}
	kept := echoAndKeep(t, want, 10*time.Second, nil)
	for i, m := range kept {
		if fmt.Sprint(m) != fmt.Sprint(want[i]) {
			t.Fatalf("message %d is now %v, want %v", i, m, want[i])
		}
	}
}

// echoAndKeep sends want through the facade to an echo server of our server role, keeps every
// MESSAGE's data in order (calling after, if set, as each arrives), closes, and returns what
// it kept. Each MESSAGE must come within per.
func echoAndKeep(t *testing.T, want []MessageData, per time.Duration, after func()) []MessageData {
	t.Helper()
	srv := wstest.New(t, echo)
	ws := CreateWebSocket()
	got := make(chan MessageData, len(want))
	opened := make(chan struct{}, 1)
	closed := make(chan struct{})
	_ = ws.On(EventOpen, NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { opened <- struct{}{} }))
	_ = ws.On(EventMessage, NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) { got <- m }))
	_ = ws.On(EventClose, NewWebSocketAsyncCallback(func(*AsyncError, CloseResult) { close(closed) }))
	if err := ws.Connect(srv.URL, realOptions(), nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		t.Fatal("OPEN did not come")
	}
	for _, m := range want {
		_ = ws.Send(m, nil)
	}
	var kept []MessageData
	for range want {
		select {
		case m := <-got:
			kept = append(kept, m)
		case <-time.After(per):
			t.Fatal("MESSAGE did not come")
		}
		if after != nil {
			after()
		}
	}
	_ = ws.Close(nil, nil)
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("CLOSE did not come")
	}
	wait(t, ws)
	return kept
}
