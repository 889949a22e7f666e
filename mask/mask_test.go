package mask

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gobwas/ws"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// naiveMask is the reference: RFC 6455 §5.3 written out byte by byte.
func naiveMask(b []byte, key [4]byte, pos int) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

// impl is one implementation under test.
type impl struct {
	name string
	mask func(b []byte, key [4]byte, pos int) int
	copy func(dst, src []byte, key [4]byte, pos int) int
}

// impls returns every implementation this build can run: the exported functions (the
// dispatching path), the portable Go code, and each vector kernel the CPU supports.
func impls() []impl {
	return append([]impl{
		{"Mask", Mask, Copy},
		{"generic", maskGeneric, copyGeneric},
	}, archImpls()...)
}

// TestMaskRFC6455Example checks the masked "Hello" of RFC 6455 §5.7 in both directions, in one
// pass and in pieces.
func TestMaskRFC6455Example(t *testing.T) {
	// 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58: a masked text frame "Hello".
	frameBytes := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	key := [4]byte(frameBytes[2:6])
	wire := frameBytes[6:]
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			b := bytes.Clone(wire)
			if pos := im.mask(b, key, 0); pos != 1 || string(b) != "Hello" {
				t.Fatalf("unmask = %q, pos %d; want \"Hello\", pos 1", b, pos)
			}
			if pos := im.mask(b, key, 0); pos != 1 || !bytes.Equal(b, wire) {
				t.Fatalf("mask = % x, pos %d; want % x, pos 1", b, pos, wire)
			}
			dst := make([]byte, 5)
			if pos := im.copy(dst, []byte("Hello"), key, 0); pos != 1 || !bytes.Equal(dst, wire) {
				t.Fatalf("copy = % x, pos %d; want % x, pos 1", dst, pos, wire)
			}
			b = bytes.Clone(wire)
			pos := im.mask(b[:2], key, 0)
			pos = im.mask(b[2:3], key, pos)
			pos = im.mask(b[3:], key, pos)
			if pos != 1 || string(b) != "Hello" {
				t.Fatalf("unmask in pieces = %q, pos %d; want \"Hello\", pos 1", b, pos)
			}
		})
	}
}

// TestMaskVectors checks fixed vectors: known key, position and bytes in, exact bytes out.
func TestMaskVectors(t *testing.T) {
	key := [4]byte{0x01, 0x02, 0x04, 0x08}
	tests := []struct {
		name    string
		in      []byte
		pos     int
		want    []byte
		wantPos int
	}{
		{"empty keeps position", nil, 3, nil, 3},
		{"one byte at pos 0", []byte{0x00}, 0, []byte{0x01}, 1},
		{"one byte at pos 3 wraps", []byte{0x00}, 3, []byte{0x08}, 0},
		{"five bytes at pos 2", []byte{0, 0, 0, 0, 0}, 2, []byte{0x04, 0x08, 0x01, 0x02, 0x04}, 3},
		{"pos 6 uses low two bits", []byte{0xff, 0xff}, 6, []byte{0xfb, 0xf7}, 0},
		{"negative pos -1 is pos 3", []byte{0x10, 0x10}, -1, []byte{0x18, 0x11}, 1},
		{"16 zero bytes at pos 1", make([]byte, 16), 1,
			bytes.Repeat([]byte{0x02, 0x04, 0x08, 0x01}, 4), 1},
		{"33 0xff bytes at pos 0", bytes.Repeat([]byte{0xff}, 33), 0,
			append(bytes.Repeat([]byte{0xfe, 0xfd, 0xfb, 0xf7}, 8), 0xfe), 1},
	}
	for _, im := range impls() {
		for _, tt := range tests {
			t.Run(im.name+"/"+tt.name, func(t *testing.T) {
				b := bytes.Clone(tt.in)
				if pos := im.mask(b, key, tt.pos); pos != tt.wantPos || !bytes.Equal(b, tt.want) {
					t.Errorf("Mask = % x, pos %d; want % x, pos %d", b, pos, tt.want, tt.wantPos)
				}
				dst := make([]byte, len(tt.in))
				if pos := im.copy(dst, tt.in, key, tt.pos); pos != tt.wantPos || !bytes.Equal(dst, tt.want) {
					t.Errorf("Copy = % x, pos %d; want % x, pos %d", dst, pos, tt.want, tt.wantPos)
				}
			})
		}
	}
}

const guard = 40 // bytes before and after the region under test that must stay untouched

func randKey(r *rand.Rand) [4]byte {
	var k [4]byte
	for i := range k {
		k[i] = byte(r.Uint32())
	}
	return k
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestMaskMatchesNaiveAllLengthsPositionsOffsets compares Mask with the byte loop for every
// length 0..300, every key position and unaligned starts, and checks that no byte outside the
// slice changes.
func TestMaskMatchesNaiveAllLengthsPositionsOffsets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			for n := 0; n <= 300; n++ {
				for pos := range 4 {
					off := guard + r.IntN(64)
					buf := randBytes(r, off+n+guard)
					want := bytes.Clone(buf)
					key := randKey(r)
					wantPos := naiveMask(want[off:off+n], key, pos)
					gotPos := im.mask(buf[off:off+n], key, pos)
					if gotPos != wantPos || !bytes.Equal(buf, want) {
						t.Fatalf("n=%d pos=%d off=%d key=% x: pos %d, want %d; bytes differ: %v",
							n, pos, off, key, gotPos, wantPos, !bytes.Equal(buf, want))
					}
				}
			}
		})
	}
}

// TestCopyMatchesNaiveLeavesSrcUnchanged compares Copy with the byte loop for every length
// 0..300, every key position and independent unaligned starts of dst and src; src must not
// change, nor any byte of dst outside dst[:len(src)].
func TestCopyMatchesNaiveLeavesSrcUnchanged(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			for n := 0; n <= 300; n++ {
				for pos := range 4 {
					soff, doff := r.IntN(64), guard+r.IntN(64)
					src := randBytes(r, soff+n)
					srcBefore := bytes.Clone(src)
					dst := randBytes(r, doff+n+guard)
					key := randKey(r)
					want := bytes.Clone(dst)
					copy(want[doff:], src[soff:])
					wantPos := naiveMask(want[doff:doff+n], key, pos)
					// dst longer than src: only dst[:len(src)] may be written.
					gotPos := im.copy(dst[doff:], src[soff:], key, pos)
					if gotPos != wantPos || !bytes.Equal(dst, want) {
						t.Fatalf("n=%d pos=%d soff=%d doff=%d: pos %d, want %d; bytes differ: %v",
							n, pos, soff, doff, gotPos, wantPos, !bytes.Equal(dst, want))
					}
					if !bytes.Equal(src, srcBefore) {
						t.Fatalf("n=%d pos=%d: Copy modified src", n, pos)
					}
				}
			}
		})
	}
}

// TestLongInputsAtEveryAlignmentMatchNaive covers the realignment of long inputs in the vector
// kernels: lengths around and above the 256-byte threshold, dst at every offset within a
// 64-byte line, src at an independent offset, every key position; in place and copying.
func TestLongInputsAtEveryAlignmentMatchNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	lengths := []int{255, 256, 257, 271, 272, 287, 288, 300, 319, 320, 383, 384, 511, 1000, 1024, 4113}
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			for _, n := range lengths {
				for off := range 64 {
					pos := off & 3
					key := randKey(r)
					buf := randBytes(r, guard+off+n+guard)
					want := bytes.Clone(buf)
					wantPos := naiveMask(want[guard+off:guard+off+n], key, pos)
					if got := im.mask(buf[guard+off:guard+off+n], key, pos); got != wantPos || !bytes.Equal(buf, want) {
						t.Fatalf("Mask n=%d off=%d pos=%d: pos %d, want %d; bytes differ: %v",
							n, off, pos, got, wantPos, !bytes.Equal(buf, want))
					}

					soff := r.IntN(64)
					src := randBytes(r, soff+n)
					srcBefore := bytes.Clone(src)
					dst := randBytes(r, guard+off+n+guard)
					want = bytes.Clone(dst)
					copy(want[guard+off:], src[soff:])
					naiveMask(want[guard+off:guard+off+n], key, pos)
					if got := im.copy(dst[guard+off:guard+off+n], src[soff:], key, pos); got != wantPos || !bytes.Equal(dst, want) {
						t.Fatalf("Copy n=%d off=%d soff=%d pos=%d: pos %d, want %d; bytes differ: %v",
							n, off, soff, pos, got, wantPos, !bytes.Equal(dst, want))
					}
					if !bytes.Equal(src, srcBefore) {
						t.Fatalf("Copy n=%d off=%d: src modified", n, off)
					}
				}
			}
		})
	}
}

// TestCopyInPlaceEqualsMask checks Copy with dst and src the same slice.
func TestCopyInPlaceEqualsMask(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			for n := 0; n <= 300; n++ {
				pos := r.IntN(4)
				off := guard + r.IntN(32)
				buf := randBytes(r, off+n+guard)
				want := bytes.Clone(buf)
				key := randKey(r)
				wantPos := naiveMask(want[off:off+n], key, pos)
				b := buf[off : off+n]
				if gotPos := im.copy(b, b, key, pos); gotPos != wantPos || !bytes.Equal(buf, want) {
					t.Fatalf("n=%d pos=%d: pos %d, want %d; bytes differ: %v",
						n, pos, gotPos, wantPos, !bytes.Equal(buf, want))
				}
			}
		})
	}
}

// TestMaskInRandomPiecesEqualsOnePass masks and copies payloads in random pieces, carrying the
// returned position, and compares with one pass of the byte loop.
func TestMaskInRandomPiecesEqualsOnePass(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			for range 500 {
				n := r.IntN(2000)
				key := randKey(r)
				start := r.IntN(4)
				src := randBytes(r, n)
				want := bytes.Clone(src)
				wantPos := naiveMask(want, key, start)

				b := bytes.Clone(src)
				dst := make([]byte, n)
				mpos, cpos := start, start
				for i := 0; i < n; {
					j := min(n, i+r.IntN(100))
					mpos = im.mask(b[i:j], key, mpos)
					cpos = im.copy(dst[i:j], src[i:j], key, cpos)
					i = j
				}
				if mpos != wantPos || !bytes.Equal(b, want) {
					t.Fatalf("Mask in pieces: n=%d start=%d: pos %d, want %d", n, start, mpos, wantPos)
				}
				if cpos != wantPos || !bytes.Equal(dst, want) {
					t.Fatalf("Copy in pieces: n=%d start=%d: pos %d, want %d", n, start, cpos, wantPos)
				}
			}
		})
	}
}

// TestCopyShortDstPanicsBeforeWriting checks the documented failure: dst shorter than src is
// an index panic, and nothing has been written.
func TestCopyShortDstPanicsBeforeWriting(t *testing.T) {
	for _, im := range impls() {
		for _, n := range []int{3, 15, 100} {
			t.Run(fmt.Sprintf("%s/%d", im.name, n), func(t *testing.T) {
				dst := make([]byte, n)
				defer func() {
					if recover() == nil {
						t.Fatal("no panic")
					}
					if !bytes.Equal(dst, make([]byte, n)) {
						t.Fatalf("dst written before the panic: % x", dst)
					}
				}()
				im.copy(dst, bytes.Repeat([]byte{1}, n+1), [4]byte{1, 2, 3, 4}, 0)
			})
		}
	}
}

// TestMaskCopyDoNotAllocate checks the allocation contract.
func TestMaskCopyDoNotAllocate(t *testing.T) {
	src, dst := make([]byte, 4099), make([]byte, 4099)
	key := [4]byte{1, 2, 3, 4}
	for _, n := range []int{0, 7, 16, 100, 4099} {
		if a := testing.AllocsPerRun(100, func() { Mask(src[:n], key, 1) }); a != 0 {
			t.Errorf("Mask(%d bytes): %v allocs, want 0", n, a)
		}
		if a := testing.AllocsPerRun(100, func() { Copy(dst, src[:n], key, 2) }); a != 0 {
			t.Errorf("Copy(%d bytes): %v allocs, want 0", n, a)
		}
	}
}

var benchSizes = []struct {
	name string
	n    int
}{
	{"16B", 16},
	{"128B", 128},
	{"1KiB", 1 << 10},
	{"16KiB", 16 << 10},
	{"1MiB", 1 << 20},
}

var benchKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// The benchmarks call each function directly rather than through a function value, so that
// Mask and Copy are inlined into the loop as they are at a real call site.

// BenchmarkMask measures Mask in place, the read path.
func BenchmarkMask(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			buf := make([]byte, s.n)
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				Mask(buf, benchKey, 0)
			}
		})
	}
}

// BenchmarkCopy measures Copy into a separate buffer, the client write path.
func BenchmarkCopy(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			src, dst := make([]byte, s.n), make([]byte, s.n)
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				Copy(dst, src, benchKey, 0)
			}
		})
	}
}

// BenchmarkMaskGeneric measures the portable Go Mask (what purego and other architectures run).
func BenchmarkMaskGeneric(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			buf := make([]byte, s.n)
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				maskGeneric(buf, benchKey, 0)
			}
		})
	}
}

// BenchmarkCopyGeneric measures the portable Go Copy.
func BenchmarkCopyGeneric(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			src, dst := make([]byte, s.n), make([]byte, s.n)
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				copyGeneric(dst, src, benchKey, 0)
			}
		})
	}
}

// BenchmarkXORBytes is the memory-speed reference: crypto/subtle.XORBytes in place with a
// buffer holding the key repeated, which is masking without the key arithmetic.
func BenchmarkXORBytes(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			buf := make([]byte, s.n)
			keys := bytes.Repeat(benchKey[:], s.n/4+1)[:s.n]
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				subtle.XORBytes(buf, buf, keys)
			}
		})
	}
}

// BenchmarkGobwasCipher is the baseline: github.com/gobwas/ws Cipher in place.
func BenchmarkGobwasCipher(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			buf := make([]byte, s.n)
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				ws.Cipher(buf, benchKey, 0)
			}
		})
	}
}
