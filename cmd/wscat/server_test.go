package main

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// testServer is a WebSocket server on 127.0.0.1 made of the engine's server role, running
// handle for each connection.
type testServer struct {
	ln     net.Listener
	url    string
	handle func(c *conn.Conn, req *handshake.ServerRequest)
	raw    func(nc net.Conn) // when set, handles the TCP connection instead

	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func newTestServer(t *testing.T, handle func(c *conn.Conn, req *handshake.ServerRequest)) *testServer {
	t.Helper()
	return startTestServer(t, &testServer{handle: handle})
}

func newRawServer(t *testing.T, raw func(nc net.Conn)) *testServer {
	t.Helper()
	return startTestServer(t, &testServer{raw: raw})
}

func startTestServer(t *testing.T, s *testServer) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.url = "ws://" + ln.Addr().String() + "/test"
	s.wg.Go(s.serve)
	t.Cleanup(s.close)
	return s
}

func (s *testServer) serve() {
	up := handshake.Upgrader{Header: http.Header{"X-Server": {"test"}}}
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, nc)
		s.mu.Unlock()
		s.wg.Go(func() {
			defer nc.Close()
			if s.raw != nil {
				s.raw(nc)
				return
			}
			br := bufio.NewReader(nc)
			req, proto, err := up.Upgrade(br, nc)
			if err != nil {
				return
			}
			var prefix []byte
			if n := br.Buffered(); n > 0 {
				prefix, _ = br.Peek(n)
			}
			c := conn.New(nc, prefix, &conn.Config{Role: frame.RoleServer, Subprotocol: proto})
			s.handle(c, req)
		})
	}
}

func (s *testServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
