package client

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// echoOnce connects ws to url with opts, sends "hi", and returns the echo (or the ERROR).
func echoOnce(t *testing.T, url string, opts *WebSocketRequestOptions) string {
	t.Helper()
	ws := CreateWebSocket()
	got := make(chan string, 2)
	_ = ws.On(EventMessage, NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) { got <- "MESSAGE " + m.String() }))
	_ = ws.On(EventError, NewWebSocketErrorCallback(func(e *BusinessException) { got <- "ERROR " + e.Error() }))
	if err := ws.Connect(url, opts, nil); err != nil {
		t.Fatal(err)
	}
	_ = ws.Send(StringData("hi"), nil)
	var r string
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no answer")
	}
	_ = ws.Close(nil, nil)
	wait(t, ws)
	return r
}

// TestSOCKS5ProxyTunnelsAndResolvesWhereAsked: SOCKS5Proxy goes through the proxy, socks5://
// sending the resolved IP and socks5h:// the name (which only the proxy knows here), with
// username/password authentication.
func TestSOCKS5ProxyTunnelsAndResolvesWhereAsked(t *testing.T) {
	srv := wstest.New(t, echo)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1 : strings.LastIndex(srv.URL, "/")]
	px := wstest.NewSOCKS5(t, func(s *wstest.SOCKS5) {
		s.User, s.Password = "alice", "s3cret"
		s.Hosts = map[string]string{"only-the-proxy-knows.invalid": "127.0.0.1"}
	})
	opts := realOptions()
	opts.Proxy = SOCKS5Proxy{URL: "socks5h://alice:s3cret@" + px.Addr}
	if r := echoOnce(t, "ws://only-the-proxy-knows.invalid:"+port+"/echo", opts); r != "MESSAGE hi" {
		t.Fatalf("socks5h: %s", r)
	}
	opts.Proxy = SOCKS5Proxy{URL: "socks5://alice:s3cret@" + px.Addr}
	if r := echoOnce(t, srv.URL, opts); r != "MESSAGE hi" {
		t.Fatalf("socks5: %s", r)
	}
	if got := strings.Join(px.Targets(), " "); got != "only-the-proxy-knows.invalid:"+port+" 127.0.0.1:"+port {
		t.Fatalf("proxy saw targets %q", got)
	}
	// Wrong password: an ERROR that does not show it.
	opts.Proxy = SOCKS5Proxy{URL: "socks5://alice:wrongpw@" + px.Addr}
	if r := echoOnce(t, srv.URL, opts); !strings.HasPrefix(r, "ERROR ") || strings.Contains(r, "wrongpw") {
		t.Fatalf("wrong password: %s", r)
	}
	// Excluded hosts connect directly.
	opts.Proxy = SOCKS5Proxy{URL: "socks5://alice:s3cret@" + px.Addr, ExclusionList: []string{"127.0.0.1"}}
	if r := echoOnce(t, srv.URL, opts); r != "MESSAGE hi" || len(px.Targets()) != 2 {
		t.Fatalf("excluded: %s, targets %v", r, px.Targets())
	}
}

func TestSOCKS5ProxyBadURLIsParameterErrorWithoutPassword(t *testing.T) {
	for _, u := range []string{"http://u:pw1@h:1", "socks5://u:pw1@:1", "socks5://u:pw1@h:99999",
		"socks5://u:pw1@h:1/path", "socks5://u:pw1%zz@h:1", ""} {
		ws := CreateWebSocket()
		opts := realOptions()
		opts.Proxy = SOCKS5Proxy{URL: u}
		err := ws.Connect("ws://127.0.0.1:1/", opts, nil)
		if CodeOf(err) != CodeParameterError || strings.Contains(err.Error(), "pw1") {
			t.Errorf("%q: %v", u, err)
		}
	}
}

// TestOnPingOnPongSeeControlFrames: the hooks get the payloads of the pings and pongs received.
func TestOnPingOnPongSeeControlFrames(t *testing.T) {
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		ctx := context.Background()
		_ = c.Ping(ctx, []byte("from server"))
		for {
			if _, _, err := c.ReadMessage(ctx, nil); err != nil {
				return
			}
		}
	})
	pings, pongs := make(chan string, 4), make(chan string, 4)
	opts := realOptions()
	opts.PingInterval = 1 // the client pings after 1 s of silence; the server's pong comes back
	opts.OnPing = func(p []byte) { pings <- string(p) }
	opts.OnPong = func(p []byte) { pongs <- string(p) }
	ws := CreateWebSocket()
	if err := ws.Connect(srv.URL, opts, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ch   chan string
		want string
	}{{"ping", pings, "from server"}, {"pong", pongs, ""}} {
		select {
		case p := <-c.ch:
			if c.want != "" && p != c.want {
				t.Errorf("%s payload %q, want %q", c.name, p, c.want)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("no %s seen", c.name)
		}
	}
	_ = ws.Close(nil, nil)
	wait(t, ws)
}
