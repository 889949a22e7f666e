package conn

import (
	"context"
	"errors"
	"io"

	"github.com/netkit/websocket/frame"
)

// DefaultCompressionThreshold is the default of Compression.Threshold: messages shorter than
// 128 bytes go out uncompressed. BenchmarkCompressedWrite (JSON-like text, window 2^15, no
// takeover, 2 shared cores) shows why: a 64-byte message comes out at 109% of its size after
// 1.3 µs of work (the block header and Huffman tables cost more than they save), a 128-byte
// one at 62% in 3.6 µs, 256 bytes at 37% in 3.9 µs. Node's ws uses 1024, gws 512; 128 also
// compresses the short JSON messages of chat and telemetry protocols.
const DefaultCompressionThreshold = 128

// MessageCompressor compresses the data messages one end of a connection sends, one message at
// a time, under a per-message compression extension such as permessage-deflate (RFC 7692).
// package deflate's *Compressor implements it. The Conn calls it from one goroutine at a time,
// in the order the messages go out on the wire.
type MessageCompressor interface {
	// AppendMessage compresses msg as one whole message and appends the payload to send to
	// dst.
	AppendMessage(dst, msg []byte) ([]byte, error)
	// StartMessage starts a streamed message whose compressed payload is written to dst as
	// the message is written; Close ends it. Only one message is open at a time.
	StartMessage(dst io.Writer) (io.WriteCloser, error)
	// Reset forgets any context carried from previous messages (the takeover dictionary).
	// The Conn calls it when a compressed message could not be sent, so that no later
	// message refers to it.
	Reset()
}

// MessageDecompressor inflates the compressed data messages one end of a connection receives.
// package deflate's *Decompressor implements it.
type MessageDecompressor interface {
	// StartMessage starts inflating a message whose compressed payload (all its frames) is
	// read from payload until io.EOF; the reader yields the inflated bytes and fails once
	// more than limit bytes came out (limit <= 0: no limit). Errors of payload are returned
	// as they are. Close releases what the message holds.
	StartMessage(payload io.Reader, limit int64) (io.ReadCloser, error)
	// CloseCode returns the close code (RFC 6455 §7.4.1) for an error of the reader: 1009
	// for an inflated message over the limit, 1007 or 1002 for a bad compressed stream, 0
	// for an error that is not the decompressor's.
	CloseCode(err error) int
}

// Compression is a per-message compression extension agreed in the opening handshake, such as
// permessage-deflate (RFC 7692). With it, Conn accepts RSV1 on the first frame of a data
// message and inflates such messages as they are read; it compresses the messages it sends
// and sets RSV1 on their first frame. Control frames are never compressed. Messages that the
// peer sends without RSV1 are delivered as they are, and never reach the decompressor.
//
// A Compression belongs to one connection: its compressor and decompressor carry that
// connection's context. Make new ones for every connection.
type Compression struct {
	// Compressor compresses outgoing messages; Decompressor inflates incoming ones. Both
	// must be set. For permessage-deflate they come from deflate.Parameters.NewCodecs.
	Compressor   MessageCompressor
	Decompressor MessageDecompressor
	// Threshold is the size under which WriteMessage and Enqueue send a message uncompressed
	// (and keep it out of the compression context): default DefaultCompressionThreshold, 128
	// bytes; negative compresses every message. A message streamed with NextWriter is always
	// compressed, as its size is not known when it starts.
	Threshold int
}

// compState is the compression state of a Conn with Config.Compression.
type compState struct {
	comp      MessageCompressor
	dec       MessageDecompressor
	threshold int
	src       compSource    // the current compressed message's payload, for zr
	zr        io.ReadCloser // inflater of the current message; nil between messages
}

func newCompState(cfg *Compression) *compState {
	z := &compState{comp: cfg.Compressor, dec: cfg.Decompressor, threshold: cfg.Threshold}
	switch {
	case z.threshold == 0:
		z.threshold = DefaultCompressionThreshold
	case z.threshold < 0:
		z.threshold = 0
	}
	return z
}

// compresses reports whether a message of n bytes is sent compressed.
func (c *Conn) compresses(n int) bool { return c.z != nil && n >= c.z.threshold }

// wireLimit is the limit on the wire size of a compressed message: MaxMessageSize applies to
// the inflated size, and DEFLATE stored blocks make incompressible data a little larger
// (5 bytes per 65,535). It keeps a peer from streaming an endless compressed message that
// inflates to nothing.
func (c *Conn) wireLimit() int64 {
	if c.maxSize < 0 {
		return -1
	}
	return c.maxSize + c.maxSize>>8 + 1024
}

// inflateLimit is the limit given to the decompressor.
func (c *Conn) inflateLimit() int64 {
	if c.maxSize < 0 {
		return 0
	}
	return c.maxSize
}

// compSource reads the compressed payload of the current message across its frames, handling
// control frames on the way as the uncompressed paths do, or from whole, a message that was
// buffered whole. The caller holds readLock.
type compSource struct {
	c     *Conn
	ctx   context.Context
	whole []byte
	done  bool
	abort bool // the message is given up: the inflater must read no more
}

// errInflateAborted stops an inflater whose message was given up.
var errInflateAborted = errors.New("websocket: compressed message given up")

func (s *compSource) Read(p []byte) (int, error) {
	if s.abort {
		return 0, errInflateAborted
	}
	if s.done {
		return 0, io.EOF
	}
	if s.whole != nil {
		n := copy(p, s.whole)
		s.whole = s.whole[n:]
		if len(s.whole) == 0 {
			s.done = true
		}
		return n, nil
	}
	c := s.c
	for {
		if err := c.advance(s.ctx); err != nil {
			if err == errMessageEnd {
				s.done = true
				return 0, io.EOF
			}
			if err == io.EOF {
				// The connection ended between two frames of the message: to the inflater
				// that is not the end of the message, whose io.EOF this would be.
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if len(p) == 0 {
			return 0, nil
		}
		n, err := c.fr.Read(p)
		if err != nil && err != io.EOF {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if n > 0 {
			return n, nil
		}
	}
}

// startInflate starts the inflater of the current compressed message, whose payload is read
// from the frames (src) or, for a message buffered whole, from whole.
func (c *Conn) startInflate(ctx context.Context, whole []byte) error {
	z := c.z
	z.src = compSource{c: c, ctx: ctx, whole: whole, done: whole != nil && len(whole) == 0}
	zr, err := z.dec.StartMessage(&z.src, c.inflateLimit())
	if err != nil {
		return c.inflateError(err)
	}
	z.zr = zr
	c.utf8.Reset()
	return nil
}

// endInflate releases the inflater of the current message and returns its error, if any.
// With abort the inflater reads no more input; otherwise, with context takeover, it inflates
// the rest of a message not read to its end, to keep its dictionary right.
func (c *Conn) endInflate(abort bool) error {
	z := c.z
	if z.zr == nil {
		return nil
	}
	z.src.abort = abort
	err := z.zr.Close()
	z.zr = nil
	z.src = compSource{}
	return err
}

// errInflateInterrupted is the cause of the end of a connection whose read of a compressed
// message was interrupted by a context or a deadline.
var errInflateInterrupted = errors.New("websocket: read of a compressed message interrupted; an inflater cannot resume, connection closed")

// inflateFailed turns an error met while inflating into what the read returns, releasing the
// inflater: the decompressor's own errors fail the connection with their close code (1007,
// 1009, 1002); an interrupted read (context, deadline) cannot be resumed, as the inflater
// has consumed part of the input, so it fails the connection with 1011; other errors are
// those of reading frames.
func (c *Conn) inflateFailed(ctx context.Context, err error) error {
	c.endInflate(true)
	if code := c.z.dec.CloseCode(err); code != 0 {
		return c.inflateError(err)
	}
	if isTimeout(err) || err == ctx.Err() {
		c.failWith(frame.CloseInternalError, "read of a compressed message interrupted", errInflateInterrupted)
		c.fr.Drop()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return err
	}
	return c.readError(ctx, err)
}

// inflateError fails the connection for an error of the decompressor.
func (c *Conn) inflateError(err error) error {
	code := frame.CloseCode(c.z.dec.CloseCode(err))
	if code == 0 {
		code = frame.CloseInvalidPayload
	}
	reason := "invalid compressed data"
	switch code {
	case frame.CloseMessageTooBig:
		reason = "inflated message too big"
	case frame.CloseProtocolError:
		reason = "invalid compressed message"
	}
	c.fr.Drop()
	return c.fail(&frame.ProtocolError{Code: code, Reason: reason})
}

// readInflated reads the rest of the current compressed message into buf, inflating it. The
// inflater is started. The caller holds readLock.
func (c *Conn) readInflated(ctx context.Context, buf []byte, hint int) (MessageType, []byte, error) {
	zr := c.z.zr
	typ := c.msgType
	for {
		if len(buf) == cap(buf) {
			if c.maxSize >= 0 && int64(len(buf)) >= c.maxSize {
				// One more byte would be over the limit: ask for it without growing buf.
				var one [1]byte
				n, err := zr.Read(one[:])
				if n > 0 {
					err = errors.New("websocket: internal error: inflater passed its limit")
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					return 0, buf[:0], c.inflateFailed(ctx, err)
				}
				continue
			}
			// Grow by the compressed size (a hint of what comes out), what buf holds
			// (doubling), at least 512 bytes, but never more than maxGrowStep ahead of the
			// data: a peer announcing a large frame gets memory only as it inflates.
			n := max(min(hint, maxGrowStep), len(buf), 512)
			if c.maxSize >= 0 {
				n = int(min(int64(n), c.maxSize-int64(len(buf))))
			}
			buf = c.growRead(buf, n)
		}
		n, err := zr.Read(buf[len(buf):cap(buf)])
		if n > 0 && typ == Text && !c.utf8.Write(buf[len(buf):len(buf)+n]) {
			c.endInflate(true)
			return 0, buf[:0], c.readError(ctx, frame.ErrInvalidUTF8)
		}
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, buf[:0], c.inflateFailed(ctx, err)
		}
	}
	if err := c.endInflate(false); err != nil {
		return 0, buf[:0], c.inflateFailed(ctx, err)
	}
	if typ == Text && !c.utf8.Done() {
		return 0, buf[:0], c.readError(ctx, frame.ErrInvalidUTF8)
	}
	if c.fr.Buffered() == 0 {
		c.fr.Release() // an idle connection holds no read buffer
	}
	return typ, buf, nil
}

// compressBuf holds a compressed payload on its way out.
type compressBuf struct {
	pooled *[]byte
	b      []byte
}

// compress compresses p for sending; release must be called once the frame is written.
func (c *Conn) compress(p []byte) (compressBuf, error) {
	var cb compressBuf
	need := len(p) + len(p)>>6 + 64
	if need <= frame.MaxBufferSize {
		cb.pooled = frame.GetBuffer(need)
		cb.b = (*cb.pooled)[:0]
	}
	out, err := c.z.comp.AppendMessage(cb.b, p)
	if err != nil {
		c.z.comp.Reset()
		cb.release()
		return compressBuf{}, err
	}
	cb.b = out
	return cb, nil
}

func (cb *compressBuf) release() {
	if cb.pooled != nil {
		frame.PutBuffer(cb.pooled)
		cb.pooled = nil
	}
	cb.b = nil
}

// writeCompressed is WriteMessage for a message that is sent compressed: the message lock
// keeps the compressor's order that of the wire.
func (c *Conn) writeCompressed(ctx context.Context, typ MessageType, p []byte) error {
	if err := c.lockWrite(ctx, &c.msgLock); err != nil {
		return err
	}
	defer func() { c.msgLock.unlock() }()
	if c.closing() {
		return ErrClosed
	}
	cb, err := c.compress(p)
	if err != nil {
		return err
	}
	err = c.writeFrameRsv(ctx, typ, frame.Rsv1, cb.b)
	cb.release()
	if err != nil {
		// The peer did not receive the message that is now in our context: forget it.
		c.z.comp.Reset()
	}
	return err
}

// writeFrameRsv writes one final data frame with rsv under the frame lock.
func (c *Conn) writeFrameRsv(ctx context.Context, op frame.Opcode, rsv byte, p []byte) error {
	if err := c.lockWrite(ctx, &c.frameLock); err != nil {
		return err
	}
	defer c.unlockFrame(ctx)
	if c.closing() {
		return ErrClosed
	}
	stop := c.watchWrite(ctx)
	err := c.fw.WriteFrame(true, op, rsv, p)
	c.unwatchWrite(stop)
	if err != nil {
		return c.writeError(ctx, err)
	}
	return nil
}
