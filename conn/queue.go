package conn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/internal/serial"
)

// Defaults of the send queue (Config.SendQueueBytes, Config.SendQueueMessages).
//
// 16 MiB lets a sender keep a fast link busy for a while (at 1 Gbit/s, about 0.13 s of data)
// and holds a few large messages, while a connection whose peer stops reading costs at most
// that much memory, not all of it. 4096 messages bound the per-message overhead of many small
// messages (each queued message costs a slot of 56 bytes besides its payload) and the time
// Close may spend flushing them.
const (
	DefaultSendQueueBytes    = 16 << 20
	DefaultSendQueueMessages = 4096
)

// Errors of the send queue.
var (
	// ErrQueueFull is wrapped by the error of an Enqueue that would take the send queue past
	// Config.SendQueueBytes or Config.SendQueueMessages. Nothing was queued and nothing
	// queued before was dropped; the caller may try again once the queue has drained
	// (Buffered tells how far).
	ErrQueueFull = errors.New("websocket: send queue full")
	// ErrQueueStalled is wrapped by the error of a Close, and by the CloseError of the
	// connection, when the messages queued before the close made no progress for
	// Config.CloseTimeout (a peer that reads nothing): the connection was cut and the messages
	// not written were reported failed to their done functions.
	ErrQueueStalled = errors.New("websocket: send queue made no progress within the close timeout; connection cut")
)

// queueFullError is Enqueue's refusal: it says what is queued and which cap the message
// would pass. It wraps ErrQueueFull.
type queueFullError struct {
	queued      int
	bytes, size int64
	maxMsgs     int
	maxBytes    int64
}

func (e *queueFullError) Error() string {
	if e.queued+1 > e.maxMsgs {
		return fmt.Sprintf("%v: %d messages queued (%d bytes), the cap is %d messages", ErrQueueFull, e.queued, e.bytes, e.maxMsgs)
	}
	return fmt.Sprintf("%v: %d bytes queued (%d messages), a message of %d bytes would pass the cap of %d bytes",
		ErrQueueFull, e.bytes, e.queued, e.size, e.maxBytes)
}

func (e *queueFullError) Unwrap() error { return ErrQueueFull }

// queueItem is one message waiting in the send queue.
type queueItem struct {
	typ MessageType
	// A frame prepared by EnqueueCopy on a client (see queuedFrame): hn > 0, its header in
	// hdr[:hn] and p its payload, masked already.
	hn     uint8
	hdr    [frame.MaxHeaderSize]byte
	p      []byte
	done   func(error)
	pooled *[]byte // p's buffer, from the frame pool (EnqueueCopy); returned once written
}

// queuedBuffer returns a buffer of n bytes for a queued copy: from the frame pool up to
// frame.MaxBufferSize, else a new slice (pooled nil).
func queuedBuffer(n int) (b []byte, pooled *[]byte) {
	if n == 0 || n > frame.MaxBufferSize {
		return make([]byte, n), nil
	}
	bp := frame.GetBuffer(n)
	return (*bp)[:n], bp
}

// queuedCopy copies p for the queue (see queuedBuffer).
func queuedCopy(p []byte) (cp []byte, pooled *[]byte) {
	cp, pooled = queuedBuffer(len(p))
	copy(cp, p)
	return cp, pooled
}

// queuedFrame copies the message of item for the queue as a client's frame ready to write
// (frame.Prepare): the copy the queue needs anyway is masked on the way, so the writer
// goroutine writes the frame as it is (frame.Writer.WritePrepared, one writev) instead of
// masking it into another buffer (for a 1 MiB message, one pass over it instead of two).
func queuedFrame(item *queueItem) error {
	p := item.p
	item.p, item.pooled = queuedBuffer(len(p))
	hn, err := frame.Prepare(&item.hdr, item.p, item.typ, p, true)
	item.hn = uint8(hn)
	return err
}

// cutMessage is what finish needs of a message: its payload's length, its done function and
// its buffer. A message the socket took only part of is kept so (sendQueue.cut), smaller than
// a queueItem.
type cutMessage struct {
	size   int
	done   func(error)
	pooled *[]byte
}

// cutOf returns the cutMessage of it.
func cutOf(it *queueItem) cutMessage {
	return cutMessage{size: len(it.p), done: it.done, pooled: it.pooled}
}

// sendQueue is the bounded asynchronous send queue of a Conn (see Enqueue).
type sendQueue struct {
	mu       sync.Mutex
	items    serial.Ring[queueItem]
	bytes    int64 // payload bytes queued, the message being written included
	n        int   // messages queued, the message being written included
	writing  bool  // a writer goroutine runs; it exists only while the queue has work
	closed   bool  // Close or a failure started: Enqueue refuses
	idle     chan struct{}
	progress atomic.Uint64 // messages the writer finished (written or failed)

	maxBytes int64
	maxMsgs  int
	writer   func() // the Conn's writeQueue, made by the first Enqueue

	// Writing on the caller's goroutine (see Enqueue).
	iw      *inlineWriter // nil: not a TCP or Unix socket, or not made yet
	iwTried bool          // iw was made (or could not be)
	cut     cutMessage    // a message the socket took only part of; its rest is cutRest
	cutRest []byte        // the rest of its frame, for the writer goroutine; it holds the frame lock
}

// Enqueue sends p as one message of type typ (Text or Binary) without ever blocking.
//
// When nothing is queued, no other write is in progress and the connection is a TCP or Unix
// socket, Enqueue writes the message itself, on the caller's goroutine, with one non-blocking
// write: if the socket takes the whole frame, Enqueue returns written == true, and done is
// not called. This is the steady path of a sender that does not outrun its peer: no goroutine
// is started and nothing is queued. Otherwise the message is queued (written == false): a
// writer goroutine, which exists only while the queue holds messages, writes them in order
// (finishing first a frame the socket took only part of) with WriteMessage, beside any
// WriteMessage calls of other goroutines. Messages of up to the write buffer's payload (a
// server) or 64 KiB (a client) may be written inline; larger ones are always queued (but see
// EnqueueCopy). Enqueue keeps p until the message is written: the caller must not change it
// meanwhile. An active write deadline (SetWriteDeadline) also sends every message through the
// queue.
//
// done, which may be nil, is called for a queued message once it was written (nil) or could
// not be (the error of the write, or one wrapping ErrClosed when the connection ended first).
// It is called on the writer goroutine, never by Enqueue itself, one message at a time in
// queue order, and must not block for long: the next message waits for it.
//
// The queue is bounded by Config.SendQueueBytes and Config.SendQueueMessages. An Enqueue
// that would pass either returns an error wrapping ErrQueueFull, with the numbers, at once;
// nothing is queued and nothing queued before is dropped. A single message larger than
// SendQueueBytes is accepted only when the queue is empty, so that the bound never makes a
// message unsendable. After Close, CloseNow or the end of the connection Enqueue returns
// ErrClosed.
//
// Close writes everything queued before its close frame, as long as the queue makes progress
// (see Close); a connection that the reading goroutine fails for a protocol violation (1002,
// 1007, 1009) first writes what is queued, within Config.CloseTimeout, then its close frame.
func (c *Conn) Enqueue(typ MessageType, p []byte, done func(error)) (written bool, err error) {
	return c.enqueue(typ, p, done, false)
}

// EnqueueCopy is Enqueue for a caller that may change p as soon as the call returns (a facade
// whose callers reuse their buffers): a message written at once goes out from p itself, with
// no copy, and only a message that is queued is copied first, into a buffer of the pool that
// frame Readers and Writers share (messages up to frame.MaxBufferSize; larger ones into a new
// slice), which goes back to the pool once the message is written.
//
// On a client (without compression for the message) the copy is the frame itself: the payload
// is masked while it is copied (frame.Prepare), so the writer goroutine writes it as it is,
// with one writev, instead of masking it again into another buffer. A message larger than the
// inline maximum is then, when nothing is queued, written from that copy at once with one
// non-blocking writev, as far as the socket takes it; the writer goroutine writes the rest.
func (c *Conn) EnqueueCopy(typ MessageType, p []byte, done func(error)) (written bool, err error) {
	return c.enqueue(typ, p, done, true)
}

func (c *Conn) enqueue(typ MessageType, p []byte, done func(error), copyQueued bool) (written bool, err error) {
	if typ != Text && typ != Binary {
		return false, ErrMessageType
	}
	q := &c.q
	q.mu.Lock()
	if q.closed || c.closing() || c.terminal() != nil {
		q.mu.Unlock()
		return false, ErrClosed
	}
	size := int64(len(p))
	if q.n > 0 && (q.n+1 > q.maxMsgs || q.bytes+size > q.maxBytes) {
		n, b := q.n, q.bytes
		q.mu.Unlock()
		return false, &queueFullError{queued: n, bytes: b, size: size, maxMsgs: q.maxMsgs, maxBytes: q.maxBytes}
	}
	if q.writer == nil {
		q.writer = c.writeQueue // once per Conn, and only for a Conn that enqueues
	}
	item := queueItem{typ: typ, p: p, done: done}
	if !q.writing && len(p) <= c.inlineMax() {
		// q.mu stays held, so that no other Enqueue overtakes this message.
		switch written, err := c.writeInline(item); {
		case written:
			q.mu.Unlock()
			return true, nil
		case err != nil:
			q.mu.Unlock()
			return false, err
		case q.cutRest != nil:
			q.n++
			q.bytes += size
			q.writing = true
			q.mu.Unlock()
			go q.writer()
			return false, nil
		}
	}
	switch {
	case copyQueued && c.role == frame.RoleClient && !c.compresses(len(p)):
		if err := queuedFrame(&item); err != nil {
			q.mu.Unlock()
			return false, err
		}
		if q.writing || len(p) <= c.inlineMax() {
			break
		}
		// A large message with the writer idle: the socket may take some or all of the frame
		// now, from the copy just made.
		switch written, err := c.writeInlinePrepared(&item); {
		case written:
			q.mu.Unlock()
			if item.pooled != nil {
				frame.PutBuffer(item.pooled)
			}
			return true, nil
		case err != nil:
			q.mu.Unlock()
			if item.pooled != nil {
				frame.PutBuffer(item.pooled)
			}
			return false, err
		case q.cutRest != nil:
			q.n++
			q.bytes += size
			q.writing = true
			q.mu.Unlock()
			go q.writer()
			return false, nil
		}
	case copyQueued:
		item.p, item.pooled = queuedCopy(p)
	}
	q.items.Push(item, &itemArrays)
	q.n++
	q.bytes += size
	start := !q.writing
	q.writing = true
	q.mu.Unlock()
	if start {
		go q.writer() // a func value without arguments: starting it allocates nothing
	}
	return false, nil
}

// inlineMax is the largest payload Enqueue may write on the caller's goroutine: one that the
// frame writer sends with a single Write (a server's frame that fits the write buffer, a
// client's masked frame of up to 64 KiB), so that what the socket does not take is at most
// that.
func (c *Conn) inlineMax() int {
	if c.role == frame.RoleClient {
		return 64 << 10
	}
	return c.fw.BufferSize() - frame.MaxHeaderSize
}

// writeInline tries to write item on the caller's goroutine; q.mu is held and the queue is
// empty. It returns written when the whole frame went out. When the socket took only part of
// it, q.cut and q.cutRest hold the message and the rest, and the frame lock stays held for the
// writer goroutine, which must be started. Otherwise (no inline writer, the frame lock busy, a
// message being streamed, a write deadline set) it does nothing, and the message is queued.
func (c *Conn) writeInline(item queueItem) (written bool, err error) {
	q := &c.q
	if !q.iwTried {
		q.iwTried = true
		q.iw = newInlineWriter(c.nc)
	}
	if q.iw == nil || !c.frameLock.tryLock() {
		return false, nil
	}
	compress := c.compresses(len(item.p))
	if compress {
		// The message lock orders the compressor's messages as on the wire (writeCompressed).
		if !c.msgLock.tryLock() {
			c.unlockFrame(context.Background())
			return false, nil
		}
		defer c.msgLock.unlock()
	}
	if !compress && c.msgLock.held.Load() || c.closing() || !c.noWriteDeadline() {
		c.unlockFrame(context.Background())
		return false, nil
	}
	var cb compressBuf
	payload, rsv := item.p, byte(0)
	if compress {
		if cb, err = c.compress(item.p); err != nil {
			c.unlockFrame(context.Background())
			return false, err
		}
		payload, rsv = cb.b, frame.Rsv1
	}
	c.fw.Reset(q.iw)
	err = c.fw.WriteFrame(true, item.typ, rsv, payload)
	c.fw.Reset(c.nc)
	cb.release() // what the socket did not take was copied to q.iw.rest
	if err != nil && compress {
		c.z.comp.Reset()
	}
	rest := q.iw.rest
	q.iw.rest = nil
	switch {
	case rest != nil:
		q.cut, q.cutRest = cutOf(&item), rest
		return false, nil // the writer goroutine finishes the frame and unlocks
	case err != nil:
		c.unlockFrame(context.Background())
		return false, err
	}
	c.unlockFrame(context.Background())
	return true, nil
}

// writeInlinePrepared is writeInline for a frame queuedFrame prepared: one non-blocking
// writev of its header and payload, from the queue's copy. When the socket took part of it,
// q.cut and q.cutRest hold the message and what is left of its payload (no copy; in the rare
// case of a header cut in the middle, a copy of the header's rest and the payload), and the
// frame lock stays held for the writer goroutine.
func (c *Conn) writeInlinePrepared(item *queueItem) (written bool, err error) {
	q := &c.q
	if !q.iwTried {
		q.iwTried = true
		q.iw = newInlineWriter(c.nc)
	}
	if q.iw == nil || !c.frameLock.tryLock() {
		return false, nil
	}
	if c.msgLock.held.Load() || c.closing() || !c.noWriteDeadline() {
		c.unlockFrame(context.Background())
		return false, nil
	}
	hdr := item.hdr[:item.hn]
	n := q.iw.WriteVec(hdr, item.p)
	switch {
	case n == len(hdr)+len(item.p):
		c.unlockFrame(context.Background())
		return true, nil
	case n == 0:
		c.unlockFrame(context.Background())
		return false, nil // queued whole, as if never tried
	case n < len(hdr):
		q.cut, q.cutRest = cutOf(item), append(append(make([]byte, 0, len(hdr)-n+len(item.p)), hdr[n:]...), item.p...)
	default:
		q.cut, q.cutRest = cutOf(item), item.p[n-len(hdr):]
	}
	return false, nil // the writer goroutine finishes the frame and unlocks
}

// noWriteDeadline reports whether no write deadline is set, by the user, a context or a
// closing handshake.
func (c *Conn) noWriteDeadline() bool {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	return c.wdl.IsZero() && !c.wCancel && !c.closeDeadline
}

// Buffered returns the bytes and the messages in the send queue that are not written yet, the
// message being written included: the browser's bufferedAmount, in bytes and in messages.
func (c *Conn) Buffered() (bytes int64, messages int) {
	c.q.mu.Lock()
	defer c.q.mu.Unlock()
	return c.q.bytes, c.q.n
}

// writeQueue is the writer goroutine: it finishes the frame Enqueue wrote in part, if any,
// then writes the queued messages until none is left.
func (c *Conn) writeQueue() {
	q := &c.q
	q.mu.Lock()
	cut, rest := q.cut, q.cutRest
	q.cut, q.cutRest = cutMessage{}, nil
	q.mu.Unlock()
	if rest != nil {
		// The frame lock was left held by Enqueue for this.
		_, err := c.nc.Write(rest)
		if err != nil {
			err = fmt.Errorf("websocket: write failed in the middle of a frame, connection closed: %w", err)
			c.abort(&CloseError{Code: frame.CloseAbnormal, Reason: "a frame was written only in part", Err: err})
			err = fmt.Errorf("%w: %w", ErrClosed, err)
		}
		c.unlockFrame(context.Background())
		q.finish(cut, err)
	}
	for {
		q.mu.Lock()
		if q.items.Len() == 0 {
			q.writing = false
			if q.idle != nil {
				close(q.idle)
				q.idle = nil
			}
			q.mu.Unlock()
			return
		}
		it := q.items.Pop(&itemArrays)
		batch := q.items.Len() > 0 && c.batchable(&it) && c.batchable(q.items.Peek())
		q.mu.Unlock()
		if batch {
			c.writeBatch(it)
			continue
		}
		var err error
		if it.hn > 0 {
			err = c.writeFrames(it.hdr[:it.hn], it.p)
		} else {
			err = c.WriteMessage(context.Background(), it.typ, it.p)
		}
		q.finish(cutOf(&it), c.queueError(err))
	}
}

// queueError is the error a queued message's done function gets for a write that returned err:
// one wrapping ErrClosed when the connection was closing or ended.
func (c *Conn) queueError(err error) error {
	if err != nil && !errors.Is(err, ErrClosed) && (c.closing() || c.terminal() != nil) {
		err = fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// Batches of the writer goroutine: when small messages wait in the queue (the sender outran
// the socket), it writes up to batchItems of them, batchBytes of frames at most, with one
// write instead of one each.
const (
	batchItems = 32
	batchBytes = 64 << 10
	batchFrame = 8 << 10 // the largest frame batched: a larger one gains little from sharing a write
)

// frameLen returns the size on the wire of it's frame (uncompressed).
func (c *Conn) frameLen(it *queueItem) int {
	if it.hn > 0 {
		return int(it.hn) + len(it.p)
	}
	h := frame.Header{Length: int64(len(it.p)), Masked: c.role == frame.RoleClient}
	return h.Size() + len(it.p)
}

// batchable reports whether it may share a write with other messages: not compressed, and a
// frame of at most batchFrame bytes.
func (c *Conn) batchable(it *queueItem) bool {
	return !c.compresses(len(it.p)) && c.frameLen(it) <= batchFrame
}

// writeBatch writes first, a batchable message, and the batchable messages queued after it,
// up to batchItems and batchBytes, as frames encoded back to back into one buffer (masked, for
// a client), with one write; then it reports the result to each, in order. A write that fails
// fails every message of the batch.
func (c *Conn) writeBatch(first queueItem) {
	q := &c.q
	var done [batchItems]cutMessage
	bp := frame.GetBuffer(batchBytes)
	b := (*bp)[:0]
	it, k := first, 0
	for {
		b = c.appendFrame(b, &it)
		done[k] = cutOf(&it)
		done[k].pooled = nil
		if it.pooled != nil { // copied into the batch: the message's own buffer may go
			frame.PutBuffer(it.pooled)
		}
		k++
		q.mu.Lock()
		if k == batchItems || q.items.Len() == 0 || !c.batchable(q.items.Peek()) ||
			len(b)+c.frameLen(q.items.Peek()) > batchBytes {
			q.mu.Unlock()
			break
		}
		it = q.items.Pop(&itemArrays)
		q.mu.Unlock()
	}
	err := c.queueError(c.writeFrames(nil, b))
	frame.PutBuffer(bp)
	for i := range k {
		q.finish(done[i], err)
	}
}

// appendFrame appends the frame of it to b, which has room for it: as queuedFrame prepared it,
// or encoded now (frame.Prepare: masked with a fresh key, for a client).
func (c *Conn) appendFrame(b []byte, it *queueItem) []byte {
	if it.hn > 0 {
		return append(append(b, it.hdr[:it.hn]...), it.p...)
	}
	n := len(b)
	hs := c.frameLen(it) - len(it.p)
	b = b[:n+hs+len(it.p)]
	var hdr [frame.MaxHeaderSize]byte
	frame.Prepare(&hdr, b[n+hs:], it.typ, it.p, c.role == frame.RoleClient) // Enqueue checked typ
	copy(b[n:], hdr[:hs])
	return b
}

// writeFrames writes frames encoded already, as WriteMessage writes one: under the message
// lock (never inside a message being streamed) and the frame lock. hdr and p are a frame that
// Enqueue prepared (queuedFrame), or hdr is nil and p holds a batch of whole frames.
func (c *Conn) writeFrames(hdr, p []byte) error {
	ctx := context.Background()
	if err := c.lockWrite(ctx, &c.msgLock); err != nil {
		return err
	}
	defer c.msgLock.unlock()
	if err := c.lockWrite(ctx, &c.frameLock); err != nil {
		return err
	}
	defer c.unlockFrame(ctx)
	if c.closing() {
		return ErrClosed
	}
	if err := c.fw.WritePrepared(hdr, p); err != nil {
		return c.writeError(ctx, err)
	}
	return nil
}

// finish takes the written (or failed) message it off the queue's counts, records the
// progress Close watches for, and reports err to its done callback.
func (q *sendQueue) finish(it cutMessage, err error) {
	q.mu.Lock()
	q.n--
	q.bytes -= int64(it.size)
	q.mu.Unlock()
	q.progress.Add(1)
	if it.pooled != nil {
		frame.PutBuffer(it.pooled)
	}
	if it.done != nil {
		it.done(err)
	}
}

// flushQueue refuses further Enqueues and waits until the messages queued are written. With
// stall, it gives up when no message was finished for CloseTimeout (the queue stalled), else
// after CloseTimeout in all. It returns nil when the queue drained, ErrQueueStalled when it
// gave up, and ErrClosed (wrapping how it ended) when the connection ended first.
func (c *Conn) flushQueue(stall bool) error {
	q := &c.q
	q.mu.Lock()
	q.closed = true
	if q.n == 0 && !q.writing {
		q.mu.Unlock()
		return nil
	}
	if q.idle == nil {
		q.idle = make(chan struct{})
	}
	idle := q.idle
	q.mu.Unlock()
	t := time.NewTimer(c.closeTimeout)
	defer t.Stop()
	last := q.progress.Load()
	for {
		select {
		case <-idle:
			return nil
		case <-c.doneChan():
			return fmt.Errorf("%w: %w", ErrClosed, c.terminal())
		case <-t.C:
			now := q.progress.Load()
			if !stall || now == last {
				return ErrQueueStalled
			}
			last = now
			t.Reset(c.closeTimeout)
		}
	}
}

// closeQueue refuses further Enqueues, for a connection that ends without flushing.
func (c *Conn) closeQueue() {
	c.q.mu.Lock()
	c.q.closed = true
	c.q.mu.Unlock()
}

// itemArrays keeps the arrays of send queues that emptied, for the next that fills.
var itemArrays serial.FreeList[queueItem]
