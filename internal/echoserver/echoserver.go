// Package echoserver is an embeddable WebSocket echo server built on this module's server role:
// the opening handshake of package handshake (RFC 6455 §4.2) and a conn.Conn in the server role
// (RFC 6455 §5-§7). Every message a client sends is sent back unchanged, with its type (text or
// binary); a close from the client is answered (§7.1.5). With WithDeflate it accepts
// permessage-deflate (RFC 7692) and echoes compressed.
//
// It serves cmd/wscat when no URL is given, and tests that need a real peer on loopback:
//
//	srv, err := echoserver.Start("127.0.0.1:0")
//	if err != nil { ... }
//	defer srv.Close()
//	connectTo(srv.URL()) // "ws://127.0.0.1:<port>/"
//
// Server.Close closes every connection with 1001 (going away), waits a bounded time for the
// closing handshakes, and returns only when every goroutine of the server has ended.
//
// It is internal: an example of the server role, not a product. It imports the engine
// (handshake, conn, frame) and must not import package client or anything above it.
package echoserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// Defaults of the options.
const (
	// DefaultHandshakeTimeout bounds the reading of a client's opening handshake and the
	// writing of the answer.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultCloseTimeout bounds each closing handshake, that of Server.Close included.
	DefaultCloseTimeout = 2 * time.Second
)

// config holds what the options set.
type config struct {
	protocols        []string
	header           http.Header
	maxMessageSize   int64
	handshakeTimeout time.Duration
	closeTimeout     time.Duration
	deflate          *deflate.ServerOptions
	threshold        int
}

// Option configures Start.
type Option func(*config)

// WithSubprotocols makes the server speak the given subprotocols: the first subprotocol of the
// client's offer that is among them is selected and sent back in Sec-WebSocket-Protocol (RFC
// 6455 §4.2.2). Without it, no subprotocol is ever selected.
func WithSubprotocols(protocols ...string) Option {
	return func(c *config) { c.protocols = append([]string(nil), protocols...) }
}

// WithHeader adds header fields to every handshake response. Names the handshake writes
// itself (Upgrade, Connection, Sec-WebSocket-*, Content-Length, Transfer-Encoding) are refused
// by Start.
func WithHeader(h http.Header) Option {
	return func(c *config) { c.header = h.Clone() }
}

// WithMaxMessageSize limits the size of a received message (bytes); a larger one closes the
// connection with 1009. 0 means the conn default (32 MiB); negative means no limit.
func WithMaxMessageSize(n int64) Option {
	return func(c *config) { c.maxMessageSize = n }
}

// WithHandshakeTimeout bounds each opening handshake (default DefaultHandshakeTimeout).
func WithHandshakeTimeout(d time.Duration) Option {
	return func(c *config) { c.handshakeTimeout = d }
}

// WithDeflate makes the server accept permessage-deflate (RFC 7692) as o says (the first
// acceptable offer of a client is agreed; see deflate.ServerOptions.Negotiate). A connection
// that agreed inflates what it receives and compresses the messages it echoes of at least
// threshold bytes (0: conn.DefaultCompressionThreshold, negative: all). Options with window
// bits outside 0 and 8..15 make Start fail.
func WithDeflate(o deflate.ServerOptions, threshold int) Option {
	return func(c *config) { c.deflate, c.threshold = &o, threshold }
}

// WithCloseTimeout bounds each closing handshake (default DefaultCloseTimeout).
func WithCloseTimeout(d time.Duration) Option {
	return func(c *config) { c.closeTimeout = d }
}

// Server is a running echo server. Its methods are safe for concurrent use.
type Server struct {
	ln       net.Listener
	upgrader handshake.Upgrader
	cfg      config

	wg     sync.WaitGroup // the accept loop, one goroutine per connection, closers
	mu     sync.Mutex
	closed bool
	conns  map[*peer]struct{}
	err    error // result of the listener's Close
}

// peer is one client connection: the TCP connection, and its WebSocket once upgraded.
type peer struct {
	nc net.Conn
	ws *conn.Conn // nil until the opening handshake is done; guarded by Server.mu
}

// Start listens on addr ("127.0.0.1:0" picks a free port on loopback; "" means the same) and
// serves the echo protocol there until Close. It returns an error when the options are
// invalid or the address cannot be listened on.
func Start(addr string, opts ...Option) (*Server, error) {
	cfg := config{handshakeTimeout: DefaultHandshakeTimeout, closeTimeout: DefaultCloseTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.handshakeTimeout <= 0 {
		cfg.handshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.closeTimeout <= 0 {
		cfg.closeTimeout = DefaultCloseTimeout
	}
	s := &Server{
		cfg:      cfg,
		upgrader: handshake.Upgrader{Protocols: cfg.protocols, Header: cfg.header, Deflate: cfg.deflate},
		conns:    make(map[*peer]struct{}),
	}
	if err := s.checkHeader(); err != nil {
		return nil, err
	}
	if cfg.deflate != nil {
		if err := cfg.deflate.Check(); err != nil {
			return nil, fmt.Errorf("echoserver: deflate options: %w", err)
		}
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("echoserver: %w", err)
	}
	s.ln = ln
	s.wg.Go(s.acceptLoop)
	return s, nil
}

// checkHeader applies the Upgrader's header checks once, so that a bad WithHeader fails Start
// instead of every handshake (WriteReject checks extra headers the same way).
func (s *Server) checkHeader() error {
	if err := handshake.WriteReject(io.Discard, http.StatusOK, "", s.cfg.header); err != nil {
		return fmt.Errorf("echoserver: response header: %w", err)
	}
	return nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL returns the server's WebSocket URL, "ws://<host>:<port>/".
func (s *Server) URL() string { return "ws://" + s.ln.Addr().String() + "/" }

// Close stops the server: it closes the listener, closes every open connection with 1001
// (going away), aborts those still in their opening handshake, and waits until every
// goroutine of the server has ended (each closing handshake is bounded by the close
// timeout). It returns the listener's close error; later calls return the same.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return s.err
	}
	s.closed = true
	s.err = s.ln.Close()
	for p := range s.conns {
		if p.ws == nil {
			_ = p.nc.Close()
			continue
		}
		ws := p.ws
		s.wg.Go(func() {
			// The connection's goroutine goes on reading and sees the peer's reply; when
			// the peer does not answer in time, Close closes the connection itself.
			if err := ws.Close(frame.CloseGoingAway, "server shutting down"); err != nil {
				_ = ws.CloseNow()
			}
		})
	}
	s.mu.Unlock()
	s.wg.Wait()
	return s.err
}

func (s *Server) acceptLoop() {
	var delay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.isClosed() {
				return
			}
			// Out of file descriptors, a connection aborted before Accept and the like: back
			// off and retry, as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		delay = 0
		p := &peer{nc: nc}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.conns[p] = struct{}{}
		s.wg.Go(func() { s.serve(p) })
		s.mu.Unlock()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// serve runs one connection: the opening handshake, then the echo loop.
func (s *Server) serve(p *peer) {
	defer func() {
		_ = p.nc.Close()
		s.mu.Lock()
		delete(s.conns, p)
		s.mu.Unlock()
	}()
	_ = p.nc.SetDeadline(time.Now().Add(s.cfg.handshakeTimeout))
	br := bufio.NewReader(p.nc)
	req, protocol, err := s.upgrader.Upgrade(br, p.nc)
	if err != nil {
		return // a refusal was answered, or the client went away
	}
	var z *conn.Compression
	if req.Deflate != nil {
		zc, zd, err := req.Deflate.NewCodecsLevel(true, s.cfg.deflate.Level)
		if err != nil {
			return // cannot happen: Negotiate answers valid parameters
		}
		z = &conn.Compression{Compressor: zc, Decompressor: zd, Threshold: s.cfg.threshold}
	}
	_ = p.nc.SetDeadline(time.Time{})
	var prefix []byte
	if n := br.Buffered(); n > 0 {
		prefix, _ = br.Peek(n) // conn.New copies it
	}
	ws := conn.New(p.nc, prefix, &conn.Config{
		Role:           frame.RoleServer,
		MaxMessageSize: s.cfg.maxMessageSize,
		CloseTimeout:   s.cfg.closeTimeout,
		Subprotocol:    protocol,
		Compression:    z,
	})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.CloseNow()
		return
	}
	p.ws = ws
	s.mu.Unlock()
	echo(ws)
	_ = ws.CloseNow() // no-op after a finished closing handshake
}

// echo sends every message back with its type until the connection ends. Messages are read
// into one buffer that is reused, so a steady stream allocates nothing. After a failed write
// (the connection is closing) it keeps reading, so that a closing handshake in progress sees
// the peer's close frame.
func echo(ws *conn.Conn) {
	ctx := context.Background()
	var buf []byte
	writing := true
	for {
		typ, p, err := ws.ReadMessage(ctx, buf)
		if err != nil {
			return // *conn.CloseError: the peer closed (answered by conn), or the connection ended
		}
		if writing {
			if err := ws.WriteMessage(ctx, typ, p); err != nil {
				writing = false
			}
		}
		buf = p
	}
}
