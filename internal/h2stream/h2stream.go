// Package h2stream turns an HTTP/2 stream (RFC 9113 §5), seen as a request or response body to
// read and a body to write, into the net.Conn that conn.New takes, for WebSocket over HTTP/2
// (RFC 8441 §5: after the extended CONNECT the stream's DATA frames carry the WebSocket
// frames of RFC 6455 unchanged).
//
// HTTP/2 bodies have no deadlines that a read or write can survive: net/http's server fails a
// stream's body for good when its read deadline passes, and x/net/http2's client bodies have
// none. The connection layer needs deadlines that end one operation only (a cancelled context
// ends a ReadMessage, not the connection), so the stream is relayed through a net.Pipe,
// whose deadlines behave like a socket's: one goroutine copies the incoming body into the
// pipe, and, when the outgoing side is a writer, another copies the pipe to it. Each
// relay goroutine ends when the stream or the pipe ends, and holds a 16 KiB buffer.
//
// It imports nothing from this module.
package h2stream

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// relayBuffer is the size of a relay's copy buffer: one HTTP/2 DATA frame of the default
// SETTINGS_MAX_FRAME_SIZE (16 KiB, RFC 9113 §6.5.2).
const relayBuffer = 16 << 10

// Conn is an HTTP/2 stream as a net.Conn. Its deadlines are the pipe's: each ends the
// operations it bounds only. Close ends the stream (closes the pipe and calls the close
// function given to New), never the HTTP/2 connection it runs on.
type Conn struct {
	net.Conn // near end of the pipe
	far      net.Conn
	local    net.Addr
	remote   net.Addr
	onClose  func()
	once     sync.Once
	relays   atomic.Int32 // relays running or yet to start; done closes when it reaches 0
	done     chan struct{}
	inMu     sync.Mutex
	inState  int           // 0: not started, 1: relaying, 2: never to start
	inDone   chan struct{} // closed when relayIn returns
	linger   time.Duration
	closing  atomic.Bool
}

// Options configures New.
type Options struct {
	// In is the incoming body (the response body on a client, the request body on a server).
	// Nil means it is given later, to Attach (a client has the response body only after it
	// sent the request, whose body is Far).
	In io.Reader
	// Out, when not nil, receives what is written to the Conn, each write followed by
	// Flush (when not nil). When Out is nil, the caller reads what is written from Far (the
	// client gives Far as the request body to its HTTP/2 transport).
	Out   io.Writer
	Flush func() error
	// OnClose is called once, when the Conn is closed or the incoming body ends: it must
	// release the stream (close the response body, end the handler).
	OnClose func()
	// LocalAddr and RemoteAddr are reported by the Conn; nil reports the pipe's.
	LocalAddr, RemoteAddr net.Addr
	// Linger, when positive and Out is nil, makes Close end the stream gracefully: Far
	// reads io.EOF at once (the client's transport sends END_STREAM), and the stream is
	// released once the incoming body ends (the server's END_STREAM) or after Linger,
	// whichever comes first, from a goroutine of its own; Close does not wait. Zero
	// releases the stream at once (the transport then resets it).
	Linger time.Duration
}

// New returns the stream described by o as a Conn, and starts its relays.
func New(o Options) *Conn {
	near, far := net.Pipe()
	c := &Conn{Conn: near, far: far, local: o.LocalAddr, remote: o.RemoteAddr, onClose: o.OnClose,
		done: make(chan struct{}), inDone: make(chan struct{})}
	if o.Out == nil {
		c.linger = o.Linger
	}
	c.relays.Store(1) // relayIn, or release when it never starts
	if o.Out != nil {
		c.relays.Add(1)
		go c.relayOut(o.Out, o.Flush)
	}
	if o.In != nil {
		c.Attach(o.In)
	}
	return c
}

// Attach starts relaying in, the incoming body, when New was given none. It does nothing
// after Close or a first Attach.
func (c *Conn) Attach(in io.Reader) {
	c.inMu.Lock()
	defer c.inMu.Unlock()
	if c.inState != 0 {
		return
	}
	c.inState = 1
	go c.relayIn(in)
}

// Done is closed once the relay goroutines have returned: In and Out are no longer used.
// They return after Close, once In's pending Read returns (OnClose should make it return)
// and Out's pending Write returns.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Far is the far end of the pipe: reading it yields what is written to the Conn, and
// reading io.EOF means the Conn was closed (the client's transport then ends its half of
// the stream with END_STREAM).
func (c *Conn) Far() io.ReadCloser { return farReader{c.far} }

// farReader hides the far end's Write and deadlines from the transport that reads it.
type farReader struct{ net.Conn }

func (f farReader) Read(p []byte) (int, error) { return f.Conn.Read(p) }
func (f farReader) Close() error               { return nil } // the Conn owns the pipe

// Close ends the stream: the pipe is closed (pending and later reads and writes fail) and
// the stream released. It may be called more than once.
func (c *Conn) Close() error {
	err := c.Conn.Close()
	c.inMu.Lock()
	relaying := c.inState == 1
	c.inMu.Unlock()
	if c.closing.Swap(true) {
		return err // closed before: released, or lingering
	}
	if c.linger > 0 && relaying {
		go func() {
			t := time.NewTimer(c.linger)
			defer t.Stop()
			select {
			case <-c.inDone:
			case <-t.C:
			}
			c.release()
		}()
		return err
	}
	c.release()
	return err
}

func (c *Conn) release() {
	c.once.Do(func() {
		c.inMu.Lock()
		if c.inState == 0 {
			c.inState = 2
			c.relayDone()
		}
		c.inMu.Unlock()
		_ = c.far.Close() // the Conn's reads return io.EOF, its writes io.ErrClosedPipe
		if c.onClose != nil {
			c.onClose()
		}
	})
}

// SetAddrs sets the addresses LocalAddr and RemoteAddr report (those of the connection the
// stream runs on); nil keeps the pipe's. Call it before the Conn is in use.
func (c *Conn) SetAddrs(local, remote net.Addr) { c.local, c.remote = local, remote }

// LocalAddr returns the address given in Options, or the pipe's.
func (c *Conn) LocalAddr() net.Addr {
	if c.local != nil {
		return c.local
	}
	return c.Conn.LocalAddr()
}

// RemoteAddr returns the address given in Options, or the pipe's.
func (c *Conn) RemoteAddr() net.Addr {
	if c.remote != nil {
		return c.remote
	}
	return c.Conn.RemoteAddr()
}

// relayDone counts a relay out; the last one closes done.
func (c *Conn) relayDone() {
	if c.relays.Add(-1) == 0 {
		close(c.done)
	}
}

// relayIn copies the incoming body into the pipe until either ends. When the body ends (the
// peer's END_STREAM, a reset, the connection lost) the Conn's reads return io.EOF after what
// was relayed, and the stream is released.
func (c *Conn) relayIn(in io.Reader) {
	defer c.relayDone()
	defer close(c.inDone)
	buf := make([]byte, relayBuffer)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if _, werr := c.far.Write(buf[:n]); werr != nil {
				break // the Conn was closed
			}
		}
		if err != nil {
			break
		}
	}
	c.release()
}

// relayOut copies what is written to the Conn to out, flushing after each piece, until the
// Conn is closed or out fails.
func (c *Conn) relayOut(out io.Writer, flush func() error) {
	defer c.relayDone()
	buf := make([]byte, relayBuffer)
	for {
		n, err := c.far.Read(buf)
		if n > 0 {
			if _, werr := out.Write(buf[:n]); werr != nil {
				break
			}
			if flush != nil {
				if ferr := flush(); ferr != nil {
					break
				}
			}
		}
		if err != nil {
			break // io.EOF: the Conn was closed
		}
	}
	c.release()
}
