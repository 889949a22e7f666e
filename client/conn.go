package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// ErrPongTimeout is wrapped by the read errors of a connection that keepalive closed because
// no frame arrived within PongTimeout of a ping.
var ErrPongTimeout = errors.New("websocket: pong timeout")

// Platform keepalive defaults, used for the zero PingInterval and PongTimeout of DialOptions.
const (
	defaultPingInterval = DefaultPingInterval * time.Second
	defaultPongTimeout  = DefaultPongTimeout * time.Second
)

// Conn is a client connection returned by Dial: the engine's *conn.Conn, whose methods it
// has, with keepalive and the handshake response.
//
// Concurrency: one goroutine may read (ReadMessage, NextReader) while any number write; Close
// and CloseNow may be called at any time. Keepalive sees the server's pongs only while some
// goroutine reads.
type Conn struct {
	*conn.Conn
	resp *handshake.Response

	recv     atomic.Uint64 // frames received: keepalive's sign of life
	timedOut atomic.Bool   // keepalive closed the connection
	stop     chan struct{}
	stopOnce sync.Once
	kaDone   chan struct{} // closed when the keepalive goroutine ends; nil without keepalive
}

func newConn(nc net.Conn, prefix []byte, resp *handshake.Response, o *DialOptions) *Conn {
	c := &Conn{resp: resp, stop: make(chan struct{})}
	cfg := &conn.Config{
		Role:            frame.RoleClient,
		ReadBufferSize:  o.ReadBufferSize,
		WriteBufferSize: o.WriteBufferSize,
		MaxMessageSize:  o.MaxMessageSize,
		CloseTimeout:    o.CloseTimeout,
		Subprotocol:     resp.Subprotocol,
		OnPing:          func([]byte) { c.recv.Add(1) },
		OnPong:          func([]byte) { c.recv.Add(1) },
	}
	c.Conn = conn.New(nc, prefix, cfg)
	interval, timeout := o.PingInterval, o.PongTimeout
	if interval == 0 {
		interval = defaultPingInterval
	}
	if timeout == 0 {
		timeout = defaultPongTimeout
	}
	if interval > 0 {
		c.kaDone = make(chan struct{})
		go c.keepalive(interval, timeout)
	}
	return c
}

// Response returns the server's handshake response.
func (c *Conn) Response() *handshake.Response { return c.resp }

// ReadMessage reads the next whole message into buf[:0] (see conn.Conn.ReadMessage). After
// keepalive gave up on the connection its errors wrap ErrPongTimeout.
func (c *Conn) ReadMessage(ctx context.Context, buf []byte) (conn.MessageType, []byte, error) {
	typ, p, err := c.Conn.ReadMessage(ctx, buf)
	if err != nil {
		return typ, p, c.readErr(err)
	}
	if typ != conn.Text && typ != conn.Binary {
		// Guard: the engine reported a message without a type, which it does when the TCP
		// stream ends between frames. Treat it as the lost connection it is.
		_ = c.Conn.CloseNow()
		return 0, p[:0], c.readErr(&conn.CloseError{Code: frame.CloseAbnormal,
			Reason: "connection closed without a close frame", Err: io.ErrUnexpectedEOF})
	}
	c.recv.Add(1)
	return typ, p, nil
}

// NextReader returns the next message as a stream (see conn.Conn.NextReader). After
// keepalive gave up on the connection its errors wrap ErrPongTimeout.
func (c *Conn) NextReader(ctx context.Context) (conn.MessageType, io.Reader, error) {
	typ, r, err := c.Conn.NextReader(ctx)
	if err != nil {
		return typ, r, c.readErr(err)
	}
	c.recv.Add(1)
	return typ, r, nil
}

func (c *Conn) readErr(err error) error {
	if c.timedOut.Load() {
		return fmt.Errorf("%w: %w", ErrPongTimeout, err)
	}
	var ce *conn.CloseError
	if errors.As(err, &ce) {
		c.stopOnce.Do(func() { close(c.stop) }) // the connection is over
	}
	return err
}

// Close performs the closing handshake with code and reason (see conn.Conn.Close) and stops
// keepalive.
func (c *Conn) Close(code frame.CloseCode, reason string) error {
	c.stopKeepalive()
	return c.Conn.Close(code, reason)
}

// CloseNow closes the network connection without a closing handshake and stops keepalive.
func (c *Conn) CloseNow() error {
	c.stopKeepalive()
	return c.Conn.CloseNow()
}

func (c *Conn) stopKeepalive() {
	c.stopOnce.Do(func() { close(c.stop) })
	if c.kaDone != nil {
		<-c.kaDone
	}
}

// keepalive pings after interval without a received frame and closes the connection when
// nothing arrives within timeout of the ping, or when the ping cannot be sent within timeout
// (timeout < 0: never; an unsent ping is then tried again after interval).
func (c *Conn) keepalive(interval, timeout time.Duration) {
	defer close(c.kaDone)
	t := time.NewTimer(interval)
	defer t.Stop()
	last := c.recv.Load()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if n := c.recv.Load(); n != last {
			last = n
			t.Reset(interval)
			continue
		}
		wait := timeout
		if wait < 0 {
			wait = interval
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		err := c.Conn.Ping(ctx, nil)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && timeout >= 0 {
			// The ping could not even be sent in time: a write is stuck behind a peer that
			// reads nothing and sends nothing. That is no answer either.
			c.timedOut.Store(true)
			_ = c.Conn.CloseNow()
			return
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return // the connection is broken or closing; readers see why
		}
		if timeout < 0 {
			t.Reset(interval)
			continue
		}
		t.Reset(timeout)
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if c.recv.Load() == last {
			c.timedOut.Store(true)
			_ = c.Conn.CloseNow()
			return
		}
		last = c.recv.Load()
		t.Reset(interval)
	}
}
