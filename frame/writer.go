package frame

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"

	"github.com/netkit/websocket/mask"
)

// Errors of Writer. Those about the frame asked for are the caller's mistakes and leave the
// Writer usable; ErrIncompleteWrite is sticky.
var (
	// ErrWriteReservedOpcode is returned for an opcode RFC 6455 reserves (§5.2).
	ErrWriteReservedOpcode = errors.New("frame: cannot write a frame with a reserved opcode")
	// ErrWriteControlTooLong is returned for a control payload over 125 bytes (§5.5).
	ErrWriteControlTooLong = errors.New("frame: cannot write a control frame with over 125 bytes of payload")
	// ErrWriteControlFragmented is returned for a control frame without FIN (§5.5).
	ErrWriteControlFragmented = errors.New("frame: cannot write a control frame without FIN")
	// ErrWriteRsv is returned for rsv bits outside Rsv1|Rsv2|Rsv3.
	ErrWriteRsv = errors.New("frame: rsv holds bits other than RSV1-RSV3")
	// ErrWritePending is returned by WriteFrame for a data frame while payload appended with
	// Append waits for Flush: the two frames would be out of order.
	ErrWritePending = errors.New("frame: data frame written while appended payload is pending")
	// ErrFlushControl is returned by Flush for a control opcode: appended payload is always
	// data; control frames are written whole with WriteFrame.
	ErrFlushControl = errors.New("frame: Flush writes data frames only")
	// ErrPrepareOpcode is returned by Prepare for an opcode other than text or binary: it
	// encodes whole data messages only.
	ErrPrepareOpcode = errors.New("frame: Prepare encodes text and binary frames only")
	// ErrPreparedHeader is returned by WritePrepared for a header longer than MaxHeaderSize:
	// not one Prepare made.
	ErrPreparedHeader = errors.New("frame: WritePrepared given a header longer than a frame header")
	// ErrIncompleteWrite is wrapped by the error of a write that sent part of a frame and
	// then failed. The peer now sees a truncated frame: the stream is corrupt and the
	// connection must be closed. Every later write on the Writer returns the same error.
	ErrIncompleteWrite = errors.New("frame: frame partially written, the stream is corrupt")
)

// Writer writes frames to a byte stream (§5.2): header and payload leave in one Write when
// they fit the Writer's buffer, the header being encoded into room reserved in front of the
// payload. A client's Writer masks every frame (§5.3) with a fresh key, masking while it copies
// into the buffer so the caller's bytes are never modified. The keys come from a ChaCha8
// generator of the Writer's own (math/rand/v2's ChaCha8, a cryptographically strong generator)
// seeded with 32 bytes from crypto/rand when the Writer masks its first frame: unpredictable to
// the peer and to any other connection, as §10.3 requires, for a few nanoseconds per key and
// no allocation per frame (BenchmarkMaskKey). The generator (320 bytes, one allocation and one
// crypto/rand read, about 0.5 us) is made once per Writer, on its first masked frame, so a
// server's Writer, and a client's that never wrote, holds none. A server's frame too large
// for the buffer goes out as net.Buffers{header, payload}, a single writev on a *net.TCPConn,
// without copying the payload. A client's frame too large for the buffer is masked into a
// scratch buffer borrowed from a pool for the time of the frame (sized to the frame, at most
// 256 KiB) and written in chunks of that size, so a 1 MiB frame takes a handful of Writes and
// nothing is allocated in steady state.
//
// Control frames, and data frames whose payload is at most MaxControlPayload bytes, use a small
// buffer inside the Writer; larger frames borrow the Writer's buffer from a pool for the
// time of the frame (or of the message being gathered with Append) and hand it back when it is
// written, so an idle Writer holds no buffer. Control frames can therefore be written between
// the data frames of a message whose payload is being gathered with Append.
//
// After a write error with no byte of the frame written (say, a write deadline), the Writer is
// unchanged and the write may be retried. After a partial write the error wraps
// ErrIncompleteWrite and the Writer is dead.
//
// A Writer is not safe for concurrent use. It allocates nothing per frame.
type Writer struct {
	dst     io.Writer
	role    Role
	size    int     // buffer size when taken
	bufp    *[]byte // pooled buffer; nil while released
	buf     []byte  // *bufp or nil; buf[:MaxHeaderSize] is room for the header
	n       int     // pending payload bytes at buf[MaxHeaderSize:MaxHeaderSize+n]
	key     [4]byte // masking key of the pending payload
	haveKey bool
	err     error // sticky, wraps ErrIncompleteWrite
	ctl     [MaxHeaderSize + MaxControlPayload]byte
	rng     *rand.ChaCha8 // masking-key generator, made by the first newKey
}

// NewWriter returns a Writer of frames to dst for an endpoint of the given role: a client
// masks its frames, a server does not (§5.1). bufSize is the buffer size: 0 means
// DefaultBufferSize, and it is rounded up to a power of two within MinBufferSize and
// MaxBufferSize; frames of up to bufSize-MaxHeaderSize payload bytes are written with a single
// Write. The buffer is taken from a pool for each data frame larger than MaxControlPayload and
// returned once it is written.
func NewWriter(dst io.Writer, role Role, bufSize int) *Writer {
	w := &Writer{}
	w.Init(dst, role, bufSize)
	return w
}

// Init makes w a new Writer as NewWriter does, for a Writer held by value inside another
// structure (one allocation less). w must not hold a buffer.
func (w *Writer) Init(dst io.Writer, role Role, size int) {
	*w = Writer{dst: dst, role: role, size: bufSize(size)}
}

// Reset makes w write to dst, dropping pending payload and a sticky error, and keeping its
// role and buffer size.
func (w *Writer) Reset(dst io.Writer) {
	w.dst = dst
	w.n, w.haveKey, w.err = 0, false, nil
	w.release()
}

// BufferSize returns the size of w's buffer.
func (w *Writer) BufferSize() int { return w.size }

// Release hands w's buffer back to the pool when no payload is pending and reports whether w
// is now without a buffer. The next data frame takes one again. Writes release the buffer
// themselves once their frame is out; Release is for a message abandoned after Append.
func (w *Writer) Release() bool {
	if w.n != 0 {
		return w.bufp == nil
	}
	w.release()
	return true
}

// release hands the buffer back to the pool, if w has one.
func (w *Writer) release() {
	if w.bufp != nil {
		putBuf(w.bufp)
		w.bufp, w.buf = nil, nil
	}
}

func (w *Writer) acquire() {
	if w.bufp == nil {
		w.bufp = getBuf(w.size)
		w.buf = *w.bufp
	}
}

// newKey draws a masking key from w's generator, seeding it from crypto/rand on the first
// call (see Writer).
func (w *Writer) newKey() (k [4]byte) {
	if w.rng == nil {
		w.rng = newKeySource()
	}
	v := w.rng.Uint64()
	k[0], k[1], k[2], k[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	return k
}

// newKeySource returns a masking-key generator: a ChaCha8 seeded with 32 bytes from
// crypto/rand (whose Read never fails).
func newKeySource() *rand.ChaCha8 {
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	g := rand.NewChaCha8(seed)
	clear(seed[:])
	return g
}

func checkWrite(fin bool, op Opcode, rsv byte, n int) error {
	switch {
	case op.IsReserved():
		return ErrWriteReservedOpcode
	case rsv&^7 != 0:
		return ErrWriteRsv
	case op.IsControl() && n > MaxControlPayload:
		return ErrWriteControlTooLong
	case op.IsControl() && !fin:
		return ErrWriteControlFragmented
	}
	return nil
}

// WriteFrame writes one frame with the given FIN bit, opcode, RSV bits and payload. The frame
// is written with one Write when header and payload fit the buffer (always, for a control
// frame); otherwise as described on Writer. payload is not modified nor retained.
//
// It returns the caller's mistakes (ErrWriteReservedOpcode, ErrWriteRsv,
// ErrWriteControlTooLong, ErrWriteControlFragmented, ErrWritePending) before writing anything.
// An error of the destination is returned as is when no byte of the frame was written, and
// wrapped with ErrIncompleteWrite otherwise.
//
// WriteFrame allocates nothing.
func (w *Writer) WriteFrame(fin bool, op Opcode, rsv byte, payload []byte) error {
	if w.err != nil {
		return w.err
	}
	if err := checkWrite(fin, op, rsv, len(payload)); err != nil {
		return err
	}
	h := Header{Fin: fin, Rsv: rsv, Op: op, Length: int64(len(payload))}
	if w.role == RoleClient {
		h.Masked = true
		h.Key = w.newKey()
	}
	if !op.IsControl() && w.n != 0 {
		return ErrWritePending
	}
	if len(payload) <= MaxControlPayload {
		return w.writeSmall(h, payload)
	}
	return w.writeData(h, payload)
}

// ErrNotControl is returned by WriteControl for a data opcode.
var ErrNotControl = errors.New("frame: WriteControl writes control frames only")

// WriteControl writes a control frame (ping, pong or close) with payload, like WriteFrame with
// FIN set. Unlike WriteFrame, whose payload may go to a writev, it never lets payload escape, so
// a payload in a caller's stack array stays there. It allocates nothing.
func (w *Writer) WriteControl(op Opcode, payload []byte) error {
	if w.err != nil {
		return w.err
	}
	if !op.IsControl() {
		return ErrNotControl
	}
	if err := checkWrite(true, op, 0, len(payload)); err != nil {
		return err
	}
	h := Header{Fin: true, Op: op, Length: int64(len(payload))}
	if w.role == RoleClient {
		h.Masked = true
		h.Key = w.newKey()
	}
	return w.writeSmall(h, payload)
}

// writeSmall writes a frame whose payload is at most MaxControlPayload bytes through the
// Writer's small buffer, in one Write.
func (w *Writer) writeSmall(h Header, payload []byte) error {
	hs := h.Encode(w.ctl[:])
	if h.Masked {
		mask.Copy(w.ctl[hs:], payload, h.Key, 0)
	} else {
		copy(w.ctl[hs:], payload)
	}
	_, err := w.write(w.ctl[:hs+len(payload)], 0)
	return err
}

// writeData writes a data frame larger than MaxControlPayload.
func (w *Writer) writeData(h Header, payload []byte) error {
	hs := h.Size()
	if len(payload) <= w.size-MaxHeaderSize {
		w.acquire()
		start := MaxHeaderSize - hs
		h.Encode(w.buf[start:])
		if h.Masked {
			mask.Copy(w.buf[MaxHeaderSize:], payload, h.Key, 0)
		} else {
			copy(w.buf[MaxHeaderSize:], payload)
		}
		_, err := w.write(w.buf[start:MaxHeaderSize+len(payload)], 0)
		w.release()
		return err
	}
	if !h.Masked {
		// Header from the small buffer, payload from the caller's slice: writev, no copy.
		h.Encode(w.ctl[:])
		return w.writeVec(w.ctl[:hs], payload)
	}
	// Masked and larger than the buffer: mask into a scratch buffer borrowed from the pool for
	// the time of this frame, which holds the whole frame up to max(maxScratch, buffer size)
	// bytes, so that a large frame takes one Write per chunk of that size rather than one per
	// buffer.
	sp := getBuf(bufSize(min(hs+len(payload), max(maxScratch, w.size))))
	err := w.writeChunked(*sp, 0, h, payload)
	putBuf(sp)
	return err
}

// writeVec writes a frame's header and payload with one writev (on a *net.TCPConn), without
// copying either.
func (w *Writer) writeVec(hdr, payload []byte) error {
	v := iovecs.get()
	v.vec[0], v.vec[1] = hdr, payload
	v.bufs = v.vec[:]
	n, err := v.bufs.WriteTo(w.dst)
	v.vec[0], v.vec[1], v.bufs = nil, nil, nil
	iovecs.put(v)
	if err == nil && n < int64(len(hdr)+len(payload)) {
		err = io.ErrShortWrite
	}
	return w.fail(err, n)
}

// Prepare encodes a whole data frame (FIN set, opcode op, no RSV bit) ahead of writing it:
// its header into hdr, of which it returns the length, and its payload into dst, which must
// be at least len(payload) bytes long. With masked (a client's frame, §5.3) the payload is
// masked while it is copied, with a fresh key from crypto/rand; otherwise it is copied as it
// is. WritePrepared later writes the frame without touching its bytes again. A caller that
// must copy a message anyway, to keep it past the call that handed it over (a send queue),
// copies and masks it in one pass this way, instead of copying it now and masking it into
// the Writer's buffer when it is written.
//
// op must be OpText or OpBinary (ErrPrepareOpcode otherwise). Prepare allocates nothing.
func Prepare(hdr *[MaxHeaderSize]byte, dst []byte, op Opcode, payload []byte, masked bool) (int, error) {
	if op != OpText && op != OpBinary {
		return 0, ErrPrepareOpcode
	}
	h := Header{Fin: true, Op: op, Length: int64(len(payload)), Masked: masked}
	if masked {
		_, _ = crand.Read(h.Key[:]) // never fails (crypto/rand, Go 1.24 and later)
		mask.Copy(dst, payload, h.Key, 0)
	} else {
		copy(dst, payload)
	}
	return h.Encode(hdr[:]), nil
}

// WritePrepared writes a frame that Prepare encoded: hdr, its header, and payload, its payload
// as Prepare left it, with one writev and no copy. hdr may also be empty and payload hold
// whole frames encoded back to back (a batch of messages): they go out with one write. Errors
// are as for WriteFrame: ErrWritePending while appended payload waits for Flush,
// ErrPreparedHeader for a header over MaxHeaderSize bytes, and after a write that sent part of
// the frame an error wrapping ErrIncompleteWrite. It allocates nothing.
func (w *Writer) WritePrepared(hdr, payload []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.n != 0 {
		return ErrWritePending
	}
	if len(hdr) > MaxHeaderSize {
		return ErrPreparedHeader
	}
	// From the Writer's small buffer, so that the caller's hdr (often in a struct on its
	// stack) does not escape through the writev.
	n := copy(w.ctl[:], hdr)
	return w.writeVec(w.ctl[:n], payload)
}

// iovec is the argument of one writev: a frame's header and payload. It is pooled rather than
// held by each Writer, which keeps an idle connection smaller.
type iovec struct {
	vec  [2][]byte
	bufs net.Buffers
}

// iovecs keeps the iovecs of writes done (see freeList: the pool of a busy server writing large
// frames would be refilled after every garbage collection).
var iovecs = newFreeList(freeMax, func() *iovec { return new(iovec) })

// maxScratch is the largest scratch buffer a client's Writer borrows to mask a frame larger
// than its own buffer; a larger frame is written in chunks of this size.
const maxScratch = 256 << 10

// writeChunked writes a masked frame through b, whose chunks it fills in turn: the header is
// encoded at b[start:] and followed by the first part of the payload, then the rest goes in
// whole chunks of b (the last one shorter). A write error is returned as by w.write.
func (w *Writer) writeChunked(b []byte, start int, h Header, payload []byte) error {
	end := start + h.Encode(b[start:])
	k := min(len(b)-end, len(payload))
	pos := mask.Copy(b[end:], payload[:k], h.Key, 0)
	written, err := w.write(b[start:end+k], 0)
	for off := k; err == nil && off < len(payload); off += k {
		k = min(len(b), len(payload)-off)
		pos = mask.Copy(b, payload[off:off+k], h.Key, pos)
		written, err = w.write(b[:k], written)
	}
	return err
}

// write writes b, the part of a frame that follows written bytes already sent, and returns the
// new count of bytes of the frame written.
func (w *Writer) write(b []byte, written int64) (int64, error) {
	n, err := w.dst.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	written += int64(n)
	return written, w.fail(err, written)
}

// fail turns a write error after written bytes of a frame into the error to return.
func (w *Writer) fail(err error, written int64) error {
	if err == nil || written == 0 {
		return err
	}
	w.err = fmt.Errorf("%w after %d bytes: %w", ErrIncompleteWrite, written, err)
	return w.err
}

// Buffered returns the number of payload bytes appended with Append and not yet flushed.
func (w *Writer) Buffered() int { return w.n }

// Available returns how many more payload bytes Append can take before the buffer is full.
func (w *Writer) Available() int {
	return w.size - MaxHeaderSize - w.n
}

// Append copies as much of p as fits into the payload of the pending data frame, masking it
// for a client, and returns the number of bytes taken. Flush writes the pending frame. p is not
// modified nor retained. Append allocates nothing.
func (w *Writer) Append(p []byte) int {
	w.acquire()
	if !w.haveKey && w.role == RoleClient {
		w.key, w.haveKey = w.newKey(), true
	}
	dst := w.buf[MaxHeaderSize+w.n:]
	if len(p) > len(dst) {
		p = p[:len(dst)]
	}
	if w.role == RoleClient {
		mask.Copy(dst, p, w.key, w.n)
	} else {
		copy(dst, p)
	}
	w.n += len(p)
	return len(p)
}

// Flush writes the payload gathered by Append (possibly none) as one data frame with the given
// FIN bit, opcode and RSV bits, in a single Write. On an error with no byte written the payload
// stays pending, and Flush may be retried.
//
// Flush allocates nothing.
func (w *Writer) Flush(fin bool, op Opcode, rsv byte) error {
	if w.err != nil {
		return w.err
	}
	if err := checkWrite(fin, op, rsv, w.n); err != nil {
		return err
	}
	if op.IsControl() {
		return ErrFlushControl
	}
	w.acquire()
	if !w.haveKey && w.role == RoleClient {
		w.key, w.haveKey = w.newKey(), true
	}
	h := Header{Fin: fin, Rsv: rsv, Op: op, Length: int64(w.n), Masked: w.role == RoleClient, Key: w.key}
	start := MaxHeaderSize - h.Size()
	h.Encode(w.buf[start:])
	if _, err := w.write(w.buf[start:MaxHeaderSize+w.n], 0); err != nil {
		return err
	}
	w.n, w.haveKey = 0, false
	w.release()
	return nil
}

// DiscardPending drops the payload gathered by Append and hands the buffer back.
func (w *Writer) DiscardPending() {
	w.n, w.haveKey = 0, false
	w.release()
}
