package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"weak"

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
//
// Memory: an idle connection holds no read or write buffer (see conn.Conn) and keepalive is a
// runtime timer, not a goroutine: a goroutine exists only while a ping is being sent.
type Conn struct {
	*conn.Conn
	// The handshake response is held weakly, so that an idle connection does not keep its
	// header map: while the caller of Dial keeps the *Response, Response returns it; after
	// that it is rebuilt once, from the fields kept here (substrings of one string).
	resp       weak.Pointer[handshake.Response]
	respMu     sync.Mutex
	respStrong *handshake.Response // the rebuilt response, once asked for
	status     string
	fields     []handshake.Field
	extensions []string

	// alive is keepalive's sign of life: set by the reading goroutine when a message, ping or
	// pong arrives, cleared by the keepalive timer. The reader loads it first and stores only
	// when it is clear, so a busy reader pays a plain load per message, not an atomic write.
	alive    atomic.Bool
	timedOut atomic.Bool // keepalive closed the connection
	ka       keepalive
}

func newConn(nc net.Conn, prefix []byte, resp *handshake.Response, o *DialOptions) *Conn {
	c := &Conn{resp: weak.Make(resp), status: resp.Status, fields: resp.Fields, extensions: resp.Extensions}
	seen := c.sawFrame
	cfg := &conn.Config{
		Role:              frame.RoleClient,
		ReadBufferSize:    o.ReadBufferSize,
		WriteBufferSize:   o.WriteBufferSize,
		MaxMessageSize:    o.MaxMessageSize,
		CloseTimeout:      o.CloseTimeout,
		Subprotocol:       resp.Subprotocol,
		OnPing:            seen,
		OnPong:            seen,
		ReadLoop:          o.readLoop,
		ReadAlloc:         o.readAlloc,
		SendQueueBytes:    o.SendQueueBytes,
		SendQueueMessages: o.SendQueueMessages,
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
		c.ka.start(c, interval, timeout)
	}
	return c
}

// sawFrame records a received ping or pong for keepalive.
func (c *Conn) sawFrame([]byte) { c.seen() }

// seen records, for keepalive, that a frame arrived.
func (c *Conn) seen() {
	if !c.alive.Load() {
		c.alive.Store(true)
	}
}

// Response returns the server's handshake response.
func (c *Conn) Response() *handshake.Response {
	if r := c.resp.Value(); r != nil {
		return r
	}
	c.respMu.Lock()
	defer c.respMu.Unlock()
	if c.respStrong == nil {
		r := &handshake.Response{StatusCode: http.StatusSwitchingProtocols, Status: c.status,
			Header: make(http.Header, len(c.fields)), Fields: c.fields,
			Subprotocol: c.Conn.Subprotocol(), Extensions: c.extensions}
		for _, f := range c.fields {
			r.Header.Add(f.Name, f.Value)
		}
		c.respStrong = r
	}
	return c.respStrong
}

// ReadMessage reads the next whole message into buf[:0] (see conn.Conn.ReadMessage). After
// keepalive gave up on the connection its errors wrap ErrPongTimeout.
func (c *Conn) ReadMessage(ctx context.Context, buf []byte) (conn.MessageType, []byte, error) {
	typ, p, err := c.Conn.ReadMessage(ctx, buf)
	if err != nil || typ != conn.Text && typ != conn.Binary {
		return c.readFailed(typ, p, err)
	}
	c.seen()
	return typ, p, nil
}

// readFailed is the error path of ReadMessage, apart so that a goroutine waiting in
// ReadMessage needs little stack.
//
//go:noinline
func (c *Conn) readFailed(typ conn.MessageType, p []byte, err error) (conn.MessageType, []byte, error) {
	if err != nil {
		return typ, p, c.readErr(err)
	}
	// Guard: the engine reported a message without a type, which it does when the TCP
	// stream ends between frames. Treat it as the lost connection it is.
	_ = c.Conn.CloseNow()
	return 0, p[:0], c.readErr(&conn.CloseError{Code: frame.CloseAbnormal,
		Reason: "connection closed without a close frame", Err: io.ErrUnexpectedEOF})
}

// NextReader returns the next message as a stream (see conn.Conn.NextReader). After
// keepalive gave up on the connection its errors wrap ErrPongTimeout.
func (c *Conn) NextReader(ctx context.Context) (conn.MessageType, io.Reader, error) {
	typ, r, err := c.Conn.NextReader(ctx)
	if err != nil {
		return typ, r, c.readErr(err)
	}
	c.seen()
	return typ, r, nil
}

func (c *Conn) readErr(err error) error {
	if c.timedOut.Load() {
		return fmt.Errorf("%w: %w", ErrPongTimeout, err)
	}
	var ce *conn.CloseError
	if errors.As(err, &ce) {
		c.ka.stop(false) // the connection is over
	}
	return err
}

// Close performs the closing handshake with code and reason (see conn.Conn.Close) and stops
// keepalive.
func (c *Conn) Close(code frame.CloseCode, reason string) error {
	c.ka.stop(true)
	return c.Conn.Close(code, reason)
}

// CloseNow closes the network connection without a closing handshake and stops keepalive.
func (c *Conn) CloseNow() error {
	c.ka.stop(true)
	return c.Conn.CloseNow()
}

// keepalive pings after interval without a received frame and closes the connection when
// nothing arrives within timeout of the ping, or when the ping cannot be sent within timeout
// (timeout < 0: never; an unsent ping is then tried again after interval). It is a timer whose
// function runs only when it fires; no goroutine waits in between.
type keepalive struct {
	c                 *Conn
	interval, timeout time.Duration

	mu      sync.Mutex
	t       *time.Timer // nil: keepalive is off
	stopped bool
	waiting bool // a ping was sent and the timer runs for timeout
	pinging sync.WaitGroup
}

// start arms keepalive for c.
func (k *keepalive) start(c *Conn, interval, timeout time.Duration) {
	k.c, k.interval, k.timeout = c, interval, timeout
	k.mu.Lock()
	c.alive.Store(false)
	k.t = time.AfterFunc(interval, k.fire)
	k.mu.Unlock()
}

// stop disarms keepalive; with wait it also waits for a ping being sent.
func (k *keepalive) stop(wait bool) {
	k.mu.Lock()
	k.stopped = true
	if k.t != nil {
		k.t.Stop()
	}
	k.mu.Unlock()
	if wait {
		k.pinging.Wait()
	}
}

// fire runs when the timer expires.
func (k *keepalive) fire() {
	k.mu.Lock()
	if k.stopped {
		k.mu.Unlock()
		return
	}
	alive := k.c.alive.Swap(false) // a frame arrived since the timer was last set
	if k.waiting {
		k.waiting = false
		if !alive { // no frame within timeout of the ping
			k.stopped = true
			k.mu.Unlock()
			k.c.timedOut.Store(true)
			_ = k.c.Conn.CloseNow()
			return
		}
	}
	if alive {
		k.t.Reset(k.interval)
		k.mu.Unlock()
		return
	}
	k.pinging.Add(1)
	k.mu.Unlock()
	defer k.pinging.Done()

	wait := k.timeout
	if wait < 0 {
		wait = k.interval
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	err := k.c.Conn.Ping(ctx, nil)
	cancel()
	k.mu.Lock()
	if !k.stopped && errors.Is(err, context.DeadlineExceeded) && k.timeout >= 0 {
		// The ping could not even be sent in time: a write is stuck behind a peer that
		// reads nothing and sends nothing. That is no answer either.
		k.stopped = true
		k.mu.Unlock()
		k.c.timedOut.Store(true)
		_ = k.c.Conn.CloseNow()
		return
	}
	defer k.mu.Unlock()
	if k.stopped {
		return
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		k.stopped = true // the connection is broken or closing; readers see why
		return
	}
	if k.timeout < 0 {
		k.t.Reset(k.interval)
		return
	}
	k.waiting = true
	k.t.Reset(k.timeout)
}
