package deflate

import "sync"

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

// scratchPool holds buffers of MaxWindowBits bytes in which ordered lays out a window that
// wrapped around. They are held only while a message starts; the pool frees them when idle.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 1<<MaxWindowBits); return &b }}

// ordered returns the held bytes, oldest first, for a flate writer or reader to copy as its
// dictionary. When the ring has wrapped they are copied into a pooled scratch buffer (two
// memmoves; rotating the ring in place with three reversals cost 40% of a 1 KiB takeover
// echo), which the caller gives back with putScratch once the dictionary has been copied;
// scratch is nil otherwise. No allocation once the pool is warm.
func (w *window) ordered() (p []byte, scratch *[]byte) {
	if w.n < w.size || w.pos == 0 {
		return w.buf[:w.n], nil
	}
	scratch = scratchPool.Get().(*[]byte)
	p = (*scratch)[:w.size]
	k := copy(p, w.buf[w.pos:])
	copy(p[k:], w.buf[:w.pos])
	return p, scratch
}

// putScratch gives back a scratch buffer of ordered; nil is ignored.
func putScratch(scratch *[]byte) {
	if scratch != nil {
		scratchPool.Put(scratch)
	}
}

// reset forgets the held bytes but keeps the buffer.
func (w *window) reset() { w.n, w.pos = 0, 0 }
