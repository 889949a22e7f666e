package deflate

import (
	"bytes"
	"testing"
)

// TestWindowOrderedKeepsLastBytesOldestFirst checks the takeover dictionary against a naive
// reference (the last size bytes of everything written), across wrap-arounds of the ring and
// writes larger than it, and that the ring itself is left as it was.
func TestWindowOrderedKeepsLastBytesOldestFirst(t *testing.T) {
	const size = 256
	for _, writes := range [][]int{{0}, {10}, {256}, {300}, {100, 100}, {200, 100}, {255, 1, 1}, {100, 200, 57, 1000, 3}} {
		w := window{size: size}
		var all []byte
		for i, n := range writes {
			p := make([]byte, n)
			for j := range p {
				p[j] = byte(len(all) + j + i*7)
			}
			all = append(all, p...)
			w.write(p)
			want := all[max(0, len(all)-size):]
			for range 2 { // ordered does not disturb the ring: twice gives the same
				got, scratch := w.ordered()
				if !bytes.Equal(got, want) {
					t.Fatalf("writes %v, after %d: got %d bytes %x..., want %d bytes %x...", writes, i, len(got), got[:min(8, len(got))], len(want), want[:min(8, len(want))])
				}
				putScratch(scratch)
			}
		}
	}
}
