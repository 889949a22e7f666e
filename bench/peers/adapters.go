package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"
	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
)

// peerConn is one client connection of a library under test, used the way the library's
// documentation shows. Only one goroutine calls its methods, except abort.
type peerConn interface {
	// write sends one binary message.
	write(p []byte) error
	// writeText sends one text message (the sink's "done", the source's "N S").
	writeText(p []byte) error
	// read returns the next data message, in a buffer the adapter reuses where the library
	// allows it; it is valid until the next read.
	read() ([]byte, error)
	// recv sends req, the source's request "n size", and receives the n binary messages of
	// size bytes it asks for, checking each one's size and pattern.
	recv(req []byte, n, size int) error
	// idle starts what reads the connection while it idles (a goroutine blocked in a read,
	// or the library's own read loop) and returns a channel closed when that reader ends.
	idle() <-chan struct{}
	// close ends the connection the library's normal way (closing handshake if it has one).
	close()
	// abort drops the connection at once; any goroutine reading it returns. Safe to call
	// from any goroutine, more than once.
	abort()
}

// addrs are the server's listening addresses.
type addrs struct{ ws, tcp string }

// library is one client implementation under test.
type library struct {
	name string
	note string // how it is used, for the report
	dial func(ctx context.Context, a addrs, path string) (peerConn, error)
}

// libraries lists every client in the order the interleaved runs use.
var libraries = []library{
	{"ours", "client.Dial; Conn.WriteMessage / ReadMessage(ctx, reused buf)", dialOurs},
	{"ours-facade", "CreateWebSocket, Connect, Send (a callback per 64 KiB sent, BufferedAmount <= 8 MiB), MESSAGE events", dialFacade},
	{"ours-facade-borrow", "as ours-facade, with BorrowMessages: MESSAGE payloads borrowed from one reused buffer", dialFacadeBorrow},
	{"gorilla", "Dialer.Dial; WriteMessage / NextReader into a reused buffer", dialGorilla},
	{"coder", "websocket.Dial; Write(ctx) / Reader(ctx) into a reused buffer", dialCoder},
	{"gobwas-wsutil", "ws.Dial; wsutil.WriteClientMessage / ReadServerData", dialWsutil},
	{"gobwas-lowlevel", "ws.Dial; ws.WriteFrame (masked) / ws.ReadHeader with reused buffers", dialGobwasLow},
	{"gws", "gws.NewClient, ReadLoop goroutine, OnMessage events; WriteMessage", dialGws},
	{"raw-tcp", "net.Dial; 4-byte length prefix, writev, no WebSocket framing", dialRaw},
}

// errMessage reports a message that is not what the server sent.
var errMessage = errors.New("peers: wrong message")

// checkPayload checks a source message: size bytes of the pattern.
func checkPayload(p []byte, size int) error {
	if len(p) != size || (size > 0 && (p[0] != pattern(0) || p[size-1] != pattern(size-1))) {
		return fmt.Errorf("%w: %d bytes, want %d", errMessage, len(p), size)
	}
	return nil
}

// recvLoop is recv for libraries with a blocking read.
func recvLoop(c peerConn, req []byte, n, size int) error {
	if err := c.writeText(req); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		p, err := c.read()
		if err != nil {
			return err
		}
		if err := checkPayload(p, size); err != nil {
			return err
		}
	}
	return nil
}

// idleReader runs read until it fails, in a goroutine, and returns a channel closed then.
func idleReader(read func() ([]byte, error)) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := read(); err != nil {
				return
			}
		}
	}()
	return done
}

// readAllInto reads r to EOF into buf[:0], growing it, and returns the bytes.
func readAllInto(r io.Reader, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// closeWait bounds the closing handshakes of the adapters that drive it themselves.
const closeWait = 5 * time.Second

// ---- ours, blocking API ----

type oursConn struct {
	c   *client.Conn
	buf []byte
}

func dialOurs(ctx context.Context, a addrs, path string) (peerConn, error) {
	c, _, err := client.Dial(ctx, "ws://"+a.ws+path, nil)
	if err != nil {
		return nil, err
	}
	return &oursConn{c: c}, nil
}

func (o *oursConn) write(p []byte) error {
	return o.c.WriteMessage(context.Background(), conn.Binary, p)
}

func (o *oursConn) writeText(p []byte) error {
	return o.c.WriteMessage(context.Background(), conn.Text, p)
}

func (o *oursConn) read() ([]byte, error) {
	_, p, err := o.c.ReadMessage(context.Background(), o.buf)
	o.buf = p
	return p, err
}

func (o *oursConn) recv(req []byte, n, size int) error { return recvLoop(o, req, n, size) }
func (o *oursConn) idle() <-chan struct{}              { return idleReader(o.read) }
func (o *oursConn) close()                             { _ = o.c.Close(frame.CloseNormal, "") }
func (o *oursConn) abort()                             { _ = o.c.CloseNow() }

// ---- inbox: messages delivered by event callbacks (facade, gws) ----

// inbox hands messages from a library's callback to the benchmark goroutine. In counting
// mode (recv) the callback only counts and checks; otherwise it passes each message on.
type inbox struct {
	msgs   chan []byte
	errs   chan error // the first failure, kept for every later reader
	target atomic.Int64
	size   atomic.Int64
	// got counts the messages of a counting run; only the library's callbacks, which run one
	// at a time, touch it (a locked add per message would be the harness's cost, not the
	// library's: the blocking libraries' loop counts in a local variable). It is back to 0
	// when the run's last message came.
	got    int64
	bad    atomic.Int64
	done   chan struct{}
	buf    []byte // copy of the last message, for libraries that reuse theirs
	failed sync.Once
	rt     atomic.Pointer[rtRun] // round trips driven from the callback, while they run
	// expect, when set, is the message counting mode checks against (sameMessage) instead of
	// the source's pattern (checkPayload).
	expect atomic.Pointer[[]byte]
}

// callbackRoundTripper is a peerConn of an event-driven library: its round trips are driven
// from the message callback, as an application of such a library answers a message (the
// callback checks the echo, records its latency and sends the next message). A benchmark
// goroutine that waited on a channel for each message would add a goroutine hand-off per
// round trip that the blocking libraries do not pay.
type callbackRoundTripper interface {
	roundTrips(msg []byte, lat []time.Duration, warm int) error
}

// rtRun is one series of callback-driven round trips.
type rtRun struct {
	msg  []byte
	lat  []time.Duration
	i    int // index of the echo awaited; negative during the warm-up
	t0   time.Time
	send func([]byte) error
	done chan error
}

// echo is called from the message callback with the echo of the last message sent.
func (r *rtRun) echo(p []byte) {
	d := time.Since(r.t0)
	if !bytes.Equal(p, r.msg) {
		r.done <- fmt.Errorf("%w: echo of %d bytes differs (%d bytes back)", errMessage, len(r.msg), len(p))
		return
	}
	if r.i >= 0 {
		r.lat[r.i] = d
	}
	r.i++
	if r.i == len(r.lat) {
		r.done <- nil
		return
	}
	r.t0 = time.Now()
	if err := r.send(r.msg); err != nil {
		r.done <- err
	}
}

// roundTrips runs len(lat) timed round trips of msg, after warm untimed ones, from the
// callback; send sends one message.
func (b *inbox) roundTrips(msg []byte, lat []time.Duration, warm int, send func([]byte) error) error {
	r := &rtRun{msg: msg, lat: lat, i: -warm, send: send, done: make(chan error, 1)}
	b.rt.Store(r)
	defer b.rt.Store(nil)
	r.t0 = time.Now()
	if err := send(msg); err != nil {
		return err
	}
	select {
	case err := <-r.done:
		return err
	case err := <-b.errs:
		b.errs <- err
		return err
	}
}

func newInbox() *inbox {
	return &inbox{msgs: make(chan []byte, 1), errs: make(chan error, 1), done: make(chan struct{}, 1)}
}

// deliver is called from the library's callback. copyIt copies p into the inbox's buffer
// first (the library reuses p after the callback returns). Only one message is ever in flight
// outside counting mode.
func (b *inbox) deliver(p []byte, copyIt bool) {
	if r := b.rt.Load(); r != nil {
		r.echo(p)
		return
	}
	if t := b.target.Load(); t > 0 {
		if w := b.expect.Load(); w != nil {
			if sameMessage(p, *w) != nil {
				b.bad.Add(1)
			}
		} else if checkPayload(p, int(b.size.Load())) != nil {
			b.bad.Add(1)
		}
		if b.got++; b.got == t {
			b.got = 0
			b.done <- struct{}{}
		}
		return
	}
	if copyIt {
		b.buf = append(b.buf[:0], p...)
		p = b.buf
	}
	select {
	case b.msgs <- p:
	case err := <-b.errs: // nobody will read it: the connection is over
		b.errs <- err
	}
}

var errClosed = errors.New("peers: connection closed")

// reset makes b ready for another connection of the same library object, once the last one
// ended (its callbacks ran).
func (b *inbox) reset() {
	select {
	case <-b.errs:
	default:
	}
	select {
	case <-b.msgs:
	default:
	}
	b.failed = sync.Once{}
	b.got = 0
}

// fail records the connection's end; reads return err from then on.
func (b *inbox) fail(err error) {
	if err == nil {
		err = errClosed
	}
	b.failed.Do(func() { b.errs <- err })
}

func (b *inbox) read() ([]byte, error) {
	select {
	case p := <-b.msgs:
		return p, nil
	case err := <-b.errs:
		b.errs <- err
		return nil, err
	}
}

// count waits, after send, for n messages of size bytes in counting mode.
func (b *inbox) count(n, size int, send func() error) error {
	b.bad.Store(0)
	b.size.Store(int64(size))
	b.target.Store(int64(n))
	defer b.target.Store(0)
	if err := send(); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	select {
	case <-b.done:
	case err := <-b.errs:
		b.errs <- err
		return err
	}
	if bad := b.bad.Load(); bad > 0 {
		return fmt.Errorf("%w: %d of %d", errMessage, bad, n)
	}
	return nil
}

// ---- ours, the seed facade ----

// The facade's sender is paced the way the facade documents: BufferedAmount bounds the bytes
// queued (facadeMaxBuffered; the send queue's default cap is 16 MiB), and Send callbacks, which
// run in order, report progress. A callback goes with every facadeBatchBytes of payload (with
// every message of that size or more), not with each message: one callback reports the
// messages before it too, and each callback is a hand-off to the goroutine that runs callbacks
// (the sender's own goroutine may hold locks), which a streaming sender need not pay per
// message (at 64 B, a callback every 16 messages cost 40% of the send rate). At most
// facadeWindow callbacks are outstanding.
const (
	facadeWindow      = 32
	facadeBatchBytes  = 64 << 10
	facadeMaxBuffered = 8 << 20
)

type facadeConn struct {
	ws      *client.WebSocket
	in      atomic.Pointer[inbox] // made by io on first use
	opened  chan error
	closed  chan struct{} // closed at CLOSE; made again by reconnect
	sem     chan struct{} // made by io
	drained chan struct{} // a token after each Send callback; made by io
	sent    *client.WebSocketAsyncCallback[bool]
	sendErr atomic.Pointer[client.AsyncError]
	n       int // messages sent
	borrow  bool
	opts    *client.WebSocketRequestOptions
}

func dialFacade(ctx context.Context, a addrs, path string) (peerConn, error) {
	return dialFacadeMode(ctx, a, path, false)
}

// dialFacadeBorrow is dialFacade with WebSocketRequestOptions.BorrowMessages: each MESSAGE
// payload is a *client.BorrowedData valid only during the callback (counted in place; copied
// when passed on).
func dialFacadeBorrow(ctx context.Context, a addrs, path string) (peerConn, error) {
	return dialFacadeMode(ctx, a, path, true)
}

func dialFacadeMode(ctx context.Context, a addrs, path string, borrow bool) (peerConn, error) {
	f := &facadeConn{
		ws:     client.CreateWebSocket(),
		opened: make(chan error, 1),
		closed: make(chan struct{}),
		borrow: borrow,
	}
	f.sent = client.NewWebSocketAsyncCallback(func(err *client.AsyncError, _ bool) {
		if err != nil {
			f.sendErr.CompareAndSwap(nil, err)
		}
		<-f.sem
		select {
		case f.drained <- struct{}{}:
		default:
		}
	})
	ws := f.ws
	_ = ws.On(client.EventOpen, client.NewWebSocketAsyncCallback(func(err *client.AsyncError, _ map[uint32]string) {
		var e error
		if err != nil {
			e = err
		}
		select {
		case f.opened <- e:
		default:
		}
	}))
	_ = ws.On(client.EventMessage, client.NewWebSocketAsyncCallback(func(err *client.AsyncError, m client.MessageData) {
		in := f.in.Load() // made before the message that asked for this one was sent
		switch d := m.(type) {
		case client.ArrayData:
			in.deliver(d, false)
		case client.StringData:
			in.deliver([]byte(d), false)
		case *client.BorrowedData:
			in.deliver(d.Data, true) // valid only during the callback
		}
	}))
	_ = ws.On(client.EventError, client.NewWebSocketErrorCallback(func(err *client.BusinessException) {
		select {
		case f.opened <- err:
		default:
		}
		if in := f.in.Load(); in != nil {
			in.fail(err)
		}
	}))
	_ = ws.On(client.EventClose, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, _ client.CloseResult) {
		if in := f.in.Load(); in != nil {
			in.fail(errClosed)
		}
		// Last: f is the next connection's after it. CLOSE comes once per Connect; a sync.Once
		// here would still be finishing its Do while reconnect replaced it (a race).
		close(f.closed)
	}))
	if err := f.connect(ctx, a, path); err != nil {
		return nil, err
	}
	return f, nil
}

// connect opens f's WebSocket and waits for OPEN.
func (f *facadeConn) connect(ctx context.Context, a addrs, path string) error {
	if f.opts == nil { // made once, as an application keeps its options
		f.opts = client.NewWebSocketRequestOptions()
		f.opts.Proxy = client.NoProxy{} // the seed's default is SYSTEM; loopback needs no proxy
		f.opts.BorrowMessages = f.borrow
	}
	if err := f.ws.Connect("ws://"+a.ws+path, f.opts, nil); err != nil {
		return err
	}
	select {
	case err := <-f.opened:
		if err != nil {
			f.waitClosed()
			return err
		}
		return nil
	case <-ctx.Done():
		f.close()
		return ctx.Err()
	}
}

// reconnect connects f's WebSocket again after CLOSE, as the seed's WebSocket allows, with its
// callbacks registered once: the handshake benchmark then counts connect and close only, not
// making the WebSocket and registering the application's callbacks.
func (f *facadeConn) reconnect(ctx context.Context, a addrs, path string) error {
	if in := f.in.Load(); in != nil {
		in.reset()
	}
	f.closed = make(chan struct{})
	f.sendErr.Store(nil)
	return f.connect(ctx, a, path)
}

func (f *facadeConn) send(d client.MessageData) error {
	var size int64
	switch m := d.(type) {
	case client.ArrayData:
		size = int64(len(m))
	case client.StringData:
		size = int64(len(m))
	}
	f.io()
	f.n++
	var cb *client.WebSocketAsyncCallback[bool]
	if f.n%max(1, facadeBatchBytes/max(1, int(size))) == 0 {
		select {
		case f.sem <- struct{}{}:
		case <-f.closed:
			return errClosed
		}
		cb = f.sent
	}
	for {
		// Past the bound, at least one callback is outstanding (the messages without one
		// add up to less than facadeBatchBytes).
		if b, _ := f.ws.BufferedAmount(); b == 0 || b+size <= facadeMaxBuffered {
			break
		}
		select {
		case <-f.drained:
		case <-f.closed:
			return errClosed
		}
	}
	if err := f.ws.Send(d, cb); err != nil {
		return err // the callback reports it too, and gives back its token
	}
	if err := f.sendErr.Load(); err != nil {
		return err
	}
	return nil
}

func (f *facadeConn) write(p []byte) error     { return f.send(client.ArrayData(p)) }
func (f *facadeConn) writeText(p []byte) error { return f.send(client.StringData(p)) }
func (f *facadeConn) read() ([]byte, error)    { return f.io().read() }

// io makes, on first use, what the benchmark goroutine and the callbacks exchange messages
// and send progress through, so that an idle connection (the idle benchmark) holds none of
// it: it measures the library, not this harness. Only the benchmark goroutine calls it.
func (f *facadeConn) io() *inbox {
	if in := f.in.Load(); in != nil {
		return in
	}
	f.sem = make(chan struct{}, facadeWindow)
	f.drained = make(chan struct{}, 1)
	in := newInbox()
	f.in.Store(in)
	select {
	case <-f.closed: // CLOSE came before: reads fail as they would have
		in.fail(errClosed)
	default:
	}
	return in
}

func (f *facadeConn) roundTrips(msg []byte, lat []time.Duration, warm int) error {
	return f.io().roundTrips(msg, lat, warm, f.write)
}

func (f *facadeConn) recv(req []byte, n, size int) error {
	return f.io().count(n, size, func() error { return f.writeText(req) })
}

func (f *facadeConn) idle() <-chan struct{} { return f.closed }

func (f *facadeConn) close() {
	_ = f.ws.Close(nil, nil)
	f.waitClosed()
}

// abort closes without waiting for CLOSE (the facade has no abort; its close is bounded by
// the engine's close timeout).
func (f *facadeConn) abort() {
	if in := f.in.Load(); in != nil {
		in.fail(errClosed)
	}
	_ = f.ws.Close(nil, nil)
}

func (f *facadeConn) waitClosed() {
	t := time.NewTimer(2 * closeWait)
	defer t.Stop()
	select {
	case <-f.closed:
	case <-t.C:
	}
}

// ---- gorilla/websocket ----

type gorillaConn struct {
	c   *gorilla.Conn
	buf []byte
}

func dialGorilla(ctx context.Context, a addrs, path string) (peerConn, error) {
	c, resp, err := gorilla.DefaultDialer.DialContext(ctx, "ws://"+a.ws+path, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	return &gorillaConn{c: c}, nil
}

func (g *gorillaConn) write(p []byte) error { return g.c.WriteMessage(gorilla.BinaryMessage, p) }
func (g *gorillaConn) writeText(p []byte) error {
	return g.c.WriteMessage(gorilla.TextMessage, p)
}

func (g *gorillaConn) read() ([]byte, error) {
	_, r, err := g.c.NextReader()
	if err != nil {
		return nil, err
	}
	g.buf, err = readAllInto(r, g.buf)
	return g.buf, err
}

func (g *gorillaConn) recv(req []byte, n, size int) error { return recvLoop(g, req, n, size) }
func (g *gorillaConn) idle() <-chan struct{}              { return idleReader(g.read) }

// close is gorilla's documented closing: send a close message, read until the server's close
// arrives (an error), then close the connection.
func (g *gorillaConn) close() {
	msg := gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, "")
	if g.c.WriteControl(gorilla.CloseMessage, msg, time.Now().Add(closeWait)) == nil {
		_ = g.c.SetReadDeadline(time.Now().Add(closeWait))
		for {
			if _, _, err := g.c.NextReader(); err != nil {
				break
			}
		}
	}
	g.c.Close()
}

func (g *gorillaConn) abort() { g.c.Close() }

// ---- coder/websocket ----

type coderConn struct {
	c   *coder.Conn
	buf []byte
}

func dialCoder(ctx context.Context, a addrs, path string) (peerConn, error) {
	c, _, err := coder.Dial(ctx, "ws://"+a.ws+path, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(64 << 20) // the default, 32 KiB, is below the largest message
	return &coderConn{c: c}, nil
}

func (c *coderConn) write(p []byte) error {
	return c.c.Write(context.Background(), coder.MessageBinary, p)
}

func (c *coderConn) writeText(p []byte) error {
	return c.c.Write(context.Background(), coder.MessageText, p)
}

func (c *coderConn) read() ([]byte, error) {
	_, r, err := c.c.Reader(context.Background())
	if err != nil {
		return nil, err
	}
	c.buf, err = readAllInto(r, c.buf)
	return c.buf, err
}

func (c *coderConn) recv(req []byte, n, size int) error { return recvLoop(c, req, n, size) }
func (c *coderConn) idle() <-chan struct{}              { return idleReader(c.read) }
func (c *coderConn) close()                             { _ = c.c.Close(coder.StatusNormalClosure, "") }
func (c *coderConn) abort()                             { _ = c.c.CloseNow() }

// ---- gobwas/ws wsutil ----

type wsutilConn struct {
	nc net.Conn
	rw io.ReadWriter
}

// readWriter joins the handshake's buffered reader (when it holds bytes) with the connection.
type readWriter struct {
	io.Reader
	io.Writer
}

func dialWsutil(ctx context.Context, a addrs, path string) (peerConn, error) {
	nc, br, _, err := ws.Dial(ctx, "ws://"+a.ws+path)
	if err != nil {
		return nil, err
	}
	var rw io.ReadWriter = nc
	if br != nil {
		rw = readWriter{br, nc}
	}
	return &wsutilConn{nc: nc, rw: rw}, nil
}

func (w *wsutilConn) write(p []byte) error {
	return wsutil.WriteClientMessage(w.nc, ws.OpBinary, p)
}

func (w *wsutilConn) writeText(p []byte) error {
	return wsutil.WriteClientMessage(w.nc, ws.OpText, p)
}

func (w *wsutilConn) read() ([]byte, error) {
	p, _, err := wsutil.ReadServerData(w.rw)
	return p, err
}

func (w *wsutilConn) recv(req []byte, n, size int) error { return recvLoop(w, req, n, size) }
func (w *wsutilConn) idle() <-chan struct{}              { return idleReader(w.read) }

func (w *wsutilConn) close() {
	body := ws.NewCloseFrameBody(ws.StatusNormalClosure, "")
	if wsutil.WriteClientMessage(w.nc, ws.OpClose, body) == nil {
		_ = w.nc.SetReadDeadline(time.Now().Add(closeWait))
		for {
			if _, _, err := wsutil.ReadServerData(w.rw); err != nil {
				break
			}
		}
	}
	w.nc.Close()
}

func (w *wsutilConn) abort() { w.nc.Close() }

// ---- gobwas/ws low level ----

type gobwasConn struct {
	nc  net.Conn
	br  *bufio.Reader
	bw  *bufio.Writer
	out []byte // masked copy of the payload being written
	buf []byte // payload being read
	ctl []byte // control frame payload
}

func dialGobwasLow(ctx context.Context, a addrs, path string) (peerConn, error) {
	nc, br, _, err := ws.Dial(ctx, "ws://"+a.ws+path)
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReader(nc)
	}
	return &gobwasConn{nc: nc, br: br, bw: bufio.NewWriter(nc), ctl: make([]byte, 0, 125)}, nil
}

// writeFrame writes one masked frame (RFC 6455 §5.3) from a reused buffer.
func (g *gobwasConn) writeFrame(op ws.OpCode, p []byte) error {
	if cap(g.out) < len(p) {
		g.out = make([]byte, len(p))
	}
	out := g.out[:len(p)]
	copy(out, p)
	f := ws.MaskFrameInPlace(ws.NewFrame(op, true, out))
	if err := ws.WriteFrame(g.bw, f); err != nil {
		return err
	}
	return g.bw.Flush()
}

func (g *gobwasConn) write(p []byte) error     { return g.writeFrame(ws.OpBinary, p) }
func (g *gobwasConn) writeText(p []byte) error { return g.writeFrame(ws.OpText, p) }

func (g *gobwasConn) read() ([]byte, error) {
	g.buf = g.buf[:0]
	for {
		h, err := ws.ReadHeader(g.br)
		if err != nil {
			return nil, err
		}
		if h.OpCode.IsControl() {
			p := g.ctl[:h.Length]
			if _, err := io.ReadFull(g.br, p); err != nil {
				return nil, err
			}
			switch h.OpCode {
			case ws.OpClose:
				return nil, errClosed
			case ws.OpPing:
				if err := g.writeFrame(ws.OpPong, p); err != nil {
					return nil, err
				}
			}
			continue
		}
		start := len(g.buf)
		end := start + int(h.Length)
		if cap(g.buf) < end {
			nb := make([]byte, start, end)
			copy(nb, g.buf)
			g.buf = nb
		}
		g.buf = g.buf[:end]
		if _, err := io.ReadFull(g.br, g.buf[start:]); err != nil {
			return nil, err
		}
		if h.Fin {
			return g.buf, nil
		}
	}
}

func (g *gobwasConn) recv(req []byte, n, size int) error { return recvLoop(g, req, n, size) }
func (g *gobwasConn) idle() <-chan struct{}              { return idleReader(g.read) }

func (g *gobwasConn) close() {
	if g.writeFrame(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, "")) == nil {
		_ = g.nc.SetReadDeadline(time.Now().Add(closeWait))
		for {
			if _, err := g.read(); err != nil {
				break
			}
		}
	}
	g.nc.Close()
}

func (g *gobwasConn) abort() { g.nc.Close() }

// ---- lxzan/gws ----

type gwsConn struct {
	sock     *gws.Conn
	in       *inbox
	loopDone chan struct{}
}

// gwsHandler is the gws.Event the client registers.
type gwsHandler struct{ in *inbox }

func (h *gwsHandler) OnOpen(*gws.Conn)               {}
func (h *gwsHandler) OnClose(_ *gws.Conn, err error) { h.in.fail(err) }
func (h *gwsHandler) OnPing(s *gws.Conn, p []byte)   { _ = s.WritePong(p) }
func (h *gwsHandler) OnPong(*gws.Conn, []byte)       {}
func (h *gwsHandler) OnMessage(_ *gws.Conn, m *gws.Message) {
	h.in.deliver(m.Bytes(), true)
	_ = m.Close()
}

func dialGws(ctx context.Context, a addrs, path string) (peerConn, error) {
	g, _, err := startGws(ctx, &gws.ClientOption{Addr: "ws://" + a.ws + path})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// startGws connects a gws client with opt (its handshake bounded by ctx's deadline) and
// starts its read loop; it returns the handshake response's header.
func startGws(ctx context.Context, opt *gws.ClientOption) (*gwsConn, http.Header, error) {
	in := newInbox()
	if d, ok := ctx.Deadline(); ok {
		opt.HandshakeTimeout = time.Until(d)
	}
	sock, resp, err := gws.NewClient(&gwsHandler{in: in}, opt)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, nil, err
	}
	g := &gwsConn{sock: sock, in: in, loopDone: make(chan struct{})}
	go func() {
		defer close(g.loopDone)
		sock.ReadLoop()
	}()
	return g, resp.Header, nil
}

func (g *gwsConn) write(p []byte) error { return g.sock.WriteMessage(gws.OpcodeBinary, p) }
func (g *gwsConn) writeText(p []byte) error {
	return g.sock.WriteMessage(gws.OpcodeText, p)
}
func (g *gwsConn) read() ([]byte, error) { return g.in.read() }

func (g *gwsConn) roundTrips(msg []byte, lat []time.Duration, warm int) error {
	return g.in.roundTrips(msg, lat, warm, g.write)
}

func (g *gwsConn) recv(req []byte, n, size int) error {
	return g.in.count(n, size, func() error { return g.writeText(req) })
}

func (g *gwsConn) idle() <-chan struct{} { return g.loopDone }

func (g *gwsConn) close() {
	_ = g.sock.WriteClose(1000, nil)
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case <-g.loopDone:
	case <-t.C:
		g.abort()
		<-g.loopDone
	}
}

func (g *gwsConn) abort() {
	g.in.fail(errClosed)
	_ = g.sock.NetConn().Close()
}

// ---- raw TCP floor ----

type rawConn struct {
	nc   net.Conn
	br   *bufio.Reader
	mode byte
	hdr  [4]byte
	vec  [2][]byte
	bufs net.Buffers
	buf  []byte
}

// rawReadBuf is the raw client's read buffer: 4 KiB, the default read buffer of ours, gorilla
// and gobwas, so that raw TCP differs from them only by the framing.
const rawReadBuf = 4 << 10

var rawModes = map[string]byte{"/echo": modeEcho, "/sink": modeSink, "/source": modeSource, "/idle": modeIdle}

func dialRaw(ctx context.Context, a addrs, path string) (peerConn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", a.tcp)
	if err != nil {
		return nil, err
	}
	mode := rawModes[path]
	if _, err := nc.Write([]byte{mode}); err != nil {
		nc.Close()
		return nil, err
	}
	size := rawReadBuf
	if mode == modeIdle {
		size = idleBuf // the floor of memory per connection, as on the server
	}
	return &rawConn{nc: nc, br: bufio.NewReaderSize(nc, size), mode: mode}, nil
}

// write sends the length and the bytes with one writev.
func (r *rawConn) write(p []byte) error {
	binary.BigEndian.PutUint32(r.hdr[:], uint32(len(p)))
	r.vec[0], r.vec[1] = r.hdr[:], p
	r.bufs = r.vec[:]
	_, err := r.bufs.WriteTo(r.nc)
	r.vec[1] = nil
	return err
}

// writeText is write, except that the sink's "done" becomes the rawDone marker.
func (r *rawConn) writeText(p []byte) error {
	if r.mode == modeSink && string(p) == "done" {
		binary.BigEndian.PutUint32(r.hdr[:], rawDone)
		_, err := r.nc.Write(r.hdr[:])
		return err
	}
	return r.write(p)
}

func (r *rawConn) read() ([]byte, error) {
	if _, err := io.ReadFull(r.br, r.hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(r.hdr[:]))
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	// What the buffer holds is copied; the rest is read straight into the message, in as few
	// reads as the kernel allows (the floor: no copy through a buffer for large messages).
	k, _ := io.ReadFull(r.br, r.buf[:min(n, r.br.Buffered())])
	_, err := io.ReadFull(r.nc, r.buf[k:])
	return r.buf, err
}

func (r *rawConn) recv(req []byte, n, size int) error { return recvLoop(r, req, n, size) }
func (r *rawConn) idle() <-chan struct{}              { return idleReader(r.read) }
func (r *rawConn) close()                             { r.nc.Close() }
func (r *rawConn) abort()                             { r.nc.Close() }
