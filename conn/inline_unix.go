//go:build unix

package conn

import (
	"net"
	"syscall"
	"unsafe"
)

// inlineWriter is the frame writer's destination while Enqueue writes a message on the
// caller's goroutine (see Enqueue): each Write is one non-blocking write(2) through the
// socket's syscall.RawConn, which never waits for the peer. What the socket does not take (it
// is full, the write was short, or it failed) is kept in rest, and the queue's writer
// goroutine writes it with the net.Conn's blocking Write, so Enqueue never blocks.
type inlineWriter struct {
	rc     syscall.RawConn
	write  func(fd uintptr) bool // writeFD, made once
	writev func(fd uintptr) bool // writevFD, made on first use
	iov    [2]syscall.Iovec      // the buffers of the current writev(2)
	hdr    [14]byte              // its header's copy (so that the caller's does not escape)

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

// writevFD is the RawConn callback of WriteVec: one writev(2) of w.iov.
func (w *inlineWriter) writevFD(fd uintptr) bool {
	n, _, errno := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&w.iov[0])), uintptr(len(w.iov)))
	if errno != 0 {
		n = 0
	}
	w.n = int(n)
	return true
}

// WriteVec writes hdr (a frame header, at most 14 bytes) and then p, neither empty, with one non-blocking writev(2), and returns
// how many of their bytes the socket took: 0 when it took none or the write failed (the
// writer goroutine's blocking Write then reports why). Unlike Write it keeps nothing: the
// caller hands what is left to the writer goroutine.
func (w *inlineWriter) WriteVec(hdr, p []byte) int {
	if w.writev == nil {
		w.writev = w.writevFD
	}
	copy(w.hdr[:], hdr)
	w.iov[0].Base, w.iov[1].Base = &w.hdr[0], &p[0]
	w.iov[0].SetLen(len(hdr))
	w.iov[1].SetLen(len(p))
	w.n = 0
	if err := w.rc.Write(w.writev); err != nil {
		w.n = 0
	}
	w.iov = [2]syscall.Iovec{}
	return w.n
}
