package client

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// testServer is a WebSocket server on 127.0.0.1 made of our engine's server role.
type testServer struct {
	ln       net.Listener
	url      string
	upgrader handshake.Upgrader
	cfg      conn.Config
	handle   func(c *conn.Conn, req *handshake.ServerRequest)
	raw      func(nc net.Conn) // when set, handles the TCP connection itself
	tls      *tls.Config       // when set, the server speaks TLS (wss)

	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
	reqs  chan *handshake.ServerRequest
}

// newTestServer starts a server that runs handle for each connection; setup functions adjust
// the server before it starts.
func newTestServer(t testing.TB, handle func(c *conn.Conn, req *handshake.ServerRequest), setup ...func(*testServer)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{ln: ln, url: "ws://" + ln.Addr().String() + "/echo", handle: handle,
		reqs: make(chan *handshake.ServerRequest, 64)}
	s.upgrader.Header = http.Header{"X-Server": {"ours"}}
	s.cfg.Role = frame.RoleServer
	for _, f := range setup {
		f(s)
	}
	if s.tls != nil {
		s.url = "wss" + strings.TrimPrefix(s.url, "ws")
	}
	s.wg.Go(s.serve)
	t.Cleanup(s.close)
	return s
}

func (s *testServer) serve() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, nc)
		s.mu.Unlock()
		s.wg.Go(func() {
			if s.tls != nil {
				nc = tls.Server(nc, s.tls)
			}
			defer nc.Close()
			if s.raw != nil {
				s.raw(nc)
				return
			}
			br := bufio.NewReader(nc)
			req, proto, err := s.upgrader.Upgrade(br, nc)
			if err != nil {
				return
			}
			s.reqs <- req
			var prefix []byte
			if n := br.Buffered(); n > 0 {
				prefix, _ = br.Peek(n)
			}
			cfg := s.cfg
			cfg.Subprotocol = proto
			c := conn.New(nc, prefix, &cfg)
			s.handle(c, req)
		})
	}
}

// close stops the server and waits for its connections' goroutines.
func (s *testServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// echo sends every message back with its type until the connection ends.
func echo(c *conn.Conn, _ *handshake.ServerRequest) {
	ctx := context.Background()
	var buf []byte
	for {
		typ, p, err := c.ReadMessage(ctx, buf)
		if err != nil {
			return
		}
		if typ == conn.Text && strings.HasPrefix(string(p), "close ") {
			// "close <code> <reason>": the server closes.
			var code int
			var reason string
			f := strings.SplitN(string(p), " ", 3)
			for _, ch := range f[1] {
				code = code*10 + int(ch-'0')
			}
			if len(f) > 2 {
				reason = f[2]
			}
			_ = c.Close(frame.CloseCode(code), reason)
			return
		}
		if typ == conn.Text && string(p) == "drop" {
			_ = c.NetConn().Close()
			return
		}
		if err := c.WriteMessage(ctx, typ, p); err != nil {
			return
		}
		buf = p
	}
}
