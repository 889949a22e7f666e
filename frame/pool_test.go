package frame

import (
	"bytes"
	"io"
	"runtime"
	"testing"
)

// chunkSource is a BufferSource that delivers its input in chunks of at most chunk bytes, one
// chunk per ReadBuffer, and records whether the Reader held a buffer when it was asked to
// wait. An injected error is returned once, before the chunk at index failAt.
type chunkSource struct {
	r        *Reader
	input    []byte
	chunk    int
	calls    int
	held     int // ReadBuffer calls made while r held a buffer
	failAt   int
	failErr  error
	failDone bool
}

func (s *chunkSource) Read(p []byte) (int, error) {
	if len(s.input) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.input[:min(len(s.input), s.chunk)])
	s.input = s.input[n:]
	return n, nil
}

func (s *chunkSource) ReadBuffer(size int) (*[]byte, int, error) {
	if s.r.bufp != nil {
		s.held++
	}
	s.calls++
	if s.failErr != nil && !s.failDone && s.calls == s.failAt {
		s.failDone = true
		return nil, 0, s.failErr
	}
	if len(s.input) == 0 {
		return nil, 0, io.EOF
	}
	bp := GetBuffer(size)
	n, _ := s.Read(*bp)
	return bp, n, nil
}

// TestReaderWaitsForInputWithoutABuffer reads frames from a BufferSource in small chunks: every
// wait for input happens with the buffer handed back, the frames come out whole, and an error
// of the source (a timeout) is returned and then resumed from.
func TestReaderWaitsForInputWithoutABuffer(t *testing.T) {
	var wire []byte
	var want []wantFrame
	for _, n := range []int{0, 1, 125, 126, 300, 5000} {
		p := patternBytes(n)
		wire = append(wire, rawTestFrame(OpBinary, p)...)
		want = append(want, wantFrame{true, OpBinary, p})
	}
	for _, chunk := range []int{1, 7, 64, 4096} {
		src := &chunkSource{input: wire, chunk: chunk, failAt: 3, failErr: fakeTimeout{}}
		r := NewReader(src, RoleClient, MinBufferSize)
		src.r = r
		var got []wantFrame
		for {
			if err := r.WaitInput(); err != nil && err != io.EOF && err != (fakeTimeout{}) {
				t.Fatal(err)
			}
			h, err := r.NextFrame()
			if err == (fakeTimeout{}) {
				continue // resumable
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
			var p []byte
			for {
				q, err := r.Next()
				p = append(p, q...)
				if err == io.EOF {
					break
				}
				if err == (fakeTimeout{}) {
					continue
				}
				if err != nil {
					t.Fatalf("chunk %d: Next: %v", chunk, err)
				}
			}
			got = append(got, wantFrame{h.Fin, h.Op, p})
		}
		sameFrames(t, got, want)
		if src.held != 0 {
			t.Fatalf("chunk %d: %d of %d waits held a buffer", chunk, src.held, src.calls)
		}
		if !src.failDone {
			t.Fatalf("chunk %d: the injected timeout was not met", chunk)
		}
	}
}

// rawTestFrame is an unmasked frame (server to client) with FIN set.
func rawTestFrame(op Opcode, p []byte) []byte {
	var b bytes.Buffer
	w := NewWriter(&b, RoleServer, 0)
	if err := w.WriteFrame(true, op, 0, p); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// TestReaderNextUnmasksInPieces reads a masked frame in the pieces Next returns, through a
// source that trickles, and checks the bytes.
func TestReaderNextUnmasksInPieces(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, RoleClient, 0)
	payload := patternBytes(1000)
	if err := w.WriteFrame(true, OpText, 0, payload); err != nil {
		t.Fatal(err)
	}
	src := &chunkSource{input: b.Bytes(), chunk: 33}
	r := NewReader(src, RoleServer, MinBufferSize)
	src.r = r
	if _, err := r.NextFrame(); err != nil {
		t.Fatal(err)
	}
	var got []byte
	pieces := 0
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p...)
		pieces++
	}
	if !bytes.Equal(got, payload) || pieces < 2 {
		t.Fatalf("%d bytes in %d pieces, want the payload in several", len(got), pieces)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("Next after the end: %v", err)
	}
}

// TestReaderDropHandsTheBufferBack checks that Drop releases the buffer even with unread input.
func TestReaderDropHandsTheBufferBack(t *testing.T) {
	r := NewReader(bytes.NewReader(wireHex("81 01 41 81 01 42")), RoleClient, 0)
	if _, err := r.NextFrame(); err != nil {
		t.Fatal(err)
	}
	if r.bufp == nil || r.Buffered() == 0 {
		t.Fatal("no buffered input before Drop")
	}
	r.Drop()
	if r.bufp != nil || r.Buffered() != 0 {
		t.Fatalf("after Drop: buffer %v, %d bytes buffered", r.bufp != nil, r.Buffered())
	}
}

// TestWriterHoldsNoBufferBetweenFrames checks that a Writer hands its buffer back after every
// frame, and keeps it only while appended payload waits for Flush.
func TestWriterHoldsNoBufferBetweenFrames(t *testing.T) {
	for _, role := range []Role{RoleClient, RoleServer} {
		var b bytes.Buffer
		w := NewWriter(&b, role, MinBufferSize)
		for _, n := range []int{0, 125, 126, MinBufferSize, 10000, maxScratch + 1} {
			if err := w.WriteFrame(true, OpBinary, 0, patternBytes(n)); err != nil {
				t.Fatal(err)
			}
			if w.bufp != nil {
				t.Fatalf("%v: buffer held after a %d-byte frame", role, n)
			}
		}
		w.Append([]byte("abc"))
		if w.bufp == nil {
			t.Fatalf("%v: no buffer while payload is pending", role)
		}
		if err := w.Flush(true, OpText, 0); err != nil {
			t.Fatal(err)
		}
		if w.bufp != nil {
			t.Fatalf("%v: buffer held after Flush", role)
		}
		peer := RoleServer
		if role == RoleServer {
			peer = RoleClient
		}
		r := NewReader(&b, peer, 0)
		for range 7 {
			if _, err := r.NextFrame(); err != nil {
				t.Fatalf("%v: reading back: %v", role, err)
			}
		}
	}
}

// TestWriteControlMatchesWriteFrame checks WriteControl's bytes against WriteFrame's for the
// same key, and that it refuses data opcodes and long payloads.
func TestWriteControlMatchesWriteFrame(t *testing.T) {
	for _, op := range []Opcode{OpPing, OpPong, OpClose} {
		for _, n := range []int{0, 5, MaxControlPayload} {
			var a, b recordWriter
			wa, _ := seededWriter(&a, 0, 9)
			wb, _ := seededWriter(&b, 0, 9)
			if err := wa.WriteFrame(true, op, 0, patternBytes(n)); err != nil {
				t.Fatal(err)
			}
			if err := wb.WriteControl(op, patternBytes(n)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.all(), b.all()) || len(b.writes) != 1 {
				t.Fatalf("%v %d: WriteControl % x in %d writes, WriteFrame % x", op, n, b.all(), len(b.writes), a.all())
			}
		}
	}
	w := NewWriter(io.Discard, RoleClient, 0)
	if err := w.WriteControl(OpText, nil); err != ErrNotControl {
		t.Fatalf("data opcode: %v", err)
	}
	if err := w.WriteControl(OpPing, make([]byte, MaxControlPayload+1)); err != ErrWriteControlTooLong {
		t.Fatalf("long payload: %v", err)
	}
}

// TestBufferPoolSurvivesGarbageCollection checks that a buffer handed back is taken again
// after garbage collections, which empty a sync.Pool: getting and putting a buffer of every
// size class with two collections in between allocates nothing.
func TestBufferPoolSurvivesGarbageCollection(t *testing.T) {
	for size := MinBufferSize; size <= MaxBufferSize; size *= 2 {
		putBuf(getBuf(size)) // one buffer in the class's free list
		allocs := testing.AllocsPerRun(10, func() {
			runtime.GC()
			runtime.GC()
			b := getBuf(size)
			if len(*b) != size {
				t.Fatalf("size %d: got a buffer of %d bytes", size, len(*b))
			}
			putBuf(b)
		})
		if allocs != 0 {
			t.Errorf("size %d: %v allocations per get and put across collections, want 0", size, allocs)
		}
	}
}

// TestBufferPoolKeepsABoundedNumber checks the free list's bound: handing back more buffers
// than a class keeps, only freeMax (or freeBytes worth, at least one) survive two collections;
// a buffer of a length that is no size class is dropped.
func TestBufferPoolKeepsABoundedNumber(t *testing.T) {
	for _, size := range []int{MinBufferSize, DefaultBufferSize, 64 << 10, MaxBufferSize} {
		want := max(1, min(freeMax, freeBytes/size))
		f := bufPools[sizeClass(size)]
		if len(f.slots) != want {
			t.Fatalf("size %d: free list of %d, want %d", size, len(f.slots), want)
		}
		put := make(map[*[]byte]bool)
		var bufs []*[]byte
		for range want + 10 {
			b := getBuf(size)
			bufs = append(bufs, b)
			put[b] = true
		}
		for _, b := range bufs {
			putBuf(b)
		}
		if f.kept() != want {
			t.Fatalf("size %d: %d buffers kept, want %d", size, f.kept(), want)
		}
		runtime.GC()
		runtime.GC()
		again := 0
		for range want + 10 {
			if put[getBuf(size)] {
				again++
			}
		}
		if again != want {
			t.Errorf("size %d: %d buffers taken again after collections, want %d", size, again, want)
		}
	}
	odd := make([]byte, 1000)
	n := bufPools[sizeClass(1024)].kept()
	PutBuffer(&odd)
	if bufPools[sizeClass(1024)].kept() != n {
		t.Error("a 1000-byte buffer went to the 1 KiB free list")
	}
}

// TestLargeMessagesAllocateNothingAcrossCollections is the regression test of the pools that
// garbage collection emptied: a Reader that hands its buffers back after every 1 MiB message
// (as a connection does) and a client's and a server's Writer writing 1 MiB frames allocate
// nothing, though a collection runs before every message.
func TestLargeMessagesAllocateNothingAcrossCollections(t *testing.T) {
	payload := patternBytes(1 << 20)
	frameBytes := rawTestFrame(OpBinary, payload)
	src := bytes.NewReader(frameBytes)
	r := NewReader(src, RoleClient, 0)
	dst := make([]byte, len(payload))
	readOne := func() {
		src.Reset(frameBytes)
		if _, err := r.NextFrame(); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r, dst); err != nil {
			t.Fatal(err)
		}
		if !r.Release() {
			t.Fatal("Release kept the buffer")
		}
	}
	readOne()
	if !bytes.Equal(dst, payload) {
		t.Fatal("payload read back differs")
	}
	if a := testing.AllocsPerRun(20, func() { runtime.GC(); readOne() }); a != 0 {
		t.Errorf("Reader: %v allocations per 1 MiB message with a collection before each, want 0", a)
	}
	for _, role := range []Role{RoleClient, RoleServer} {
		w := NewWriter(io.Discard, role, 0)
		write := func() {
			if err := w.WriteFrame(true, OpBinary, 0, payload); err != nil {
				t.Fatal(err)
			}
		}
		write()
		if a := testing.AllocsPerRun(20, func() { runtime.GC(); write() }); a != 0 {
			t.Errorf("%v Writer: %v allocations per 1 MiB frame with a collection before each, want 0", role, a)
		}
	}
}

// BenchmarkBufferPool takes and hands back a 4 KiB buffer, from one goroutine and from eight
// per P at once. 0 allocs/op.
func BenchmarkBufferPool(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			putBuf(getBuf(DefaultBufferSize))
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				putBuf(getBuf(DefaultBufferSize))
			}
		})
	})
}
