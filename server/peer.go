package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
)

// maxPendingMessages bounds the messageReceive events of one connection waiting for delivery.
// When callbacks fall behind, the connection stops reading, and TCP flow control slows the
// client.
const maxPendingMessages = 64

// peer is one open client connection.
type peer struct {
	s  *WebSocketServer
	r  *running
	id WebSocketConnection
	c  *conn.Conn
	q  serialQueue

	done    func(error)           // the done function of messages sent without a callback
	pending sync.WaitGroup        // messages given to the send queue whose done has not run
	closers sync.WaitGroup        // the closing goroutine, while it runs
	lost    atomic.Pointer[error] // the first write error

	mu        sync.Mutex
	dead      bool // the reader saw the end: nothing more is queued
	closeReq  bool // Close or Stop started the close
	closeCB   *WebSocketAsyncCallback[bool]
	closeDone bool  // the closing goroutine returned
	closeErr  error // its result

	// The last block alloc made (see blockHeader), on the reading goroutine only.
	block unsafe.Pointer
	// borrowed is the one *BorrowedData of the borrowing mode, reused for every message.
	borrowed BorrowedData
}

// checkMessage validates data and returns its type and payload, with no copy; errors are
// 401. fixed says the payload never changes (a StringData: a string never changes, and the
// server role does not mask what it sends); an ArrayData or a *BorrowedData is the caller's
// slice, or the connection's read buffer, which Send hands to conn.Conn.EnqueueCopy, which
// copies it only when it queues it.
func checkMessage(data MessageData) (typ conn.MessageType, p []byte, fixed bool, ae *AsyncError) {
	switch d := data.(type) {
	case StringData:
		if !utf8.ValidString(string(d)) {
			return 0, nil, false, newAsync(CodeParameterError, ErrTextNotUTF8)
		}
		return conn.Text, unsafe.Slice(unsafe.StringData(string(d)), len(d)), true, nil
	case ArrayData:
		return conn.Binary, d, false, nil
	case *BorrowedData:
		if d == nil {
			break
		}
		if d.Text {
			if !utf8.Valid(d.Data) {
				return 0, nil, false, newAsync(CodeParameterError, ErrTextNotUTF8)
			}
			return conn.Text, d.Data, false, nil
		}
		return conn.Binary, d.Data, false, nil
	}
	return 0, nil, false, newAsync(CodeParameterError, fmt.Errorf("%w: message data", ErrNilArgument))
}

// Send sends data to the client of connection c: StringData as a text message, ArrayData as a
// binary one, a *BorrowedData as the type it says (platform send). It never blocks: when nothing is queued and the socket takes the
// frame at once, Send writes it itself; otherwise the message joins the connection's bounded
// send queue (conn.Conn.Enqueue), written in order by a goroutine that exists only while
// messages wait. BufferedAmount tells how much is queued.
//
// cb, which may be nil, is called on the connection's queue (in order with its events) with
// true once the message was written, or with an error: 401 for nil data or text that is not
// UTF-8, 2302006 when c is not a connection of the server (never was, or its close event
// came), 2302999 when its close started (ErrClosing), past the send queue's cap
// (ErrQueueFull), or when the write failed. Send returns the errors known at once.
func (s *WebSocketServer) Send(data MessageData, c WebSocketConnection, cb *WebSocketAsyncCallback[bool]) error {
	typ, b, fixed, ae := checkMessage(data)
	if ae != nil {
		return s.reject(cb, ae)
	}
	p, ae := s.lookup(c)
	if ae != nil {
		return s.reject(cb, ae)
	}
	p.mu.Lock()
	if p.dead || p.closeReq {
		p.mu.Unlock()
		return p.reject(cb, newAsync(CodeOtherError, ErrClosing))
	}
	p.pending.Add(1)
	done := p.done
	if cb != nil {
		done = func(err error) { p.written(cb, err) }
	}
	var written bool
	var err error
	if fixed {
		written, err = p.c.Enqueue(typ, b, done)
	} else {
		// The caller may reuse an ArrayData at once, and a *BorrowedData's buffer is read into
		// again once its callback returns: written at once, the frame went out from b; queued,
		// it is a copy.
		written, err = p.c.EnqueueCopy(typ, b, done)
	}
	p.mu.Unlock()
	switch {
	case written:
		p.pending.Done()
		p.q.pushResult(cb, nil) // never run here: the caller of Send may hold its own locks
		return nil
	case err == nil:
		return nil
	}
	p.pending.Done()
	if errors.Is(err, conn.ErrClosed) {
		err = fmt.Errorf("%w: %w", ErrClosing, err)
	}
	return p.reject(cb, newAsync(CodeOtherError, err))
}

// reject reports a refused call about the connection to cb, in order with its events, and
// returns the same error.
func (p *peer) reject(cb *WebSocketAsyncCallback[bool], err *AsyncError) error {
	p.q.pushResult(cb, err)
	return err
}

// written is the end of a queued message: it reports err (nil: written) to cb, when not nil.
func (p *peer) written(cb *WebSocketAsyncCallback[bool], err error) {
	switch {
	case err == nil:
		if cb != nil {
			if p.q.TryRun() {
				cb.invoke(nil, true)
				p.q.Drain()
			} else {
				p.q.pushResult(cb, nil)
			}
		}
	case errors.Is(err, conn.ErrClosed):
		p.q.pushResult(cb, newAsync(CodeOtherError, fmt.Errorf("%w: %w", ErrConnectionClosed, err)))
	default:
		lost := err
		p.lost.CompareAndSwap(nil, &lost)
		p.q.pushResult(cb, newAsync(CodeOtherError, err))
	}
	p.pending.Done()
}

// BufferedAmount returns what Send queued for connection c and was not written yet, in
// payload bytes and in messages (the browser's bufferedAmount, with a count of messages
// beside it). Not in the platform. It returns a 2302006 error for a connection the server
// does not have.
func (s *WebSocketServer) BufferedAmount(c WebSocketConnection) (bytes int64, messages int, err error) {
	p, ae := s.lookup(c)
	if ae != nil {
		return 0, 0, ae
	}
	bytes, messages = p.c.Buffered()
	return bytes, messages, nil
}

// Close starts the closing handshake of connection c with the code and reason of opts (nil
// means 1000, no reason) (platform close). Messages sent before it are written first, for as
// long as the client keeps reading them (a stall of CloseTimeout cuts the connection). It
// returns at once; the close event reports the end, with the client's reply.
//
// cb, which may be nil, is called before the close event with true when the close was carried
// out, or with an error: 401 for a code RFC 6455 §7.4 does not allow on the wire or a reason
// over 123 bytes, 2302006 when c is not a connection of the server, 2302999 when its close
// already started (ErrClosing) or when the connection ended first.
func (s *WebSocketServer) Close(c WebSocketConnection, opts *WebSocketCloseOptions, cb *WebSocketAsyncCallback[bool]) error {
	code, reason, ae := resolveClose(opts)
	if ae != nil {
		return s.reject(cb, ae)
	}
	p, ae := s.lookup(c)
	if ae != nil {
		return s.reject(cb, ae)
	}
	if !p.startClose(code, reason, cb) {
		return p.reject(cb, newAsync(CodeOtherError, ErrClosing))
	}
	return nil
}

// resolveClose applies the defaults of WebSocketCloseOptions and checks them; errors are 401.
func resolveClose(o *WebSocketCloseOptions) (uint32, string, *AsyncError) {
	if o == nil {
		return 1000, "", nil
	}
	code := o.Code
	if code == 0 {
		code = 1000
	}
	if code > 0xFFFF || !frame.CloseCode(code).ValidOnWire() {
		return 0, "", newAsync(CodeParameterError, fmt.Errorf("%w: %d", ErrCloseCode, code))
	}
	if len(o.Reason) > frame.MaxCloseReason || !utf8.ValidString(o.Reason) {
		return 0, "", newAsync(CodeParameterError, fmt.Errorf("%w: %d bytes", ErrCloseReason, len(o.Reason)))
	}
	return code, o.Reason, nil
}

// startClose starts the closing goroutine, unless the close started already or the
// connection ended; it reports whether it did.
func (p *peer) startClose(code uint32, reason string, cb *WebSocketAsyncCallback[bool]) bool {
	p.mu.Lock()
	if p.dead || p.closeReq {
		p.mu.Unlock()
		return false
	}
	p.closeReq = true
	p.closeCB = cb
	p.closers.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.closers.Done()
		err := p.c.Close(frame.CloseCode(code), reason)
		p.mu.Lock()
		p.closeDone, p.closeErr = true, err
		p.mu.Unlock()
	}()
	return true
}

// readLoop reads the connection's messages and delivers them until the connection ends. It is
// the one goroutine an idle connection has.
//
// Messages are delivered on this goroutine whenever no other callback of the connection is
// pending. It then keeps the connection's callback queue while the next message is already
// buffered (conn.Conn.TryReadMessage: one socket read often brings many), running the
// callbacks pushed meanwhile first, in order, and lets the queue go before a read that would
// wait for the network: a run of buffered messages costs one queue hand-over.
func (p *peer) readLoop() {
	defer p.r.wg.Done()
	var sem chan struct{}
	owned := false // this goroutine holds the callback queue (serial.Queue.TryRun)
	for {
		typ, b, err := p.next(nil, &owned)
		if err != nil {
			if owned {
				p.q.Drain()
			}
			p.end(err)
			return
		}
		owned = p.deliver(WebSocketMessage{Data: p.messageData(typ, b), ClientConnection: p.id}, &sem, owned)
	}
}

// next reads the next message into buf[:0]. While the reader holds the callback queue
// (*owned), it takes only a message already buffered whole (conn.Conn.TryReadMessage: one call
// per message, where a MessageBuffered peek and then ReadMessage were two); otherwise it lets
// the queue go first, since the read may wait for the network.
func (p *peer) next(buf []byte, owned *bool) (conn.MessageType, []byte, error) {
	if *owned {
		if typ, b, ok, err := p.c.TryReadMessage(buf); ok {
			return typ, b, err
		}
		p.q.Drain()
		*owned = false
	}
	return p.c.ReadMessage(context.Background(), buf)
}

// readBorrowed is readLoop in the borrowing mode (WebSocketServerConfig.BorrowMessages): every
// message is read into one buffer, reused, and delivered as the connection's one
// *BorrowedData, on this goroutine, with no allocation. The view must not outlive the
// callbacks, so delivery is always inline: when other callbacks of the connection are pending,
// the reader waits for them (it reads nothing meanwhile, and TCP flow control slows the
// client) rather than queue a view that the next read would overwrite.
//
// Like readLoop, it keeps the callback queue across messages that are buffered already.
func (p *peer) readBorrowed() {
	defer p.r.wg.Done()
	var buf []byte
	m := &p.borrowed
	owned := false
	for {
		typ, b, err := p.next(buf, &owned)
		if err != nil {
			if owned {
				p.q.Drain()
			}
			p.end(err)
			return
		}
		buf = b[:0]
		if owned {
			p.q.RunPending()
		} else {
			for !p.q.TryRun() {
				<-p.q.Wait()
			}
			owned = true
		}
		m.Text, m.Data = typ == conn.Text, b
		p.s.emitMessage(WebSocketMessage{Data: m, ClientConnection: p.id})
		m.Data = nil // a *BorrowedData kept by a callback shows no stale bytes
	}
}

// Each message of the default mode is handed to the user in one allocation: a block that
// holds the MessageData header (a StringData or ArrayData, what an interface's data word
// points to) in front of the payload, instead of the payload and a separate box for the
// header (the client facade does the same). The block is a []byte allocation, which the
// garbage collector does not scan (it holds no pointers as far as the collector knows): that
// is safe because the one pointer in it, the header's, points into the block itself. The
// MessageData's data word points to the block, and any ArrayData or StringData taken out of
// it points into the block, so the block lives as long as any of them, and everything the
// header refers to lives with it. The header is written once, before the MessageData exists,
// and never again; the payload's capacity ends at its length, so appending to an ArrayData
// copies and never writes over anything.
const blockHeader = int(unsafe.Sizeof(ArrayData(nil))) // room for either header, 8-aligned

// The MessageData interfaces of the two kinds, whose type words messageData copies.
var (
	arrayTemplate  MessageData = ArrayData(nil)
	stringTemplate MessageData = StringData("")
)

// iface is the layout of a non-empty interface value: type word, data word.
type iface struct {
	tab, data unsafe.Pointer
}

// alloc is the conn.Config.ReadAlloc of the default mode's connections: a block with room for
// the header, and the payload of capacity n after it, when the header fits the allocation
// (useBlock); else the payload alone.
func (p *peer) alloc(n int) []byte {
	if !useBlock(n) {
		p.block = nil
		return make([]byte, 0, n)
	}
	b := make([]byte, blockHeader+n)
	p.block = unsafe.Pointer(&b[0])
	return b[blockHeader:blockHeader:len(b)]
}

// useBlock reports whether a payload of n bytes goes in a block with its header: when that
// allocation is at most blockSlack bytes larger than the payload's own would be. The runtime
// rounds every allocation up to a size class (or, past 32 KiB, to 8 KiB pages), and the
// header's 24 bytes push a payload that fills its class, such as 4 KiB, 16 KiB or 64 KiB, into
// the next one (18 KiB for 16 KiB): that message is cheaper as the payload and a separate
// 24-byte box, two allocations.
func useBlock(n int) bool { return allocSize(blockHeader+n) <= allocSize(n)+blockSlack }

// blockSlack is the most memory a block may take beyond its payload's own allocation: what
// saving the box's allocation is worth.
const blockSlack = 256

// sizeClasses are the Go runtime's allocation sizes up to 32 KiB (internal/runtime/gc's
// SizeClassToSize). TestSizeClassesMatchTheRuntime checks them against the runtime; were they
// to drift, only the choice of useBlock would suffer.
var sizeClasses = [...]uint16{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208,
	224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152,
	1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
	6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480,
	21760, 24576, 27264, 28672, 32768}

// allocSize is the size the runtime allocates for n bytes without pointers (n > 0).
func allocSize(n int) int {
	if n > 32<<10 {
		return (n + 8<<10 - 1) &^ (8<<10 - 1)
	}
	i, _ := slices.BinarySearch(sizeClasses[:], uint16(n))
	return int(sizeClasses[i])
}

// messageData returns the payload b of a message of type typ as MessageData: in its own block
// when b is the payload of the last block alloc made (one allocation for the message), else
// (an empty message) boxed as usual. b is this message's own memory, never written again: a
// StringData over it keeps the promise that strings do not change.
func (p *peer) messageData(typ conn.MessageType, b []byte) MessageData {
	block := p.block
	p.block = nil
	if block == nil || len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))-uintptr(block) != uintptr(blockHeader) {
		if typ == conn.Text {
			return StringData(unsafe.String(unsafe.SliceData(b), len(b)))
		}
		return ArrayData(b)
	}
	var m MessageData
	if typ == conn.Text {
		*(*StringData)(block) = StringData(unsafe.String(&b[0], len(b)))
		m = stringTemplate
	} else {
		*(*ArrayData)(block) = ArrayData(b[:len(b):len(b)])
		m = arrayTemplate
	}
	(*iface)(unsafe.Pointer(&m)).data = block
	return m
}

// deliver emits messageReceive for m: at once, on the reading goroutine, when it holds the
// callback queue (owned: after the callbacks pushed meanwhile) or can take it (no other
// callback of the connection pending), and otherwise queued behind the pending ones, with at
// most maxPendingMessages waiting. It returns whether the reading goroutine holds the queue.
func (p *peer) deliver(m WebSocketMessage, sem *chan struct{}, owned bool) bool {
	if owned {
		p.q.RunPending()
		p.s.emitMessage(m)
		return true
	}
	if p.q.TryRun() {
		p.s.emitMessage(m)
		return true
	}
	if *sem == nil {
		*sem = make(chan struct{}, maxPendingMessages)
	}
	pending := *sem
	pending <- struct{}{}
	p.q.Push(task{s: p.s, msg: m, sem: pending})
	return false
}

// end ends the connection after the reader's error rerr: it waits for the results of the
// queued messages and of the close, removes the connection, and queues its last events: error
// (when it did not end by a closing handshake), the Close result, close.
func (p *peer) end(rerr error) {
	p.mu.Lock()
	p.dead = true
	inClose := p.closeReq
	p.mu.Unlock()
	var ce *conn.CloseError
	isClose := errors.As(rerr, &ce)
	if inClose && isClose && ce.Remote {
		// The client's close crossed ours (RFC 6455 §7.1.2): Close returns once our close
		// frame is out. Closing the connection first would cut it.
		p.closers.Wait()
	}
	_ = p.c.CloseNow()
	p.closers.Wait()
	p.pending.Wait()

	var e *BusinessException
	var res CloseResult
	switch {
	case isClose && ce.Remote:
		res = CloseResult{Code: uint32(ce.Code), Reason: ce.Reason}
	case p.lost.Load() != nil:
		lost := *p.lost.Load()
		e = newBusiness(CodeOtherError, lost, &p.id)
		res = CloseResult{Code: 1006, Reason: "connection lost: " + lost.Error()}
	case isClose:
		cause := error(ce)
		if ce.Err != nil {
			cause = fmt.Errorf("%w: %w", ce, ce.Err)
		}
		e = newBusiness(CodeOtherError, cause, &p.id)
		reason := ce.Reason
		if reason == "" && ce.Err != nil {
			reason = ce.Err.Error()
		}
		res = CloseResult{Code: uint32(ce.Code), Reason: reason}
	default:
		e = newBusiness(CodeOtherError, rerr, &p.id)
		res = CloseResult{Code: 1006, Reason: "connection lost: " + rerr.Error()}
	}

	s, r := p.s, p.r
	s.mu.Lock()
	delete(r.conns, p.id)
	r.release(p.id.ClientIP)
	s.mu.Unlock()

	p.mu.Lock()
	if e != nil {
		p.q.push(func() { s.emitError(e) })
	}
	if p.closeReq && p.closeCB != nil {
		var ae *AsyncError
		switch {
		case p.closeDone && p.closeErr != nil && e != nil:
			ae = newAsync(CodeOtherError, p.closeErr)
		case !p.closeDone:
			ae = newAsync(CodeOtherError, ErrConnectionClosed)
		}
		p.q.pushResult(p.closeCB, ae)
	}
	p.mu.Unlock()
	p.q.push(func() {
		s.emitClose(p.id, res)
		r.events.Done()
	})
}
