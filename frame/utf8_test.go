package frame

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// couldBeValid is the reference for "no byte so far makes p invalid whatever follows": p is
// valid UTF-8, or p is valid up to a last, incomplete code point that some continuation would
// complete. utf8.FullRune reports false exactly for a proper prefix of a valid encoding.
func couldBeValid(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	for k := 1; k <= 3 && k <= len(p); k++ {
		if !utf8.FullRune(p[len(p)-k:]) && utf8.Valid(p[:len(p)-k]) {
			return true
		}
	}
	return false
}

// firstImpossible returns the index of the first byte after which p could no longer be valid
// UTF-8, or -1 if there is none, using the reference above.
func firstImpossible(p []byte) int {
	for i := range p {
		if !couldBeValid(p[:i+1]) {
			return i
		}
	}
	return -1
}

type utf8Case struct {
	name   string
	in     []byte
	valid  bool
	failAt int // index of the first byte that can never be valid; -1 if none
}

func utf8Cases() []utf8Case {
	ascii := strings.Repeat("abcdefgh", 5) // 40 bytes: crosses the 8- and 16-byte fast paths
	cat := func(parts ...string) []byte { return []byte(strings.Join(parts, "")) }
	return []utf8Case{
		{"empty", nil, true, -1},
		{"U+0000", []byte{0x00}, true, -1},
		{"U+007F last 1-byte", []byte{0x7F}, true, -1},
		{"U+0080 first 2-byte", []byte{0xC2, 0x80}, true, -1},
		{"U+07FF last 2-byte", []byte{0xDF, 0xBF}, true, -1},
		{"U+0800 first 3-byte", []byte{0xE0, 0xA0, 0x80}, true, -1},
		{"U+0FFF", []byte{0xE0, 0xBF, 0xBF}, true, -1},
		{"U+1000 after E0", []byte{0xE1, 0x80, 0x80}, true, -1},
		{"U+CFFF before ED", []byte{0xEC, 0xBF, 0xBF}, true, -1},
		{"U+D000", []byte{0xED, 0x80, 0x80}, true, -1},
		{"U+D7FF last before surrogates", []byte{0xED, 0x9F, 0xBF}, true, -1},
		{"U+E000 first after surrogates", []byte{0xEE, 0x80, 0x80}, true, -1},
		{"U+FFFD replacement char", []byte{0xEF, 0xBF, 0xBD}, true, -1},
		{"U+FFFF last 3-byte", []byte{0xEF, 0xBF, 0xBF}, true, -1},
		{"U+10000 first 4-byte", []byte{0xF0, 0x90, 0x80, 0x80}, true, -1},
		{"U+3FFFF", []byte{0xF0, 0xBF, 0xBF, 0xBF}, true, -1},
		{"U+40000 after F0", []byte{0xF1, 0x80, 0x80, 0x80}, true, -1},
		{"U+FFFFF", []byte{0xF3, 0xBF, 0xBF, 0xBF}, true, -1},
		{"U+100000", []byte{0xF4, 0x80, 0x80, 0x80}, true, -1},
		{"U+10FFFF last code point", []byte{0xF4, 0x8F, 0xBF, 0xBF}, true, -1},
		{"Autobahn 6.2.1 mixed text", []byte("Hello-µ@ßöäüàá-UTF-8!!"), true, -1},
		{"Greek kosme", []byte("κόσμε"), true, -1},
		{"long ASCII then emoji then ASCII", cat(ascii, "😀", ascii), true, -1},

		{"lone continuation 80", []byte{0x80}, false, 0},
		{"lone continuation BF", []byte{0xBF}, false, 0},
		{"C0 80 overlong NUL", []byte{0xC0, 0x80}, false, 0},
		{"C1 BF overlong U+007F", []byte{0xC1, 0xBF}, false, 0},
		{"E0 80 80 overlong", []byte{0xE0, 0x80, 0x80}, false, 1},
		{"E0 9F BF overlong U+07FF", []byte{0xE0, 0x9F, 0xBF}, false, 1},
		{"ED A0 80 surrogate U+D800", []byte{0xED, 0xA0, 0x80}, false, 1},
		{"ED BF BF surrogate U+DFFF", []byte{0xED, 0xBF, 0xBF}, false, 1},
		{"ED A0 80 ED B0 80 surrogate pair", []byte{0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80}, false, 1},
		{"F0 80 80 80 overlong", []byte{0xF0, 0x80, 0x80, 0x80}, false, 1},
		{"F0 8F BF BF overlong U+FFFF", []byte{0xF0, 0x8F, 0xBF, 0xBF}, false, 1},
		{"F4 90 80 80 U+110000", []byte{0xF4, 0x90, 0x80, 0x80}, false, 1},
		{"F4 BF BF BF", []byte{0xF4, 0xBF, 0xBF, 0xBF}, false, 1},
		{"F5 first byte never valid", []byte{0xF5, 0x80, 0x80, 0x80}, false, 0},
		{"F8 5-byte form", []byte{0xF8, 0x88, 0x80, 0x80, 0x80}, false, 0},
		{"FC 6-byte form", []byte{0xFC, 0x84, 0x80, 0x80, 0x80, 0x80}, false, 0},
		{"FE", []byte{0xFE}, false, 0},
		{"FF", []byte{0xFF}, false, 0},
		{"C2 then ASCII", []byte{0xC2, 0x41}, false, 1},
		{"E1 80 then ASCII", []byte{0xE1, 0x80, 0x41}, false, 2},
		{"F1 80 80 then ASCII", []byte{0xF1, 0x80, 0x80, 0x41}, false, 3},
		{"E2 then new lead byte", []byte{0xE2, 0xE2, 0x82, 0xAC}, false, 1},
		{"2-byte then extra continuation", []byte{0xC3, 0xA4, 0x80}, false, 2},
		{"4-byte then extra continuation", []byte{0xF0, 0x9F, 0x98, 0x80, 0x80}, false, 4},
		{"truncated 2-byte at end", []byte{0xC3}, false, -1},
		{"truncated 3-byte at end", []byte{0x61, 0xE2, 0x82}, false, -1},
		{"truncated 4-byte at end", cat(ascii, "\xF0\x9F\x98"), false, -1},
		{"bad byte deep in ASCII run", cat(ascii, "\xC0", ascii), false, 40},
		{"bad byte at word offset 7", cat("abcdefg\xFFabcdefgh"), false, 7},
		{"bad byte at word offset 15", cat("abcdefghabcdefg\x80abcdefgh"), false, 15},
		{"Autobahn 6.4.2 kosme then surrogate", cat("κόσμε", "\xED\xA0\x80", "edited"), false, 11},
		{"valid then F4 90", cat("κόσμε", "\xF4\x90\x80\x80"), false, 11},
	}
}

func TestUTF8CaseTableAgreesWithReference(t *testing.T) {
	for _, tc := range utf8Cases() {
		if got := utf8.Valid(tc.in); got != tc.valid {
			t.Errorf("%s: utf8.Valid = %v, table says %v", tc.name, got, tc.valid)
		}
		if got := firstImpossible(tc.in); got != tc.failAt {
			t.Errorf("%s: reference first impossible byte %d, table says %d", tc.name, got, tc.failAt)
		}
	}
}

func TestUTF8ValidatorWholeInputVerdict(t *testing.T) {
	for _, tc := range utf8Cases() {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidUTF8(tc.in); got != tc.valid {
				t.Fatalf("ValidUTF8(% x) = %v, want %v", tc.in, got, tc.valid)
			}
			var v UTF8Validator
			ok := v.Write(tc.in)
			if ok != (tc.failAt < 0) {
				t.Fatalf("Write = %v, want %v", ok, tc.failAt < 0)
			}
			if v.Done() != tc.valid {
				t.Fatalf("Done = %v, want %v", v.Done(), tc.valid)
			}
		})
	}
}

func TestUTF8ValidatorFailsAtFirstImpossibleByteWhenFedByteByByte(t *testing.T) {
	for _, tc := range utf8Cases() {
		t.Run(tc.name, func(t *testing.T) {
			var v UTF8Validator
			for i := range tc.in {
				ok := v.Write(tc.in[i : i+1])
				if want := tc.failAt < 0 || i < tc.failAt; ok != want {
					t.Fatalf("Write of byte %d (%#x) = %v, want %v", i, tc.in[i], ok, want)
				}
			}
			if tc.failAt >= 0 && v.Write([]byte("ok")) {
				t.Fatalf("Write after failure returned true")
			}
		})
	}
}

func TestUTF8ValidatorSplitAtEveryPositionGivesSameVerdict(t *testing.T) {
	for _, tc := range utf8Cases() {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i <= len(tc.in); i++ {
				a, b := tc.in[:i], tc.in[i:]
				var v UTF8Validator
				okA := v.Write(a)
				// The first chunk fails exactly when it holds the first impossible byte,
				// even though the message continues.
				if want := tc.failAt < 0 || tc.failAt >= i; okA != want {
					t.Fatalf("split at %d: first Write = %v, want %v", i, okA, want)
				}
				okB := v.Write(b)
				if want := tc.failAt < 0; okB != want {
					t.Fatalf("split at %d: second Write = %v, want %v", i, okB, want)
				}
				if got := okA && okB && v.Done(); got != utf8.Valid(tc.in) {
					t.Fatalf("split at %d: verdict %v, utf8.Valid %v", i, got, !got)
				}
			}
		})
	}
}

// TestUTF8ValidatorExhaustiveShortSequences compares the validator with the reference on every
// 1- and 2-byte input and on every 3-byte input that starts with an open multi-byte code point,
// fed whole and one byte at a time.
func TestUTF8ValidatorExhaustiveShortSequences(t *testing.T) {
	check := func(p []byte) {
		var whole UTF8Validator
		ok := whole.Write(p)
		if ok != couldBeValid(p) || whole.Done() != utf8.Valid(p) {
			t.Fatalf("% x: Write %v Done %v; reference %v %v", p, ok, whole.Done(), couldBeValid(p), utf8.Valid(p))
		}
		var bytewise UTF8Validator
		for i := range p {
			if bytewise.Write(p[i:i+1]) != couldBeValid(p[:i+1]) {
				t.Fatalf("% x: byte-wise Write of byte %d disagrees with the reference", p, i)
			}
		}
	}
	var buf [3]byte
	for a := range 256 {
		buf[0] = byte(a)
		check(buf[:1])
		for b := range 256 {
			buf[1] = byte(b)
			check(buf[:2])
			// After an ASCII byte, or a pair that is already impossible, a third byte adds
			// nothing the 1- and 2-byte inputs have not covered.
			if a < 0x80 || !couldBeValid(buf[:2]) || testing.Short() {
				continue
			}
			for c := range 256 {
				buf[2] = byte(c)
				check(buf[:3])
			}
		}
	}
}

// TestUTF8ValidatorFourByteBoundaries covers every lead byte F0-F7 with every second byte and
// a fixed valid tail, fed whole.
func TestUTF8ValidatorFourByteBoundaries(t *testing.T) {
	for a := 0xF0; a <= 0xF7; a++ {
		for b := range 256 {
			for _, tail := range [][2]byte{{0x80, 0x80}, {0xBF, 0xBF}, {0x80, 0x41}, {0xC0, 0x80}} {
				p := []byte{byte(a), byte(b), tail[0], tail[1]}
				var v UTF8Validator
				if v.Write(p) != couldBeValid(p) || v.Done() != utf8.Valid(p) {
					t.Fatalf("% x: validator disagrees with reference", p)
				}
			}
		}
	}
}

func TestUTF8ValidatorRandomTextSplitIntoRandomChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := [][]byte{[]byte("a"), []byte("Z "), []byte("ä"), []byte("€"), []byte("😀"), []byte("abcdefghijklmnop"),
		{0x80}, {0xC0}, {0xED, 0xA0}, {0xF4, 0x90}, {0xE2, 0x82}, {0xFF}}
	for iter := range 2000 {
		var p []byte
		for range rng.IntN(40) {
			k := rng.IntN(len(alphabet))
			if iter%2 == 0 && k >= 6 {
				k %= 6 // half of the inputs are valid text
			}
			p = append(p, alphabet[k]...)
		}
		failAt := firstImpossible(p)
		var v UTF8Validator
		for rest, off := p, 0; len(rest) > 0; {
			n := 1 + rng.IntN(len(rest))
			ok := v.Write(rest[:n])
			if want := failAt < 0 || failAt >= off+n; ok != want {
				t.Fatalf("% x: chunk [%d,%d) Write = %v, want %v (first impossible byte %d)", p, off, off+n, ok, want, failAt)
			}
			rest, off = rest[n:], off+n
		}
		if v.Done() != utf8.Valid(p) {
			t.Fatalf("% x: Done %v, utf8.Valid %v", p, v.Done(), utf8.Valid(p))
		}
	}
}

func TestUTF8ValidatorResetStartsAFreshMessage(t *testing.T) {
	tests := []struct {
		name  string
		first []byte
	}{
		{"after failure", []byte{0xFF}},
		{"after an open code point", []byte{0xE2, 0x82}},
		{"after valid text", []byte("ok")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v UTF8Validator
			v.Write(tc.first)
			v.Reset()
			if !v.Done() || !v.Write([]byte("ü")) || !v.Done() {
				t.Fatalf("validator not fresh after Reset")
			}
		})
	}
}

func TestUTF8TransitionTableRejectIsAbsorbing(t *testing.T) {
	for b := range 256 {
		if got := utf8Trans[b] >> utf8Reject & 63; got != utf8Reject {
			t.Fatalf("byte %#x leaves the reject state for %d", b, got)
		}
	}
}

// utf8BenchInputs are texts of about 64 KiB: pure ASCII, mostly ASCII with accented letters
// (European), all 3-byte code points (CJK), and a mix with emoji.
func utf8BenchInputs() []struct {
	name string
	data []byte
} {
	const size = 64 << 10
	fill := func(s string) []byte {
		b := bytes.Repeat([]byte(s), size/len(s)+1)[:size]
		for !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
		return b
	}
	return []struct {
		name string
		data []byte
	}{
		{"ascii", fill("The quick brown fox jumps over the lazy dog. 0123456789\n")},
		{"european", fill("Größenwahn und Überraschung: Ça va très bien, señor! Zürich. ")},
		{"cjk", fill("日本語のテキストと中文文本和한국어텍스트")},
		{"emoji", fill("ok 😀 done 🎉 next ✓ ")},
	}
}

var sinkBool bool

func BenchmarkUTF8(b *testing.B) {
	for _, in := range utf8BenchInputs() {
		for _, size := range []int{16, 1024, len(in.data)} {
			data := in.data[:size]
			for !utf8.Valid(data) {
				data = data[:len(data)-1]
			}
			b.Run(fmt.Sprintf("%s/%d/ValidUTF8", in.name, size), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					sinkBool = ValidUTF8(data)
				}
			})
			b.Run(fmt.Sprintf("%s/%d/stdlib", in.name, size), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					sinkBool = utf8.Valid(data)
				}
			})
		}
	}
}

// FuzzUTF8 checks that the validator, on the whole input and on the input split in two at any
// point, agrees with unicode/utf8.Valid, and that a chunk it rejects really cannot start valid
// UTF-8 while a chunk it accepts can.
func FuzzUTF8(f *testing.F) {
	for _, tc := range utf8Cases() {
		f.Add(tc.in, uint16(len(tc.in)/2))
	}
	f.Fuzz(func(t *testing.T, p []byte, split uint16) {
		want := utf8.Valid(p)
		if got := ValidUTF8(p); got != want {
			t.Fatalf("ValidUTF8(% x) = %v, utf8.Valid %v", p, got, want)
		}
		i := 0
		if len(p) > 0 {
			i = int(split) % (len(p) + 1)
		}
		var v UTF8Validator
		okA := v.Write(p[:i])
		if okA != couldBeValid(p[:i]) {
			t.Fatalf("first chunk % x: Write %v, reference %v", p[:i], okA, !okA)
		}
		okB := v.Write(p[i:])
		if got := okA && okB && v.Done(); got != want {
			t.Fatalf("split at %d of % x: verdict %v, utf8.Valid %v", i, p, got, want)
		}
		if okB != couldBeValid(p) {
			t.Fatalf("% x: second Write %v, reference %v", p, okB, !okB)
		}
	})
}
