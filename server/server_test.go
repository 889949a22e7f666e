package server

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/handshake"
)

// echoServer starts a server that echoes every message with its type.
func echoServer(t *testing.T, cfg *WebSocketServerConfig) (*WebSocketServer, *recorder, string) {
	t.Helper()
	s := CreateWebSocketServer()
	must(t, s.On(EventMessageReceive, NewMessageReceiveCallback(func(m WebSocketMessage) {
		_ = s.Send(m.Data, m.ClientConnection, nil)
	})))
	rec := record(t, s)
	return s, rec, start(t, s, cfg)
}

func TestEchoTextAndBinaryOurClient(t *testing.T) {
	s, rec, url := echoServer(t, nil)
	c := dial(t, url, nil)
	ev := rec.expect(t, "connect")
	if ev.conn != localConn(c.LocalAddr()) {
		t.Fatalf("connect %v, client is %v", ev.conn, c.LocalAddr())
	}
	if l := s.ListAllConnections(); len(l) != 1 || l[0] != ev.conn {
		t.Fatalf("ListAllConnections = %v", l)
	}
	ctx := context.Background()
	must(t, c.WriteMessage(ctx, conn.Text, []byte("héllo")))
	must(t, c.WriteMessage(ctx, conn.Binary, []byte{0, 1, 2, 255}))
	typ, p, err := c.ReadMessage(ctx, nil)
	if err != nil || typ != conn.Text || string(p) != "héllo" {
		t.Fatalf("got %v %q %v", typ, p, err)
	}
	typ, p, err = c.ReadMessage(ctx, nil)
	if err != nil || typ != conn.Binary || !bytes.Equal(p, []byte{0, 1, 2, 255}) {
		t.Fatalf("got %v %q %v", typ, p, err)
	}
	if m := rec.expect(t, "message"); m.msg != StringData("héllo") {
		t.Fatalf("message %#v", m.msg)
	}
	if m := rec.expect(t, "message"); !bytes.Equal(m.msg.(ArrayData), []byte{0, 1, 2, 255}) {
		t.Fatalf("message %#v", m.msg)
	}
	must(t, c.Close(1000, "bye"))
	if cl := rec.expect(t, "close"); cl.res != (CloseResult{Code: 1000, Reason: "bye"}) || cl.conn != ev.conn {
		t.Fatalf("close %+v", cl)
	}
	if l := s.ListAllConnections(); len(l) != 0 {
		t.Fatalf("ListAllConnections after close = %v", l)
	}
}

func TestEchoGobwasClient(t *testing.T) {
	_, rec, url := echoServer(t, nil)
	nc, _, _, err := ws.Dial(context.Background(), url)
	must(t, err)
	defer nc.Close()
	rec.expect(t, "connect")
	for i := range 20 {
		msg := []byte(strings.Repeat("x", i*1000))
		must(t, wsutil.WriteClientMessage(nc, ws.OpText, msg))
		p, op, err := wsutil.ReadServerData(nc)
		must(t, err)
		if op != ws.OpText || !bytes.Equal(p, msg) {
			t.Fatalf("echo %d: op %v, %d bytes", i, op, len(p))
		}
	}
	// A fragmented binary message is delivered whole.
	must(t, ws.WriteFrame(nc, ws.MaskFrame(ws.NewFrame(ws.OpBinary, false, []byte("ab")))))
	must(t, ws.WriteFrame(nc, ws.MaskFrame(ws.NewFrame(ws.OpContinuation, true, []byte("cd")))))
	p, op, err := wsutil.ReadServerData(nc)
	must(t, err)
	if op != ws.OpBinary || string(p) != "abcd" {
		t.Fatalf("fragmented echo: %v %q", op, p)
	}
}

// TestEventsInWireOrder: one connection's messages arrive as messageReceive in order, between
// connect and close, and the server's sends reach the client in order.
func TestEventsInWireOrder(t *testing.T) {
	const n = 2000
	s := CreateWebSocketServer()
	rec := record(t, s)
	url := start(t, s, nil)
	c := dial(t, url, nil)
	ev := rec.expect(t, "connect")
	ctx := context.Background()
	go func() {
		for i := range n {
			if c.WriteMessage(ctx, conn.Text, []byte(itoa(i))) != nil {
				return
			}
		}
	}()
	for i := range n {
		m := rec.expect(t, "message")
		if m.msg != StringData(itoa(i)) {
			t.Fatalf("message %d is %v", i, m.msg)
		}
	}
	for i := range n {
		must(t, s.Send(StringData(itoa(i)), ev.conn, nil))
	}
	for i := range n {
		_, p, err := c.ReadMessage(ctx, nil)
		must(t, err)
		if string(p) != itoa(i) {
			t.Fatalf("client got %q at %d", p, i)
		}
	}
	must(t, c.Close(1000, ""))
	rec.expect(t, "close")
}

func TestSendResultsInOrderWithEvents(t *testing.T) {
	s := CreateWebSocketServer()
	order := make(chan string, 10)
	must(t, s.On(EventConnect, NewConnectCallback(func(c WebSocketConnection) {
		order <- "connect"
		_ = s.Send(StringData("hi"), c, NewWebSocketAsyncCallback(func(err *AsyncError, ok bool) {
			if ok {
				order <- "sent"
			}
		}))
	})))
	must(t, s.On(EventClose, NewCloseCallback(func(WebSocketConnection, CloseResult) { order <- "close" })))
	url := start(t, s, nil)
	c := dial(t, url, nil)
	_, p, err := c.ReadMessage(context.Background(), nil)
	if err != nil || string(p) != "hi" {
		t.Fatalf("%q %v", p, err)
	}
	must(t, c.Close(1000, ""))
	for _, want := range []string{"connect", "sent", "close"} {
		select {
		case got := <-order:
			if got != want {
				t.Fatalf("got %s, want %s", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s", want)
		}
	}
}

func TestMaxConcurrentClientsRefused503(t *testing.T) {
	_, rec, url := echoServer(t, &WebSocketServerConfig{MaxConcurrentClientsNumber: 2})
	a := dial(t, url, nil)
	b := dial(t, url, nil)
	rec.expect(t, "connect")
	rec.expect(t, "connect")
	_, _, err := client.Dial(context.Background(), url, nil)
	var se *handshake.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third client: %v, want a 503", err)
	}
	if !strings.Contains(string(se.Body), "maxConcurrentClientsNumber") {
		t.Fatalf("503 body %q does not say which limit", se.Body)
	}
	e := rec.expect(t, "error")
	if e.err.Code != CodeOtherError || !errors.Is(e.err, ErrTooManyClients) || e.err.Connection == nil {
		t.Fatalf("error event %v", e.err)
	}
	// A slot freed is a slot taken again.
	must(t, a.Close(1000, ""))
	rec.expect(t, "close")
	c := dial(t, url, nil)
	rec.expect(t, "connect")
	_ = b
	_ = c
}

func TestMaxConnectionsForOneClientRefused503(t *testing.T) {
	_, rec, url := echoServer(t, &WebSocketServerConfig{MaxConnectionsForOneClient: 1})
	dial(t, url, nil)
	rec.expect(t, "connect")
	_, _, err := client.Dial(context.Background(), url, nil)
	var se *handshake.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second client from one IP: %v, want a 503", err)
	}
	if e := rec.expect(t, "error"); !errors.Is(e.err, ErrTooManyForClient) {
		t.Fatalf("error event %v", e.err)
	}
}

// TestLimitsHoldDuringHandshakes: clients that have not finished their handshake hold slots,
// so a burst cannot pass the limit.
func TestLimitsHoldDuringHandshakes(t *testing.T) {
	_, rec, url := echoServer(t, &WebSocketServerConfig{MaxConcurrentClientsNumber: 1})
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
	silent, err := net.Dial("tcp", addr) // connects, sends nothing
	must(t, err)
	defer silent.Close()
	time.Sleep(50 * time.Millisecond)
	_, _, err = client.Dial(context.Background(), url, nil)
	var se *handshake.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("client while a handshake holds the slot: %v, want a 503", err)
	}
	rec.expect(t, "error")
}

func TestStopClosesEveryConnectionWith1001(t *testing.T) {
	s, rec, url := echoServer(t, &WebSocketServerConfig{CloseTimeout: 2 * time.Second})
	var clients []*client.Conn
	for range 3 {
		clients = append(clients, dial(t, url, nil))
		rec.expect(t, "connect")
	}
	ends := make(chan error, 3)
	for _, c := range clients {
		go func() {
			for {
				if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
					ends <- err
					return
				}
			}
		}()
	}
	t0 := time.Now()
	res := newResult()
	must(t, s.Stop(res.cb))
	for range 3 {
		ce := new(conn.CloseError)
		if err := <-ends; !errors.As(err, &ce) || ce.Code != 1001 || !ce.Remote {
			t.Fatalf("client saw %v, want the server's 1001", err)
		}
	}
	for range 3 {
		if e := rec.expect(t, "close"); e.res.Code != 1001 {
			t.Fatalf("close event %+v, want the client's echo of 1001", e.res)
		}
	}
	if err := res.wait(t); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("Stop took %v with clients that answer", d)
	}
	if s.Addr() != nil || len(s.ListAllConnections()) != 0 {
		t.Fatal("server still running after Stop's callback")
	}
	// Stop again: not running.
	if err := s.Stop(nil); CodeOf(err) != CodeOtherError || !errors.Is(err, ErrNotRunning) {
		t.Fatalf("second Stop: %v", err)
	}
	// Start again on the same object.
	res = newResult()
	must(t, s.Start(&WebSocketServerConfig{ServerIP: "127.0.0.1"}, res.cb))
	if err := res.wait(t); err != nil {
		t.Fatal(err)
	}
}

// TestStopBoundedWithSilentClient: a client that never answers the close frame is cut after
// CloseTimeout, so Stop's callback comes within that bound (3x margin).
func TestStopBoundedWithSilentClient(t *testing.T) {
	const closeTimeout = 300 * time.Millisecond
	s, rec, url := echoServer(t, &WebSocketServerConfig{CloseTimeout: closeTimeout})
	nc, _, _, err := ws.Dial(context.Background(), url) // never reads again
	must(t, err)
	defer nc.Close()
	rec.expect(t, "connect")
	t0 := time.Now()
	res := newResult()
	must(t, s.Stop(res.cb))
	if err := res.wait(t); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < closeTimeout || d > 3*closeTimeout {
		t.Fatalf("Stop took %v, want about %v", d, closeTimeout)
	}
	rec.expect(t, "error")
	if e := rec.expect(t, "close"); e.res.Code != 1006 {
		t.Fatalf("close %+v, want 1006 for a client cut", e.res)
	}
}

func TestSendCloseOnGoneConnection2302006(t *testing.T) {
	s, rec, url := echoServer(t, nil)
	gone := WebSocketConnection{ClientIP: "127.0.0.1", ClientPort: 1}
	res := newResult()
	err := s.Send(StringData("x"), gone, res.cb)
	if CodeOf(err) != CodeConnectionNotExist || !errors.Is(err, ErrConnectionNotExist) {
		t.Fatalf("Send to unknown: %v", err)
	}
	if e := res.wait(t); e == nil || e.Code != CodeConnectionNotExist {
		t.Fatalf("Send callback %v", e)
	}
	if err := s.Close(gone, nil, nil); CodeOf(err) != CodeConnectionNotExist {
		t.Fatalf("Close unknown: %v", err)
	}
	if _, _, err := s.BufferedAmount(gone); CodeOf(err) != CodeConnectionNotExist {
		t.Fatalf("BufferedAmount unknown: %v", err)
	}
	c := dial(t, url, nil)
	id := rec.expect(t, "connect").conn
	must(t, c.Close(1000, ""))
	rec.expect(t, "close")
	if err := s.Send(StringData("x"), id, nil); CodeOf(err) != CodeConnectionNotExist {
		t.Fatalf("Send after close event: %v", err)
	}
	if err := s.Close(id, nil, nil); CodeOf(err) != CodeConnectionNotExist {
		t.Fatalf("Close after close event: %v", err)
	}
}

func TestServerCloseWithCodeAndCallback(t *testing.T) {
	s, rec, url := echoServer(t, nil)
	c := dial(t, url, nil)
	id := rec.expect(t, "connect").conn
	got := make(chan error, 1)
	go func() {
		_, _, err := c.ReadMessage(context.Background(), nil)
		got <- err
	}()
	if err := s.Close(id, &WebSocketCloseOptions{Code: 1000, Reason: "x"}, nil); err != nil {
		t.Fatal(err)
	}
	// Not before: a second Close is refused while the first runs.
	res := newResult()
	if err := s.Close(id, &WebSocketCloseOptions{Code: 4000}, res.cb); err != nil && !errors.Is(err, ErrClosing) && CodeOf(err) != CodeConnectionNotExist {
		t.Fatalf("second Close: %v", err)
	}
	res.wait(t)
	ce := new(conn.CloseError)
	if err := <-got; !errors.As(err, &ce) || ce.Code != 1000 || ce.Reason != "x" {
		t.Fatalf("client saw %v", err)
	}
	if e := rec.expect(t, "close"); e.res.Code != 1000 {
		t.Fatalf("close %+v", e.res)
	}
	for _, o := range []*WebSocketCloseOptions{{Code: 1005}, {Code: 999}, {Reason: strings.Repeat("r", 124)}} {
		if err := s.Close(id, o, nil); CodeOf(err) != CodeParameterError {
			t.Fatalf("Close(%+v): %v, want 401", o, err)
		}
	}
}

func TestSubprotocolSelectedAndRefused(t *testing.T) {
	_, rec, url := echoServer(t, &WebSocketServerConfig{Protocol: "chat"})
	c := dial(t, url, &client.DialOptions{Subprotocols: []string{"other", "chat"}})
	if c.Subprotocol() != "chat" {
		t.Fatalf("subprotocol %q", c.Subprotocol())
	}
	rec.expect(t, "connect")
	for _, offer := range [][]string{{"other"}, nil} {
		_, _, err := client.Dial(context.Background(), url, &client.DialOptions{Subprotocols: offer})
		var se *handshake.StatusError
		if !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest {
			t.Fatalf("offer %q: %v, want 400", offer, err)
		}
		if e := rec.expect(t, "error"); !errors.Is(e.err, ErrNoSubprotocol) {
			t.Fatalf("error event %v", e.err)
		}
	}
}

func TestHandshakeHookAndOrigin(t *testing.T) {
	cfg := &WebSocketServerConfig{HandshakeHook: func(req *handshake.ServerRequest) (int, string) {
		if req.Header.Get("Authorization") != "Bearer ok" {
			return http.StatusUnauthorized, "token required"
		}
		return 0, ""
	}}
	_, rec, url := echoServer(t, cfg)
	_, _, err := client.Dial(context.Background(), url, nil)
	var se *handshake.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized || !strings.Contains(string(se.Body), "token required") {
		t.Fatalf("no token: %v", err)
	}
	if e := rec.expect(t, "error"); !errors.Is(e.err, ErrHandshakeRefused) {
		t.Fatalf("error event %v", e.err)
	}
	dial(t, url, &client.DialOptions{Header: http.Header{"Authorization": {"Bearer ok"}}})
	rec.expect(t, "connect")
	// The default origin rule refuses a cross-origin browser.
	_, _, err = client.Dial(context.Background(), url, &client.DialOptions{Origin: "http://evil.example", Header: http.Header{"Authorization": {"Bearer ok"}}})
	if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
		t.Fatalf("cross origin: %v, want 403", err)
	}
	if e := rec.expect(t, "error"); !errors.Is(e.err, ErrOriginRefused) {
		t.Fatalf("error event %v", e.err)
	}
}

func TestTLSServesWSS(t *testing.T) {
	certPath, keyPath, pool := testCert(t)
	_, rec, url := echoServer(t, &WebSocketServerConfig{ServerCert: &ServerCert{CertPath: certPath, KeyPath: keyPath}})
	if !strings.HasPrefix(url, "wss://") {
		t.Fatal(url)
	}
	c := dial(t, url, tlsDial(pool))
	rec.expect(t, "connect")
	must(t, c.WriteMessage(context.Background(), conn.Text, []byte("secure")))
	_, p, err := c.ReadMessage(context.Background(), nil)
	if err != nil || string(p) != "secure" {
		t.Fatalf("%q %v", p, err)
	}
	// A plain ws:// client on the TLS port fails its handshake: an error event, no connect.
	_, _, err = client.Dial(context.Background(), strings.Replace(url, "wss", "ws", 1), nil)
	if err == nil {
		t.Fatal("ws:// to a wss:// server succeeded")
	}
	// The message (the connection's queue) and the error (the server's) may come in any order.
	var sawError bool
	for range 2 {
		switch e := rec.next(t); e.kind {
		case "message":
		case "error":
			sawError = strings.Contains(e.err.Error(), "TLS")
		default:
			t.Fatalf("event %+v", e)
		}
	}
	if !sawError {
		t.Fatal("no error event naming TLS")
	}
}

func TestStartErrors(t *testing.T) {
	s := CreateWebSocketServer()
	certPath, _, _ := testCert(t)
	cases := []struct {
		name string
		cfg  *WebSocketServerConfig
		code int32
	}{
		{"nil", nil, CodeParameterError},
		{"bad IP", &WebSocketServerConfig{ServerIP: "not-an-ip"}, CodeParameterError},
		{"missing cert", &WebSocketServerConfig{ServerIP: "127.0.0.1", ServerCert: &ServerCert{CertPath: "/nonexistent/c.pem", KeyPath: "/nonexistent/k.pem"}}, CodeFileNotExist},
		{"missing key", &WebSocketServerConfig{ServerIP: "127.0.0.1", ServerCert: &ServerCert{CertPath: certPath, KeyPath: "/nonexistent/k.pem"}}, CodeFileNotExist},
		{"bad protocol", &WebSocketServerConfig{ServerIP: "127.0.0.1", Protocol: "a b"}, CodeParameterError},
		{"negative limit", &WebSocketServerConfig{ServerIP: "127.0.0.1", MaxConcurrentClientsNumber: -1}, CodeParameterError},
		{"owned header", &WebSocketServerConfig{ServerIP: "127.0.0.1", Header: http.Header{"Upgrade": {"x"}}}, CodeParameterError},
		{"foreign interface", &WebSocketServerConfig{ServerIP: "192.0.2.1"}, CodeListenInterface},
	}
	for _, tc := range cases {
		res := newResult()
		err := s.Start(tc.cfg, res.cb)
		if CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want %d", tc.name, err, tc.code)
		}
		if e := res.wait(t); e == nil || e.Code != tc.code {
			t.Errorf("%s: callback %v", tc.name, e)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if err := s.Start(&WebSocketServerConfig{ServerIP: "127.0.0.1", ServerPort: uint16(port)}, nil); CodeOf(err) != CodeListenPort {
		t.Fatalf("port in use: %v, want 2302005", err)
	}
	start(t, s, nil)
	if err := s.Start(&WebSocketServerConfig{ServerIP: "127.0.0.1"}, nil); CodeOf(err) != CodeOtherError || !errors.Is(err, ErrRunning) {
		t.Fatalf("Start twice: %v", err)
	}
}

func TestOnOffParameterErrors(t *testing.T) {
	s := CreateWebSocketServer()
	if err := s.On(EventConnect, NewCloseCallback(nil)); CodeOf(err) != CodeParameterError || !errors.Is(err, ErrCallbackType) {
		t.Fatalf("On with a wrong type: %v", err)
	}
	if err := s.On(OnOffType(9), NewErrorCallback(nil)); CodeOf(err) != CodeParameterError {
		t.Fatalf("unknown event: %v", err)
	}
	if err := s.On(EventError, nil); CodeOf(err) != CodeParameterError {
		t.Fatalf("nil callback: %v", err)
	}
	var calls atomic.Int32
	cb := NewConnectCallback(func(WebSocketConnection) { calls.Add(1) })
	must(t, s.On(EventConnect, cb))
	must(t, s.Off(EventConnect, cb))
	url := start(t, s, nil)
	rec := record(t, s)
	dial(t, url, nil)
	rec.expect(t, "connect")
	if calls.Load() != 0 {
		t.Fatal("callback called after Off")
	}
	if err := s.Send(nil, WebSocketConnection{}, nil); CodeOf(err) != CodeParameterError {
		t.Fatalf("nil data: %v", err)
	}
	if err := s.Send(StringData("\xff"), WebSocketConnection{}, nil); CodeOf(err) != CodeParameterError {
		t.Fatalf("bad UTF-8: %v", err)
	}
}

// TestCallbacksMayCallSendCloseStop: Send and Close from messageReceive, Stop from close; no
// deadlock.
func TestCallbacksMayCallSendCloseStop(t *testing.T) {
	s := CreateWebSocketServer()
	stopped := newResult()
	must(t, s.On(EventMessageReceive, NewMessageReceiveCallback(func(m WebSocketMessage) {
		_ = s.Send(m.Data, m.ClientConnection, nil)
		_ = s.Close(m.ClientConnection, &WebSocketCloseOptions{Code: 4000, Reason: "done"}, nil)
	})))
	must(t, s.On(EventClose, NewCloseCallback(func(WebSocketConnection, CloseResult) {
		_ = s.Stop(stopped.cb)
	})))
	res := newResult()
	must(t, s.Start(&WebSocketServerConfig{ServerIP: "127.0.0.1"}, res.cb))
	must(t, res.wait(t).asErr())
	c := dial(t, "ws://"+s.Addr().String()+"/", nil)
	ctx := context.Background()
	must(t, c.WriteMessage(ctx, conn.Text, []byte("ping")))
	_, p, err := c.ReadMessage(ctx, nil)
	if err != nil || string(p) != "ping" {
		t.Fatalf("%q %v", p, err)
	}
	ce := new(conn.CloseError)
	if _, _, err := c.ReadMessage(ctx, nil); !errors.As(err, &ce) || ce.Code != 4000 {
		t.Fatalf("client: %v, want 4000", err)
	}
	if err := stopped.wait(t); err != nil {
		t.Fatal(err)
	}
}

func (e *AsyncError) asErr() error {
	if e == nil {
		return nil
	}
	return e
}

func TestBufferedAmountAndQueueFull(t *testing.T) {
	s, rec, url := echoServer(t, &WebSocketServerConfig{SendQueueMessages: 4, CloseTimeout: 200 * time.Millisecond})
	nc, _, _, err := ws.Dial(context.Background(), url) // reads nothing
	must(t, err)
	defer nc.Close()
	id := rec.expect(t, "connect").conn
	big := ArrayData(make([]byte, 1<<20))
	var full error
	for range 200 {
		if err := s.Send(big, id, nil); err != nil {
			full = err
			break
		}
	}
	if !errors.Is(full, ErrQueueFull) || CodeOf(full) != CodeOtherError {
		t.Fatalf("Send past the cap: %v", full)
	}
	// The queue held 4 messages when Send failed; the writer may have finished one more since
	// (the socket takes what the client does not read, up to its buffers).
	b, n, err := s.BufferedAmount(id)
	must(t, err)
	if n < 1 || n > 4 || b != int64(n)<<20 {
		t.Fatalf("BufferedAmount = %d bytes, %d messages; want 1-4 messages of 1 MiB", b, n)
	}
}

func TestUnmaskedFrameFails1002(t *testing.T) {
	_, rec, url := echoServer(t, nil)
	nc, _, _, err := ws.Dial(context.Background(), url)
	must(t, err)
	defer nc.Close()
	rec.expect(t, "connect")
	must(t, ws.WriteFrame(nc, ws.NewTextFrame([]byte("unmasked"))))
	f, err := ws.ReadFrame(nc)
	must(t, err)
	if f.Header.OpCode != ws.OpClose {
		t.Fatalf("got %v", f.Header.OpCode)
	}
	if code, _ := ws.ParseCloseFrameData(f.Payload); code != ws.StatusProtocolError {
		t.Fatalf("close code %d, want 1002", code)
	}
	rec.expect(t, "error")
	if e := rec.expect(t, "close"); e.res.Code != 1002 {
		t.Fatalf("close event %+v", e.res)
	}
}

// TestSendCopiesArrayData: the caller may reuse its slice as soon as Send returns, also when
// the message waits in the queue (pooled copies of 1 KiB and more, new slices below).
func TestSendCopiesArrayData(t *testing.T) {
	s, rec, url := echoServer(t, nil)
	nc, _, _, err := ws.Dial(context.Background(), url)
	must(t, err)
	defer nc.Close()
	id := rec.expect(t, "connect").conn
	const n = 600 // about 14 MB: more than the sockets hold, less than the queue's cap
	sizes := []int{100, 4 << 10, 64 << 10}
	buf := make([]byte, 64<<10)
	for i := range n {
		size := sizes[i%len(sizes)]
		for j := range buf[:size] {
			buf[j] = byte(i)
		}
		must(t, s.Send(ArrayData(buf[:size]), id, nil)) // the client reads nothing yet: they queue
		for j := range buf {
			buf[j] = 0xee
		}
	}
	if _, queued, _ := s.BufferedAmount(id); queued == 0 {
		t.Fatal("nothing queued: the test does not cover the queue")
	}
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	for i := range n {
		p, op, err := wsutil.ReadServerData(nc)
		must(t, err)
		if op != ws.OpBinary || len(p) != sizes[i%len(sizes)] || !bytes.Equal(p, bytes.Repeat([]byte{byte(i)}, len(p))) {
			t.Fatalf("message %d: %d bytes, first %x", i, len(p), p[:1])
		}
	}
}

// TestStopDropsClientsInTheirHandshake: a client that connected and sent nothing does not hold
// Stop up until the handshake timeout.
func TestStopDropsClientsInTheirHandshake(t *testing.T) {
	s := CreateWebSocketServer()
	url := start(t, s, &WebSocketServerConfig{HandshakeTimeout: time.Minute})
	silent, err := net.Dial("tcp", addrOf(url))
	must(t, err)
	defer silent.Close()
	time.Sleep(50 * time.Millisecond) // accepted, waiting for the request
	t0 := time.Now()
	res := newResult()
	must(t, s.Stop(res.cb))
	if err := res.wait(t); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("Stop took %v with a client in its handshake", d)
	}
	_ = silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Fatal("the silent client's connection is still open")
	}
}

// TestManyClientsEachInOrder: 40 clients send 200 numbered messages each at once; every
// connection's messages arrive complete and in order, and every echo comes back in order.
func TestManyClientsEachInOrder(t *testing.T) {
	const clients, msgs = 40, 200
	s := CreateWebSocketServer()
	got := make(map[WebSocketConnection][]string)
	var mu sync.Mutex
	must(t, s.On(EventMessageReceive, NewMessageReceiveCallback(func(m WebSocketMessage) {
		mu.Lock()
		got[m.ClientConnection] = append(got[m.ClientConnection], string(m.Data.(StringData)))
		mu.Unlock()
		_ = s.Send(m.Data, m.ClientConnection, nil)
	})))
	url := start(t, s, &WebSocketServerConfig{MaxConcurrentClientsNumber: clients, MaxConnectionsForOneClient: clients})
	errs := make(chan error, clients)
	for range clients {
		c := dial(t, url, nil)
		go func() {
			ctx := context.Background()
			go func() {
				for i := range msgs {
					if err := c.WriteMessage(ctx, conn.Text, []byte(itoa(i))); err != nil {
						return
					}
				}
			}()
			for i := range msgs {
				_, p, err := c.ReadMessage(ctx, nil)
				if err == nil && string(p) != itoa(i) {
					err = errors.New("echo " + itoa(i) + " is " + string(p))
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- c.Close(1000, "")
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != clients {
		t.Fatalf("%d connections sent messages, want %d", len(got), clients)
	}
	for c, list := range got {
		for i, m := range list {
			if m != itoa(i) {
				t.Fatalf("%v: message %d is %q", c, i, m)
			}
		}
		if len(list) != msgs {
			t.Fatalf("%v: %d messages", c, len(list))
		}
	}
}

// TestNilCallbackFunctionsDoNothing: callbacks made with a nil function are registered and
// called without a panic.
func TestNilCallbackFunctionsDoNothing(t *testing.T) {
	s := CreateWebSocketServer()
	must(t, s.On(EventConnect, NewConnectCallback(nil)))
	must(t, s.On(EventMessageReceive, NewMessageReceiveCallback(nil)))
	must(t, s.On(EventClose, NewCloseCallback(nil)))
	must(t, s.On(EventError, NewErrorCallback(nil)))
	rec := record(t, s)
	url := start(t, s, &WebSocketServerConfig{Protocol: "p"})
	_, _, err := client.Dial(context.Background(), url, nil) // refused: an error event
	if err == nil {
		t.Fatal("accepted without the subprotocol")
	}
	rec.expect(t, "error")
	c := dial(t, url, &client.DialOptions{Subprotocols: []string{"p"}})
	rec.expect(t, "connect")
	must(t, c.WriteMessage(context.Background(), conn.Text, []byte("x")))
	rec.expect(t, "message")
	must(t, c.Close(1000, ""))
	rec.expect(t, "close")
}
