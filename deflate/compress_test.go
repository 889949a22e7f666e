package deflate

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/iotest"
)

func hexBytes(s string) []byte {
	var b []byte
	for _, f := range bytes.Fields([]byte(s)) {
		var v byte
		fmt.Sscanf(string(f), "%x", &v)
		b = append(b, v)
	}
	return b
}

// TestDecompressRFC7692Examples inflates the examples of RFC 7692 §7.2.3.
func TestDecompressRFC7692Examples(t *testing.T) {
	tests := []struct {
		name     string
		messages []string // payloads, one per message, hex
		takeover bool
		want     []string
	}{
		{"§7.2.3.1 one message", []string{"f2 48 cd c9 c9 07 00"}, false, []string{"Hello"}},
		{"§7.2.3.2 context takeover", []string{"f2 48 cd c9 c9 07 00", "f2 00 11 00 00"}, true, []string{"Hello", "Hello"}},
		{"§7.2.3.2 without takeover", []string{"f2 48 cd c9 c9 07 00", "f2 48 cd c9 c9 07 00"}, false, []string{"Hello", "Hello"}},
		{"§7.2.3.3 stored block", []string{"00 05 00 fa ff 48 65 6c 6c 6f 00"}, false, []string{"Hello"}},
		{"§7.2.3.4 BFINAL set", []string{"f3 48 cd c9 c9 07 00 00"}, false, []string{"Hello"}},
		{"§7.2.3.4 BFINAL set, no padding byte", []string{"f3 48 cd c9 c9 07 00"}, false, []string{"Hello"}},
		{"§7.2.3.5 two blocks", []string{"f2 48 05 00 00 00 ff ff ca c9 c9 07 00"}, false, []string{"Hello"}},
		{"§7.2.3.6 sync flush then an empty block", []string{"f2 48 cd c9 c9 07 00 00 00 ff ff 00"}, false, []string{"Hello"}},
		{"empty message", []string{"00"}, false, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := NewDecompressor(15, !tt.takeover)
			for i, m := range tt.messages {
				got, err := d.AppendMessage(nil, hexBytes(m), 0)
				if err != nil || string(got) != tt.want[i] {
					t.Fatalf("message %d: %q, %v; want %q", i, got, err, tt.want[i])
				}
			}
		})
	}
}

func TestCompressHelloAndEmpty(t *testing.T) {
	c, _ := NewCompressor(15, true)
	d, _ := NewDecompressor(15, true)
	for _, msg := range []string{"Hello", ""} {
		p, err := c.AppendMessage(nil, []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasSuffix(p, tail[:]) {
			t.Errorf("%q: payload % x still ends with the tail", msg, p)
		}
		// The standard library's inflater must read what we send (RFC 7692 §7.2.2).
		r := stdflate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader(tailAndEnd)))
		got, err := io.ReadAll(r)
		if err != nil || string(got) != msg {
			t.Errorf("%q: stdlib inflated %q, %v from % x", msg, got, err, p)
		}
		if got, err := d.AppendMessage(nil, p, 0); err != nil || string(got) != msg {
			t.Errorf("%q: inflated %q, %v", msg, got, err)
		}
	}
	if p, _ := c.AppendMessage(nil, nil); !bytes.Equal(p, []byte{0}) {
		t.Errorf("empty message payload % x, want 00 (RFC 7692 §7.2.3.1's empty block)", p)
	}
}

func TestDecompressErrorsAreDistinct(t *testing.T) {
	long := append(hexBytes("00 00 01 ff fe"), bytes.Repeat([]byte("a"), 10)...) // stored block of 256 bytes, 10 given
	tests := []struct {
		name    string
		payload []byte
		want    error
		code    int
	}{
		{"reserved block type", hexBytes("ff ff ff"), ErrCorrupt, 1007},
		{"stored length does not match its complement", hexBytes("00 05 00 fa fe 48 65 6c 6c 6f 00"), ErrCorrupt, 1007},
		{"distance before the start of the data", hexBytes("f2 00 11 00 00"), ErrCorrupt, 1007},
		{"ends inside a stored block", long, ErrTruncated, 1007},
		{"bytes after the final block", hexBytes("f3 48 cd c9 c9 07 00 00 41 42"), ErrTrailingData, 1007},
		{"a non-zero byte after the final block", hexBytes("f3 48 cd c9 c9 07 00 01"), ErrTrailingData, 1007},
		{"a whole second message after the final block", hexBytes("f3 48 cd c9 c9 07 00 f2 48 cd c9 c9 07 00"), ErrTrailingData, 1007},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := NewDecompressor(15, true)
			_, err := d.AppendMessage(nil, tt.payload, 0)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if CloseCode(err) != tt.code {
				t.Errorf("CloseCode = %d, want %d", CloseCode(err), tt.code)
			}
			// Without takeover the next message is independent of the failed one.
			if got, err := d.AppendMessage(nil, hexBytes("f2 48 cd c9 c9 07 00"), 0); err != nil || string(got) != "Hello" {
				t.Errorf("next message: %q, %v", got, err)
			}
		})
	}
	if CloseCode(ErrTooLarge) != 1009 || CloseCode(io.ErrUnexpectedEOF) != 0 {
		t.Error("CloseCode of ErrTooLarge or a foreign error")
	}
}

func TestTakeoverFailureIsSticky(t *testing.T) {
	d, _ := NewDecompressor(15, false)
	if _, err := d.AppendMessage(nil, hexBytes("ff ff ff"), 0); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
	if _, err := d.AppendMessage(nil, hexBytes("f2 48 cd c9 c9 07 00"), 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a message after a lost dictionary: %v, want the first error again", err)
	}
}

func TestPayloadReadErrorIsNotCorruption(t *testing.T) {
	d, _ := NewDecompressor(15, true)
	boom := errors.New("connection reset")
	m, _ := d.NewReader(io.MultiReader(bytes.NewReader(hexBytes("f2 48")), iotest.ErrReader(boom)), 0)
	_, err := io.ReadAll(m)
	if err != boom {
		t.Errorf("error %v, want the reader's own", err)
	}
	if cerr := m.Close(); cerr != boom || CloseCode(err) != 0 {
		t.Errorf("Close %v, CloseCode %d", cerr, CloseCode(err))
	}
}

// TestInflatedSizeLimit: a message of exactly limit bytes passes, one more byte fails, and a
// bomb (10 MB of zeros in about 10 KB) fails after at most limit+1 bytes, without memory
// growing with the inflated size.
func TestInflatedSizeLimit(t *testing.T) {
	c, _ := NewCompressor(15, true)
	d, _ := NewDecompressor(15, true)
	msg := bytes.Repeat([]byte("0123456789"), 1000)
	p, _ := c.AppendMessage(nil, msg)
	if got, err := d.AppendMessage(nil, p, int64(len(msg))); err != nil || len(got) != len(msg) {
		t.Fatalf("at the limit: %d, %v", len(got), err)
	}
	if _, err := d.AppendMessage(nil, p, int64(len(msg)-1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("one byte over: %v", err)
	}

	bomb, _ := c.AppendMessage(nil, make([]byte, 10<<20))
	const limit = 1 << 20
	t.Logf("bomb: %d bytes inflate to 10 MiB", len(bomb))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, _ := d.NewReader(iotest.HalfReader(bytes.NewReader(bomb)), limit)
	buf := make([]byte, 64<<10)
	var total int64
	var err error
	for err == nil {
		var n int
		n, err = m.Read(buf)
		total += int64(n)
	}
	_ = m.Close()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) || total > limit {
		t.Fatalf("bomb: %d bytes then %v", total, err)
	}
	// 64 KiB read buffer above; the inflater and bufio buffer may be new if a GC emptied the
	// pools: about 50 KiB. Nothing may grow with the 10 MiB.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<10 {
		t.Errorf("inflating the bomb allocated %d bytes", grew)
	}
}

func payloads(r *rand.Rand, corpus []byte) [][]byte {
	msgs := [][]byte{nil, []byte("a"), []byte("Hello"), corpus[:40<<10]}
	for range 12 {
		n := r.IntN(3000)
		switch r.IntN(3) {
		case 0: // a slice of the JSON corpus: repeats within and across messages
			off := r.IntN(len(corpus) - n)
			msgs = append(msgs, corpus[off:off+n])
		case 1: // random bytes: incompressible
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			msgs = append(msgs, b)
		default: // long runs
			msgs = append(msgs, bytes.Repeat([]byte{byte(r.IntN(4))}, n))
		}
	}
	return msgs
}

// TestRoundTripEveryWindowAndMode compresses a sequence of messages and inflates them back, at
// every window size, with and without context takeover, through the whole-message and the
// streaming APIs (odd write and read sizes, a Flush in the middle).
func TestRoundTripEveryWindowAndMode(t *testing.T) {
	corpus := corpus(t, "msg-64k.json")
	r := rand.New(rand.NewPCG(1, 2))
	msgs := payloads(r, corpus)
	for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
		for _, noTakeover := range []bool{true, false} {
			t.Run(fmt.Sprintf("bits%d/noTakeover=%v", bits, noTakeover), func(t *testing.T) {
				c, _ := NewCompressor(bits, noTakeover)
				d, _ := NewDecompressor(bits, noTakeover)
				for i, msg := range msgs {
					var p []byte
					if i%2 == 0 {
						p, _ = c.AppendMessage(nil, msg)
					} else {
						var out bytes.Buffer
						w, err := c.NewWriter(&out)
						if err != nil {
							t.Fatal(err)
						}
						for rest := msg; len(rest) > 0; {
							n := min(len(rest), 1+r.IntN(700))
							_, _ = w.Write(rest[:n])
							rest = rest[n:]
							if r.IntN(4) == 0 {
								_ = w.Flush()
							}
						}
						if err := w.Close(); err != nil {
							t.Fatal(err)
						}
						p = out.Bytes()
					}
					var got []byte
					var err error
					if i%3 == 0 {
						got, err = d.AppendMessage(nil, p, int64(len(msg)))
					} else {
						m, _ := d.NewReader(iotest.OneByteReader(bytes.NewReader(p)), 0)
						got, err = io.ReadAll(iotest.HalfReader(m))
						if cerr := m.Close(); err == nil {
							err = cerr
						}
					}
					if err != nil || !bytes.Equal(got, msg) {
						t.Fatalf("message %d (%d bytes): got %d bytes, %v", i, len(msg), len(got), err)
					}
				}
			})
		}
	}
}

// TestCompressorStaysInsideTheWindow checks that no message refers back further than 2^bits
// bytes. Across messages the check is exact: each message is inflated by the standard
// library with only the last 2^bits bytes of the earlier messages as dictionary, and a
// distance beyond them is a CorruptInputError. Within a message it is by effect: 200 random
// bytes repeated after JSON text at a distance just beyond the window must cost as much as
// the first copy, while the same repetition just inside the window must not (which proves the
// test can see a match).
func TestCompressorStaysInsideTheWindow(t *testing.T) {
	corpus := corpus(t, "msg-64k.json")
	r := rand.New(rand.NewPCG(3, 4))
	for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
		size := 1 << bits
		c, _ := NewCompressor(bits, false)
		var history []byte
		for i, msg := range payloads(r, corpus) {
			p, _ := c.AppendMessage(nil, msg)
			dict := history[max(0, len(history)-size):]
			got, err := io.ReadAll(stdflate.NewReaderDict(io.MultiReader(bytes.NewReader(p), bytes.NewReader(tailAndEnd)), dict))
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("bits %d message %d: with a %d-byte dictionary: %v", bits, i, len(dict), err)
			}
			history = append(history, msg...)
		}

		random := func(n int) []byte {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return b
		}
		x := random(200)
		for _, gap := range []int{size + 64, size - len(x) - 64} {
			if gap < 0 {
				continue
			}
			msg := append(append(append([]byte(nil), x...), corpus[:gap]...), x...)
			nc, _ := NewCompressor(bits, true)
			p, _ := nc.AppendMessage(nil, msg)
			alone, _ := NewCompressor(bits, true)
			base, _ := alone.AppendMessage(nil, append(append([]byte(nil), x...), corpus[:gap]...))
			matched := len(p) < len(base)+100 // a second copy of x costs about 200 bytes unmatched
			if inside := gap < size; matched != inside {
				t.Errorf("bits %d: repeat at distance %d compressed %d -> %d bytes (match found: %v)", bits, gap+len(x), len(msg), len(p), matched)
			}
		}
	}
}

func TestTailWriterHoldsBackExactlyFourBytes(t *testing.T) {
	data := []byte("0123456789abcdefghij")
	for chunk := 1; chunk <= len(data); chunk++ {
		var out bytes.Buffer
		tw := tailWriter{dst: &out}
		for rest := data; len(rest) > 0; {
			n := min(chunk, len(rest))
			_, _ = tw.Write(rest[:n])
			rest = rest[n:]
		}
		if out.String() != string(data[:len(data)-4]) || string(tw.hold[:tw.n]) != "ghij" {
			t.Errorf("chunk %d: out %q hold %q", chunk, out.String(), tw.hold[:tw.n])
		}
	}
}

func TestOneMessageAtATime(t *testing.T) {
	c, _ := NewCompressor(15, false)
	w, _ := c.NewWriter(io.Discard)
	if _, err := c.NewWriter(io.Discard); !errors.Is(err, ErrBusy) {
		t.Errorf("second writer: %v", err)
	}
	_ = w.Close()
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
	d, _ := NewDecompressor(15, false)
	m, _ := d.NewReader(bytes.NewReader([]byte{0}), 0)
	if _, err := d.NewReader(bytes.NewReader(nil), 0); !errors.Is(err, ErrBusy) {
		t.Errorf("second reader: %v", err)
	}
	_ = m.Close()
	if err := m.Close(); err == nil {
		t.Error("second Close succeeded")
	}
	if _, err := NewCompressor(7, false); err == nil {
		t.Error("window bits 7 accepted")
	}
	if _, err := NewDecompressor(16, false); err == nil {
		t.Error("window bits 16 accepted")
	}
}

// TestCloseBeforeTheEndKeepsTheTakeoverContext: a message abandoned half-read is inflated to
// its end by Close, so the next message (which refers back into it) still inflates.
func TestCloseBeforeTheEndKeepsTheTakeoverContext(t *testing.T) {
	c, _ := NewCompressor(15, false)
	d, _ := NewDecompressor(15, false)
	first := bytes.Repeat([]byte("context takeover "), 500)
	p1, _ := c.AppendMessage(nil, first)
	p2, _ := c.AppendMessage(nil, first[:1000])
	m, _ := d.NewReader(bytes.NewReader(p1), 0)
	if _, err := m.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := d.AppendMessage(nil, p2, 0); err != nil || !bytes.Equal(got, first[:1000]) {
		t.Fatalf("next message: %d bytes, %v", len(got), err)
	}
}

// TestIdleMemoryPerConnection measures what a connection keeps between messages, per mode,
// with both directions (a Compressor and a Decompressor) after one message each way.
func TestIdleMemoryPerConnection(t *testing.T) {
	msg := corpus(t, "msg-64k.json")[:33<<10] // fills the largest window
	const conns = 50
	for _, tc := range []struct {
		bits       int
		noTakeover bool
		limit      uint64
	}{
		{15, true, 1 << 10},
		{8, false, 2*256 + 1<<10},
		{9, false, 2*512 + 1<<10},
		{12, false, 2*(1<<12) + 1<<10},
		{15, false, 2*(1<<15) + 1<<10},
	} {
		keep := make([]any, 0, 2*conns)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range conns {
			c, _ := NewCompressor(tc.bits, tc.noTakeover)
			d, _ := NewDecompressor(tc.bits, tc.noTakeover)
			p, _ := c.AppendMessage(nil, msg)
			if _, err := d.AppendMessage(nil, p, 0); err != nil {
				t.Fatal(err)
			}
			keep = append(keep, c, d)
		}
		runtime.GC()
		runtime.GC() // empties the pools (victim cache included)
		runtime.ReadMemStats(&after)
		per := (after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)) / conns
		if per == 0 {
			t.Fatalf("heap did not grow: the measurement is broken")
		}
		t.Logf("bits %d noContextTakeover=%v: %d bytes per idle connection (both directions)", tc.bits, tc.noTakeover, per)
		if per > tc.limit {
			t.Errorf("bits %d noContextTakeover=%v: %d bytes per idle connection, budget %d", tc.bits, tc.noTakeover, per, tc.limit)
		}
		runtime.KeepAlive(keep)
	}
}

// TestAbandonedInflaterIsNotReused: an inflater stopped inside a stream (here by the size
// limit) must not go back to the pool, where its leftover state made the next corrupt
// message fail as a flate "internal error" instead of ErrCorrupt.
func TestAbandonedInflaterIsNotReused(t *testing.T) {
	c, _ := NewCompressor(15, true)
	bomb, _ := c.AppendMessage(nil, make([]byte, 1<<20))
	d, _ := NewDecompressor(9, true)
	if _, err := d.AppendMessage(nil, bomb, 4097); !errors.Is(err, ErrTooLarge) {
		t.Fatal(err)
	}
	if _, err := d.AppendMessage(nil, []byte("$0"), 4097); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt message after an abandoned one: %v, want ErrCorrupt", err)
	}
	if got, err := d.AppendMessage(nil, hexBytes("f2 48 cd c9 c9 07 00"), 0); err != nil || string(got) != "Hello" {
		t.Fatalf("valid message: %q, %v", got, err)
	}
}

// TestTakeoverWriterKeptOrCollected: with context takeover a Compressor continues the last
// message's flate writer while it is alive and primes a pooled one with its dictionary once a
// garbage collection has freed it. Either way the messages must form one deflate stream that
// the standard library's inflater (an independent implementation) reads back whole, and that
// our Decompressor inflates message by message; Reset must make the next message refer to
// nothing before it.
func TestTakeoverWriterKeptOrCollected(t *testing.T) {
	msg := corpus(t, "msg-1k.json")
	for _, bits := range []int{9, 15} {
		c, _ := NewCompressor(bits, false)
		d, _ := NewDecompressor(bits, false)
		var stream, want bytes.Buffer
		for i := range 12 {
			if i%3 == 2 {
				runtime.GC() // frees the kept writer: the next message primes a pooled one
			}
			m := append([]byte(fmt.Sprintf("message %d: ", i)), msg...)
			p, err := c.AppendMessage(nil, m)
			if err != nil {
				t.Fatal(err)
			}
			if len(p) >= len(m)/2 && i > 0 {
				t.Fatalf("bits %d message %d: %d bytes compressed to %d: the context was not taken over", bits, i, len(m), len(p))
			}
			got, err := d.AppendMessage(nil, p, 0)
			if err != nil || !bytes.Equal(got, m) {
				t.Fatalf("bits %d message %d: %v", bits, i, err)
			}
			stream.Write(p)
			stream.Write(tail[:])
			want.Write(m)
		}
		all, err := io.ReadAll(stdflate.NewReader(io.MultiReader(&stream, bytes.NewReader([]byte{1, 0, 0, 0xff, 0xff}))))
		if err != nil || !bytes.Equal(all, want.Bytes()) {
			t.Fatalf("bits %d: stdlib inflated %d bytes of %d: %v", bits, len(all), want.Len(), err)
		}
		// After Reset a message refers to nothing before it: a fresh Decompressor reads it.
		c.Reset()
		p, _ := c.AppendMessage(nil, msg)
		fresh, _ := NewDecompressor(bits, false)
		if got, err := fresh.AppendMessage(nil, p, 0); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("bits %d: message after Reset needs the old context: %v", bits, err)
		}
	}
}
