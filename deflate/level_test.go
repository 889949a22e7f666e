package deflate

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// compressAll compresses msgs as consecutive messages of one Compressor and inflates them
// with one Decompressor of the same window and mode, checking each message comes back; it
// returns the payload sizes.
func compressAll(t *testing.T, c *Compressor, bits int, noTakeover bool, msgs [][]byte) []int {
	t.Helper()
	d, err := NewDecompressor(bits, noTakeover)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for i, m := range msgs {
		p, err := c.AppendMessage(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.AppendMessage(nil, p, 0)
		if err != nil || !bytes.Equal(got, m) {
			t.Fatalf("message %d: %v, equal %v", i, err, bytes.Equal(got, m))
		}
		sizes = append(sizes, len(p))
	}
	return sizes
}

// TestLevelAppliesAtWindow15 compresses the 64 KiB JSON corpus at each level with a 2^15
// window, with and without context takeover: every level round-trips (three messages, the
// second and third primed with the first's dictionary under takeover), level 1 gives a
// larger payload than the default (the windowed encoder, about level 5) and level 9 one no
// larger.
func TestLevelAppliesAtWindow15(t *testing.T) {
	msg := corpus(t, "msg-64k.json")
	small := corpus(t, "msg-1k.json")
	for _, noTakeover := range []bool{true, false} {
		size := map[int]int{}
		for level := DefaultLevel; level <= BestCompression; level++ {
			c, err := NewCompressorLevel(15, noTakeover, level)
			if err != nil {
				t.Fatal(err)
			}
			sizes := compressAll(t, c, 15, noTakeover, [][]byte{msg, small, msg})
			size[level] = sizes[0]
		}
		if size[BestSpeed] <= size[DefaultLevel] {
			t.Errorf("noTakeover=%v: level 1 gives %d bytes, the default %d: the level is not applied", noTakeover, size[BestSpeed], size[DefaultLevel])
		}
		if size[BestCompression] > size[DefaultLevel] {
			t.Errorf("noTakeover=%v: level 9 gives %d bytes, more than the default's %d", noTakeover, size[BestCompression], size[DefaultLevel])
		}
	}
}

// TestLevelIgnoredBelowWindow15: below 15 bits the windowed encoder is used whatever the
// level, so every level gives the same bytes as the default.
func TestLevelIgnoredBelowWindow15(t *testing.T) {
	msg := corpus(t, "msg-64k.json")
	for _, bits := range []int{MinWindowBits, 12, 14} {
		var want []byte
		for _, level := range []int{DefaultLevel, BestSpeed, 6, BestCompression} {
			c, err := NewCompressorLevel(bits, false, level)
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.AppendMessage(nil, msg)
			if err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want = p
				c, _ := NewCompressorLevel(bits, false, level)
				compressAll(t, c, bits, false, [][]byte{msg, msg})
			} else if !bytes.Equal(p, want) {
				t.Errorf("bits %d level %d: %d bytes, the default gives %d: the level must not apply below 15 bits", bits, level, len(p), len(want))
			}
		}
	}
}

// TestInvalidLevel: a level outside 0..9 is refused by the constructors and the options.
func TestInvalidLevel(t *testing.T) {
	for _, level := range []int{-2, -1, 10} {
		t.Run(fmt.Sprint(level), func(t *testing.T) {
			if _, err := NewCompressorLevel(15, false, level); !errors.Is(err, ErrInvalidLevel) {
				t.Errorf("NewCompressorLevel: %v", err)
			}
			if _, _, err := (Parameters{}).NewCodecsLevel(false, level); !errors.Is(err, ErrInvalidLevel) {
				t.Errorf("NewCodecsLevel: %v", err)
			}
			if _, err := (&ClientOptions{Level: level}).Offer(); !errors.Is(err, ErrInvalidLevel) {
				t.Errorf("ClientOptions.Offer: %v", err)
			}
			o := ServerOptions{Level: level}
			if err := o.Check(); !errors.Is(err, ErrInvalidLevel) {
				t.Errorf("ServerOptions.Check: %v", err)
			}
			if _, ok := o.Negotiate([]string{"permessage-deflate"}); ok {
				t.Error("ServerOptions.Negotiate accepted an offer with an invalid level")
			}
		})
	}
}
