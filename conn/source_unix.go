//go:build unix

package conn

import (
	"io"
	"net"
	"os"
	"syscall"

	"github.com/netkit/websocket/frame"
)

// rawSource reads a TCP or Unix connection through its syscall.RawConn so that a connection
// waiting for its peer holds no read buffer: it is a frame.BufferSource whose ReadBuffer parks
// in the runtime's network poller, and only when the socket is readable takes a buffer from
// the pool and reads into it with one non-blocking read(2). Read, used for payload read straight
// into the caller's buffer, is the net.Conn's.
type rawSource struct {
	net.Conn
	rc   syscall.RawConn
	read func(fd uintptr) bool // readFD, made once

	// The current ReadBuffer call's size and outcome, set by readFD.
	size int
	bp   *[]byte
	n    int
	err  error
}

// newSource returns the source of a Conn's frame reader: a rawSource for a *net.TCPConn or
// *net.UnixConn, nc itself for any other net.Conn (TLS, wrappers), which must keep its own
// Read.
func newSource(nc net.Conn) io.Reader {
	var sc syscall.Conn
	switch c := nc.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nc
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nc
	}
	s := &rawSource{Conn: nc, rc: rc}
	s.read = s.readFD
	return s
}

// ReadBuffer implements frame.BufferSource.
func (s *rawSource) ReadBuffer(size int) (*[]byte, int, error) {
	s.size, s.bp, s.n, s.err = size, nil, 0, nil
	if err := s.rc.Read(s.read); err != nil {
		return nil, 0, err // a deadline, a closed connection
	}
	bp, n, err := s.bp, s.n, s.err
	s.bp, s.err = nil, nil
	return bp, n, err
}

// readFD is called by the poller's RawRead with the socket: false asks it to wait until the
// socket is readable, then call again.
func (s *rawSource) readFD(fd uintptr) bool {
	bp := frame.GetBuffer(s.size)
	for {
		n, err := syscall.Read(int(fd), *bp)
		switch {
		case n > 0:
			s.bp, s.n = bp, n
			return true
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			frame.PutBuffer(bp)
			return false
		case err == nil:
			s.err = io.EOF
		default:
			s.err = os.NewSyscallError("read", err)
		}
		frame.PutBuffer(bp)
		return true
	}
}
