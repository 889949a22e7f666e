package deflate

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Errors of inflating a message. They are distinct so that the connection can choose its close
// code: RFC 7692 itself names none (it only says to fail the connection, §7.2.2 and §8);
// [CloseCode] gives the usual choice.
var (
	// ErrCorrupt means the payload is not valid DEFLATE data (RFC 1951): a bad block type,
	// Huffman table, stored-block length or a distance before the start of the window.
	ErrCorrupt = errors.New("websocket: deflate: invalid compressed data")
	// ErrTruncated means the message ended inside a deflate block: after the payload and the
	// appended 0x00 0x00 0xff 0xff (§7.2.2) the data was not at a block boundary.
	ErrTruncated = errors.New("websocket: deflate: compressed message ends inside a deflate block")
	// ErrTrailingData means the payload went on after a block with BFINAL set. Only the
	// single 0x00 of RFC 7692 §7.2.3.4's example may follow a final block.
	ErrTrailingData = errors.New("websocket: deflate: data after the final deflate block")
	// ErrTooLarge means the inflated message went over the caller's limit; it was detected
	// after at most limit+1 inflated bytes were produced.
	ErrTooLarge = errors.New("websocket: deflate: inflated message over the size limit")
)

// CloseCode returns the RFC 6455 §7.4.1 close code for an error of this package: 1009
// (message too big) for [ErrTooLarge], 1007 (invalid payload data, as Autobahn|Testsuite and
// Node's ws use for data that does not inflate) for [ErrCorrupt], [ErrTruncated] and
// [ErrTrailingData], and 0 for any other error (an I/O error of the payload reader, for which
// the connection decides).
func CloseCode(err error) int {
	switch {
	case errors.Is(err, ErrTooLarge):
		return 1009
	case errors.Is(err, ErrCorrupt), errors.Is(err, ErrTruncated), errors.Is(err, ErrTrailingData):
		return 1007
	}
	return 0
}

// endMarker follows the tail: an empty stored block with BFINAL set, so that a message that
// ends at a block boundary reads as a complete deflate stream (io.EOF) and one that does not
// can be told apart.
var tailAndEnd = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

var (
	readerPool sync.Pool // flate readers (io.ReadCloser + flate.Resetter)
	bufioPool  sync.Pool // *bufio.Reader of readBufSize
)

// readBufSize is the buffer between the payload and the inflater.
const readBufSize = 4 << 10

// Decompressor inflates the messages of one direction of one connection (RFC 7692 §7.2.2).
// It holds no flate state between messages: a pooled inflater is taken when a message starts
// and given back when it ends. With context takeover it keeps the last 2^bits bytes inflated,
// allocated on the first compressed message, and gives them to the next message as its
// dictionary. That is enough for zlib peers too: zlib never emits a distance beyond
// 2^bits - 262 bytes, and it cannot compress with a 2^8 window at all; a peer that accepts
// one compresses with 2^9 (Node's ws does), whose distances stay within 250 bytes.
// TestDeflateWithRealPeers in interop checks window 8 both ways with Node's ws.
//
// A Decompressor handles one message at a time; it is not safe for concurrent use.
type Decompressor struct {
	noTakeover bool
	dict       window
	mr         MessageReader
	br         bytes.Reader // the payload of AppendMessage
	busy       bool
	failed     error // set when a message failed with context takeover: the dictionary is lost
}

// NewDecompressor returns a Decompressor for a peer that compresses with a window of
// 2^windowBits bytes (8 to 15) and resets its context after every message when
// noContextTakeover is set. For negotiated [Parameters] p, a client uses p.ServerWindowBits()
// and p.ServerNoContextTakeover, a server p.ClientWindowBits() and p.ClientNoContextTakeover.
func NewDecompressor(windowBits int, noContextTakeover bool) (*Decompressor, error) {
	if !validBits(windowBits) {
		return nil, errors.New("websocket: deflate: window bits must be 8 to 15, got " + strconv.Itoa(windowBits))
	}
	return &Decompressor{noTakeover: noContextTakeover, dict: window{size: 1 << windowBits}}, nil
}

// NewReader starts inflating one message whose compressed payload (all its frames, RSV1 set
// on the first) is read from payload until io.EOF. The returned reader yields the inflated
// bytes as they come out; limit > 0 bounds their number: past it Read fails with
// [ErrTooLarge] having produced at most limit+1 bytes (the inflater's own buffer is fixed,
// 32 KiB, whatever the input). limit <= 0 means no bound.
//
// Read returns io.EOF at the end of a well-formed message, or [ErrCorrupt], [ErrTruncated],
// [ErrTrailingData], [ErrTooLarge], or an error of payload (returned as it is). Close must be
// called; it releases the pooled inflater. With context takeover, a message closed before its
// end is inflated to the end by Close (within limit) so that the next message's dictionary is
// right; after any error the dictionary is unusable and every later message of this
// Decompressor fails with the same error. The reader lives inside the Decompressor (no
// allocation per message) and must not be used after Close: the next NewReader returns the
// same value.
func (d *Decompressor) NewReader(payload io.Reader, limit int64) (*MessageReader, error) {
	if d.busy {
		return nil, ErrBusy
	}
	if d.failed != nil {
		return nil, d.failed
	}
	d.busy = true
	m := &d.mr
	*m = MessageReader{d: d, limit: limit, src: source{r: payload, rest: tailAndEnd}}
	br, _ := bufioPool.Get().(*bufio.Reader)
	if br == nil {
		br = bufio.NewReaderSize(&m.src, readBufSize)
	} else {
		br.Reset(&m.src)
	}
	m.br = br
	var dict []byte
	var scratch *[]byte
	if !d.noTakeover && d.dict.n > 0 {
		dict, scratch = d.dict.ordered()
	}
	if fr, _ := readerPool.Get().(io.ReadCloser); fr != nil {
		_ = fr.(flate.Resetter).Reset(br, dict)
		m.fr = fr
	} else {
		m.fr = flate.NewReaderDict(br, dict)
	}
	putScratch(scratch) // the inflater copied the dictionary into its own history
	return m, nil
}

// AppendMessage inflates one whole message payload and appends the result to dst, within
// limit as for NewReader.
// limit as for NewReader. On error dst is returned unchanged (its spare capacity may have
// been written).
//
// Allocation: none once the pools are warm and dst has room (BenchmarkCompressor).
func (d *Decompressor) AppendMessage(dst, payload []byte, limit int64) ([]byte, error) {
	d.br.Reset(payload)
	m, err := d.NewReader(&d.br, limit)
	if err != nil {
		return dst, err
	}
	out := dst
	for {
		if len(out) == cap(out) {
			out = append(out, 0)[:len(out)]
		}
		var n int
		n, err = m.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if err != nil {
			break
		}
	}
	if err == io.EOF {
		err = nil
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	d.br.Reset(nil)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// MessageReader inflates one message; see [Decompressor.NewReader].
type MessageReader struct {
	d     *Decompressor
	src   source
	br    *bufio.Reader
	fr    io.ReadCloser
	n     int64 // inflated bytes so far
	limit int64
	err   error    // sticky result of this message: io.EOF when complete
	rest  [11]byte // what follows a final block: len(paddedEnd) + 1
}

// Read inflates into p.
func (m *MessageReader) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	if m.fr == nil {
		return 0, errReaderClosed
	}
	if m.limit > 0 && int64(len(p)) > m.limit-m.n+1 {
		p = p[:m.limit-m.n+1]
	}
	n, err := m.fr.Read(p)
	if n > 0 {
		m.n += int64(n)
		if m.limit > 0 && m.n > m.limit {
			m.err = ErrTooLarge
			return 0, m.err
		}
		if !m.d.noTakeover {
			m.d.dict.write(p[:n])
		}
	}
	if err != nil {
		m.err = m.classify(err)
		if m.err != io.EOF {
			return 0, m.err
		}
	}
	return n, m.err
}

// classify turns the inflater's end into io.EOF or one of the package's errors.
func (m *MessageReader) classify(err error) error {
	if m.src.err != nil {
		return m.src.err
	}
	switch err.(type) {
	case flate.CorruptInputError, flate.InternalError: // (InternalError: bad tables, in some versions)
		return ErrCorrupt
	}
	switch err {
	case io.EOF:
		return m.checkEnd()
	case io.ErrUnexpectedEOF:
		return ErrTruncated
	}
	return err
}

// checkEnd is called when the inflater found a final block. The block is either our end
// marker (nothing left to read) or one in the payload. After a final block in the payload only
// our own appended bytes may remain, preceded by at most the single 0x00 of RFC 7692
// §7.2.3.4's example; a final stored block may also end inside our tail, whose 0x00 0x00 0xff
// 0xff then were its LEN and NLEN, stripped by the sender (§7.2.1). What is left must
// therefore be a suffix of 0x00, tail, marker that holds at least the whole marker.
func (m *MessageReader) checkEnd() error {
	rest := m.rest[:]
	k, _ := io.ReadFull(m.br, rest)
	if m.src.err != nil {
		return m.src.err
	}
	switch {
	case k == 0:
		return io.EOF
	case k > len(paddedEnd) || !bytes.Equal(rest[:k], paddedEnd[len(paddedEnd)-k:]):
		return ErrTrailingData
	case k < len(tailAndEnd)-len(tail):
		return ErrTruncated // the final block took part of our end marker
	}
	return io.EOF
}

// paddedEnd is what may follow a final block in the payload: one 0x00, the tail and the marker.
var paddedEnd = append([]byte{0}, tailAndEnd...)

// Close ends the message and releases the pooled inflater and buffer. With context takeover
// it first inflates what was not read (within the limit) to keep the dictionary right, and
// returns the error that stopped it, if any.
func (m *MessageReader) Close() error {
	if m.fr == nil {
		return errReaderClosed
	}
	d := m.d
	if !d.noTakeover && m.err == nil {
		var scratch [512]byte
		for m.err == nil {
			_, _ = m.Read(scratch[:])
		}
	}
	if m.err == io.EOF {
		// Only an inflater that ended cleanly goes back to the pool: one stopped inside a
		// block can carry state into its next stream.
		_ = m.fr.(flate.Resetter).Reset(&emptyReader, nil) // drop references to our buffers
		readerPool.Put(m.fr)
	}
	m.fr = nil
	m.br.Reset(nil)
	bufioPool.Put(m.br)
	m.br = nil
	m.src.r = nil
	var err error
	if m.err != io.EOF && m.err != nil {
		err = m.err
	}
	if d.noTakeover {
		d.dict.reset()
	} else if err != nil {
		d.failed = err
	}
	d.busy = false
	return err
}

var errReaderClosed = errors.New("websocket: deflate: message reader used after Close")

// source reads the payload, then the tail and the end marker. It remembers an error of the
// payload reader so that it is not mistaken for bad data.
type source struct {
	r    io.Reader
	rest []byte
	err  error
	done bool
}

func (s *source) Read(p []byte) (int, error) {
	if !s.done {
		n, err := s.r.Read(p)
		if err == io.EOF {
			s.done = true
			err = nil
		} else if err != nil {
			s.err = err
		}
		if !s.done || n > 0 {
			return n, err
		}
	}
	if len(s.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.rest)
	s.rest = s.rest[n:]
	return n, nil
}

// emptyReader is given to pooled inflaters so that they hold no reference to a connection.
var emptyReader bytes.Reader
