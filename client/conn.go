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
// nothing arrived, after a ping, while the reader waited PongTimeout on the network.
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
// and CloseNow may be called at any time. Keepalive (see the package documentation) counts
// its pong timeout only while a read waits on the network: a Conn whose reader pauses is never
// given up for it, and one that is never read never times out.
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
	code       int // 101, or 200 over HTTP/2 (RFC 8441 §5)
	fields     []handshake.Field
	extensions []string

	timedOut atomic.Bool // keepalive closed the connection
	ka       keepalive
}

func newConn(nc net.Conn, prefix []byte, resp *handshake.Response, o *DialOptions) *Conn {
	c := &Conn{resp: weak.Make(resp), status: resp.Status, code: resp.StatusCode, fields: resp.Fields, extensions: resp.Extensions}
	interval, timeout := o.PingInterval, o.PongTimeout
	if interval == 0 {
		interval = defaultPingInterval
	}
	if timeout == 0 {
		timeout = defaultPongTimeout
	}
	cfg := &conn.Config{
		Role:              frame.RoleClient,
		ReadBufferSize:    o.ReadBufferSize,
		WriteBufferSize:   o.WriteBufferSize,
		MaxMessageSize:    o.MaxMessageSize,
		CloseTimeout:      o.CloseTimeout,
		Subprotocol:       resp.Subprotocol,
		ReadLoop:          o.readLoop,
		ReadAlloc:         o.readAlloc,
		TrackReads:        interval > 0, // keepalive's view of the reader
		SendQueueBytes:    o.SendQueueBytes,
		SendQueueMessages: o.SendQueueMessages,
		Compression:       o.compression,
		OnPing:            o.onPing,
		OnPong:            o.onPong,
	}
	c.Conn = conn.New(nc, prefix, cfg)
	if interval > 0 {
		c.ka.start(c, interval, timeout)
	}
	return c
}

// Response returns the server's handshake response.
func (c *Conn) Response() *handshake.Response {
	if r := c.resp.Value(); r != nil {
		return r
	}
	c.respMu.Lock()
	defer c.respMu.Unlock()
	if c.respStrong == nil {
		r := &handshake.Response{StatusCode: c.code, Status: c.status,
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
func (c *Conn) ReadMessage(ctx context.Context, buf []byte) (MessageType, []byte, error) {
	typ, p, err := c.Conn.ReadMessage(ctx, buf)
	if err != nil || typ != conn.Text && typ != conn.Binary {
		return c.readFailed(typ, p, err)
	}
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
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	typ, r, err := c.Conn.NextReader(ctx)
	if err != nil {
		return typ, r, c.readErr(err)
	}
	return typ, r, nil
}

func (c *Conn) readErr(err error) error {
	if c.timedOut.Load() {
		return fmt.Errorf("%w: %w", ErrPongTimeout, err)
	}
	var ce *conn.CloseError
	if errors.As(err, &ce) {
		c.ka.stop() // the connection is over
	}
	return err
}

// Close performs the closing handshake with code and reason (see conn.Conn.Close) and stops
// keepalive. It never waits for a keepalive ping: a ping being written holds the connection
// only as a message write would, so the close frame waits for it at most CloseTimeout, after
// which the connection is cut (and the ping with it).
func (c *Conn) Close(code CloseCode, reason string) error {
	c.ka.stop()
	return c.Conn.Close(code, reason)
}

// CloseNow closes the network connection without a closing handshake and stops keepalive. It
// does not wait for a keepalive ping being written: closing the connection cuts it.
func (c *Conn) CloseNow() error {
	c.ka.stop()
	return c.Conn.CloseNow()
}

// keepalive keeps the connection alive and finds out when the server is gone. It is a runtime
// timer whose function runs only when it fires; no goroutine waits in between. Its rules:
//
//   - A ping goes out after interval with nothing received: the timer runs from the last
//     received bytes (any bytes, a part of a frame included; conn.Conn.ReadActivity), or from
//     the last ping while nothing arrives. With a server that only answers pings, a ping goes
//     out every interval.
//   - The connection is dead when, after a ping, nothing at all has arrived while the reader
//     waited timeout in total on the network (timeout < 0: never). Time in which the reader
//     is held back by the application (a MESSAGE callback running, no ReadMessage call in
//     progress, a read busy with input it already has) does not count: what the server sent
//     meanwhile waits in the kernel, and is seen as soon as the reader comes back. So a slow
//     application never makes a healthy server look dead, and with a reader waiting all along
//     a silent server is found dead interval+timeout after its last bytes.
//   - A ping that cannot be written (the socket buffers full, a write that holds the
//     connection) is given timeout (interval when timeout < 0) and then tried again after
//     interval; meanwhile the rule above runs from when the ping was due.
//   - stop disarms the timer and never waits for a ping being written: Close and CloseNow
//     close the connection, which cuts such a ping.
type keepalive struct {
	c                 *Conn
	interval, timeout time.Duration

	mu         sync.Mutex
	t          *time.Timer // nil: keepalive is off
	stopped    bool
	lastRx     time.Duration // when bytes last arrived, as far as seen (the dial at first; see since)
	lastPing   time.Duration // when the last ping was tried
	unanswered bool          // a ping was due and nothing arrived since
	waited0    time.Duration // ReadActivity.Waited when that ping was due
}

// epoch is the origin of since.
var epoch = time.Now()

// since returns the time on the monotonic clock, as the time since epoch: keepalive's times
// take 8 bytes each, not a time.Time's 24.
func since() time.Duration { return time.Since(epoch) }

// start arms keepalive for c.
func (k *keepalive) start(c *Conn, interval, timeout time.Duration) {
	k.c, k.interval, k.timeout = c, interval, timeout
	k.mu.Lock()
	k.lastRx = since()
	k.t = time.AfterFunc(interval, k.fire)
	k.mu.Unlock()
}

// stop disarms keepalive.
func (k *keepalive) stop() {
	k.mu.Lock()
	k.stopped = true
	if k.t != nil {
		k.t.Stop()
	}
	k.mu.Unlock()
}

// fire runs when the timer expires: it takes stock of what the reader saw, gives up on the
// connection, pings, or sets the timer for the next thing due.
func (k *keepalive) fire() {
	k.mu.Lock()
	pinged := false
	for !k.stopped {
		now := since()
		a := k.c.Conn.ReadActivity()
		if a.Received {
			k.lastRx = now - a.Waiting // the bytes came before the reader's current wait
			k.unanswered = false
		}
		var left time.Duration // of the pong timeout, while a ping is unanswered
		if k.unanswered && k.timeout >= 0 {
			if left = k.timeout - (a.Waited - k.waited0); left <= 0 {
				k.stopped = true
				k.mu.Unlock()
				k.c.timedOut.Store(true)
				_ = k.c.Conn.CloseNow()
				return
			}
		}
		wait := max(k.lastRx, k.lastPing) + k.interval - now
		if pinged || wait > k.interval/64 { // a timer may fire a little early as we see it
			if pinged && wait < k.interval/64 {
				wait = k.interval // the ping took the whole interval: try again after another
			}
			if left > 0 && left < wait {
				wait = left
			}
			k.t.Reset(wait)
			break
		}
		if !k.unanswered {
			k.unanswered, k.waited0 = true, a.Waited
		}
		k.mu.Unlock()
		err := k.ping()
		k.mu.Lock()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			k.stopped = true // the connection is broken or closing; readers see why
		}
		k.lastPing, pinged = since(), true
	}
	k.mu.Unlock()
}

// ping writes a ping, giving it timeout (interval when timeout < 0) to go out.
func (k *keepalive) ping() error {
	wait := k.timeout
	if wait < 0 {
		wait = k.interval
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return k.c.Conn.Ping(ctx, nil)
}
