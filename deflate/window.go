package deflate

import "slices"

// window keeps the last size bytes that went through one direction of a connection: the
// LZ77 dictionary that context takeover carries from one message to the next (RFC 7692
// §7.2.1, §7.2.2). Its buffer is allocated on the first write, so a connection that never
// sends a compressed message costs nothing here.
type window struct {
	buf  []byte // len(buf) == size once allocated
	size int
	n    int // bytes held, up to size
	pos  int // next write position; the oldest byte when n == size
}

// write adds p to the window, dropping the oldest bytes beyond size.
func (w *window) write(p []byte) {
	if w.buf == nil {
		w.buf = make([]byte, w.size)
	}
	if len(p) >= w.size {
		copy(w.buf, p[len(p)-w.size:])
		w.n, w.pos = w.size, 0
		return
	}
	k := copy(w.buf[w.pos:], p)
	if k < len(p) {
		copy(w.buf, p[k:])
	}
	w.pos = (w.pos + len(p)) % w.size
	w.n = min(w.n+len(p), w.size)
}

// bytes returns the held bytes, oldest first. It rotates the buffer in place (no allocation);
// the result is valid until the next write.
func (w *window) bytes() []byte {
	if w.n < w.size {
		return w.buf[:w.n]
	}
	if w.pos != 0 {
		slices.Reverse(w.buf[:w.pos])
		slices.Reverse(w.buf[w.pos:])
		slices.Reverse(w.buf)
		w.pos = 0
	}
	return w.buf
}

// reset forgets the held bytes but keeps the buffer.
func (w *window) reset() { w.n, w.pos = 0, 0 }
