//go:build wsdebug

package frame

// debugPoison is true in builds with the tag wsdebug: Reader overwrites the payload slice it
// handed out as soon as the next call on it starts, so code that keeps using the slice reads
// garbage (0xDB bytes) in tests instead of silently reading the next frame.
const debugPoison = true

// handout records the payload slice a Reader handed out last, to poison it.
type handout struct{ p []byte }

func (h *handout) set(p []byte) { h.p = p }

// poison overwrites the recorded slice and forgets it.
func (h *handout) poison() {
	for i := range h.p {
		h.p[i] = 0xDB
	}
	h.p = nil
}
