package deflate

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"weak"

	"github.com/klauspost/compress/flate"
)

// tail is what a sync flush ends with and what RFC 7692 §7.2.1 strips from every message
// (and §7.2.2 appends again before inflating).
var tail = [4]byte{0x00, 0x00, 0xff, 0xff}

// Compression levels for [ClientOptions.Level], [ServerOptions.Level] and
// [NewCompressorLevel]. RFC 7692 does not negotiate a level: each end picks its own.
const (
	// DefaultLevel (0) is github.com/klauspost/compress/flate's windowed encoder at every
	// window size: it compresses about like that library's level 5.
	DefaultLevel = 0
	// BestSpeed .. BestCompression are github.com/klauspost/compress/flate's levels 1 to 9.
	// They apply when the window is 2^15 bytes (no window bits below 15 were agreed for the
	// sending direction); below 15 bits that library has only its windowed encoder, which
	// DefaultLevel uses, and a Compressor uses it whatever the level.
	BestSpeed       = 1
	BestCompression = 9
)

// ErrInvalidLevel is returned for a compression level outside 0 to 9.
var ErrInvalidLevel = errors.New("websocket: deflate: compression level must be 0 (default) or 1 to 9")

func checkLevel(level int) error {
	if level < DefaultLevel || level > BestCompression {
		return fmt.Errorf("%w, got %d", ErrInvalidLevel, level)
	}
	return nil
}

// writerPools hold flate writers by kind: index bits-8 for the windowed encoder of each
// window bits (a writer's window is fixed when it is made), then levels 1 to 9 at 2^15.
var writerPools [MaxWindowBits - MinWindowBits + 1 + BestCompression]sync.Pool

// writerKind returns the pool index for a window and level: the windowed encoder below 15
// bits or at the default level, else the level's encoder.
func writerKind(bits, level int) int {
	if bits < MaxWindowBits || level == DefaultLevel {
		return bits - MinWindowBits
	}
	return MaxWindowBits - MinWindowBits + level
}

func getWriter(kind int, dst io.Writer, dict []byte) *flate.Writer {
	p := &writerPools[kind]
	if w, _ := p.Get().(*flate.Writer); w != nil {
		w.ResetDict(dst, dict)
		return w
	}
	var w *flate.Writer
	var err error
	if bits := kind + MinWindowBits; bits <= MaxWindowBits {
		w, err = flate.NewWriterWindow(dst, 1<<bits)
	} else {
		w, err = flate.NewWriter(dst, bits-MaxWindowBits)
	}
	if err != nil { // cannot happen: 256..32768 is within MinCustomWindowSize..MaxCustomWindowSize, levels 1..9 are valid
		panic("deflate: " + err.Error())
	}
	if len(dict) > 0 {
		w.ResetDict(dst, dict)
	}
	return w
}

func putWriter(kind int, w *flate.Writer) {
	w.ResetDict(nil, nil) // drop the references to dst and to the connection's dictionary
	writerPools[kind].Put(w)
}

// Compressor compresses the messages of one direction of one connection (RFC 7692 §7.2.1).
// It holds no flate state between messages: a pooled flate writer is taken when a message
// starts and given back when it ends. With context takeover it keeps the last 2^bits bytes
// sent (allocated on the first compressed message) and primes the next message's writer
// with them, so that no message refers back further than the window the peer allows.
//
// A Compressor handles one message at a time; it is not safe for concurrent use.
type Compressor struct {
	bits       int
	kind       int // writerPools index: window bits and level
	noTakeover bool
	dict       window
	mw         MessageWriter
	app        appender
	busy       bool
	// With context takeover, the flate writer of the last message, held weakly: until the
	// next garbage collection the next message continues it, its history being the
	// dictionary, instead of priming a pooled writer with up to 2^bits bytes (the cost of
	// takeover on small messages). A collection frees it, so an idle connection keeps only
	// dict.
	hot weak.Pointer[flate.Writer]
}

// NewCompressor returns a Compressor with an LZ77 window of 2^windowBits bytes (8 to 15)
// that resets its context after every message when noContextTakeover is set. For a
// negotiated [Parameters] p, a client uses p.ClientWindowBits() and
// p.ClientNoContextTakeover, a server p.ServerWindowBits() and p.ServerNoContextTakeover.
func NewCompressor(windowBits int, noContextTakeover bool) (*Compressor, error) {
	return NewCompressorLevel(windowBits, noContextTakeover, DefaultLevel)
}

// NewCompressorLevel is [NewCompressor] with a compression level: [DefaultLevel] (0), or 1
// ([BestSpeed]) to 9 ([BestCompression]), which applies only at windowBits 15 (below it the
// windowed encoder of DefaultLevel is used whatever the level). A level outside 0..9 is
// [ErrInvalidLevel].
func NewCompressorLevel(windowBits int, noContextTakeover bool, level int) (*Compressor, error) {
	if !validBits(windowBits) {
		return nil, errors.New("websocket: deflate: window bits must be 8 to 15, got " + strconv.Itoa(windowBits))
	}
	if err := checkLevel(level); err != nil {
		return nil, err
	}
	return &Compressor{bits: windowBits, kind: writerKind(windowBits, level), noTakeover: noContextTakeover,
		dict: window{size: 1 << windowBits}}, nil
}

// ErrBusy is returned when a Compressor or Decompressor is asked for a second message while
// one is still open.
var ErrBusy = errors.New("websocket: deflate: a message is already in progress")

// NewWriter starts a message whose compressed payload goes to dst. Write the message's bytes
// to the returned writer and Close it: Close flushes, drops the final 0x00 0x00 0xff 0xff
// (§7.2.1) and gives the flate writer back to its pool. The bytes written to dst before Close
// can already be sent (as frames of the message); the writer holds back only the last 4.
// Flush ends a deflate block so that everything written so far reaches dst.
//
// The returned writer is valid until Close and must not be used after: it lives inside the
// Compressor (no allocation per message), and the next NewWriter returns the same value.
func (c *Compressor) NewWriter(dst io.Writer) (*MessageWriter, error) {
	if c.busy {
		return nil, ErrBusy
	}
	c.busy = true
	c.mw = MessageWriter{c: c, tw: tailWriter{dst: dst}}
	if fw := c.hot.Value(); fw != nil {
		// The last message's writer, still alive: its destination is &c.mw.tw already.
		c.hot = weak.Pointer[flate.Writer]{}
		c.mw.fw = fw
		return &c.mw, nil
	}
	var dict []byte
	var scratch *[]byte
	if !c.noTakeover && c.dict.n > 0 {
		dict, scratch = c.dict.ordered()
	}
	c.mw.fw = getWriter(c.kind, &c.mw.tw, dict)
	putScratch(scratch) // the writer copied the dictionary into its own window
	return &c.mw, nil
}

// AppendMessage compresses msg as one whole message and appends the payload to send (the
// trailing 0x00 0x00 0xff 0xff removed) to dst.
//
// Allocation: none once the pools are warm and dst has room (BenchmarkCompressor).
func (c *Compressor) AppendMessage(dst, msg []byte) ([]byte, error) {
	c.app.b = dst
	w, err := c.NewWriter(&c.app)
	if err != nil {
		return dst, err
	}
	_, _ = w.Write(msg)
	err = w.Close()
	out := c.app.b
	c.app.b = nil
	if err != nil {
		return dst, err
	}
	return out, nil
}

// appender is an io.Writer that appends to a slice.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// MessageWriter compresses one message; see [Compressor.NewWriter].
type MessageWriter struct {
	c   *Compressor
	fw  *flate.Writer
	tw  tailWriter
	err error
}

// Write compresses p. Errors are those of the destination writer.
func (w *MessageWriter) Write(p []byte) (int, error) {
	if w.fw == nil {
		return 0, errClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.fw.Write(p)
	if !w.c.noTakeover {
		w.c.dict.write(p[:n])
	}
	if err != nil {
		w.err = err
	}
	return n, err
}

// Flush ends the current deflate block and writes everything compressed so far to the
// destination, except the last 4 bytes, which may be the tail Close removes.
func (w *MessageWriter) Flush() error {
	if w.fw == nil {
		return errClosed
	}
	if w.err == nil {
		w.err = w.fw.Flush()
	}
	return w.err
}

// Close ends the message: it flushes, removes the tail, updates the takeover dictionary and
// releases the flate writer. After a write error the dictionary is reset, as the peer
// cannot have received a consistent message.
func (w *MessageWriter) Close() error {
	if w.fw == nil {
		return errClosed
	}
	c := w.c
	if w.err == nil {
		w.err = w.fw.Flush()
	}
	if w.err == nil && (w.tw.n != 4 || w.tw.hold != tail) {
		w.err = errors.New("websocket: deflate: internal error: sync flush did not end with 00 00 ff ff")
	}
	if w.err == nil && !c.noTakeover {
		c.hot = weak.Make(w.fw) // the next message continues it, unless it is collected first
	} else {
		putWriter(c.kind, w.fw)
	}
	w.fw = nil
	if w.err != nil || c.noTakeover {
		c.dict.reset()
	}
	c.busy = false
	return w.err
}

var errClosed = errors.New("websocket: deflate: message writer used after Close")

// tailWriter passes bytes on to dst but always holds back the last 4 it received.
type tailWriter struct {
	dst  io.Writer
	hold [4]byte
	n    int
}

func (t *tailWriter) Write(p []byte) (int, error) {
	total := len(p)
	if t.n+len(p) <= 4 {
		t.n += copy(t.hold[t.n:], p)
		return total, nil
	}
	// Emit what must leave: the held bytes and p except its last 4 (or what is needed to keep
	// 4 held in all).
	out := t.n + len(p) - 4
	if fromHold := min(out, t.n); fromHold > 0 {
		if _, err := t.dst.Write(t.hold[:fromHold]); err != nil {
			return 0, err
		}
		copy(t.hold[:], t.hold[fromHold:t.n])
		t.n -= fromHold
		out -= fromHold
	}
	if out > 0 {
		if _, err := t.dst.Write(p[:out]); err != nil {
			return 0, err
		}
		p = p[out:]
	}
	t.n += copy(t.hold[t.n:], p)
	return total, nil
}
