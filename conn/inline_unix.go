//go:build unix

package conn

import (
	"net"
	"syscall"
)

// inlineWriter is the frame writer's destination while Enqueue writes a message on the
// caller's goroutine (see Enqueue): each Write is one non-blocking write(2) through the
// socket's syscall.RawConn, which never waits for the peer. What the socket does not take (it
// is full, the write was short, or it failed) is kept in rest, and the queue's writer
// goroutine writes it with the net.Conn's blocking Write, so Enqueue never blocks.
type inlineWriter struct {
	rc    syscall.RawConn
	write func(fd uintptr) bool // writeFD, made once

	b    []byte // the bytes of the current write(2)
	n    int    // how many of them it wrote
	rest []byte // the bytes not written, in order; nil when everything went out
}

// newInlineWriter returns an inlineWriter for a *net.TCPConn or *net.UnixConn, and nil for any
// other net.Conn (TLS, wrappers), whose own Write must see every byte.
func newInlineWriter(nc net.Conn) *inlineWriter {
	rc := rawConn(nc)
	if rc == nil {
		return nil
	}
	w := &inlineWriter{rc: rc}
	w.write = w.writeFD
	return w
}

// writeFD is the RawConn callback: one write(2) of b; returning true means never wait.
func (w *inlineWriter) writeFD(fd uintptr) bool {
	n, _ := syscall.Write(int(fd), w.b)
	w.n = max(n, 0)
	return true
}

// Write writes what the socket takes at once and keeps the rest; it always reports all of b
// taken.
func (w *inlineWriter) Write(b []byte) (int, error) {
	if w.rest != nil {
		w.rest = append(w.rest, b...)
		return len(b), nil
	}
	w.b, w.n = b, 0
	if err := w.rc.Write(w.write); err != nil {
		w.n = 0 // the socket is closed: the writer goroutine's Write reports it
	}
	w.b = nil
	if w.n < len(b) {
		w.rest = append(make([]byte, 0, len(b)-w.n), b[w.n:]...)
	}
	return len(b), nil
}
