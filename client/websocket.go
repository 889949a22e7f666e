package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/internal/serial"
)

// maxPendingMessages bounds the MESSAGE events waiting for delivery. When callbacks fall
// behind, the connection stops reading, and TCP flow control slows the server.
const maxPendingMessages = 64

type connState uint8

const (
	stateIdle       connState = iota // no connection: before Connect, or after CLOSE
	stateConnecting                  // Connect accepted, handshake not finished
	stateOpen                        // OPEN delivered (or about to be)
	stateClosing                     // Close called, or the connection is ending
)

// WebSocket is the seed's WebSocket: one client connection at a time, driven by methods that
// return at once and report through callbacks and events.
//
// All methods are safe for concurrent use and may be called from inside callbacks. Callbacks
// run one at a time, in order, never concurrently with each other (see the package
// documentation). After the CLOSE event the WebSocket may Connect again. The zero value is
// ready to use; CreateWebSocket returns a new one.
type WebSocket struct {
	mu    sync.Mutex
	state connState
	sess  *session // the current connection; nil in stateIdle
	reg   registry
	q     serialQueue
	dial  dialFunc // nil: dialEngine; tests set a fake
}

// CreateWebSocket returns a new WebSocket (seed createWebSocket).
func CreateWebSocket() *WebSocket { return &WebSocket{} }

// outItem is a message sent before OPEN, waiting for the connection.
type outItem struct {
	text bool
	data []byte
	cb   *WebSocketAsyncCallback[bool]
}

var outArrays serial.FreeList[outItem]

// session is one connection attempt, from Connect to CLOSE.
type session struct {
	cancelDial context.CancelFunc // ends the dial (Close while connecting); nil once it ended
	ds         dialState          // lent to the dial: the transport's memory, the abort slot
	borrow     bool               // WebSocketRequestOptions.BorrowMessages
	closers    sync.WaitGroup     // the closing goroutine, while it runs
	pending    sync.WaitGroup     // messages handed to the connection's queue whose done has not run
	maxBytes   int64              // the send queue's caps, resolved
	maxMsgs    int
	lost       atomic.Pointer[error] // the first write error, set by the queue's done functions
	done       func(error)           // the done function of messages sent without a callback

	// Guarded by WebSocket.mu.
	t           transport            // the open connection; nil until the dial succeeded
	out         serial.Ring[outItem] // messages sent before OPEN, in order
	outBytes    int64                // their payload bytes
	dead        bool                 // the connection ended: nothing more is queued
	closeReq    bool                 // Close was called
	closeCB     *WebSocketAsyncCallback[bool]
	closeCode   uint32
	closeReason string
	inClose     bool        // the closing goroutine runs or ran
	closeDone   bool        // the closing goroutine carried out the close
	closeErr    error       // its result
	result      CloseResult // CLOSE's data, set by finish
}

// queueCaps resolves the send queue caps of o: 0 means the default, negative no cap.
func queueCaps(o *WebSocketRequestOptions) (int64, int) {
	b, n := o.SendQueueBytes, o.SendQueueMessages
	switch {
	case b == 0:
		b = DefaultSendQueueBytes
	case b < 0:
		b = 1<<63 - 1
	}
	switch {
	case n == 0:
		n = DefaultSendQueueMessages
	case n < 0:
		n = int(^uint(0) >> 1)
	}
	return b, n
}

// doneFunc returns the done function of a message given to the connection's queue: it
// reports the result to cb (nil: no report) and records the first write error.
func (ws *WebSocket) doneFunc(s *session, cb *WebSocketAsyncCallback[bool]) func(error) {
	if cb == nil {
		if s.done == nil { // made on first use: a connection that never queues needs none
			s.done = func(err error) { ws.written(s, nil, err) }
		}
		return s.done
	}
	return func(err error) { ws.written(s, cb, err) }
}

// written is the end of a queued message: it reports err (nil: written) to cb, when not nil.
func (ws *WebSocket) written(s *session, cb *WebSocketAsyncCallback[bool], err error) {
	if err == nil {
		if cb != nil {
			ws.sent(cb)
		}
		s.pending.Done()
		return
	}
	if errors.Is(err, conn.ErrClosed) {
		err = fmt.Errorf("%w: %w", ErrConnectionClosed, err)
	} else {
		lost := err                       // apart from err, so that a nil err does not escape
		s.lost.CompareAndSwap(nil, &lost) // a write failed: the connection is lost
	}
	if cb != nil {
		ws.q.pushResult(cb, newAsync(CodeOtherError, err))
	}
	s.pending.Done()
}

// enqueue hands a message to the open connection's queue. ws.mu is held.
func (ws *WebSocket) enqueue(s *session, text bool, p []byte, fixed bool, cb *WebSocketAsyncCallback[bool]) error {
	s.pending.Add(1)
	written, err := s.t.enqueue(text, p, fixed, ws.doneFunc(s, cb))
	if written {
		s.pending.Done()
		if cb != nil {
			ws.q.pushResult(cb, nil) // never run here: the caller of Send may hold its own locks
		}
		return nil
	}
	if err == nil {
		return nil
	}
	s.pending.Done()
	if errors.Is(err, conn.ErrClosed) {
		return newAsync(CodeOtherError, fmt.Errorf("%w: %w", ErrConnectionClosed, err))
	}
	return newAsync(CodeOtherError, err)
}

// reject reports a refused call to cb (asynchronously, like every callback) and returns the
// same error.
func (ws *WebSocket) reject(cb *WebSocketAsyncCallback[bool], err error) error {
	ae := asAsync(err)
	if cb != nil {
		ws.q.pushResult(cb, ae)
	}
	return ae
}

// lockSession locks ws.mu when there is a session that accepts sends and closes (connecting
// or open) and returns nil; otherwise it leaves ws.mu unlocked and returns why (2302999).
func (ws *WebSocket) lockSession() error {
	ws.mu.Lock()
	switch ws.state {
	case stateIdle:
		ws.mu.Unlock()
		return newAsync(CodeOtherError, ErrNotConnected)
	case stateClosing:
		ws.mu.Unlock()
		return newAsync(CodeOtherError, ErrClosing)
	}
	return nil
}

// Connect opens a connection to url, a ws:// or wss:// URL, with opts (nil means
// NewWebSocketRequestOptions) (seed connect). It returns at once. cb, which may be nil, is
// called with true when the attempt started, or with the error that Connect also returns:
// 2302001 for a bad URL or one longer than MaxURLLength (2048 bytes), 401 for a bad option,
// 2302002 for a missing certificate or CA file, 2302003 when a connection is being opened or
// is open.
//
// Success is the OPEN event, after HEADERRECEIVE. A failed attempt reports ERROR (2302999
// with the cause: DNS, TCP, TLS, proxy, or the handshake, with the HTTP status of a non-101
// response), then CLOSE with 1006.
func (ws *WebSocket) Connect(url string, opts *WebSocketRequestOptions, cb *WebSocketAsyncCallback[bool]) error {
	u, err := parseURL(url)
	if err != nil {
		return ws.reject(cb, err)
	}
	o, protocols, err := resolveRequest(opts)
	if err != nil {
		return ws.reject(cb, err)
	}
	ws.mu.Lock()
	if ws.state != stateIdle {
		ws.mu.Unlock()
		return ws.reject(cb, newAsync(CodeConnectionExists, ErrAlreadyConnected))
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{cancelDial: cancel, borrow: o.BorrowMessages}
	s.maxBytes, s.maxMsgs = queueCaps(o)
	ws.state = stateConnecting
	ws.sess = s
	if cb != nil {
		ws.q.pushResult(cb, nil)
	}
	ws.mu.Unlock()
	// What only the dial needs goes to run as arguments: an open session does not keep it.
	go ws.run(ctx, s, u, o, protocols)
	return nil
}

// Send sends a message: StringData as a text message, ArrayData as a binary one (seed send).
// It never blocks: when nothing is queued and the socket takes the frame at once, Send writes
// it itself; otherwise the message is queued and written in order by a goroutine of the
// connection (which exists only while messages wait). The caller may reuse an ArrayData's
// slice as soon as Send returns: a message written at once is sent from it, with no copy, and
// one that waits (in the queue, or before OPEN) is copied first, into a buffer from a pool
// that goes back once the message is written (a StringData is never copied: a string never
// changes). The copy is masked on the way (conn.Conn.EnqueueCopy), so it is the only pass
// over the message before the socket; a message over 64 KiB is copied so and, when nothing
// is queued, written at once as far as the socket takes it. Messages sent between Connect and
// OPEN are queued and sent in order once the connection opens.
//
// Each callback is a hand-off to the goroutine that runs callbacks. A streaming sender needs
// one only where it may have to wait: a callback reports the messages sent before it too (they
// are written in order), so one per batch (say per 64 KiB sent) paces as well as one per
// message. Measured on 2 cores, 64-byte messages with a callback every 16th sent at 0.6x the
// rate of the blocking API, with one per 64 KiB at 1.0x (BenchmarkFacade, op=send).
//
// The queue is bounded: WebSocketRequestOptions.SendQueueBytes and SendQueueMessages (default
// 16 MiB and 4096 messages) cap the bytes and messages sent and not yet written, those queued
// before OPEN included. A Send past either cap fails at once with code 2302999 and an error
// wrapping ErrQueueFull that gives the numbers; nothing queued is dropped. BufferedAmount
// tells how much is queued: a sender that waits while it is high (or for its callbacks)
// never meets the cap, and sends only as fast as the server reads.
//
// cb, which may be nil, is called with true once the message was written, or with an error:
// 401 for nil data or text that is not UTF-8, 2302999 before Connect, after Close or after
// the connection ended (ErrNotConnected, ErrClosing, ErrConnectionClosed), past the queue's
// cap (ErrQueueFull) or when the write failed. Send returns the errors known at once.
func (ws *WebSocket) Send(data MessageData, cb *WebSocketAsyncCallback[bool]) error {
	text, p, fixed, err := checkMessage(data)
	if err != nil {
		return ws.reject(cb, err)
	}
	if err := ws.lockSession(); err != nil {
		return ws.reject(cb, err)
	}
	s := ws.sess
	switch {
	case s.dead:
		err = newAsync(CodeOtherError, ErrConnectionClosed)
	case s.t != nil:
		err = ws.enqueue(s, text, p, fixed, cb)
	case s.out.Len() > 0 && (s.out.Len()+1 > s.maxMsgs || s.outBytes+int64(len(p)) > s.maxBytes):
		err = newAsync(CodeOtherError, fmt.Errorf("%w: %d messages and %d bytes queued before OPEN, the cap is %d messages and %d bytes",
			ErrQueueFull, s.out.Len(), s.outBytes, s.maxMsgs, s.maxBytes))
	default:
		if !fixed {
			p = append([]byte(nil), p...) // kept past the call: the caller may reuse its slice
		}
		s.out.Push(outItem{text: text, data: p, cb: cb}, &outArrays)
		s.outBytes += int64(len(p))
	}
	ws.mu.Unlock()
	if err != nil {
		return ws.reject(cb, err)
	}
	return nil
}

// BufferedAmount returns what Send queued and was not written yet, in payload bytes and in
// messages (the browser's bufferedAmount, with a count of messages beside it); the message
// being written counts until it is out. It is 0, 0 with no connection.
func (ws *WebSocket) BufferedAmount() (bytes int64, messages int) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	s := ws.sess
	switch {
	case s == nil:
		return 0, 0
	case s.t == nil:
		return s.outBytes, s.out.Len()
	}
	b, n := s.t.buffered()
	return b + s.outBytes, n + s.out.Len()
}

// Close starts the closing handshake with the code and reason of opts (nil means code 1000,
// no reason) (seed close). Messages sent before it are written first, in order, for as long
// as the server keeps reading them: Close gives up only when no queued message was written
// for conn.DefaultCloseTimeout (5 s), a stall (a server that reads nothing). It then cuts the
// connection: ERROR with ErrCloseWriteTimeout, the failures of the messages not written, then
// CLOSE 1006. It returns at once; the CLOSE event reports the end with the server's reply.
// Close while the connection is still being opened abandons the attempt (CLOSE 1006, no ERROR).
//
// cb, which may be nil, is called before CLOSE with true when the close was carried out, or
// with an error: 401 for a code RFC 6455 §7.4 does not allow on the wire or a reason over 123
// bytes (ErrCloseCode, ErrCloseReason), 2302999 before Connect or when close already started
// (ErrNotConnected, ErrClosing) or when the connection ended first.
func (ws *WebSocket) Close(cb *WebSocketAsyncCallback[bool], opts *WebSocketCloseOptions) error {
	code, reason, err := resolveClose(opts)
	if err != nil {
		return ws.reject(cb, err)
	}
	if err := ws.lockSession(); err != nil {
		return ws.reject(cb, err)
	}
	s := ws.sess
	var cancelDial context.CancelFunc
	if ws.state == stateConnecting {
		cancelDial = s.cancelDial
	}
	ws.state = stateClosing
	s.closeReq = true
	s.closeCB = cb
	s.closeCode, s.closeReason = code, reason
	ws.startClose(s)
	ws.mu.Unlock()
	if cancelDial != nil {
		cancelDial()
		s.ds.abort.abandon()
	}
	return nil
}

// startClose starts the closing goroutine when Close was called and the connection is open.
// ws.mu is held.
func (ws *WebSocket) startClose(s *session) {
	if !s.closeReq || s.inClose || s.t == nil || s.dead {
		return
	}
	s.inClose = true
	s.closers.Add(1)
	go ws.closeSession(s, s.t, s.closeCode, s.closeReason)
}

// closeSession carries out Close: the connection writes what is queued (bounded by a stall),
// then performs the closing handshake. The reader then sees the end.
func (ws *WebSocket) closeSession(s *session, t transport, code uint32, reason string) {
	defer s.closers.Done()
	err := t.close(code, reason)
	ws.mu.Lock()
	s.closeDone = true
	s.closeErr = err
	ws.mu.Unlock()
}

// On registers cb for events of type t (seed on). cb must be made by the constructor that fits
// the event (see the package documentation); otherwise On returns a *BusinessException with
// code 401 (ErrCallbackType). Registering the same callback twice has no further effect.
func (ws *WebSocket) On(t OnOffType, cb Callback) error {
	if !t.valid() {
		return newBusiness(CodeParameterError, ErrUnknownEvent)
	}
	if cb == nil {
		return newBusiness(CodeParameterError, ErrNilArgument)
	}
	if !fits(t, cb) {
		return newBusiness(CodeParameterError, ErrCallbackType)
	}
	ws.mu.Lock()
	ws.reg.add(t, cb)
	ws.mu.Unlock()
	return nil
}

// Off unregisters callbacks of events of type t (seed off): the given ones, or all of them
// when none is given. A callback that is not registered is ignored; one whose type does not
// fit the event is a 401 *BusinessException. A callback removed while an event is being
// delivered is not called for it any more.
func (ws *WebSocket) Off(t OnOffType, cbs ...Callback) error {
	if !t.valid() {
		return newBusiness(CodeParameterError, ErrUnknownEvent)
	}
	for _, cb := range cbs {
		if cb == nil || !fits(t, cb) {
			return newBusiness(CodeParameterError, ErrCallbackType)
		}
	}
	ws.mu.Lock()
	if len(cbs) == 0 {
		ws.reg.clear(t)
	}
	for _, cb := range cbs {
		ws.reg.remove(t, cb)
	}
	ws.mu.Unlock()
	return nil
}

// emit calls call for every callback registered for t, skipping those removed meanwhile.
// It runs on the dispatch goroutine, with no lock held: the list is a copy-on-write snapshot
// read with an atomic load, and each callback after the first is checked against the current
// list (an atomic load, and a search only when On or Off replaced the list meanwhile).
func (ws *WebSocket) emit(t OnOffType, call func(Callback)) { ws.reg.each(t, call) }

// emitOpened delivers HEADERRECEIVE, OPEN, then openInfo, in one task. Each event's data is
// made only when a callback is registered for it (a map is two allocations), and info is let
// go after.
func (ws *WebSocket) emitOpened(info *handshakeInfo) {
	if len(ws.reg.list(EventHeaderReceive)) > 0 {
		h := info.responseHeaders()
		ws.emit(EventHeaderReceive, func(cb Callback) { cb.(*HeaderReceiveCallback).f(h) })
	}
	if len(ws.reg.list(EventOpen)) > 0 {
		status := map[uint32]string{uint32(info.statusCode): info.statusText}
		ws.emit(EventOpen, func(cb Callback) {
			cb.(*WebSocketAsyncCallback[map[uint32]string]).invoke(nil, status)
		})
	}
	if len(ws.reg.list(EventOpenInfo)) > 0 {
		oi := WebSocketOpenInfo{Status: uint32(info.statusCode), Message: info.statusText, Protocol: info.protocol}
		ws.emit(EventOpenInfo, func(cb Callback) {
			if f := cb.(*OpenInfoCallback).f; f != nil {
				f(oi)
			}
		})
	}
	info.fields = nil // an open connection keeps no header lines
}

// emitMessage delivers MESSAGE, then DATAEND, like emit but written out: it is the
// per-message path, and serial.List.Each (not inlined) with a function literal cost about 10%
// of a 64-byte message in BenchmarkFacade/op=recv-borrow.
func (ws *WebSocket) emitMessage(m MessageData) {
	l := &ws.reg[EventMessage]
	list := l.Load()
	for i, cb := range list {
		if i == 0 || l.Still(list, cb) {
			cb.(*WebSocketAsyncCallback[MessageData]).invoke(nil, m)
		}
	}
	l = &ws.reg[EventDataEnd]
	list = l.Load()
	for i, cb := range list {
		if i == 0 || l.Still(list, cb) {
			cb.(*DataEndCallback).f()
		}
	}
}

func (ws *WebSocket) emitError(e *BusinessException) {
	ws.emit(EventError, func(cb Callback) { cb.(*WebSocketErrorCallback).f(e) })
}

func (ws *WebSocket) emitClose(r CloseResult) {
	ws.emit(EventClose, func(cb Callback) { cb.(*WebSocketAsyncCallback[CloseResult]).invoke(nil, r) })
}

// run drives one session: dial, events, reading; the writer runs beside it.
func (ws *WebSocket) run(ctx context.Context, s *session, u *url.URL, opts *WebSocketRequestOptions, protocols []string) {
	dial := ws.dial
	if dial == nil {
		dial = dialEngine
	}
	t, info, err := dial(ctx, u, opts, protocols, &s.ds)
	cancelled := ctx.Err() != nil
	s.cancelDial() // only this goroutine changes it, and only below
	ws.mu.Lock()
	s.cancelDial = nil
	ws.mu.Unlock()
	if err != nil {
		ws.mu.Lock()
		if s.closeReq && cancelled {
			ws.finish(s, nil, CloseResult{Code: 1006, Reason: "connection attempt abandoned by Close"})
		} else {
			code := CodeOf(err)
			if code == 0 {
				code = CodeOtherError
			}
			ws.finish(s, newBusiness(code, err), CloseResult{Code: 1006, Reason: "connect failed: " + err.Error()})
		}
		ws.mu.Unlock()
		return
	}

	ws.mu.Lock()
	if ws.state == stateConnecting {
		ws.state = stateOpen
	}
	ws.q.pushTask(task{ws: ws, open: info})
	s.t = t
	// The messages sent before OPEN go to the connection's queue, in order; they fit, as they
	// counted against the same caps.
	for s.out.Len() > 0 {
		it := s.out.Pop(&outArrays)
		s.outBytes -= int64(len(it.data))
		if err := ws.enqueue(s, it.text, it.data, true, it.cb); err != nil && it.cb != nil {
			ws.q.pushResult(it.cb, asAsync(err))
		}
	}
	ws.startClose(s)
	ws.mu.Unlock()
	// The reader is a goroutine of its own, started with a small stack, rather than this
	// one, whose stack the dial has grown.
	go ws.readLoop(s, t)
}

// readLoop reads the session's messages and delivers them until the connection ends. It is
// the one goroutine an idle connection has, and keeps a short call chain while it waits.
//
// Messages are delivered on this goroutine whenever no other callback is pending. The reader
// then keeps the callback queue while the next message is already buffered (one socket read
// often brings many): it runs the callbacks pushed meanwhile first, in order, then the next
// message's, and lets the queue go before a read that would wait for the network. A run of
// buffered messages so costs one queue hand-over, not one per message.
func (ws *WebSocket) readLoop(s *session, t transport) {
	if s.borrow {
		ws.readBorrowed(s, t)
		return
	}
	var sem chan struct{} // bounds the messages queued behind other callbacks
	owned := false        // this goroutine holds the callback queue (serial.Queue.TryRun)
	for {
		var m MessageData
		var err error
		ok := false
		if owned {
			if m, ok, err = t.tryReadMessage(); !ok {
				ws.q.drain() // the next read may wait for the network
				owned = false
			}
		}
		if !ok {
			m, err = t.readMessage(context.Background())
		}
		if err != nil {
			if owned {
				ws.q.drain()
			}
			ws.endSession(s, t, err)
			return
		}
		owned = ws.deliver(m, &sem, owned)
	}
}

// readBorrowed is readLoop in the borrowing mode (WebSocketRequestOptions.BorrowMessages):
// every message is read into one buffer, reused, and delivered as the one *BorrowedData of
// the session, on this goroutine, with no allocation. The view must not outlive the
// callbacks, so delivery is always inline: when other callbacks are pending, the reader waits
// for them (backpressure: it reads nothing meanwhile, and TCP flow control slows the server)
// rather than queue a view that the next read would overwrite.
//
// Like readLoop, it keeps the callback queue across messages that are buffered already.
func (ws *WebSocket) readBorrowed(s *session, t transport) {
	var buf []byte
	m := new(BorrowedData)
	br := bufferReaderOf(t)
	owned := false
	for {
		var text bool
		var p []byte
		var err error
		ok := false
		if owned {
			if text, p, ok, err = br.tryReadInto(buf); !ok {
				ws.q.drain() // the next read may wait for the network
				owned = false
			}
		}
		if !ok {
			text, p, err = br.readInto(context.Background(), buf)
		}
		if err != nil {
			if owned {
				ws.q.drain()
			}
			ws.endSession(s, t, err)
			return
		}
		buf = p[:0]
		if owned {
			ws.q.RunPending()
		} else {
			for !ws.q.runInline() {
				<-ws.q.wait()
			}
			owned = true
		}
		m.Text, m.Data = text, p
		ws.emitMessage(m)
		m.Data = nil // a *BorrowedData kept by a callback shows no stale bytes
	}
}

// deliver emits MESSAGE and DATAEND for m: at once, on the reading goroutine, when it holds
// the callback queue (owned: after the callbacks pushed meanwhile) or can take it (no other
// callback pending: no task to allocate, no goroutine to start), and otherwise queued behind
// the pending ones, with at most maxPendingMessages messages waiting; when callbacks fall
// behind, reading stops, and TCP flow control slows the server. It returns whether the
// reading goroutine holds the queue now.
//
//go:noinline
func (ws *WebSocket) deliver(m MessageData, sem *chan struct{}, owned bool) bool {
	if owned {
		ws.q.RunPending()
		ws.emitMessage(m)
		return true
	}
	if ws.q.runInline() {
		ws.emitMessage(m)
		return true
	}
	if *sem == nil {
		*sem = make(chan struct{}, maxPendingMessages)
	}
	pending := *sem
	pending <- struct{}{}
	ws.q.pushTask(task{ws: ws, msg: m, sem: pending})
	return false
}

// endSession ends the session after the reader's error rerr: it stops the connection, waits
// for the results of the queued messages and the close, and reports the end.
func (ws *WebSocket) endSession(s *session, t transport, rerr error) {
	ws.mu.Lock()
	inClose := s.inClose
	s.dead = true // no more messages for the connection's queue
	ws.mu.Unlock()
	if inClose && errorAs[*closedError](rerr) != nil {
		// The server's close crossed ours (RFC 6455 §7.1.2): the closing goroutine is sending
		// our close frame, and the transport's close returns once it is out, the server's
		// being in. Closing the connection first would cut it.
		s.closers.Wait()
	}
	_ = t.closeNow()
	s.closers.Wait()
	s.pending.Wait() // the queue fails what it could not write, at once, once closed

	ws.mu.Lock()
	ce, fe := errorAs[*closedError](rerr), errorAs[*failedError](rerr)
	switch {
	case ce != nil:
		ws.finish(s, nil, CloseResult{Code: ce.code, Reason: ce.reason})
	case s.lost.Load() != nil && !errors.Is(rerr, ErrPongTimeout): // a write failed first: that is the cause
		// (unless keepalive gave up on the connection, which failed the write)
		lost := *s.lost.Load()
		ws.finish(s, newBusiness(CodeOtherError, lost), CloseResult{Code: 1006, Reason: "connection lost: " + lost.Error()})
	case fe != nil:
		ws.finish(s, newBusiness(CodeOtherError, fe.err), CloseResult{Code: fe.code, Reason: fe.reason})
	default:
		ws.finish(s, newBusiness(CodeOtherError, rerr), CloseResult{Code: 1006, Reason: "connection lost: " + rerr.Error()})
	}
	ws.mu.Unlock()
}

// errorAs is errors.As for the facade's own error types, without its cost: errors.As makes
// its target escape (an allocation per call, so per connection here). It follows Unwrap
// chains, not joined errors, which the transport never returns.
func errorAs[E error](err error) E {
	var zero E
	for err != nil {
		if e, ok := err.(E); ok {
			return e
		}
		err = errors.Unwrap(err)
	}
	return zero
}

// finish ends session s: the WebSocket goes back to idle and the last callbacks are queued:
// ERROR (when e is not nil), the failures of unsent messages, the Close callback, then CLOSE.
// ws.mu must be held, so that no callback of a later session can be queued before them.
func (ws *WebSocket) finish(s *session, e *BusinessException, r CloseResult) {
	s.dead = true
	ws.state = stateIdle
	ws.sess = nil
	if e != nil {
		ws.q.push(func() { ws.emitError(e) })
	}
	for s.out.Len() > 0 {
		if it := s.out.Pop(&outArrays); it.cb != nil {
			ws.q.pushResult(it.cb, newAsync(CodeOtherError, ErrConnectionClosed))
		}
	}
	s.outBytes = 0
	if s.closeReq && s.closeCB != nil {
		cb := s.closeCB
		var ae *AsyncError
		switch {
		case s.closeDone && s.closeErr != nil && e != nil:
			ae = newAsync(CodeOtherError, s.closeErr)
		case !s.closeDone && e != nil:
			ae = newAsync(CodeOtherError, ErrConnectionClosed)
		}
		ws.q.pushResult(cb, ae)
	}
	s.result = r
	ws.q.pushTask(task{ws: ws, closed: &s.result})
}

// sent reports a written message to its callback: at once, on the writing goroutine, when no
// other callback is pending or running (no goroutine to start for the queue), and otherwise
// queued behind the pending ones.
func (ws *WebSocket) sent(cb *WebSocketAsyncCallback[bool]) {
	if ws.q.runInline() {
		cb.invoke(nil, true)
		ws.q.drain()
		return
	}
	ws.q.pushResult(cb, nil)
}
