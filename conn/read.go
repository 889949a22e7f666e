package conn

import (
	"context"
	"errors"
	"io"

	"github.com/netkit/websocket/frame"
)

// ReadMessage reads the next message whole and returns its type and payload, appended to
// buf[:0] (grown only when its capacity does not suffice, so a buffer reused across calls makes
// ReadMessage allocate nothing in steady state). A buffer too small is grown once to hold the
// rest of the frame when that is at most 1 MiB (one allocation for most messages), and by
// doubling beyond, so that a peer announcing a large frame gets memory only as it sends.
// Every growth at least doubles the capacity (up to MaxMessageSize), so a message sent in
// many small fragments is reassembled in linear time: 4 MiB in 64-byte fragments costs 17
// allocations at most, not 65,536. Control frames that arrive before or between the message's
// fragments are handled on the way (§5.5): pings answered, pongs reported to Config.OnPong,
// and a close frame answered and reported as a *CloseError.
//
// If ctx is cancelled or a read deadline passes, ReadMessage returns ctx.Err() (or the
// deadline error) and keeps what it had received of the message; the next ReadMessage continues
// it, and returns it whole. If a message reader from NextReader left a message unfinished, the
// rest of it is discarded first.
//
// A protocol violation fails the connection (a close frame with 1002, 1007 or 1009 is sent
// and the TCP connection closed) and is returned as a *CloseError wrapping the
// *frame.ProtocolError; after the end of the connection every call returns the same
// *CloseError.
func (c *Conn) ReadMessage(ctx context.Context, buf []byte) (MessageType, []byte, error) {
	if ctx.Done() != nil || !c.readLock.tryLock() {
		return c.readMessageCtx(ctx, buf)
	}
	// The common case, kept shallow: a goroutine waiting here for the next message holds a
	// short call chain (little stack) and, on a TCP or Unix socket, no read buffer.
	if c.terminal() == nil && c.atMessage() {
		if c.fr.Buffered() == 0 {
			// An error is met again, and handled, by readMessage.
			_ = c.fr.WaitInput()
		}
		if h, p, ok := c.fr.NextMessage(); ok {
			typ, p, err := c.wholeMessage(ctx, h, p, buf[:0])
			c.readLock.unlock()
			return typ, p, err
		}
	}
	typ, p, err := c.readMessage(ctx, buf[:0])
	c.readLock.unlock()
	return typ, p, err
}

// atMessage reports whether the next read starts a message: no message, control frame or pong
// is in progress.
func (c *Conn) atMessage() bool {
	return !c.inMsg && !c.inFrame && !c.ctlPending && !c.pongQueued()
}

// wholeMessage is ReadMessage's fast path, for a message of one frame that was buffered whole
// (frame.Reader.NextMessage returned it): the size limit, the UTF-8 check of text (§8.1) and
// one copy into buf, with no further state to keep. The caller holds readLock.
func (c *Conn) wholeMessage(ctx context.Context, h frame.Header, p, buf []byte) (MessageType, []byte, error) {
	c.readGen++
	c.msgType = h.Op
	if h.Rsv != 0 && c.z != nil {
		// Compressed (RSV1; no other bit passes the frame reader's check with Compression).
		if c.maxSize >= 0 && h.Length > c.wireLimit() {
			return 0, buf, c.readError(ctx, frame.ErrMessageTooBig)
		}
		if err := c.startInflate(ctx, p); err != nil {
			return 0, buf, err
		}
		return c.readInflated(ctx, buf, 2*len(p))
	}
	if c.maxSize >= 0 && h.Length > c.maxSize {
		return 0, buf, c.readError(ctx, frame.ErrMessageTooBig)
	}
	if h.Op == Text && !frame.ValidUTF8(p) {
		return 0, buf, c.readError(ctx, frame.ErrInvalidUTF8)
	}
	if cap(buf)-len(buf) < len(p) {
		buf = c.growRead(buf, len(p))
	}
	buf = append(buf, p...)
	if c.fr.Buffered() == 0 {
		c.fr.Release() // an idle connection holds no read buffer
	}
	return h.Op, buf, nil
}

// readMessageCtx is ReadMessage with a context that can be cancelled, or a busy read lock.
func (c *Conn) readMessageCtx(ctx context.Context, buf []byte) (MessageType, []byte, error) {
	buf = buf[:0]
	if err := c.readLock.lock(ctx); err != nil {
		return 0, buf, err
	}
	// Few returns here, so that the compiler open-codes the defers.
	defer c.readLock.unlock()
	if err := c.terminal(); err != nil {
		return 0, buf, err
	}
	if ctx.Done() == nil {
		// Cannot be cancelled: nothing to watch.
		return c.readMessage(ctx, buf)
	}
	if err := ctx.Err(); err != nil {
		return 0, buf, err
	}
	if c.atMessage() {
		// A message buffered whole needs no read from the network, so no context watch
		// (a context.AfterFunc registration) either.
		if h, p, ok := c.fr.NextMessage(); ok {
			return c.wholeMessage(ctx, h, p, buf)
		}
	}
	defer c.unwatchRead(c.watchRead(ctx))
	return c.readMessage(ctx, buf)
}

// maxGrowStep is the most ReadMessage grows a buffer by ahead of the data, or the size it
// has, if larger (doubling).
const maxGrowStep = 1 << 20

// readMessage is ReadMessage once readLock is held and ctx watched.
func (c *Conn) readMessage(ctx context.Context, buf []byte) (MessageType, []byte, error) {
	if err := c.terminal(); err != nil {
		return 0, buf, err
	}
	c.readGen++
	if c.inMsg {
		if c.streamed {
			if err := c.discardMessage(ctx); err != nil {
				return 0, buf, c.readError(ctx, err)
			}
		} else {
			buf = append(buf, c.partial...)
			c.partial = c.partial[:0]
		}
	}
	if !c.inMsg {
		if err := c.nextDataFrame(ctx, false); err != nil {
			return 0, buf[:0], c.interrupted(ctx, err, buf)
		}
		if c.compressed {
			if err := c.startInflate(ctx, nil); err != nil {
				return 0, buf[:0], err
			}
			return c.readInflated(ctx, buf, int(c.fr.Remaining()))
		}
	}
	for {
		if err := c.advance(ctx); err != nil {
			if err == errMessageEnd {
				if c.fr.Buffered() == 0 {
					c.fr.Release() // an idle connection holds no read buffer
				}
				return c.msgType, buf, nil
			}
			return 0, buf[:0], c.interrupted(ctx, err, buf)
		}
		rem := c.fr.Remaining()
		if free := cap(buf) - len(buf); int64(free) < rem {
			buf = c.growRead(buf, int(min(rem, int64(max(len(buf), maxGrowStep)))))
		}
		p := buf[len(buf):cap(buf)]
		if int64(len(p)) > rem {
			p = p[:rem]
		}
		n, err := c.fr.Read(p)
		buf = buf[:len(buf)+n]
		if n > 0 && c.msgType == Text && !c.utf8.Write(p[:n]) {
			return 0, buf[:0], c.readError(ctx, frame.ErrInvalidUTF8)
		}
		if err != nil && err != io.EOF {
			return 0, buf[:0], c.interrupted(ctx, err, buf)
		}
	}
}

// interrupted returns the error of a read that failed with err. When the read can be resumed
// (a cancelled context, a deadline) and a message was being received, the part of it in buf is
// kept for the next ReadMessage.
func (c *Conn) interrupted(ctx context.Context, err error, buf []byte) error {
	err = c.readError(ctx, err)
	if c.inMsg && (err == ctx.Err() || isTimeout(err)) {
		c.partial = append(c.partial[:0], buf...)
		c.streamed = false
	}
	return err
}

// readError turns an error of the frame reader into what a read returns: the end of the
// connection as a *CloseError (failing it first for a protocol violation, or recording a lost
// connection), or, for a deadline, ctx.Err() when the context caused it and the deadline error
// otherwise; those leave the connection usable.
func (c *Conn) readError(ctx context.Context, err error) error {
	if t := c.terminal(); t != nil {
		c.fr.Drop() // the connection is over: hand the read buffer back
		return t
	}
	switch e := err.(type) {
	case *CloseError:
		c.fr.Drop()
		return e
	case *frame.ProtocolError:
		c.fr.Drop()
		return c.fail(e)
	}
	if isTimeout(err) {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return err
	}
	t := c.abort(lostConnection(err))
	c.fr.Drop()
	return t
}

// errMessageEnd is advance's report that the current message is complete.
var errMessageEnd = errors.New("end of message")

// advance moves to payload to read: it returns nil when the current data frame has payload
// left, and errMessageEnd when the current message is complete (checking that text ended on a code
// point boundary). Otherwise it reads the next data frame of the message (or the first frame
// of the next one), handling control frames on the way.
func (c *Conn) advance(ctx context.Context) error {
	for {
		if c.inFrame {
			if c.fr.Remaining() > 0 {
				return nil
			}
			c.inFrame = false
			if c.msgFin {
				c.inMsg = false
				if c.msgType == Text && !c.compressed && !c.utf8.Done() {
					return frame.ErrInvalidUTF8
				}
				return errMessageEnd
			}
		}
		if err := c.nextDataFrame(ctx, false); err != nil {
			return err
		}
	}
}

// nextDataFrame reads frames until a data frame, handling control frames on the way, and
// makes it the current frame. discard skips the message size limit (for a closing connection,
// whose data is dropped). The caller holds readLock.
func (c *Conn) nextDataFrame(ctx context.Context, discard bool) error {
	for {
		if c.pongQueued() {
			c.flushPong(ctx)
		}
		if c.ctlPending {
			p, err := c.fr.Payload()
			if err != nil {
				return err
			}
			c.ctlPending = false
			if err := c.handleControl(ctx, c.ctlOp, p); err != nil {
				return err
			}
			continue
		}
		h, err := c.fr.NextFrame()
		if err != nil {
			return err
		}
		if h.Op.IsControl() {
			c.ctlOp, c.ctlPending = h.Op, true
			continue
		}
		if h.Op != frame.OpContinuation {
			c.inMsg, c.msgType, c.msgSize, c.streamed = true, h.Op, 0, false
			c.compressed = h.Rsv != 0 && c.z != nil
			c.utf8.Reset()
			c.partial = c.partial[:0]
		}
		c.msgSize += h.Length
		if !discard && c.maxSize >= 0 && c.msgSize > c.maxSize && (!c.compressed || c.msgSize > c.wireLimit()) {
			return frame.ErrMessageTooBig
		}
		c.inFrame, c.msgFin = true, h.Fin
		return nil
	}
}

// handleControl acts on a received control frame (§5.5).
func (c *Conn) handleControl(ctx context.Context, op frame.Opcode, p []byte) error {
	switch op {
	case frame.OpPing:
		if c.onPing != nil {
			c.onPing(p)
		}
		c.queuePong(p)
		c.flushPong(ctx)
	case frame.OpPong:
		if c.onPong != nil {
			c.onPong(p)
		}
	case frame.OpClose:
		code, reason, err := frame.ParseClose(p)
		if err != nil {
			return err
		}
		return c.peerClose(code, reason)
	}
	return nil
}

// discardMessage reads and drops the rest of the current message.
func (c *Conn) discardMessage(ctx context.Context) error {
	c.partial = c.partial[:0]
	if c.compressed && c.z.zr != nil {
		// With context takeover the inflater reads the rest, to keep its dictionary right.
		c.z.src.ctx = ctx
		if err := c.endInflate(false); err != nil {
			return c.inflateFailed(ctx, err)
		}
		if !c.inMsg {
			return nil
		}
	}
	for {
		if err := c.advance(ctx); err != nil {
			if err == errMessageEnd {
				return nil
			}
			return err
		}
		p, err := c.fr.Next()
		if len(p) > 0 && c.msgType == Text && !c.compressed && !c.utf8.Write(p) {
			return frame.ErrInvalidUTF8
		}
		if err != nil && err != io.EOF {
			return err
		}
	}
}

// NextReader waits for the next message and returns its type and a reader of its payload,
// which returns io.EOF at the end of the message. Control frames are handled as by
// ReadMessage. ctx bounds NextReader and every Read of the returned reader. If the previous
// message was not read to its end, its rest is discarded first; if a ReadMessage was
// interrupted in the middle of a message, the reader delivers that message from its start.
//
// The reader is valid until the next NextReader or ReadMessage; after that its Read returns
// ErrReaderDone. Its Read returns what ReadMessage would as errors: ctx.Err() or a deadline
// error, after which Read may be called again, or a *CloseError. NextReader allocates the
// small reader.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	if err := c.readLock.lock(ctx); err != nil {
		return 0, nil, err
	}
	defer c.readLock.unlock()
	if err := c.terminal(); err != nil {
		return 0, nil, err
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	stop := c.watchRead(ctx)
	defer c.unwatchRead(stop)

	c.readGen++
	if c.inMsg && c.streamed {
		if err := c.discardMessage(ctx); err != nil {
			return 0, nil, c.readError(ctx, err)
		}
	}
	if !c.inMsg {
		if err := c.nextDataFrame(ctx, false); err != nil {
			return 0, nil, c.readError(ctx, err)
		}
		if c.compressed {
			if err := c.startInflate(ctx, nil); err != nil {
				return 0, nil, err
			}
		}
	}
	c.streamed = true
	return c.msgType, &messageReader{c: c, ctx: ctx, gen: c.readGen}, nil
}

// messageReader streams one message; see NextReader.
type messageReader struct {
	c   *Conn
	ctx context.Context
	gen uint64
	eof bool
}

// Read reads payload of the message into p, unmasked and (for text) checked to be UTF-8 so
// far.
func (r *messageReader) Read(p []byte) (int, error) {
	if r.eof {
		return 0, io.EOF
	}
	c := r.c
	if err := c.readLock.lock(r.ctx); err != nil {
		return 0, err
	}
	defer c.readLock.unlock()
	if r.gen != c.readGen {
		return 0, ErrReaderDone
	}
	if err := c.terminal(); err != nil {
		return 0, err
	}
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if len(c.partial) > 0 {
		n := copy(p, c.partial)
		c.partial = c.partial[n:]
		return n, nil
	}
	stop := c.watchRead(r.ctx)
	defer c.unwatchRead(stop)
	if c.compressed {
		return r.readInflated(p)
	}
	for {
		if err := c.advance(r.ctx); err != nil {
			if err == errMessageEnd {
				r.eof = true
				return 0, io.EOF
			}
			return 0, c.readError(r.ctx, err)
		}
		if len(p) == 0 {
			return 0, nil
		}
		n, err := c.fr.Read(p)
		if n > 0 && c.msgType == Text && !c.utf8.Write(p[:n]) {
			return 0, c.readError(r.ctx, frame.ErrInvalidUTF8)
		}
		if err != nil && err != io.EOF {
			if n > 0 {
				return n, nil // the error comes back on the next Read
			}
			return 0, c.readError(r.ctx, err)
		}
		if n > 0 {
			return n, nil
		}
	}
}

// readInflated is Read for a compressed message: it inflates into p. The caller holds readLock
// and watches r.ctx.
func (r *messageReader) readInflated(p []byte) (int, error) {
	c := r.c
	z := c.z
	if z.zr == nil { // cannot happen: the message ended with r.eof set, or the connection
		return 0, c.failWith(frame.CloseInternalError, "compressed message without an inflater", errors.New("websocket: internal error: compressed message without an inflater"))
	}
	z.src.ctx = r.ctx
	n, err := z.zr.Read(p)
	if n > 0 && c.msgType == Text && !c.utf8.Write(p[:n]) {
		c.endInflate(true)
		return 0, c.readError(r.ctx, frame.ErrInvalidUTF8)
	}
	switch {
	case err == io.EOF:
		if err := c.endInflate(false); err != nil {
			return 0, c.inflateFailed(r.ctx, err)
		}
		if c.msgType == Text && !c.utf8.Done() {
			return 0, c.readError(r.ctx, frame.ErrInvalidUTF8)
		}
		r.eof = true
		return n, io.EOF
	case err != nil:
		return 0, c.inflateFailed(r.ctx, err)
	}
	return n, nil
}
