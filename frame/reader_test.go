package frame

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

// streamExample is one of the RFC 6455 §5.7 examples (and two longer ones built the same way):
// the wire bytes and the frames they hold.
type streamExample struct {
	name   string
	role   Role // role of the receiving end
	wire   []byte
	frames []wantFrame
}

type wantFrame struct {
	fin     bool
	op      Opcode
	payload []byte
}

func wireHex(s string) []byte {
	s = strings.ReplaceAll(s, " ", "")
	b := make([]byte, len(s)/2)
	for i := range b {
		var v byte
		for _, c := range s[2*i : 2*i+2] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= byte(c - '0')
			default:
				v |= byte(c-'a') + 10
			}
		}
		b[i] = v
	}
	return b
}

func patternBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func streamExamples() []streamExample {
	hello := []byte("Hello")
	p256 := patternBytes(256)
	p64k := patternBytes(65536)
	return []streamExample{
		{"single unmasked text", RoleClient, wireHex("81 05 48656c6c6f"),
			[]wantFrame{{true, OpText, hello}}},
		{"single masked text", RoleServer, wireHex("81 85 37fa213d 7f9f4d5158"),
			[]wantFrame{{true, OpText, hello}}},
		{"fragmented unmasked text", RoleClient, wireHex("01 03 48656c 80 02 6c6f"),
			[]wantFrame{{false, OpText, []byte("Hel")}, {true, OpContinuation, []byte("lo")}}},
		{"unmasked ping", RoleClient, wireHex("89 05 48656c6c6f"),
			[]wantFrame{{true, OpPing, hello}}},
		{"masked pong", RoleServer, wireHex("8a 85 37fa213d 7f9f4d5158"),
			[]wantFrame{{true, OpPong, hello}}},
		{"256 bytes binary, 16-bit length", RoleClient, append(wireHex("82 7e 0100"), p256...),
			[]wantFrame{{true, OpBinary, p256}}},
		{"64 KiB binary, 64-bit length", RoleClient, append(wireHex("82 7f 0000000000010000"), p64k...),
			[]wantFrame{{true, OpBinary, p64k}}},
	}
}

// readAll reads the frames of r; usePayload picks Payload (when the payload fits) over Read.
func readAllFrames(t *testing.T, r *Reader, usePayload bool) []wantFrame {
	t.Helper()
	var got []wantFrame
	for {
		h, err := r.NextFrame()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("NextFrame after %d frames: %v", len(got), err)
		}
		var p []byte
		if usePayload && h.Length <= int64(r.BufferSize()) {
			q, err := r.Payload()
			if err != nil {
				t.Fatalf("Payload: %v", err)
			}
			p = append([]byte{}, q...)
		} else {
			p, err = io.ReadAll(r)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
		}
		if int64(len(p)) != h.Length {
			t.Fatalf("payload of %d bytes, header says %d", len(p), h.Length)
		}
		got = append(got, wantFrame{h.Fin, h.Op, p})
	}
}

func sameFrames(t *testing.T, got, want []wantFrame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d frames, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.fin != w.fin || g.op != w.op || !bytes.Equal(g.payload, w.payload) {
			t.Fatalf("frame %d: got fin=%v op=%v len=%d, want fin=%v op=%v len=%d", i, g.fin, g.op,
				len(g.payload), w.fin, w.op, len(w.payload))
		}
	}
}

// TestReaderDecodesRFCExamplesThroughEverySource reads the §5.7 wire bytes whole, one byte at
// a time, half reads, and as handshake prefix, with Payload and with Read, at two buffer sizes.
func TestReaderDecodesRFCExamplesThroughEverySource(t *testing.T) {
	sources := []struct {
		name string
		make func(b []byte) (io.Reader, []byte)
	}{
		{"whole", func(b []byte) (io.Reader, []byte) { return bytes.NewReader(b), nil }},
		{"one byte", func(b []byte) (io.Reader, []byte) { return iotest.OneByteReader(bytes.NewReader(b)), nil }},
		{"half", func(b []byte) (io.Reader, []byte) { return iotest.HalfReader(bytes.NewReader(b)), nil }},
		{"data err", func(b []byte) (io.Reader, []byte) { return iotest.DataErrReader(bytes.NewReader(b)), nil }},
		{"all prefix", func(b []byte) (io.Reader, []byte) { return bytes.NewReader(nil), b }},
		{"split prefix", func(b []byte) (io.Reader, []byte) { return bytes.NewReader(b[len(b)/2:]), b[:len(b)/2] }},
	}
	for _, ex := range streamExamples() {
		for _, src := range sources {
			for _, size := range []int{MinBufferSize, DefaultBufferSize} {
				for _, usePayload := range []bool{true, false} {
					r := NewReader(nil, ex.role, size)
					s, prefix := src.make(ex.wire)
					r.Reset(s, prefix)
					got := readAllFrames(t, r, usePayload)
					sameFrames(t, got, ex.frames)
					r.Release()
				}
			}
		}
	}
}

// TestReaderRejectsEachViolationStickily checks the receive-side rules on real wire bytes and
// that the error stays for every later call.
func TestReaderRejectsEachViolationStickily(t *testing.T) {
	tests := []struct {
		name string
		role Role
		wire string
		want error
	}{
		{"rsv1 without extension", RoleClient, "c1 00", ErrReservedBits},
		{"rsv3 without extension", RoleClient, "91 00", ErrReservedBits},
		{"reserved opcode 3", RoleClient, "83 00", ErrReservedOpcode},
		{"reserved opcode B", RoleClient, "8b 00", ErrReservedOpcode},
		{"ping of 126 bytes", RoleClient, "89 7e 007e", ErrControlTooLong},
		{"fragmented ping", RoleClient, "09 00", ErrControlFragmented},
		{"masked frame at client", RoleClient, "81 80 01020304", ErrMaskedFrame},
		{"unmasked frame at server", RoleServer, "81 00", ErrUnmaskedFrame},
		{"continuation first", RoleClient, "80 00", ErrUnexpectedContinuation},
		{"text inside fragmented text", RoleClient, "01 00 81 00", ErrExpectedContinuation},
		{"64-bit length top bit", RoleClient, "82 7f 8000000000000000", ErrLengthTopBit},
		{"16-bit length for 125", RoleClient, "82 7e 007d", ErrNonMinimalLength},
		{"64-bit length for 65535", RoleClient, "82 7f 000000000000ffff", ErrNonMinimalLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(wireHex(tt.wire)), tt.role, 0)
			var err error
			for range 3 {
				if _, err = r.NextFrame(); err != nil {
					break
				}
			}
			if err != tt.want {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if _, err := r.NextFrame(); err != tt.want {
				t.Fatalf("NextFrame again: %v, want sticky %v", err, tt.want)
			}
			if _, err := r.Payload(); err != tt.want {
				t.Fatalf("Payload: %v, want sticky %v", err, tt.want)
			}
			if _, err := r.Read(make([]byte, 4)); err != tt.want {
				t.Fatalf("Read: %v, want sticky %v", err, tt.want)
			}
			r.Release()
		})
	}
}

// TestReaderAllowsNegotiatedRsv1OnFirstFrameOnly checks SetAllowedRsv.
func TestReaderAllowsNegotiatedRsv1OnFirstFrameOnly(t *testing.T) {
	r := NewReader(bytes.NewReader(wireHex("41 00 c0 00")), RoleClient, 0)
	r.SetAllowedRsv(Rsv1)
	h, err := r.NextFrame()
	if err != nil || h.Rsv != Rsv1 {
		t.Fatalf("first frame: %+v %v", h, err)
	}
	if _, err := r.NextFrame(); err != ErrReservedBits {
		t.Fatalf("rsv1 on continuation: %v, want ErrReservedBits", err)
	}
}

// TestReaderEndOfInput distinguishes a clean end between frames from input cut inside one.
func TestReaderEndOfInput(t *testing.T) {
	tests := []struct {
		name    string
		wire    string
		payload bool // ask for the payload
		want    error
	}{
		{"empty", "", false, io.EOF},
		{"after a whole frame", "81 01 41", true, io.EOF},
		{"inside a header", "81", false, io.ErrUnexpectedEOF},
		{"inside an extended length", "82 7e 01", false, io.ErrUnexpectedEOF},
		{"inside a payload", "81 05 4142", true, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, usePayload := range []bool{true, false} {
				r := NewReader(bytes.NewReader(wireHex(tt.wire)), RoleClient, 0)
				var err error
				for err == nil {
					if _, err = r.NextFrame(); err == nil && tt.payload {
						if usePayload {
							_, err = r.Payload()
						} else {
							_, err = io.ReadAll(r)
						}
					}
				}
				if err != tt.want {
					t.Fatalf("usePayload=%v: got %v, want %v", usePayload, err, tt.want)
				}
				r.Release()
			}
		})
	}
}

// fakeTimeout is what a net.Conn returns when a read deadline fires.
type fakeTimeout struct{}

func (fakeTimeout) Error() string { return "i/o timeout" }
func (fakeTimeout) Timeout() bool { return true }

// stutterReader returns its data step bytes at a time, with a timeout error before every step.
type stutterReader struct {
	data    []byte
	step    int
	timeout bool
}

func (s *stutterReader) Read(p []byte) (int, error) {
	if s.timeout = !s.timeout; s.timeout {
		return 0, fakeTimeout{}
	}
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), s.step, len(s.data))
	copy(p, s.data[:n])
	s.data = s.data[n:]
	return n, nil
}

// TestReaderResumesAfterTimeoutAnywhere makes the source time out before every few bytes, so
// that a deadline fires inside headers, extended lengths, masking keys and payloads; retrying
// each call must lose nothing.
func TestReaderResumesAfterTimeoutAnywhere(t *testing.T) {
	for _, ex := range streamExamples() {
		for _, step := range []int{1, 3, 1000} {
			for _, usePayload := range []bool{true, false} {
				r := NewReader(&stutterReader{data: ex.wire, step: step}, ex.role, MinBufferSize)
				var got []wantFrame
				for {
					h, err := r.NextFrame()
					if errors.Is(err, fakeTimeout{}) {
						continue
					}
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("%s: NextFrame: %v", ex.name, err)
					}
					var p []byte
					if usePayload && h.Length <= int64(r.BufferSize()) {
						for {
							q, err := r.Payload()
							if errors.Is(err, fakeTimeout{}) {
								continue
							}
							if err != nil {
								t.Fatalf("%s: Payload: %v", ex.name, err)
							}
							p = append(p, q...)
							break
						}
					} else {
						buf := make([]byte, 300)
						for {
							n, err := r.Read(buf)
							p = append(p, buf[:n]...)
							if err == io.EOF {
								break
							}
							if err != nil && !errors.Is(err, fakeTimeout{}) {
								t.Fatalf("%s: Read: %v", ex.name, err)
							}
						}
					}
					got = append(got, wantFrame{h.Fin, h.Op, p})
				}
				sameFrames(t, got, ex.frames)
			}
		}
	}
}

// TestReaderNextFrameSkipsUnreadPayload leaves payloads unread, in part or whole.
func TestReaderNextFrameSkipsUnreadPayload(t *testing.T) {
	wire := append(wireHex("82 7e 0400"), patternBytes(1024)...)
	wire = append(wire, wireHex("81 02 6869")...)
	for _, read := range []int{0, 1, 600} {
		r := NewReader(iotest.HalfReader(bytes.NewReader(wire)), RoleClient, MinBufferSize)
		if _, err := r.NextFrame(); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r, make([]byte, read)); err != nil {
			t.Fatal(err)
		}
		if r.Remaining() != int64(1024-read) {
			t.Fatalf("Remaining %d", r.Remaining())
		}
		h, err := r.NextFrame()
		if err != nil || h.Op != OpText || h.Length != 2 {
			t.Fatalf("after skipping: %+v %v", h, err)
		}
		p, err := r.Payload()
		if err != nil || string(p) != "hi" {
			t.Fatalf("payload %q %v", p, err)
		}
	}
}

// TestReaderPayloadTooBigLeavesReadUsable checks the limit of Payload.
func TestReaderPayloadTooBigLeavesReadUsable(t *testing.T) {
	wire := append(wireHex("82 7e 0101"), patternBytes(257)...)
	r := NewReader(bytes.NewReader(wire), RoleClient, MinBufferSize)
	if _, err := r.NextFrame(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Payload(); err != ErrPayloadTooBig {
		t.Fatalf("Payload: %v, want ErrPayloadTooBig", err)
	}
	// After reading one byte, the rest fits.
	if _, err := r.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	p, err := r.Payload()
	if err != nil || !bytes.Equal(p, patternBytes(257)[1:]) {
		t.Fatalf("Payload after Read: %d bytes, %v", len(p), err)
	}
}

// TestReaderReleaseReturnsBufferOnlyWhenIdle checks Release with and without buffered input.
func TestReaderReleaseReturnsBufferOnlyWhenIdle(t *testing.T) {
	r := NewReader(bytes.NewReader(wireHex("81 01 41 81 01 42")), RoleClient, 0)
	if _, err := r.NextFrame(); err != nil {
		t.Fatal(err)
	}
	if r.Release() {
		t.Fatal("Release with buffered input succeeded")
	}
	if _, err := r.NextFrame(); err != nil {
		t.Fatal(err)
	}
	if p, err := r.Payload(); err != nil || string(p) != "B" {
		t.Fatalf("payload %q %v", p, err)
	}
	if !r.Release() || r.Buffered() != 0 {
		t.Fatal("Release when idle failed")
	}
	if _, err := r.NextFrame(); err != io.EOF {
		t.Fatalf("after Release: %v", err)
	}
}

// TestReaderLargePrefixIsKept gives a prefix larger than the buffer.
func TestReaderLargePrefixIsKept(t *testing.T) {
	var wire []byte
	for i := range 100 {
		wire = append(wire, 0x82, 5)
		wire = append(wire, bytes.Repeat([]byte{byte(i)}, 5)...)
	}
	r := NewReader(nil, RoleClient, MinBufferSize)
	r.Reset(bytes.NewReader(nil), wire)
	for i := range 100 {
		if _, err := r.NextFrame(); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		p, err := r.Payload()
		if err != nil || !bytes.Equal(p, bytes.Repeat([]byte{byte(i)}, 5)) {
			t.Fatalf("frame %d: %v %v", i, p, err)
		}
	}
	if _, err := r.NextFrame(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

// TestReaderPoisonsHandedPayloadInDebugBuilds runs with -tags wsdebug.
func TestReaderPoisonsHandedPayloadInDebugBuilds(t *testing.T) {
	if !debugPoison {
		t.Skip("needs -tags wsdebug")
	}
	r := NewReader(bytes.NewReader(wireHex("81 02 6869 81 02 6869")), RoleClient, 0)
	r.NextFrame()
	p, _ := r.Payload()
	r.NextFrame()
	if !bytes.Equal(p, []byte{0xDB, 0xDB}) {
		t.Fatalf("old payload not poisoned: %q", p)
	}
}

// TestReaderTimeoutErrorIsReturnedAsIs checks the error type a caller checks for deadlines.
func TestReaderTimeoutErrorIsReturnedAsIs(t *testing.T) {
	r := NewReader(iotest.TimeoutReader(bytes.NewReader(wireHex("81 05 48656c6c6f"))), RoleClient, MinBufferSize)
	if _, err := r.NextFrame(); err != nil {
		t.Fatal(err)
	}
	r2 := NewReader(iotest.ErrReader(os.ErrDeadlineExceeded), RoleClient, 0)
	if _, err := r2.NextFrame(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

// FuzzFrameReader feeds arbitrary bytes to a Reader: no panic, and every frame delivers
// exactly its header's length of payload (or an error). The same bytes read from a source that
// returns its last bytes together with io.EOF (iotest.DataErrReader, as crypto/tls does) give
// the same frames, payloads and final error as from a plain bytes.Reader.
func FuzzFrameReader(f *testing.F) {
	for _, ex := range streamExamples() {
		f.Add(append([]byte{byte(ex.role)}, ex.wire[:min(len(ex.wire), 600)]...))
	}
	f.Add([]byte{0, 0x01, 0x03, 'a', 'b', 'c', 0x89, 0x00, 0x80, 0x01, 'd'})
	f.Add([]byte{1, 0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4})
	// A whole frame larger than the buffer: its end is read straight into the caller's buffer.
	f.Add(append([]byte{byte(RoleClient)}, rawTestFrame(OpBinary, patternBytes(600))...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		role := Role(data[0] & 1)
		mode := data[0] >> 1
		if plain, dataErr := frameTrace(bytes.NewReader(data[1:]), role),
			frameTrace(iotest.DataErrReader(bytes.NewReader(data[1:])), role); plain != dataErr {
			t.Fatalf("plain source:\n%s\ndata with io.EOF:\n%s", plain, dataErr)
		}
		var src io.Reader = bytes.NewReader(data[1:])
		if mode&1 != 0 {
			src = iotest.OneByteReader(src)
		}
		r := NewReader(src, role, MinBufferSize)
		defer r.Release()
		for i := 0; ; i++ {
			h, err := r.NextFrame()
			if err != nil {
				return
			}
			if h.Length < 0 || (h.Op.IsControl() && h.Length > MaxControlPayload) {
				t.Fatalf("accepted header %+v", h)
			}
			var n int64
			if (mode>>1+byte(i))&1 == 0 && h.Length <= int64(r.BufferSize()) {
				p, err := r.Payload()
				if err != nil {
					return
				}
				n = int64(len(p))
			} else if i%3 == 2 {
				continue // leave the payload to NextFrame's skipping
			} else {
				n, err = io.Copy(io.Discard, io.LimitReader(r, 1<<20))
				if err != nil {
					return
				}
				if n < h.Length && n < 1<<20 {
					t.Fatalf("read %d of %d without error", n, h.Length)
				}
				if n < h.Length {
					continue
				}
			}
			if n != h.Length {
				t.Fatalf("payload %d bytes, header %d", n, h.Length)
			}
		}
	})
}

// frameTrace reads every frame of src, payloads (up to 64 KiB of each) with Read into a 4 KiB
// buffer (direct reads included), and describes the frames, a hash of each payload and the
// final error.
func frameTrace(src io.Reader, role Role) string {
	r := NewReader(src, role, MinBufferSize)
	defer r.Drop()
	var b strings.Builder
	var buf [4096]byte
	for {
		h, err := r.NextFrame()
		if err != nil {
			fmt.Fprintf(&b, "end: %v", err)
			return b.String()
		}
		sum := fnv.New64a()
		n, want := int64(0), min(h.Length, 1<<16)
		for n < want && err == nil { // every error counts, also one that came with data
			var k int
			k, err = r.Read(buf[:min(want-n, int64(len(buf)))])
			sum.Write(buf[:k])
			n += int64(k)
		}
		fmt.Fprintf(&b, "%+v %d %x\n", h, n, sum.Sum64())
		if err != nil && err != io.EOF {
			fmt.Fprintf(&b, "payload: %v", err)
			return b.String()
		}
	}
}

// loopReader replays the same bytes forever.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

// BenchmarkReaderFrame reads server-to-client frames (Payload when they fit, Read otherwise)
// and client-to-server masked frames. It must report 0 allocs/op.
func BenchmarkReaderFrame(b *testing.B) {
	for _, size := range []int{64, 1024, 64 << 10} {
		for _, role := range []Role{RoleClient, RoleServer} {
			h := Header{Fin: true, Op: OpBinary, Length: int64(size), Masked: role == RoleServer, Key: [4]byte{1, 2, 3, 4}}
			wire := AppendHeader(nil, &h)
			wire = append(wire, patternBytes(size)...)
			// Repeat the frame so a buffer fill holds several.
			for len(wire) < 8192 {
				wire = append(wire, wire...)
			}
			b.Run(rwSizeName(size)+"/"+role.String(), func(b *testing.B) {
				r := NewReader(&loopReader{data: wire}, role, 0)
				buf := make([]byte, 32<<10)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					h, err := r.NextFrame()
					if err != nil {
						b.Fatal(err)
					}
					if h.Length <= int64(r.BufferSize()) {
						if _, err := r.Payload(); err != nil {
							b.Fatal(err)
						}
						continue
					}
					for r.Remaining() > 0 {
						if _, err := r.Read(buf); err != nil {
							b.Fatal(err)
						}
					}
				}
				r.Release()
			})
		}
	}
}

func rwSizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return rwItoa(n>>20) + "MiB"
	case n >= 1024 && n%1024 == 0:
		return rwItoa(n>>10) + "KiB"
	}
	return rwItoa(n) + "B"
}

func rwItoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestReaderNextMessageTakesOnlyWholeFinalDataFrames(t *testing.T) {
	p256 := patternBytes(256)
	tests := []struct {
		name    string
		role    Role
		wire    []byte
		skip    int    // frames read with NextFrame and Payload first
		want    []byte // payload NextMessage returns; nil: it must refuse
		wantErr error  // what NextFrame then returns (nil: a header)
	}{
		{"unmasked text", RoleClient, wireHex("81 05 48656c6c6f"), 0, []byte("Hello"), nil},
		{"masked text to a server", RoleServer, wireHex("81 85 37fa213d 7f9f4d5158"), 0, []byte("Hello"), nil},
		{"binary with 16-bit length", RoleClient, append(wireHex("82 7e 0100"), p256...), 0, p256, nil},
		{"empty binary", RoleClient, wireHex("82 00"), 0, []byte{}, nil},
		{"payload one byte short", RoleClient, wireHex("81 05 48656c6c"), 0, nil, nil},
		{"header cut short", RoleClient, wireHex("82 7e 01"), 0, nil, io.ErrUnexpectedEOF},
		{"first fragment", RoleClient, wireHex("01 03 48656c"), 0, nil, nil},
		{"final continuation", RoleClient, wireHex("01 03 48656c 80 02 6c6f"), 1, nil, nil},
		{"stray continuation", RoleClient, wireHex("80 02 6c6f"), 0, nil, ErrUnexpectedContinuation},
		{"ping", RoleClient, wireHex("89 00"), 0, nil, nil},
		{"masked frame to a client", RoleClient, wireHex("81 85 37fa213d 7f9f4d5158"), 0, nil, ErrMaskedFrame},
		{"unmasked frame to a server", RoleServer, wireHex("82 00"), 0, nil, ErrUnmaskedFrame},
		{"rsv1 not negotiated", RoleClient, wireHex("c1 05 48656c6c6f"), 0, nil, ErrReservedBits},
		{"non-minimal length", RoleClient, wireHex("81 7e 0005 48656c6c6f"), 0, nil, ErrNonMinimalLength},
		{"new message inside a fragmented one", RoleClient, wireHex("01 03 48656c 81 02 6c6f"), 1, nil, ErrExpectedContinuation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tt.wire), tt.role, 0)
			for range tt.skip {
				if _, err := r.NextFrame(); err != nil {
					t.Fatal(err)
				}
				if _, err := r.Payload(); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.fill(1); err != nil {
				t.Fatal(err)
			}
			before := r.Buffered()
			h, p, ok := r.NextMessage()
			if tt.want != nil {
				if !ok || !bytes.Equal(p, tt.want) || !h.Fin || r.Buffered() != 0 || r.Remaining() != 0 {
					t.Fatalf("NextMessage = %v, %q, %v (buffered %d); want %q", h, p, ok, r.Buffered(), tt.want)
				}
				if _, err := r.NextFrame(); err != io.EOF {
					t.Fatalf("NextFrame after the message: %v, want io.EOF", err)
				}
				return
			}
			if ok || p != nil || r.Buffered() != before {
				t.Fatalf("NextMessage = %v, %q, %v, buffered %d of %d; want a refusal consuming nothing", h, p, ok, r.Buffered(), before)
			}
			_, err := r.NextFrame()
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("NextFrame after the refusal: %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestReaderBufferGrowsWhileInputStreamsAndShrinksAfter(t *testing.T) {
	one := append([]byte{0x82, 60}, patternBytes(60)...)
	var wire []byte
	for len(wire) < 256<<10 {
		wire = append(wire, one...)
	}
	// stream returns as much as asked, then one byte per read: a peer whose data trickles.
	src := &stutterSwitch{fast: bytes.NewReader(wire), fastFrames: len(wire) / 2 / len(one)}
	r := NewReader(src, RoleClient, 0)
	largest := 0
	for i := 0; i < len(wire)/len(one); i++ {
		h, p, ok := r.NextMessage()
		if !ok {
			var err error
			if h, err = r.NextFrame(); err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			if p, err = r.Payload(); err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
		}
		if h.Op != OpBinary || !bytes.Equal(p, one[2:]) {
			t.Fatalf("frame %d: %v %x", i, h, p)
		}
		largest = max(largest, len(r.buf))
		if i == src.fastFrames/2 && len(r.buf) != StreamBufferSize*DefaultBufferSize {
			t.Fatalf("buffer while input streams: %d bytes, want %d", len(r.buf), StreamBufferSize*DefaultBufferSize)
		}
	}
	if largest != StreamBufferSize*DefaultBufferSize {
		t.Fatalf("largest buffer %d, want %d", largest, StreamBufferSize*DefaultBufferSize)
	}
	if r.cur != DefaultBufferSize {
		t.Fatalf("next buffer after input trickled: %d bytes, want %d", r.cur, DefaultBufferSize)
	}
	if r.BufferSize() != DefaultBufferSize {
		t.Fatalf("BufferSize %d, want %d", r.BufferSize(), DefaultBufferSize)
	}
}

// stutterSwitch reads fast (as much as asked) for about fastFrames frames' worth of bytes, then
// a few bytes per read.
type stutterSwitch struct {
	fast       *bytes.Reader
	fastFrames int
	read       int
}

func (s *stutterSwitch) Read(p []byte) (int, error) {
	if s.read >= s.fastFrames*62 && len(p) > 16 {
		p = p[:16]
	}
	n, err := s.fast.Read(p)
	s.read += n
	return n, err
}

func TestReaderBufferReturnsToBufferSizeForLargeFrames(t *testing.T) {
	small := append([]byte{0x82, 60}, patternBytes(60)...)
	var wire []byte
	for len(wire) < 64<<10 {
		wire = append(wire, small...)
	}
	big := patternBytes(100 << 10)
	wire = append(append(wire, 0x82, 127, 0, 0, 0, 0, 0, byte(len(big)>>16), byte(len(big)>>8), byte(len(big))), big...)
	r := NewReader(bytes.NewReader(wire), RoleClient, 0)
	grown := false
	for {
		h, err := r.NextFrame()
		if err != nil {
			t.Fatal(err)
		}
		grown = grown || r.cur > DefaultBufferSize
		if h.Length == int64(len(big)) {
			break
		}
		if _, err := r.Payload(); err != nil {
			t.Fatal(err)
		}
	}
	if !grown {
		t.Fatal("the buffer never grew while small frames streamed in")
	}
	if r.cur != DefaultBufferSize {
		t.Fatalf("next buffer after a frame larger than BufferSize: %d bytes, want %d", r.cur, DefaultBufferSize)
	}
	got := make([]byte, len(big))
	if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("large payload: %v", err)
	}
}
