package conn

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/netkit/websocket/frame"
)

// WriteMessage sends p as one message of type typ (Text or Binary) in a single frame. It waits
// for any message being written by another goroutine to finish, so messages never interleave.
// p is neither modified nor retained; a client masks while copying (frame.Writer).
//
// If ctx is cancelled, or a write deadline passes, before any byte of the frame is written,
// WriteMessage returns ctx.Err() (or the deadline error), nothing was sent, and the connection
// stays usable. If the frame was cut after some of its bytes, the connection is closed and the
// error wraps frame.ErrIncompleteWrite. After the closing handshake has started it returns
// ErrClosed. WriteMessage does not check that text is UTF-8.
//
// WriteMessage allocates nothing (with a context that cannot be cancelled).
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, p []byte) error {
	if typ != Text && typ != Binary {
		return messageTypeError(typ)
	}
	if c.z != nil && len(p) >= c.z.threshold {
		return c.writeCompressed(ctx, typ, p)
	}
	// With no message being written (the message lock free), the frame lock alone keeps this
	// one-frame message whole: a message writer (NextWriter) takes the frame lock for each of
	// its frames, so once it holds the message lock it waits for this frame to be out before
	// sending any of its own. This saves taking and releasing the message lock.
	if c.frameLock.tryLock() {
		if !c.msgLock.held.Load() {
			return c.writeFrameLocked(ctx, true, typ, p)
		}
		c.unlockFrame(ctx)
	}
	if err := c.lockWrite(ctx, &c.msgLock); err != nil {
		return err
	}
	defer func() { c.msgLock.unlock() }()
	return c.writeFrame(ctx, true, typ, p)
}

// Ping sends a ping with payload p (at most 125 bytes, §5.5.2); the peer's pong is reported to
// Config.OnPong by the reading goroutine. It may be sent between the fragments of a message
// being streamed. Errors are as for WriteMessage.
func (c *Conn) Ping(ctx context.Context, p []byte) error {
	if len(p) > frame.MaxControlPayload {
		return controlTooLongError(len(p))
	}
	return c.writeFrame(ctx, true, frame.OpPing, p)
}

// Pong sends an unsolicited pong with payload p (at most 125 bytes, §5.5.3), a one-way
// heartbeat. Pings are answered automatically; there is no need to call Pong for them.
func (c *Conn) Pong(ctx context.Context, p []byte) error {
	if len(p) > frame.MaxControlPayload {
		return controlTooLongError(len(p))
	}
	return c.writeFrame(ctx, true, frame.OpPong, p)
}

// writeFrame writes one whole frame under the frame lock.
func (c *Conn) writeFrame(ctx context.Context, fin bool, op frame.Opcode, p []byte) error {
	if err := c.lockWrite(ctx, &c.frameLock); err != nil {
		return err
	}
	return c.writeFrameLocked(ctx, fin, op, p)
}

// writeFrameLocked writes one whole frame; the caller holds the frame lock, which it releases.
func (c *Conn) writeFrameLocked(ctx context.Context, fin bool, op frame.Opcode, p []byte) error {
	defer c.unlockFrame(ctx)
	if c.closing() {
		return ErrClosed
	}
	stop := c.watchWrite(ctx)
	var err error
	if op.IsControl() {
		err = c.fw.WriteControl(op, p)
	} else {
		err = c.fw.WriteFrame(fin, op, 0, p)
	}
	c.unwatchWrite(stop)
	if err != nil {
		return c.writeError(ctx, err)
	}
	return nil
}

// writeError turns an error of the frame writer into what a write returns. A frame cut in the
// middle, or a broken connection, ends the connection; a deadline (the context's or the
// user's) that passed before any byte of the frame leaves it usable.
func (c *Conn) writeError(ctx context.Context, err error) error {
	if errors.Is(err, frame.ErrIncompleteWrite) {
		c.abort(&CloseError{Code: frame.CloseAbnormal, Reason: "a frame was written only in part", Err: err})
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("websocket: write interrupted in the middle of a frame, connection closed: %w: %w", ctxErr, err)
		}
		return fmt.Errorf("websocket: write failed in the middle of a frame, connection closed: %w", err)
	}
	if c.terminal() != nil {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	if isTimeout(err) {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return err
	}
	c.abort(lostConnection(err))
	return fmt.Errorf("websocket: write: %w", err)
}

// NextWriter starts a message of type typ (Text or Binary) and returns a writer for its
// payload. The writer fragments: each Write fills the write buffer and sends a frame each time
// it is full (a Write of at least a buffer's worth with nothing buffered goes out as a frame of
// its own, without a copy on the server side), and Close sends the final frame, with what is
// left (possibly nothing). The message holds the message lock from NextWriter to Close: other
// messages wait, so Close must be called; control frames (Ping, automatic pongs, Close of the
// Conn) still go out between the fragments.
//
// ctx bounds NextWriter's wait for the lock and every Write and Close of the writer. A Write
// that fails with ctx.Err() or a deadline error has buffered the bytes it reports and sent
// nothing of the frame it was writing. If the message then cannot be completed, Close of the
// writer drops it: when none of its frames had been sent the connection stays usable and
// Close returns the error; otherwise the connection is failed with 1011 and the error wraps
// ErrMessageAbandoned. NextWriter allocates the small writer.
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if typ != Text && typ != Binary {
		return nil, messageTypeError(typ)
	}
	if err := c.lockWrite(ctx, &c.msgLock); err != nil {
		return nil, err
	}
	if c.closing() {
		c.msgLock.unlock()
		return nil, ErrClosed
	}
	w := &messageWriter{c: c, ctx: ctx, op: typ}
	if c.z != nil {
		w.sink.w = w
		zw, err := c.z.comp.StartMessage(&w.sink)
		if err != nil {
			c.msgLock.unlock()
			return nil, err
		}
		w.zw, w.rsv, w.compressed = zw, frame.Rsv1, true
	}
	return w, nil
}

// messageWriter streams one message; see NextWriter.
type messageWriter struct {
	c      *Conn
	ctx    context.Context
	op     frame.Opcode // opcode of the next frame: the type, then continuation
	sent   bool         // a frame of the message has been written
	closed bool
	err    error // the connection ended under the writer
	rsv    byte  // RSV bits of the next frame: RSV1 on the first frame of a compressed message

	compressed bool  // the message is compressed (Config.Compression)
	zerr       error // the compressor failed (a write of the sink did): the message is lost

	// With Config.Compression: the message's compressor, which writes the compressed payload
	// to sink, whose Write is rawWrite.
	zw   io.WriteCloser
	sink writerSink
}

// writerSink is the destination of a message writer's compressor.
type writerSink struct {
	w       *messageWriter
	discard bool // the message is dropped: swallow what the compressor still writes
}

func (s *writerSink) Write(p []byte) (int, error) {
	if s.discard {
		return len(p), nil
	}
	return s.w.rawWrite(p)
}

// Write buffers p and sends full frames; see NextWriter.
func (w *messageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrWriterClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.zerr != nil {
		return 0, w.zerr
	}
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	c := w.c
	if err := c.lockWrite(w.ctx, &c.frameLock); err != nil {
		return 0, err
	}
	defer c.unlockFrame(w.ctx)
	if c.closing() {
		w.err = ErrClosed
		return 0, ErrClosed
	}
	if w.zw != nil {
		n, err := w.zw.Write(p)
		if err != nil {
			w.zerr = err // the compressor's state is lost: the message cannot go on
		}
		return n, err
	}
	return w.rawWrite(p)
}

// rawWrite buffers payload p and sends full frames. The caller holds the frame lock.
func (w *messageWriter) rawWrite(p []byte) (int, error) {
	c := w.c
	n := 0
	for n < len(p) {
		if c.fw.Buffered() == 0 && len(p)-n >= c.fw.Available() {
			stop := c.watchWrite(w.ctx)
			err := c.fw.WriteFrame(false, w.op, w.rsv, p[n:])
			c.unwatchWrite(stop)
			if err != nil {
				return n, w.writeError(err)
			}
			w.sent, w.op, w.rsv = true, frame.OpContinuation, 0
			return len(p), nil
		}
		n += c.fw.Append(p[n:])
		if c.fw.Available() == 0 {
			if err := w.flush(false); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// flush sends the buffered payload as a frame. The caller holds the frame lock.
func (w *messageWriter) flush(fin bool) error {
	c := w.c
	stop := c.watchWrite(w.ctx)
	err := c.fw.Flush(fin, w.op, w.rsv)
	c.unwatchWrite(stop)
	if err != nil {
		return w.writeError(err)
	}
	w.sent, w.op, w.rsv = true, frame.OpContinuation, 0
	return nil
}

func (w *messageWriter) writeError(err error) error {
	err = w.c.writeError(w.ctx, err)
	if w.c.terminal() != nil {
		w.err = err
	}
	return err
}

// Close sends the final frame of the message and releases the message lock; see NextWriter.
func (w *messageWriter) Close() error {
	if w.closed {
		return ErrWriterClosed
	}
	w.closed = true
	c := w.c
	defer func() { c.msgLock.unlock() }()
	if w.err != nil {
		w.dropCompressor()
		c.discardPending()
		return w.err
	}
	err := w.zerr
	if err == nil {
		err = w.ctx.Err()
	}
	if err == nil {
		err = c.lockWrite(w.ctx, &c.frameLock)
	}
	if err == nil {
		if c.closing() {
			err = ErrClosed
		} else if w.zw != nil {
			err = w.zw.Close() // the compressed payload's last bytes go to rawWrite
			w.zw = nil
			if err != nil {
				c.z.comp.Reset()
			}
		}
		if err == nil {
			err = w.flush(true)
		}
		if err != nil {
			w.dropCompressor()
			c.fw.DiscardPending()
		}
		c.unlockFrame(w.ctx)
	} else {
		w.dropCompressor()
		c.discardPending()
	}
	if err == nil || !w.sent || c.closing() {
		return err // nothing sent, or the connection is ending anyway
	}
	// Frames of the message went out and the rest cannot: fail the connection.
	c.failWith(frame.CloseInternalError, "message abandoned in the middle", ErrMessageAbandoned)
	return fmt.Errorf("%w: %w", ErrMessageAbandoned, err)
}

// dropCompressor ends the compressor of a compressed message that is dropped: what it still
// writes is discarded, and the compression context forgets the message, which the peer will
// not get whole. It does nothing for an uncompressed message.
func (w *messageWriter) dropCompressor() {
	if !w.compressed {
		return
	}
	if w.zw != nil {
		w.sink.discard = true
		_ = w.zw.Close()
		w.zw = nil
	}
	w.c.z.comp.Reset()
}

// discardPending drops buffered payload of an abandoned message.
func (c *Conn) discardPending() {
	if c.frameLock.tryLock() || c.frameLock.lockSlow(context.Background(), c.doneChan(), nil) == nil {
		c.fw.DiscardPending()
		c.unlockFrame(context.Background())
	}
}

// queuePong records the pong that answers a ping with payload p (§5.5.3), replacing one not yet
// sent: only the last ping needs an answer.
func (c *Conn) queuePong(p []byte) {
	c.mu.Lock()
	c.pongN = copy(c.pongBuf[:], p)
	c.pongWanted.Store(true)
	c.mu.Unlock()
}

// pongQueued reports whether a pong waits to be sent. It takes no lock (pongWanted is only
// written under mu), so it may miss a pong queued at this very moment by a writer putting back
// one it could not send; that pong goes out with the next frame lock release.
func (c *Conn) pongQueued() bool { return c.pongWanted.Load() }

// flushPong sends the queued pong if the frame lock is free. If it is not, the holder sends the
// pong when it releases the lock, so the reader goes on reading instead of waiting behind a
// writer (which could be waiting for the peer to read, while the peer waits for us).
func (c *Conn) flushPong(ctx context.Context) {
	if c.frameLock.tryLock() {
		c.unlockFrame(ctx)
	}
}

// unlockFrame releases the frame lock, sending first the pong the reader queued, if any. The
// pong is bounded by ctx; if ctx or a deadline stops it before any byte, it stays queued.
//
// With no pong queued it takes no mutex: it releases the lock and looks again. A reader
// queueing a pong at that moment either finds the lock free (its flushPong takes it) or stored
// pongWanted before this releases it (sequentially consistent atomics), so this sees it and
// takes the lock back to send the pong.
func (c *Conn) unlockFrame(ctx context.Context) {
	if !c.pongWanted.Load() {
		c.frameLock.unlock()
		if !c.pongWanted.Load() || !c.frameLock.tryLock() {
			return
		}
	}
	var pongOut [frame.MaxControlPayload]byte // payload of the pong being sent
	for {
		c.mu.Lock()
		if !c.pongWanted.Load() || c.closeSent.Load() {
			c.pongWanted.Store(c.pongWanted.Load() && !c.closeSent.Load())
			c.frameLock.unlock()
			c.mu.Unlock()
			return
		}
		n := copy(pongOut[:], c.pongBuf[:c.pongN])
		c.pongWanted.Store(false)
		c.mu.Unlock()
		stop := c.watchWrite(ctx)
		err := c.fw.WriteControl(frame.OpPong, pongOut[:n])
		c.unwatchWrite(stop)
		if err == nil {
			continue
		}
		if isTimeout(err) && !errors.Is(err, frame.ErrIncompleteWrite) {
			c.mu.Lock()
			if !c.pongWanted.Load() {
				c.pongN = copy(c.pongBuf[:], pongOut[:n])
				c.pongWanted.Store(true)
			}
			c.frameLock.unlock()
			c.mu.Unlock()
			return
		}
		c.abort(lostConnection(err))
		c.frameLock.unlock()
		return
	}
}

// messageTypeError is ErrMessageType naming the type given.
func messageTypeError(typ MessageType) error {
	return fmt.Errorf("%w, not %v (%d)", ErrMessageType, typ, uint8(typ))
}

// controlTooLongError is ErrControlTooLong naming the payload's length.
func controlTooLongError(n int) error {
	return fmt.Errorf("%w: %d bytes", ErrControlTooLong, n)
}
