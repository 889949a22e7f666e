package frame

import (
	"errors"
	"io"

	"github.com/netkit/websocket/mask"
)

// Buffer sizes of Reader and Writer. Sizes are rounded up to a power of two so that buffers of
// one size class share a pool (see pool.go).
const (
	// DefaultBufferSize is the buffer size NewReader and NewWriter use when given 0.
	DefaultBufferSize = 4096
	// MinBufferSize is the smallest buffer: a whole control frame (header and 125-byte payload)
	// always fits, so control payloads are always handed out by Payload.
	MinBufferSize = 256
	// MaxBufferSize is the largest buffer; larger requests are clamped to it.
	MaxBufferSize = 1 << 20
)

// BufferSource is an optional interface of a Reader's source, for waiting for input without
// holding a buffer. When a Reader has no unread input, it hands its buffer back to the pool
// and calls ReadBuffer instead of Read.
type BufferSource interface {
	io.Reader
	// ReadBuffer waits until input is ready, then takes a buffer of size bytes with GetBuffer
	// (size is the Reader's BufferSize, or a larger size class while input streams in; see
	// Reader) and reads into it. It returns the buffer and n > 0 bytes read, or no buffer and
	// an error (io.EOF at the end of input); a buffer taken while waiting must be given back
	// with PutBuffer. An error returned with a buffer and bytes is reported after those bytes,
	// as for Read (see Reader). It obeys the source's read deadline.
	ReadBuffer(size int) (buf *[]byte, n int, err error)
}

// ErrPayloadTooBig is returned by Reader.Payload when the rest of the current frame's payload
// does not fit the Reader's buffer; Read streams it instead.
var ErrPayloadTooBig = errors.New("frame: payload does not fit the read buffer; use Read")

var errInvalidRead = errors.New("frame: source returned an invalid byte count")

// Reader reads frames from a byte stream: NextFrame decodes and validates each header (§5.2,
// §5.4, §5.5), and Payload or Read deliver the payload, unmasked (§5.3).
//
// The Reader buffers its input in a buffer taken from a pool on first use and handed back
// by Release when it holds no unread bytes, so an idle connection need not keep one. When its
// source is a BufferSource, a Reader with no unread input hands the buffer back by itself and
// waits for input without one.
//
// While input streams in faster than it is consumed (a read fills the whole buffer), the
// Reader takes larger buffers, doubling up to StreamBufferSize times BufferSize (at most
// MaxBufferSize), so that a flood of small frames costs fewer read calls; a read that fills
// less than a quarter of the buffer brings it back to BufferSize. BufferSize stays what
// Payload guarantees, and an idle Reader still holds no buffer.
//
// Every method is resumable: an error from the underlying reader (a read deadline, a cancelled
// context turned into a deadline, io.EOF) loses nothing. When the source returns bytes together
// with an error (n > 0 and err != nil, as io.Reader allows and crypto/tls does for the last
// record before a close_notify), the bytes are used first and the error is reported only by the
// next call that needs more input than is buffered, so a frame complete before the end of input
// is delivered whole. (A deadline error that came with data is not kept: the source reports it
// again while the deadline is past.) Bytes read before the error stay
// buffered, a header is consumed only once it is complete, and the payload position is kept, so
// calling the same method again after the cause is gone continues where the failed call stopped.
// Protocol violations (*ProtocolError) are sticky: every later call returns the same error.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	handed handout // payload last handed out (poisoned in wsdebug builds; empty otherwise)
	src    io.Reader
	lazy   BufferSource // src, when it is one
	role   Role
	rsv    byte    // RSV bits a negotiated extension allows
	size   int     // buffer size when taken
	cur    int     // size of the next buffer taken: size, or up to StreamBufferSize times it
	bufp   *[]byte // pooled buffer; nil while released
	buf    []byte  // *bufp or nil
	r, w   int     // unread bytes are buf[r:w]
	prefix []byte  // bytes to deliver before src, beyond what fitted in buf at Reset
	hdr    Header  // current frame
	remain int64   // unread payload bytes of the current frame
	pos    int     // mask key position of the next payload byte
	seq    Sequencer
	err    error // sticky protocol error
	srcErr error // error the source returned together with data, reported when input is needed
}

// NewReader returns a Reader of frames from src for an endpoint of the given role (a client
// rejects masked frames, a server unmasked ones). bufSize is the buffer size: 0 means
// DefaultBufferSize, and it is rounded up to a power of two within MinBufferSize and
// MaxBufferSize. The buffer is taken from a pool on the first read. No RSV bit is allowed until
// SetAllowedRsv says otherwise.
func NewReader(src io.Reader, role Role, bufSize int) *Reader {
	r := &Reader{}
	r.Init(src, role, bufSize)
	return r
}

// Init makes r a new Reader as NewReader does, for a Reader held by value inside another
// structure (one allocation less). r must not hold a buffer.
func (r *Reader) Init(src io.Reader, role Role, size int) {
	*r = Reader{src: src, role: role, size: bufSize(size)}
	r.cur = r.size
	r.lazy, _ = src.(BufferSource)
}

// Reset makes r read from src from the start of a frame stream, as if new, keeping its role,
// buffer size and allowed RSV bits. prefix holds bytes that belong to the stream before src
// (those read past the opening handshake); they are copied, so the caller may reuse prefix.
// Any unread input and the current frame are dropped.
func (r *Reader) Reset(src io.Reader, prefix []byte) {
	r.poison()
	r.src = src
	r.lazy, _ = src.(BufferSource)
	r.r, r.w = 0, 0
	r.prefix = nil
	r.hdr, r.remain, r.pos = Header{}, 0, 0
	r.seq.Reset()
	r.err, r.srcErr = nil, nil
	r.cur = r.size
	if len(prefix) > 0 {
		r.acquire()
		n := copy(r.buf, prefix)
		r.w = n
		if n < len(prefix) {
			r.prefix = append([]byte(nil), prefix[n:]...)
		}
	}
}

// SetAllowedRsv sets the RSV bits (Rsv1, Rsv2, Rsv3) that a negotiated extension defines;
// frames with other RSV bits set are rejected with ErrReservedBits.
func (r *Reader) SetAllowedRsv(rsv byte) { r.rsv = rsv & 7 }

// BufferSize returns the size of r's buffer: payloads up to this length are returned whole by
// Payload.
func (r *Reader) BufferSize() int { return r.size }

// Buffered returns the number of input bytes read from the source and not yet consumed.
func (r *Reader) Buffered() int { return r.w - r.r + len(r.prefix) }

// Header returns the header of the current frame, the one NextFrame returned last.
func (r *Reader) Header() Header { return r.hdr }

// Remaining returns the number of payload bytes of the current frame not yet delivered.
func (r *Reader) Remaining() int64 { return r.remain }

// Release hands r's buffer back to the pool if it holds no unread input, and reports whether
// the Reader is now without a buffer. The next read takes a buffer again. A payload slice
// returned by Payload is invalid after Release, as after any call on r.
func (r *Reader) Release() bool {
	r.poison()
	if r.bufp == nil {
		return true
	}
	if r.r != r.w {
		return false
	}
	putBuf(r.bufp)
	r.bufp, r.buf = nil, nil
	r.r, r.w = 0, 0
	return true
}

// Drop discards the unread input and hands r's buffer back to the pool, for a Reader that
// will not be read again (its connection is over). A later read would start from the source
// as if at a frame boundary.
func (r *Reader) Drop() {
	r.poison()
	r.prefix, r.srcErr = nil, nil
	if r.bufp != nil {
		putBuf(r.bufp)
		r.bufp, r.buf = nil, nil
	}
	r.r, r.w = 0, 0
}

// maxScan bounds the frames MessageBuffered looks at.
const maxScan = 16

// MessageBuffered reports whether the next data message can be read without waiting for the
// source: r is at a frame boundary and its buffer holds whole frames up to and including the
// final frame of a data message, or a close frame, or a header that fails decoding (the read
// then fails at once). Control frames and non-final data frames before it are looked past (at
// most 16 frames). It only peeks: it decodes headers, validates nothing else, consumes nothing
// and never reads from the source. A sticky error also reports true. It allocates nothing.
func (r *Reader) MessageBuffered() bool {
	if r.err != nil {
		return true
	}
	if r.remain > 0 || len(r.prefix) > 0 {
		return false
	}
	b := r.buf[r.r:r.w]
	var h Header
	for range maxScan {
		n, err := decodeHeader(&h, b)
		switch {
		case err == ErrShortHeader:
			return false
		case err != nil:
			return true
		case h.Length > int64(len(b)-n):
			return false
		case h.Op == OpClose || h.Fin && !h.Op.IsControl():
			return true
		}
		b = b[n+int(h.Length):]
	}
	return false
}

// NextFrame reads the next frame header, skipping what is left of the current frame's payload,
// and validates it: DecodeHeader's encoding rules, Check's per-frame rules for r's role and
// allowed RSV bits, and Sequencer's fragmentation rules (§5.4). A violation is returned as a
// *ProtocolError and is sticky. At a clean end of input (no byte of a next header) it returns
// io.EOF; input ending inside a frame is io.ErrUnexpectedEOF.
//
// NextFrame allocates nothing.
func (r *Reader) NextFrame() (Header, error) {
	r.poison()
	if r.err != nil {
		return Header{}, r.err
	}
	if r.remain > 0 {
		if err := r.discard(); err != nil {
			return Header{}, err
		}
	}
	var (
		h   Header
		n   int
		err error
	)
	for {
		n, err = decodeHeader(&h, r.buf[r.r:r.w])
		if err == nil {
			break
		}
		if err != ErrShortHeader {
			r.err = err
			return Header{}, err
		}
		if err = r.fill(n); err != nil {
			if err == io.EOF && r.r != r.w {
				err = io.ErrUnexpectedEOF
			}
			return Header{}, err
		}
	}
	if err = Check(&h, r.role, r.rsv); err == nil {
		err = r.seq.Next(&h)
	}
	if err != nil {
		r.err = err
		return Header{}, err
	}
	r.r += n
	r.hdr, r.remain, r.pos = h, h.Length, 0
	if h.Length > int64(r.size) {
		// Large payloads are read past the buffer, straight into the caller's: a larger
		// buffer would only add a copy.
		r.cur = r.size
	}
	return h, nil
}

// NextMessage is NextFrame and Payload in one step for the common case of a whole unfragmented
// data message whose frame is already buffered: when r is at a frame boundary, holds no
// sticky error, and its buffer holds the next frame's header and all its payload, and that
// frame is a text or binary frame with FIN set (a message of one frame, §5.4) that passes
// NextFrame's checks (§5.2, §5.5), NextMessage consumes the frame and returns its header and
// its payload, unmasked (§5.3), as a slice of r's buffer, valid as Payload's. In any other case
// it returns ok false and consumes nothing, so the caller goes on with NextFrame, which meets
// an invalid header again and reports it. It never reads from the source.
//
// NextMessage allocates nothing.
func (r *Reader) NextMessage() (h Header, p []byte, ok bool) {
	r.poison()
	if r.remain > 0 || r.err != nil {
		return Header{}, nil, false
	}
	b := r.buf[r.r:r.w]
	if len(b) < 2 || b[0]&0x8F != 0x80|byte(OpText) && b[0]&0x8F != 0x80|byte(OpBinary) {
		return Header{}, nil, false // short, not final, or not a data frame: the general path
	}
	n, err := decodeHeader(&h, b)
	if err != nil || h.Length > int64(len(b)-n) {
		return Header{}, nil, false
	}
	if Check(&h, r.role, r.rsv) != nil || r.seq.Next(&h) != nil {
		return Header{}, nil, false // nothing changed: NextFrame finds the error again
	}
	end := n + int(h.Length)
	p = b[n:end:end]
	if h.Masked {
		mask.Mask(p, h.Key, 0)
	}
	r.r += end
	r.hdr, r.remain, r.pos = h, 0, 0
	r.handed.set(p)
	return h, p, true
}

// Payload returns the rest of the current frame's payload, unmasked, as a slice of r's buffer,
// reading it whole first. When it does not fit the buffer (Remaining() > BufferSize()) it
// returns ErrPayloadTooBig and the payload is left for Read. Control payloads (at most 125
// bytes) always fit.
//
// The slice is valid until the next call of any method on r; do not retain it. Builds with the
// tag wsdebug overwrite it on that next call, so a use after it shows up as garbage in tests.
// Payload allocates nothing.
func (r *Reader) Payload() ([]byte, error) {
	r.poison()
	if r.err != nil {
		return nil, r.err
	}
	if r.remain > int64(r.size) {
		return nil, ErrPayloadTooBig
	}
	n := int(r.remain)
	if n == 0 {
		return nil, nil
	}
	if err := r.fill(n); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	p := r.buf[r.r : r.r+n : r.r+n]
	if r.hdr.Masked {
		r.pos = mask.Mask(p, r.hdr.Key, r.pos)
	}
	r.r += n
	r.remain = 0
	r.handed.set(p)
	return p, nil
}

// Read reads up to len(p) bytes of the current frame's payload into p, unmasked, and returns
// io.EOF once the frame's payload has been read whole. When r's buffer is empty and p is at
// least as large as the buffer, it reads from the source straight into p, without a copy.
// Input ending inside the payload is io.ErrUnexpectedEOF. A direct read that brings bytes and
// an error returns the bytes with a nil error; the error comes with the next call that needs
// input (see Reader).
//
// Read allocates nothing.
func (r *Reader) Read(p []byte) (n int, err error) {
	r.poison()
	if r.err != nil {
		return 0, r.err
	}
	if r.remain == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > r.remain {
		p = p[:r.remain]
	}
	switch {
	case r.r < r.w:
		n = copy(p, r.buf[r.r:r.w])
		r.r += n
	case len(r.prefix) > 0:
		n = copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		if len(r.prefix) == 0 {
			r.prefix = nil
		}
	case len(p) >= r.size:
		n, err = r.readSource(p)
	default:
		if err = r.fill(1); err == nil {
			n = copy(p, r.buf[r.r:r.w])
			r.r += n
		}
	}
	if n > 0 {
		if r.hdr.Masked {
			r.pos = mask.Mask(p[:n], r.hdr.Key, r.pos)
		}
		r.remain -= int64(n)
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Next returns the next part of the current frame's payload, unmasked, as a slice of r's
// buffer: what is buffered, or what one read of the source brings when nothing is. It returns
// io.EOF once the frame's payload has been read whole, and io.ErrUnexpectedEOF when input ends
// inside it. The slice is valid until the next call of any method on r. Next allocates
// nothing.
func (r *Reader) Next() ([]byte, error) {
	r.poison()
	if r.err != nil {
		return nil, r.err
	}
	if r.remain == 0 {
		return nil, io.EOF
	}
	if r.r == r.w {
		if err := r.fill(1); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	n := int(min(int64(r.w-r.r), r.remain))
	p := r.buf[r.r : r.r+n : r.r+n]
	if r.hdr.Masked {
		r.pos = mask.Mask(p, r.hdr.Key, r.pos)
	}
	r.r += n
	r.remain -= int64(n)
	r.handed.set(p)
	return p, nil
}

// discard skips the rest of the current frame's payload.
func (r *Reader) discard() error {
	for r.remain > 0 {
		if r.r == r.w {
			if len(r.prefix) > 0 {
				k := int64(len(r.prefix))
				if k > r.remain {
					k = r.remain
				}
				r.prefix = r.prefix[k:]
				r.remain -= k
				continue
			}
			if err := r.fill(1); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
		k := int64(r.w - r.r)
		if k > r.remain {
			k = r.remain
		}
		r.r += int(k)
		r.remain -= k
	}
	return nil
}

// acquire takes a buffer from the pool if r has none.
func (r *Reader) acquire() {
	if r.bufp == nil {
		r.bufp = getBuf(r.cur)
		r.buf = *r.bufp
		r.r, r.w = 0, 0
	}
}

// fill reads until at least need (<= r.size) unread bytes are buffered. It reads as much as the
// source returns, which may be more. Bytes read before an error are kept.
func (r *Reader) fill(need int) error {
	if r.lazy != nil && r.r == r.w && len(r.prefix) == 0 {
		if err := r.fillLazy(); err != nil {
			return err
		}
	}
	r.acquire()
	if r.r+need > len(r.buf) {
		if r.cur != len(r.buf) && r.w-r.r <= r.cur {
			// Move to the buffer size adapt chose, carrying the unread bytes over.
			bp := getBuf(r.cur)
			r.w = copy(*bp, r.buf[r.r:r.w])
			putBuf(r.bufp)
			r.bufp, r.buf = bp, *bp
		} else {
			r.w = copy(r.buf, r.buf[r.r:r.w])
		}
		r.r = 0
	} else if r.r == r.w {
		r.r, r.w = 0, 0
	}
	for empty := 0; r.w-r.r < need; {
		if len(r.prefix) > 0 {
			n := copy(r.buf[r.w:], r.prefix)
			r.w += n
			r.prefix = r.prefix[n:]
			if len(r.prefix) == 0 {
				r.prefix = nil
			}
			continue
		}
		n, err := r.readSource(r.buf[r.w:])
		if err != nil {
			return err
		}
		r.adapt(n, len(r.buf)-r.w)
		r.w += n
		if n == 0 {
			if empty++; empty >= 100 {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}

// readSource reads from r's source into p. An error returned together with bytes is kept
// in srcErr (unless it is a deadline, which the source reports again) and the bytes are returned
// with a nil error; the next readSource returns the kept error without reading. So the bytes
// before an end of input are always used, and the error is reported only when more input is
// needed. A byte count outside [0, len(p)] is errInvalidRead.
func (r *Reader) readSource(p []byte) (int, error) {
	if err := r.srcErr; err != nil {
		r.srcErr = nil
		return 0, err
	}
	n, err := r.src.Read(p)
	if n < 0 || n > len(p) {
		return 0, errInvalidRead
	}
	if n > 0 && err != nil {
		r.keep(err)
		err = nil
	}
	return n, err
}

// keep records err, which the source returned together with input, for the next read of the
// source; a deadline error is dropped, since the source returns it again while it holds.
func (r *Reader) keep(err error) {
	var t interface{ Timeout() bool }
	if errors.As(err, &t) && t.Timeout() {
		return
	}
	r.srcErr = err
}

// StreamBufferSize is how many times its BufferSize a Reader's buffer grows to at most while
// input streams in (see Reader).
const StreamBufferSize = 4

// adapt sets the size of the next buffer from a read that returned n bytes into room, the
// free end of r's buffer: double it (up to StreamBufferSize times BufferSize) when the read
// filled the room of a buffer of the current size, back to BufferSize when it filled less than
// a quarter of its room.
func (r *Reader) adapt(n, room int) {
	switch {
	case n == room && len(r.buf) == r.cur && r.cur < min(StreamBufferSize*r.size, MaxBufferSize):
		r.cur *= 2
	case n < room/4 && r.cur != r.size:
		r.cur = r.size
	}
}

// WaitInput waits until input is buffered, for a Reader whose source is a BufferSource and
// that has none: it hands its buffer back to the pool, and the source reads into a pooled
// buffer only once input is ready. With input buffered, or another source, it returns nil at
// once. An error of the source is returned, and the next read would meet it again. Its call
// chain is short, so that a goroutine waiting in it needs little stack.
func (r *Reader) WaitInput() error {
	if r.lazy == nil || r.r != r.w || len(r.prefix) > 0 || r.err != nil {
		return nil
	}
	if r.srcErr != nil {
		return r.srcErr // kept for the next read, which reports it
	}
	return r.fillLazy()
}

// fillLazy waits for input holding no buffer and adopts the buffer the BufferSource read it
// into. The caller has checked that r holds no unread input. An error kept by readSource, or
// returned by ReadBuffer together with input, is handled as readSource does.
func (r *Reader) fillLazy() error {
	if err := r.srcErr; err != nil {
		r.srcErr = nil
		return err
	}
	if r.bufp != nil {
		putBuf(r.bufp)
		r.bufp, r.buf = nil, nil
	}
	r.r, r.w = 0, 0
	bp, n, err := r.lazy.ReadBuffer(r.cur)
	if bp == nil {
		if err == nil {
			err = errInvalidRead
		}
		return err
	}
	if n <= 0 || n > len(*bp) || len(*bp) != r.cur {
		putBuf(bp)
		return errInvalidRead
	}
	r.bufp, r.buf, r.w = bp, *bp, n
	r.adapt(n, r.cur)
	if err != nil {
		r.keep(err)
	}
	return nil
}

// poison overwrites the payload last handed out by Payload or Next in wsdebug builds; it
// compiles to nothing otherwise.
func (r *Reader) poison() { r.handed.poison() }
