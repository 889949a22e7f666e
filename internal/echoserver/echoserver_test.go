package echoserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
)

// start starts a server for one test and closes it at the test's end.
func start(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// dial opens a client connection with keepalive off.
func dial(t *testing.T, url string, o *client.DialOptions) *client.Conn {
	t.Helper()
	if o == nil {
		o = &client.DialOptions{}
	}
	o.PingInterval = -1
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := client.Dial(ctx, url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func TestURLAndAddrNameTheLoopbackListener(t *testing.T) {
	s := start(t)
	addr := s.Addr().(*net.TCPAddr)
	if !addr.IP.IsLoopback() || addr.Port == 0 {
		t.Fatalf("Addr() = %v, want 127.0.0.1 with a port", addr)
	}
	if want := "ws://" + addr.String() + "/"; s.URL() != want {
		t.Fatalf("URL() = %q, want %q", s.URL(), want)
	}
}

func TestEchoesEveryMessageWithItsType(t *testing.T) {
	s := start(t)
	c := dial(t, s.URL(), nil)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, many frames
	tests := []struct {
		name string
		typ  conn.MessageType
		data []byte
	}{
		{"empty text", conn.Text, nil},
		{"text", conn.Text, []byte("hello, world")},
		{"utf-8 text", conn.Text, []byte("héllo wörld ✓")},
		{"empty binary", conn.Binary, nil},
		{"binary with zero bytes", conn.Binary, []byte{0, 1, 2, 0xff, 0}},
		{"1 MiB binary", conn.Binary, big},
		{"1 MiB text", conn.Text, big},
	}
	ctx := context.Background()
	var buf []byte
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.WriteMessage(ctx, tt.typ, tt.data); err != nil {
				t.Fatal(err)
			}
			typ, p, err := c.ReadMessage(ctx, buf)
			if err != nil {
				t.Fatal(err)
			}
			if typ != tt.typ || !bytes.Equal(p, tt.data) {
				t.Fatalf("got %v of %d bytes, want %v of %d bytes", typ, len(p), tt.typ, len(tt.data))
			}
			buf = p
		})
	}
}

func TestEchoKeepsOrderOfPipelinedMessages(t *testing.T) {
	s := start(t)
	c := dial(t, s.URL(), nil)
	ctx := context.Background()
	const n = 200
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			typ := conn.Text
			if i%2 == 1 {
				typ = conn.Binary
			}
			if err := c.WriteMessage(ctx, typ, []byte(strconv.Itoa(i))); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := range n {
		typ, p, err := c.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantTyp := conn.Text
		if i%2 == 1 {
			wantTyp = conn.Binary
		}
		if typ != wantTyp || string(p) != strconv.Itoa(i) {
			t.Fatalf("message %d: got %v %q", i, typ, p)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestSubprotocolSelection(t *testing.T) {
	tests := []struct {
		name   string
		server []string
		offer  []string
		want   string
	}{
		{"not configured", nil, []string{"chat"}, ""},
		{"client preference wins", []string{"chat", "superchat"}, []string{"superchat", "chat"}, "superchat"},
		{"no common subprotocol", []string{"chat"}, []string{"mqtt"}, ""},
		{"none offered", []string{"chat"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, WithSubprotocols(tt.server...))
			c := dial(t, s.URL(), &client.DialOptions{Subprotocols: tt.offer})
			if got := c.Response().Subprotocol; got != tt.want {
				t.Fatalf("subprotocol %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWithHeaderAddsResponseHeaders(t *testing.T) {
	s := start(t, WithHeader(http.Header{"X-Echo": {"yes"}}))
	c := dial(t, s.URL(), nil)
	if got := c.Response().Header.Get("X-Echo"); got != "yes" {
		t.Fatalf("X-Echo = %q", got)
	}
}

func TestStartRefusesBadOptionsAndAddresses(t *testing.T) {
	if _, err := Start("127.0.0.1:0", WithHeader(http.Header{"Upgrade": {"x"}})); err == nil {
		t.Fatal("a header the handshake owns was accepted")
	}
	if _, err := Start("256.0.0.1:99999"); err == nil {
		t.Fatal("a bad address was accepted")
	}
}

func TestClientCloseIsAnsweredWithItsCode(t *testing.T) {
	s := start(t)
	for _, code := range []frame.CloseCode{frame.CloseNormal, 4000} {
		c := dial(t, s.URL(), nil)
		if err := c.Close(code, "bye"); err != nil {
			t.Fatalf("Close(%d): %v", code, err)
		}
		_, _, err := c.ReadMessage(context.Background(), nil)
		var ce *conn.CloseError
		if !errors.As(err, &ce) || !ce.Remote || ce.Code != code {
			t.Fatalf("after Close(%d): %v, want the server's reply with the same code", code, err)
		}
	}
}

func TestMaxMessageSizeClosesWith1009(t *testing.T) {
	s := start(t, WithMaxMessageSize(16))
	c := dial(t, s.URL(), nil)
	ctx := context.Background()
	if err := c.WriteMessage(ctx, conn.Binary, make([]byte, 17)); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.ReadMessage(ctx, nil)
	var ce *conn.CloseError
	if !errors.As(err, &ce) || ce.Code != frame.CloseMessageTooBig {
		t.Fatalf("got %v, want close 1009", err)
	}
}

func TestRefusesABadHandshakeWithAnHTTPError(t *testing.T) {
	s := start(t)
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "HTTP/1.1 400 ") {
		t.Fatalf("status line %q, want 400", line)
	}
}

func TestCloseSendsGoingAwayToOpenConnections(t *testing.T) {
	s, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	conns := make([]*client.Conn, n)
	for i := range conns {
		conns[i] = dial(t, s.URL(), nil)
		// One round trip: the server has the connection upgraded before Close.
		if err := conns[i].WriteMessage(context.Background(), conn.Text, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := conns[i].ReadMessage(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, c := range conns {
		wg.Go(func() { _, _, errs[i] = c.ReadMessage(context.Background(), nil) })
	}
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > DefaultCloseTimeout {
		t.Fatalf("Close took %v with clients that answer", d)
	}
	wg.Wait()
	for i, err := range errs {
		var ce *conn.CloseError
		if !errors.As(err, &ce) || !ce.Remote || ce.Code != frame.CloseGoingAway {
			t.Fatalf("client %d: %v, want the server's close 1001", i, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCloseDoesNotWaitForSilentClients(t *testing.T) {
	s, err := Start("127.0.0.1:0", WithCloseTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// One client that never sends its handshake, one that is upgraded and never reads.
	raw, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	dial(t, s.URL(), nil)
	time.Sleep(50 * time.Millisecond) // let the server take both in
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	// The raw connection was closed by the server.
	_ = raw.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := raw.Read(make([]byte, 1)); err == nil {
		t.Fatal("raw connection still open after Close")
	}
}

func TestConnectionAfterCloseIsRefused(t *testing.T) {
	s, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := s.URL()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if c, _, err := client.Dial(ctx, url, &client.DialOptions{PingInterval: -1}); err == nil {
		_ = c.CloseNow()
		t.Fatal("dial succeeded after Close")
	}
}
