package deflate

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"io"
	"testing"
)

func fuzzSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{
		hexBytes("f2 48 cd c9 c9 07 00"), hexBytes("f2 00 11 00 00"), hexBytes("00 05 00 fa ff 48 65 6c 6c 6f 00"),
		hexBytes("f3 48 cd c9 c9 07 00 00"), hexBytes("f2 48 05 00 00 00 ff ff ca c9 c9 07 00"), {0}, {},
		hexBytes("ff ff ff"), hexBytes("00 00 01 ff fe 61 61"),
	}
	c, _ := NewCompressor(15, true)
	p, _ := c.AppendMessage(nil, corpus(f, "msg-1k.json"))
	bomb, _ := c.AppendMessage(nil, make([]byte, 1<<20))
	return append(seeds, p, bomb)
}

// FuzzDecompress feeds arbitrary payloads to the decompressor, as two messages of one
// connection with and without context takeover: it must never panic, never produce more than
// limit+1 bytes, and fail only with the package's errors.
func FuzzDecompress(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, false, uint16(4096))
	}
	f.Fuzz(func(t *testing.T, payload []byte, noTakeover bool, limit uint16) {
		d, _ := NewDecompressor(9, noTakeover)
		for range 2 {
			m, err := d.NewReader(bytes.NewReader(payload), int64(limit)+1)
			if err != nil {
				return // the first message failed with takeover: sticky error
			}
			var n int64
			buf := make([]byte, 1000)
			for err == nil {
				var k int
				k, err = m.Read(buf)
				n += int64(k)
			}
			_ = m.Close()
			if n > int64(limit)+2 {
				t.Fatalf("produced %d bytes with limit %d", n, int64(limit)+1)
			}
			if err != io.EOF && CloseCode(err) == 0 {
				t.Fatalf("unexpected error %v", err)
			}
		}
	})
}

// FuzzRoundTrip compresses three messages and inflates them at every window size, takeover
// mode and level, and checks they come back unchanged. bits picks the window (bits%8) and
// the level (bits/8%10; levels other than the default apply at window 15).
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("Hello, Hello, Hello"), uint8(0), false, uint16(5))
	f.Add(corpus(f, "msg-1k.json"), uint8(7), false, uint16(500))
	f.Add(bytes.Repeat([]byte{0}, 5000), uint8(3), true, uint16(1))
	f.Add(corpus(f, "msg-1k.json"), uint8(7+8), false, uint16(300))  // window 15, level 1
	f.Add(corpus(f, "msg-1k.json"), uint8(7+72), false, uint16(700)) // window 15, level 9
	f.Fuzz(func(t *testing.T, data []byte, bits uint8, noTakeover bool, split uint16) {
		b := MinWindowBits + int(bits)%(MaxWindowBits-MinWindowBits+1)
		level := int(bits) / 8 % (BestCompression + 1)
		c, _ := NewCompressorLevel(b, noTakeover, level)
		d, _ := NewDecompressor(b, noTakeover)
		cut := int(split) % (len(data) + 1)
		for _, msg := range [][]byte{data[:cut], data, data[cut:]} {
			p, err := c.AppendMessage(nil, msg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.AppendMessage(nil, p, int64(len(msg)))
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("bits %d level %d noTakeover %v: %d bytes back of %d, %v", b, level, noTakeover, len(got), len(msg), err)
			}
		}
	})
}

// FuzzDecompressVsStdlib compares our inflation of a message with the standard library's
// compress/flate reader on the same bytes (payload, then the tail and an empty final block):
// same output when both succeed, and no success of ours where the standard reader fails.
// Deliberate differences: the standard reader stops at the first final block and ignores what
// follows, where we report ErrTrailingData or ErrTruncated; where both fail, the kind may
// differ (the two inflaters notice some bad tables at different points: one reports corrupt
// data, the other runs out of input).
func FuzzDecompressVsStdlib(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		d, _ := NewDecompressor(15, true)
		ours, err := d.AppendMessage(nil, payload, 4<<20)
		if errors.Is(err, ErrTooLarge) {
			return
		}
		std, serr := io.ReadAll(io.LimitReader(stdflate.NewReader(io.MultiReader(bytes.NewReader(payload), bytes.NewReader(tailAndEnd))), 4<<20+1))
		switch {
		case err == nil:
			if serr != nil || !bytes.Equal(ours, std) {
				t.Fatalf("we inflated %d bytes, stdlib %d bytes and %v", len(ours), len(std), serr)
			}
		case errors.Is(err, ErrCorrupt):
			if serr == nil {
				t.Fatalf("we found corrupt data, stdlib inflated %d bytes", len(std))
			}
		case errors.Is(err, ErrTruncated):
			// A final block completed inside our end marker is success for the standard
			// reader: the payload ended mid-block all the same.
		case errors.Is(err, ErrTrailingData):
			if serr != nil {
				t.Fatalf("we found trailing data, stdlib: %v", serr)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// FuzzParse feeds arbitrary header values to Elements and Parse: no panic, errors are
// ErrNotDeflate or a *ParamError, and every element that parses writes back (String) to text that parses to the same parameters.
func FuzzParse(f *testing.F) {
	f.Add(`permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits="10"; server_no_context_takeover`)
	f.Add(`x-foo; a="b,c", permessage-deflate;;`)
	f.Fuzz(func(t *testing.T, header string) {
		for _, e := range Elements([]string{header}) {
			p, err := Parse(e)
			if err != nil {
				var pe *ParamError
				if err == ErrNotDeflate || errors.As(err, &pe) && pe.Err != nil {
					continue
				}
				t.Fatalf("Parse(%q): unexpected error type %v", e, err)
			}
			q, err := Parse(p.String())
			if err != nil || q != p {
				t.Fatalf("Parse(%q) = %+v; Parse(%q) = %+v, %v", e, p, p.String(), q, err)
			}
		}
	})
}
