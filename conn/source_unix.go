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
//
// With act set (Config.TrackReads) it records the reads for ReadActivity: bytes that arrive
// cost a load of a flag (a store once per keepalive look), and only a read that finds the
// socket empty and parks in the poller records its wait, so a busy reader pays nothing more.
type rawSource struct {
	net.Conn
	rc   syscall.RawConn
	read func(fd uintptr) bool // readFD, made once
	act  *activity             // nil: reads are not tracked

	// The current ReadBuffer call's size and outcome, set by readFD.
	size int
	bp   *[]byte
	n    int
	err  error
}

// newSource returns the source of a Conn's frame reader: a rawSource for a *net.TCPConn or
// *net.UnixConn, nc itself for any other net.Conn (TLS, wrappers), which must keep its own
// Read, or a trackedSource around it when act is set.
func newSource(nc net.Conn, act *activity) io.Reader {
	rc := rawConn(nc)
	if rc == nil {
		return otherSource(nc, act)
	}
	s := &rawSource{Conn: nc, rc: rc, act: act}
	s.read = s.readFD
	return s
}

// rawConn returns the syscall.RawConn of a *net.TCPConn or *net.UnixConn, the connections
// whose reads and writes may go to the file descriptor directly, and nil for any other
// net.Conn (TLS, wrappers), whose own Read and Write must see every byte.
func rawConn(nc net.Conn) syscall.RawConn {
	var sc syscall.Conn
	switch c := nc.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// otherSource is the source of a net.Conn without the raw-read path.
func otherSource(nc net.Conn, act *activity) io.Reader {
	if act == nil {
		return nc
	}
	return &trackedSource{Conn: nc, act: act}
}

// ReadBuffer implements frame.BufferSource.
func (s *rawSource) ReadBuffer(size int) (*[]byte, int, error) {
	s.size, s.bp, s.n, s.err = size, nil, 0, nil
	err := s.rc.Read(s.read)
	if s.act != nil {
		s.act.endWait() // the poller gave up: a deadline, a closed connection
	}
	if err != nil {
		return nil, 0, err // a deadline, a closed connection
	}
	bp, n, err := s.bp, s.n, s.err
	s.bp, s.err = nil, nil
	return bp, n, err
}

// Read reads payload straight into p, through the net.Conn's Read, recording the wait when
// reads are tracked.
func (s *rawSource) Read(p []byte) (int, error) {
	if s.act == nil {
		return s.Conn.Read(p)
	}
	return trackedRead(s.act, s.Conn, p)
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
			if s.act != nil {
				s.act.received()
			}
			return true
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			frame.PutBuffer(bp)
			if s.act != nil {
				s.act.beginWait() // the poller parks the reader until input comes
			}
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
