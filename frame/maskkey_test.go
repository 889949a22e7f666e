package frame

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"testing/cryptotest"
)

// keyTap records the masking key of every empty client frame written to it: such a frame is
// one Write of 6 bytes, 0x82 0x80 and the key (§5.2).
type keyTap struct {
	t    *testing.T
	keys []uint32
}

func (k *keyTap) Write(p []byte) (int, error) {
	if len(p) != 6 || p[0] != 0x82 || p[1] != 0x80 {
		k.t.Fatalf("unexpected write % x", p)
	}
	k.keys = append(k.keys, binary.LittleEndian.Uint32(p[2:]))
	return len(p), nil
}

// wireKeys writes n empty binary frames with a fresh client Writer and returns their masking
// keys as they appear on the wire.
func wireKeys(t *testing.T, n int) []uint32 {
	tap := &keyTap{t: t, keys: make([]uint32, 0, n)}
	w := NewWriter(tap, RoleClient, 0)
	for range n {
		if err := w.WriteFrame(true, OpBinary, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	return tap.keys
}

// checkUniform checks that keys look uniform over 32 bits, with bounds no sound generator
// crosses in practice: every bit is 1 in half the keys within 8 standard deviations
// (sqrt(n)/2 each; chance of a false alarm below 1e-14 per bit), each key byte's 256 values
// pass a chi-square test at 255 + 12 standard deviations of the statistic (sqrt(510)), at
// most 3 keys are zero (expected n/2^32) and at most 20 keys repeat an earlier one (expected
// n^2/2^33, about 1.2 for 100,000).
func checkUniform(t *testing.T, what string, keys []uint32) {
	t.Helper()
	n := float64(len(keys))
	var ones [32]int
	var byteCount [4][256]int
	zeros := 0
	seen := make(map[uint32]struct{}, len(keys))
	repeats := 0
	for _, k := range keys {
		for b := range 32 {
			ones[b] += int(k >> b & 1)
		}
		for i := range 4 {
			byteCount[i][byte(k>>(8*i))]++
		}
		if k == 0 {
			zeros++
		}
		if _, ok := seen[k]; ok {
			repeats++
		}
		seen[k] = struct{}{}
	}
	sd := 0.5 * sqrt(n)
	for b, c := range ones {
		if d := float64(c) - n/2; d > 8*sd || d < -8*sd {
			t.Errorf("%s: bit %d set in %d of %.0f keys (%.1f sd off)", what, b, c, n, d/sd)
		}
	}
	for i := range 4 {
		exp := n / 256
		chi := 0.0
		for _, c := range byteCount[i] {
			d := float64(c) - exp
			chi += d * d / exp
		}
		if limit := 255 + 12*sqrt(510); chi > limit {
			t.Errorf("%s: byte %d of the keys: chi-square %.1f over 255 degrees of freedom, limit %.1f", what, i, chi, limit)
		}
	}
	if zeros > 3 {
		t.Errorf("%s: %d zero keys in %.0f", what, zeros, n)
	}
	if repeats > 20 {
		t.Errorf("%s: %d repeated keys in %.0f", what, repeats, n)
	}
}

func sqrt(x float64) float64 {
	// Newton's method; enough for test bounds, and keeps math out of the imports.
	z := x
	for range 60 {
		z -= (z*z - x) / (2 * z)
	}
	return z
}

// TestMaskKeysAreUniform checks the distribution of 100,000 keys on the wire from one client
// Writer, and of the first keys of 20,000 fresh Writers (a new connection's first key is as
// unpredictable as any other).
func TestMaskKeysAreUniform(t *testing.T) {
	checkUniform(t, "one writer", wireKeys(t, 100_000))
	firsts := make([]uint32, 20_000)
	for i := range firsts {
		firsts[i] = wireKeys(t, 1)[0]
	}
	checkUniform(t, "first keys of fresh writers", firsts)
}

// TestMaskKeysAreIndependentBetweenWriters writes frames from 1,000 client Writers in turn
// (interleaved, as connections of one process do): no two Writers' key sequences share their
// first 64 bits, no Writer repeats one key throughout, and the keys two Writers put at the
// same position agree no more often than chance (about 1000*16/2^32).
func TestMaskKeysAreIndependentBetweenWriters(t *testing.T) {
	const writers, frames = 1000, 16
	taps := make([]*keyTap, writers)
	ws := make([]*Writer, writers)
	for i := range ws {
		taps[i] = &keyTap{t: t}
		ws[i] = NewWriter(taps[i], RoleClient, 0)
	}
	for range frames {
		for _, w := range ws {
			if err := w.WriteFrame(true, OpBinary, 0, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	starts := make(map[uint64]int, writers)
	same := 0
	for i, tap := range taps {
		k := tap.keys
		if j, ok := starts[uint64(k[0])<<32|uint64(k[1])]; ok {
			t.Errorf("writers %d and %d start with the same keys %08x %08x", j, i, k[0], k[1])
		}
		starts[uint64(k[0])<<32|uint64(k[1])] = i
		constant := true
		for _, v := range k[1:] {
			constant = constant && v == k[0]
		}
		if constant {
			t.Errorf("writer %d repeats key %08x in all %d frames", i, k[0], frames)
		}
		if i > 0 {
			for f := range frames {
				if k[f] == taps[i-1].keys[f] {
					same++
				}
			}
		}
	}
	if same > 3 {
		t.Errorf("neighbouring writers used the same key at the same frame %d times", same)
	}
}

// TestMaskKeysComeFromAPerWriterChaCha8SeededFromCryptoRand pins the key source: with
// crypto/rand made deterministic, a client Writer's keys are exactly those of a ChaCha8 seeded
// with the first 32 bytes crypto/rand returns, drawn when the Writer masks its first frame
// and not before; another Writer seeded from other bytes gives other keys; a server Writer
// draws nothing.
func TestMaskKeysComeFromAPerWriterChaCha8SeededFromCryptoRand(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 1)
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	want := rand.NewChaCha8(seed)

	cryptotest.SetGlobalRandom(t, 1)
	srv := NewWriter(&recordWriter{}, RoleServer, 0)
	if err := srv.WriteFrame(true, OpText, 0, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if srv.rng != nil {
		t.Fatal("a server Writer made a key generator")
	}
	tapA := &keyTap{t: t}
	a := NewWriter(tapA, RoleClient, 0)
	if a.rng != nil {
		t.Fatal("a client Writer made its key generator before its first frame")
	}
	b := NewWriter(&keyTap{t: t}, RoleClient, 0)
	for range 64 {
		if err := a.WriteFrame(true, OpBinary, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range tapA.keys {
		if v := uint32(want.Uint64()); k != v {
			t.Fatalf("key %d: %08x, want %08x from a ChaCha8 seeded from crypto/rand", i, k, v)
		}
	}
	// b seeds from the next 32 bytes of crypto/rand: a different stream.
	tapB := &keyTap{t: t}
	b.Reset(tapB)
	if err := b.WriteFrame(true, OpBinary, 0, nil); err != nil {
		t.Fatal(err)
	}
	if b.rng == a.rng || tapB.keys[0] == tapA.keys[0] {
		t.Fatalf("two writers share a key generator or start with the same key %08x", tapA.keys[0])
	}
}
