// Package wstest is a loopback WebSocket test server built on this module's server role: the
// opening handshake of handshake.Upgrader (RFC 6455 §4.2) and a conn.Conn made by conn.New with
// frame.RoleServer. It is for tests only: New starts a server on 127.0.0.1 for one test and the
// test's cleanup stops it, closing every connection and waiting for every goroutine.
//
//	srv := wstest.New(t, handle, func(s *wstest.Server) { s.Upgrader.Protocols = []string{"chat"} })
//	dial(srv.URL) // "ws://127.0.0.1:<port>/echo"
//
// It imports the engine (handshake, conn, frame) and must not import package client or anything
// above it.
package wstest

import (
	"bufio"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// DefaultPath is the request path of Server.URL unless a setup function changes Server.Path.
const DefaultPath = "/echo"

// Server is a WebSocket server on 127.0.0.1 made of the engine's server role. Setup functions
// passed to New may change its exported fields before it starts; after New returns, only URL and
// Requests are meant to be read.
type Server struct {
	// URL is the address to dial: "ws://127.0.0.1:<port>" followed by Path, or "wss://..." when
	// TLS is set. New sets it after the setup functions have run.
	URL string
	// Path is the path (and optional query) of URL; New sets it to DefaultPath before setup.
	Path string
	// Upgrader answers each opening handshake; New sets its Header to "X-Server: ours".
	Upgrader handshake.Upgrader
	// Config is the configuration of each connection; New sets Role to frame.RoleServer. Its
	// Subprotocol is replaced, for each connection, by the one the handshake chose, and its
	// Compression by codecs of the permessage-deflate parameters agreed (Upgrader.Deflate),
	// if any, with Compression.Threshold kept when Compression is set.
	Config conn.Config
	// Handle runs for each upgraded connection, with the client's request. The server closes the
	// underlying network connection when Handle returns.
	Handle func(c *conn.Conn, req *handshake.ServerRequest)
	// Raw, when set, handles each accepted connection itself instead of the handshake and Handle;
	// the server closes the connection when Raw returns.
	Raw func(nc net.Conn)
	// TLS, when set, makes the server speak TLS on every connection (wss).
	TLS *tls.Config
	// Requests receives the request of every successful handshake, in order. It is buffered (64);
	// requests past a full buffer are dropped rather than blocking the server.
	Requests chan *handshake.ServerRequest

	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

// New starts a server on 127.0.0.1:0 that runs handle for each connection; setup functions
// adjust the server before it starts. The server stops at the end of the test (t.Cleanup):
// the listener and every connection are closed and New's goroutines have ended.
func New(t testing.TB, handle func(c *conn.Conn, req *handshake.ServerRequest), setup ...func(*Server)) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ln: ln, Path: DefaultPath, Handle: handle,
		Requests: make(chan *handshake.ServerRequest, 64)}
	s.Upgrader.Header = http.Header{"X-Server": {"ours"}}
	s.Config.Role = frame.RoleServer
	for _, f := range setup {
		f(s)
	}
	scheme := "ws://"
	if s.TLS != nil {
		scheme = "wss://"
	}
	s.URL = scheme + ln.Addr().String() + s.Path
	s.wg.Go(s.serve)
	t.Cleanup(s.close)
	return s
}

// NewRaw starts a server like New whose connections are handled by raw, without a WebSocket
// handshake; setup functions adjust the server before it starts.
func NewRaw(t testing.TB, raw func(nc net.Conn), setup ...func(*Server)) *Server {
	t.Helper()
	return New(t, nil, append([]func(*Server){func(s *Server) { s.Raw = raw }}, setup...)...)
}

// Addr returns the server's "127.0.0.1:<port>", for tests that dial it without a URL (a raw
// TCP peer made with NewRaw, a proxy target).
func (s *Server) Addr() string { return s.ln.Addr().String() }

func (s *Server) serve() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, nc)
		s.mu.Unlock()
		s.wg.Go(func() {
			if s.TLS != nil {
				nc = tls.Server(nc, s.TLS)
			}
			defer nc.Close()
			if s.Raw != nil {
				s.Raw(nc)
				return
			}
			br := bufio.NewReader(nc)
			req, proto, err := s.Upgrader.Upgrade(br, nc)
			if err != nil {
				return
			}
			select { // a test that never reads Requests must not block the server
			case s.Requests <- req:
			default:
			}
			var prefix []byte
			if n := br.Buffered(); n > 0 {
				prefix, _ = br.Peek(n)
			}
			cfg := s.Config
			cfg.Subprotocol = proto
			if req.Deflate != nil {
				threshold := 0
				if cfg.Compression != nil {
					threshold = cfg.Compression.Threshold
				}
				zc, zd, err := req.Deflate.NewCodecsLevel(true, s.Upgrader.Deflate.Level)
				if err != nil {
					return
				}
				cfg.Compression = &conn.Compression{Compressor: zc, Decompressor: zd, Threshold: threshold}
			}
			c := conn.New(nc, prefix, &cfg)
			s.Handle(c, req)
		})
	}
}

// close stops the server and waits for its connections' goroutines.
func (s *Server) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
