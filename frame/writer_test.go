package frame

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"testing/iotest"
)

// recordWriter records every Write call.
type recordWriter struct {
	writes [][]byte
	ptrs   []*byte // address of each Write's first byte
}

func (w *recordWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, append([]byte(nil), p...))
	if len(p) > 0 {
		w.ptrs = append(w.ptrs, &p[0])
	} else {
		w.ptrs = append(w.ptrs, nil)
	}
	return len(p), nil
}

func (w *recordWriter) all() []byte { return bytes.Join(w.writes, nil) }

// seededWriter returns a client Writer whose key generator is seeded with seed, and a copy of
// the generator to predict its keys.
func seededWriter(dst io.Writer, size int, seed byte) (*Writer, *rand.ChaCha8) {
	w := NewWriter(dst, RoleClient, size)
	var s [32]byte
	s[0] = seed
	w.rng = rand.NewChaCha8(s)
	return w, rand.NewChaCha8(s)
}

func nextKey(g *rand.ChaCha8) (k [4]byte) {
	v := g.Uint64()
	return [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
}

// TestWriterServerFramesAreExactRFCBytes writes the unmasked §5.7 examples and compares the
// bytes, one Write per frame.
func TestWriterServerFramesAreExactRFCBytes(t *testing.T) {
	for _, ex := range streamExamples() {
		if ex.role != RoleClient { // unmasked examples: written by a server
			continue
		}
		rw := &recordWriter{}
		w := NewWriter(rw, RoleServer, 0)
		for _, f := range ex.frames {
			if err := w.WriteFrame(f.fin, f.op, 0, f.payload); err != nil {
				t.Fatal(err)
			}
		}
		if got := rw.all(); !bytes.Equal(got, ex.wire) {
			t.Fatalf("%s: wrote % x, want % x", ex.name, got[:min(len(got), 20)], ex.wire[:min(len(ex.wire), 20)])
		}
		if len(rw.writes) != len(ex.frames) && ex.name != "64 KiB binary, 64-bit length" {
			t.Fatalf("%s: %d writes for %d frames", ex.name, len(rw.writes), len(ex.frames))
		}
	}
}

// TestWriterClientFramesAreMaskedWithPredictedKeys checks the exact bytes of masked frames: the
// RFC's masked "Hello" when the key is 37 fa 21 3d, and every frame against its predicted key.
func TestWriterClientFramesAreMaskedWithPredictedKeys(t *testing.T) {
	for _, size := range []int{MinBufferSize, DefaultBufferSize, MaxBufferSize} {
		for _, n := range []int{0, 1, 5, 125, 126, 242, 243, 1000, 65535, 65536, 100000, 600000, MaxBufferSize + 5} {
			rw := &recordWriter{}
			w, g := seededWriter(rw, size, byte(n))
			payload := patternBytes(n)
			orig := append([]byte(nil), payload...)
			if err := w.WriteFrame(true, OpBinary, 0, payload); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(payload, orig) {
				t.Fatal("WriteFrame modified the caller's payload")
			}
			h := Header{Fin: true, Op: OpBinary, Masked: true, Key: nextKey(g), Length: int64(n)}
			want := AppendHeader(nil, &h)
			for i, c := range payload {
				want = append(want, c^h.Key[i&3])
			}
			if got := rw.all(); !bytes.Equal(got, want) {
				t.Fatalf("size %d len %d: wire differs", size, n)
			}
			// A frame that fits the buffer takes one Write. A larger one is written in
			// chunks of a scratch buffer sized to the whole frame, at most maxScratch (or of
			// the Writer's own buffer when that is at least maxScratch), header first.
			wantWrites := 1
			if fit := size - MaxHeaderSize; n > fit {
				chunk := size
				if size < maxScratch {
					chunk = min(bufSize(h.Size()+n), maxScratch)
				}
				wantWrites = (h.Size() + n + chunk - 1) / chunk
			}
			if len(rw.writes) != wantWrites {
				t.Fatalf("size %d len %d: %d writes, want %d", size, n, len(rw.writes), wantWrites)
			}
		}
	}
	// The RFC example itself.
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	h := Header{Fin: true, Op: OpText, Masked: true, Key: key, Length: 5}
	buf := make([]byte, 16)
	n := h.Encode(buf)
	copy(buf[n:], "Hello")
	for i := range 5 {
		buf[n+i] ^= key[i&3]
	}
	if want := wireHex("81 85 37fa213d 7f9f4d5158"); !bytes.Equal(buf[:n+5], want) {
		t.Fatalf("masked hello % x", buf[:n+5])
	}
}

// TestWriterServerLargeFrameIsNotCopied checks that a payload larger than the buffer goes to
// the destination as the caller's own slice (net.Buffers), after the header.
func TestWriterServerLargeFrameIsNotCopied(t *testing.T) {
	rw := &recordWriter{}
	w := NewWriter(rw, RoleServer, MinBufferSize)
	payload := patternBytes(1000)
	if err := w.WriteFrame(true, OpBinary, 0, payload); err != nil {
		t.Fatal(err)
	}
	if len(rw.writes) != 2 || !bytes.Equal(rw.writes[0], wireHex("82 7e 03e8")) || rw.ptrs[1] != &payload[0] {
		t.Fatalf("writes %d, first % x", len(rw.writes), rw.writes[0])
	}
}

// TestWriterServerLargeFrameIsOneWritevOnTCP checks over loopback TCP that the reader sees the
// exact frame.
func TestWriterServerLargeFrameIsOneWritevOnTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan []byte)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		done <- b
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(c, RoleServer, 0)
	payload := patternBytes(70000)
	if err := w.WriteFrame(true, OpBinary, 0, payload); err != nil {
		t.Fatal(err)
	}
	c.Close()
	got := <-done
	r := NewReader(bytes.NewReader(got), RoleClient, 0)
	sameFrames(t, readAllFrames(t, r, false), []wantFrame{{true, OpBinary, payload}})
}

// TestWriterRejectsInvalidFramesBeforeWriting checks the caller's mistakes.
func TestWriterRejectsInvalidFramesBeforeWriting(t *testing.T) {
	tests := []struct {
		name string
		fin  bool
		op   Opcode
		rsv  byte
		n    int
		want error
	}{
		{"reserved opcode", true, 3, 0, 0, ErrWriteReservedOpcode},
		{"rsv out of range", true, OpText, 8, 0, ErrWriteRsv},
		{"ping of 126", true, OpPing, 0, 126, ErrWriteControlTooLong},
		{"fragmented close", false, OpClose, 0, 2, ErrWriteControlFragmented},
	}
	for _, tt := range tests {
		for _, role := range []Role{RoleClient, RoleServer} {
			rw := &recordWriter{}
			w := NewWriter(rw, role, 0)
			if err := w.WriteFrame(tt.fin, tt.op, tt.rsv, make([]byte, tt.n)); err != tt.want {
				t.Fatalf("%s/%v: %v, want %v", tt.name, role, err, tt.want)
			}
			if len(rw.writes) != 0 {
				t.Fatalf("%s: wrote", tt.name)
			}
		}
	}
	w := NewWriter(io.Discard, RoleServer, 0)
	w.Append([]byte("x"))
	if err := w.WriteFrame(true, OpText, 0, nil); err != ErrWritePending {
		t.Fatalf("data frame with pending payload: %v", err)
	}
	if err := w.WriteFrame(true, OpPing, 0, nil); err != nil {
		t.Fatalf("ping with pending payload: %v", err)
	}
	if err := w.Flush(true, OpPing, 0); err != ErrFlushControl {
		t.Fatalf("Flush of control: %v", err)
	}
}

// failWriter accepts ok bytes in total, then fails with err.
type failWriter struct {
	ok  int
	err error
	buf bytes.Buffer
}

func (f *failWriter) Write(p []byte) (int, error) {
	n := min(len(p), f.ok)
	f.ok -= n
	f.buf.Write(p[:n])
	if n < len(p) {
		return n, f.err
	}
	return n, nil
}

// TestWriterErrorBeforeAnyByteKeepsWriterUsable and a partial write is sticky.
func TestWriterPartialWriteIsStickyAndCleanFailureIsNot(t *testing.T) {
	boom := errors.New("deadline")
	for _, role := range []Role{RoleClient, RoleServer} {
		for _, n := range []int{10, 5000, 600000} {
			fw := &failWriter{ok: 0, err: boom}
			w := NewWriter(fw, role, MinBufferSize)
			if err := w.WriteFrame(true, OpBinary, 0, make([]byte, n)); err != boom {
				t.Fatalf("clean failure: %v", err)
			}
			fw.ok = 1 << 30
			if err := w.WriteFrame(true, OpBinary, 0, make([]byte, n)); err != nil {
				t.Fatalf("retry: %v", err)
			}
			fw = &failWriter{ok: 3, err: boom}
			w = NewWriter(fw, role, MinBufferSize)
			err := w.WriteFrame(true, OpBinary, 0, make([]byte, n))
			if !errors.Is(err, ErrIncompleteWrite) || !errors.Is(err, boom) {
				t.Fatalf("partial: %v", err)
			}
			fw.ok = 1 << 30
			if err2 := w.WriteFrame(true, OpPing, 0, nil); err2 != err {
				t.Fatalf("after partial: %v", err2)
			}
			// Cut in a later chunk of a frame written in several.
			fw = &failWriter{ok: n / 2, err: boom}
			w = NewWriter(fw, role, MinBufferSize)
			if n > MinBufferSize {
				err = w.WriteFrame(true, OpBinary, 0, make([]byte, n))
				if !errors.Is(err, ErrIncompleteWrite) || !errors.Is(err, boom) {
					t.Fatalf("partial at %d of %d: %v", n/2, n, err)
				}
			}
		}
	}
}

// TestWriterAppendFlushMakesOneFramePerFlush streams a message through Append and Flush, with a
// ping between its frames, and reads it back.
func TestWriterAppendFlushMakesOneFramePerFlush(t *testing.T) {
	for _, role := range []Role{RoleClient, RoleServer} {
		var out bytes.Buffer
		w := NewWriter(&out, role, MinBufferSize)
		msg := patternBytes(1000)
		var want []wantFrame
		op := OpBinary
		for rest := msg; len(rest) > 0; {
			k := w.Append(rest)
			if w.Available() == 0 {
				if err := w.Flush(false, op, 0); err != nil {
					t.Fatal(err)
				}
				want = append(want, wantFrame{false, op, rest[:k]})
				op = OpContinuation
				if err := w.WriteFrame(true, OpPing, 0, []byte("p")); err != nil {
					t.Fatal(err)
				}
				want = append(want, wantFrame{true, OpPing, []byte("p")})
			} else {
				if w.Buffered() != k {
					t.Fatalf("Buffered %d", w.Buffered())
				}
				if err := w.Flush(true, op, 0); err != nil {
					t.Fatal(err)
				}
				want = append(want, wantFrame{true, op, rest[:k]})
			}
			rest = rest[k:]
		}
		peer := RoleServer
		if role == RoleServer {
			peer = RoleClient
		}
		r := NewReader(iotest.HalfReader(&out), peer, 0)
		sameFrames(t, readAllFrames(t, r, true), want)
		if !w.Release() {
			t.Fatal("Release failed")
		}
	}
}

// TestWriterRoundTripThroughReader writes random frames in both roles and reads them back
// through one-byte and half readers.
func TestWriterRoundTripThroughReader(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, role := range []Role{RoleClient, RoleServer} {
		var out bytes.Buffer
		w := NewWriter(&out, role, 512)
		var want []wantFrame
		for i := range 200 {
			var f wantFrame
			switch i % 4 {
			case 0:
				f = wantFrame{true, OpPing, patternBytes(rng.IntN(126))}
			default:
				sizes := []int{0, 1, 125, 126, 497, 498, 499, 4000, 65535, 65536}
				f = wantFrame{true, OpBinary, patternBytes(sizes[rng.IntN(len(sizes))])}
			}
			if err := w.WriteFrame(f.fin, f.op, 0, f.payload); err != nil {
				t.Fatal(err)
			}
			want = append(want, f)
		}
		peer := RoleServer
		if role == RoleServer {
			peer = RoleClient
		}
		wire := out.Bytes()
		for _, src := range []io.Reader{iotest.OneByteReader(bytes.NewReader(wire)), iotest.HalfReader(bytes.NewReader(wire))} {
			r := NewReader(src, peer, 512)
			sameFrames(t, readAllFrames(t, r, true), want)
		}
	}
}

// TestWriterMaskKeysDifferPerFrameAndPerWriter checks that keys are fresh.
func TestWriterMaskKeysDifferPerFrameAndPerWriter(t *testing.T) {
	seen := map[[4]byte]bool{}
	for range 4 {
		var out bytes.Buffer
		w := NewWriter(&out, RoleClient, 0)
		for range 256 {
			out.Reset()
			if err := w.WriteFrame(true, OpBinary, 0, nil); err != nil {
				t.Fatal(err)
			}
			h, _, err := DecodeHeader(out.Bytes())
			if err != nil || !h.Masked {
				t.Fatalf("%+v %v", h, err)
			}
			seen[h.Key] = true
		}
	}
	if len(seen) < 1000 {
		t.Fatalf("only %d distinct keys in 1024 frames", len(seen))
	}
}

// TestWriterWriteFrameAllocatesNothing checks the steady-state allocation contract.
func TestWriterWriteFrameAllocatesNothing(t *testing.T) {
	for _, role := range []Role{RoleClient, RoleServer} {
		w := NewWriter(io.Discard, role, 0)
		for _, n := range []int{64, 1024, 65536, 1 << 20} {
			p := patternBytes(n)
			if a := testing.AllocsPerRun(100, func() { w.WriteFrame(true, OpBinary, 0, p) }); a != 0 {
				t.Fatalf("%v %d: %v allocs", role, n, a)
			}
		}
		if a := testing.AllocsPerRun(100, func() { w.Append([]byte("abc")); w.Flush(true, OpText, 0) }); a != 0 {
			t.Fatalf("%v Append/Flush: %v allocs", role, a)
		}
	}
}

// BenchmarkWriterWriteFrame writes binary frames to io.Discard. 0 allocs/op.
func BenchmarkWriterWriteFrame(b *testing.B) {
	for _, size := range []int{64, 1024, 64 << 10, 1 << 20} {
		for _, role := range []Role{RoleClient, RoleServer} {
			b.Run(rwSizeName(size)+"/"+role.String(), func(b *testing.B) {
				w := NewWriter(io.Discard, role, 0)
				p := patternBytes(size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if err := w.WriteFrame(true, OpBinary, 0, p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestWriterClientLargeFramesArriveWholeOverTCP checks over loopback TCP that masked frames
// around and above the scratch size (one Write, header with the first chunk, several chunks)
// reach the peer exact, and that the caller's payload is left as it was.
func TestWriterClientLargeFramesArriveWholeOverTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		done <- b
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close() // on an early failure too, so the reading goroutine ends
	w := NewWriter(c, RoleClient, 0)
	var want []wantFrame
	for _, n := range []int{maxScratch - 14, maxScratch - 13, maxScratch, 1 << 20, 2*maxScratch + 3} {
		payload := patternBytes(n)
		orig := append([]byte(nil), payload...)
		if err := w.WriteFrame(true, OpBinary, 0, payload); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(payload, orig) {
			t.Fatalf("len %d: WriteFrame modified the caller's payload", n)
		}
		want = append(want, wantFrame{true, OpBinary, orig})
	}
	c.Close()
	got := <-done
	r := NewReader(bytes.NewReader(got), RoleServer, 0)
	sameFrames(t, readAllFrames(t, r, true), want)
}

// BenchmarkMaskKey draws the masking keys of a client Writer, one per frame, from one
// goroutine and from one Writer per goroutine in parallel. 0 allocs/op.
func BenchmarkMaskKey(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		w := NewWriter(io.Discard, RoleClient, 0)
		var sink byte
		b.ReportAllocs()
		for b.Loop() {
			k := w.newKey()
			sink ^= k[0]
		}
		_ = sink
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := NewWriter(io.Discard, RoleClient, 0)
			var sink byte
			for pb.Next() {
				k := w.newKey()
				sink ^= k[0]
			}
			_ = sink
		})
	})
}

// BenchmarkMaskKeySource makes a client Writer's key generator, which happens once per Writer,
// on its first masked frame: 32 bytes from crypto/rand and one allocation.
func BenchmarkMaskKeySource(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if newKeySource() == nil {
			b.Fatal("no generator")
		}
	}
}

// A frame encoded ahead with Prepare and written with WritePrepared reads back as the frame
// WriteFrame would have made (masked with a fresh key for a client, as is for a server),
// interleaved with ordinary frames; neither call allocates.
func TestPrepareWritePreparedRoundTrip(t *testing.T) {
	for _, role := range []Role{RoleClient, RoleServer} {
		var out bytes.Buffer
		w := NewWriter(&out, role, 512)
		var want []wantFrame
		var keys [][4]byte
		for i, n := range []int{0, 1, 125, 126, 4000, 65535, 65536, 300000} {
			p := patternBytes(n)
			op := OpBinary
			if i%2 == 1 {
				op = OpText
			}
			var hdr [MaxHeaderSize]byte
			dst := make([]byte, n)
			hn, err := Prepare(&hdr, dst, op, p, role == RoleClient)
			if err != nil {
				t.Fatal(err)
			}
			if role == RoleServer && !bytes.Equal(dst, p) {
				t.Fatalf("server payload of %d bytes was changed", n)
			}
			h, _, err := DecodeHeader(hdr[:hn])
			if err != nil || h.Masked != (role == RoleClient) || h.Length != int64(n) || !h.Fin || h.Op != op {
				t.Fatalf("%v %d: header %+v, %v", role, n, h, err)
			}
			keys = append(keys, h.Key)
			if err := w.WritePrepared(hdr[:hn], dst); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteFrame(true, OpBinary, 0, []byte("between")); err != nil {
				t.Fatal(err)
			}
			want = append(want, wantFrame{true, op, p}, wantFrame{true, OpBinary, []byte("between")})
		}
		if role == RoleClient && keys[1] == keys[2] && keys[2] == keys[3] {
			t.Fatalf("Prepare used the same key thrice: %x", keys[1])
		}
		peer := RoleServer
		if role == RoleServer {
			peer = RoleClient
		}
		sameFrames(t, readAllFrames(t, NewReader(iotest.HalfReader(bytes.NewReader(out.Bytes())), peer, 512), true), want)

		var hdr [MaxHeaderSize]byte
		p := patternBytes(1 << 20)
		dst := make([]byte, len(p))
		d := NewWriter(io.Discard, role, 0)
		if a := testing.AllocsPerRun(50, func() {
			hn, _ := Prepare(&hdr, dst, OpBinary, p, role == RoleClient)
			d.WritePrepared(hdr[:hn], dst)
		}); a != 0 && !raceEnabled {
			t.Fatalf("%v: Prepare and WritePrepared allocate %v times", role, a)
		}
	}
}

// Prepare refuses what is not a data frame, and WritePrepared a frame that would land inside
// appended payload.
func TestPrepareAndWritePreparedRefuse(t *testing.T) {
	var hdr [MaxHeaderSize]byte
	for _, op := range []Opcode{OpPing, OpClose, OpContinuation, Opcode(3)} {
		if _, err := Prepare(&hdr, nil, op, nil, true); !errors.Is(err, ErrPrepareOpcode) {
			t.Errorf("Prepare(%v) = %v, want ErrPrepareOpcode", op, err)
		}
	}
	var out bytes.Buffer
	w := NewWriter(&out, RoleServer, 0)
	w.Append([]byte("pending"))
	hn, _ := Prepare(&hdr, make([]byte, 3), OpText, []byte("abc"), false)
	if err := w.WritePrepared(hdr[:hn], []byte("abc")); !errors.Is(err, ErrWritePending) || out.Len() != 0 {
		t.Fatalf("WritePrepared with payload pending = %v, %d bytes written; want ErrWritePending, none", err, out.Len())
	}
}
