package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/netkit/websocket/frame"
)

// CloseError is how a connection ended, returned by every read once it has (RFC 6455 §7).
//
// Code and Reason come from the peer's close frame when Remote is true: the peer closed, or
// answered our Close. Otherwise they describe what this end did or saw: the code of the close
// frame sent when failing the connection (1002, 1007, 1009, 1011), or CloseAbnormal (1006) when
// the connection ended without a closing handshake (the TCP connection dropped, the peer did not
// answer a close in time, CloseNow). A close frame without a code is reported as CloseNoStatus
// (1005). Err, when not nil, is the cause (a *frame.ProtocolError, io.EOF, a network error).
type CloseError struct {
	Code   frame.CloseCode
	Reason string
	Remote bool
	Err    error
}

// Error returns a description such as
// "websocket: closed by peer: 1000 (normal closure): bye".
func (e *CloseError) Error() string {
	s := "websocket: closed: "
	if e.Remote {
		s = "websocket: closed by peer: "
	}
	s += e.Code.String()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns Err.
func (e *CloseError) Unwrap() error { return e.Err }

// Close performs the closing handshake (RFC 6455 §7.1.2): it sends a close frame with code and
// reason, waits for the peer's close frame, then closes the TCP connection. code and reason
// are checked first (frame.AppendClose: a code valid on the wire, or frame.CloseNoStatus for an
// empty close payload; a reason of at most 123 bytes of UTF-8); a bad one is returned as an
// error and the connection is untouched.
//
// First, the messages queued by Enqueue are written, in order, before the close frame, for
// as long as the peer takes them: Close gives up only when no queued message was finished for
// Config.CloseTimeout (a peer that reads nothing). It then cuts the connection (reads report
// 1006) and returns an error wrapping ErrQueueStalled; the messages not written are reported
// failed to their done functions. Progress is counted per message, so a single queued message
// that takes longer than CloseTimeout to write counts as a stall. Enqueue refuses new
// messages from the start of Close.
//
// The handshake itself is bounded by Config.CloseTimeout. While it waits, a goroutine that is
// reading the connection goes on receiving the messages the peer sent before its close, and
// then the close; with no reader active, Close reads (and discards messages) itself, unless
// Config.ReadLoop says a reading goroutine will come back. A message
// being streamed by a message writer is cut short: its later writes return ErrClosed.
//
// Close returns nil when the peer's close frame arrived, ErrCloseTimeout (wrapped) when it did
// not in time, and ErrClosed when the connection was already closing or closed. Afterwards,
// reads return a *CloseError with the peer's code and reason (Remote), or 1006 on timeout.
func (c *Conn) Close(code frame.CloseCode, reason string) error {
	var pb [frame.MaxControlPayload]byte
	payload, err := frame.AppendClose(pb[:0], code, reason)
	if err != nil {
		return fmt.Errorf("websocket: close: %w", err)
	}
	c.mu.Lock()
	if c.closeSent.Load() || c.tcpClosed || c.closeCalled || c.termErr.Load() != nil {
		c.mu.Unlock()
		return ErrClosed
	}
	c.closeCalled = true
	c.mu.Unlock()

	// The messages queued by Enqueue go out before the close frame, for as long as the peer
	// takes them: the bound is on a stall, not on the total time.
	if err := c.flushQueue(true); err != nil {
		if errors.Is(err, ErrQueueStalled) {
			c.abort(&CloseError{Code: frame.CloseAbnormal, Reason: "the messages queued before the close made no progress in time", Err: err})
		}
		return fmt.Errorf("websocket: close: %w", err)
	}
	c.mu.Lock()
	if c.closeSent.Load() || c.tcpClosed {
		c.mu.Unlock()
		return ErrClosed // the peer's close or a failure came while the queue was flushed
	}
	c.closeSent.Store(true)
	c.mu.Unlock()

	clk := closeClock{deadline: time.Now().Add(c.closeTimeout)}
	defer clk.stop()
	if err := c.writeClose(payload, &clk); err != nil {
		c.abort(&CloseError{Code: frame.CloseAbnormal, Reason: "sending the close frame failed", Err: err})
		return fmt.Errorf("websocket: close: sending the close frame: %w", err)
	}
	// Close waits for the peer's close, the end of the connection, the timeout, or the read
	// lock, to read until the peer's close itself when no read call is active.
	var readWake chan struct{} // the read lock's token channel, once Close waits for it
	defer func() {
		if readWake != nil {
			c.readLock.waiters.Add(-1)
		}
	}()
	expired := false
	for {
		if expired {
			c.abort(&CloseError{Code: frame.CloseAbnormal, Reason: "the peer did not answer the close frame in time", Err: ErrCloseTimeout})
			return fmt.Errorf("websocket: close: %w (after %v)", ErrCloseTimeout, c.closeTimeout)
		}
		c.mu.Lock()
		seen, closed := c.peerSeen, c.tcpClosed
		c.mu.Unlock()
		if seen {
			c.closeTCP()
			return nil
		}
		if closed {
			return fmt.Errorf("websocket: close: connection ended before the peer's close: %w", c.terminal())
		}
		select {
		case <-clk.started():
			expired = true
			continue
		default:
		}
		if !c.readLoop {
			if c.readLock.tryLock() {
				return c.closeReading(clk.deadline)
			}
			if readWake == nil {
				// Count as a waiter, then try again: from now on an unlock leaves a token.
				readWake = c.readLock.wake()
				c.readLock.waiters.Add(1)
				continue
			}
		}
		select {
		case <-c.peerClosedChan():
		case <-c.doneChan():
		case <-clk.expiry():
			expired = true
		case <-readWake:
			// The token must not be lost: take the lock now, or its holder's unlock will
			// leave another.
			if c.readLock.tryLock() {
				return c.closeReading(clk.deadline)
			}
		}
	}
}

// closeReading is the end of Close when it took the read lock: it reads until the peer's close
// frame, then closes the TCP connection.
func (c *Conn) closeReading(deadline time.Time) error {
	err := c.readUntilPeerClose(deadline)
	c.fr.Drop() // the connection is over: hand the read buffer back
	c.readLock.unlock()
	if err == nil {
		c.closeTCP()
		return nil
	}
	ce := lostConnection(err) // the same reason whichever goroutine saw the connection end
	if isTimeout(err) {
		err = ErrCloseTimeout
		ce = &CloseError{Code: frame.CloseAbnormal, Reason: "no close frame from the peer", Err: err}
	}
	c.abort(ce)
	return fmt.Errorf("websocket: close: %w", err)
}

// CloseNow closes the TCP connection at once, without a closing handshake. Reads then return a
// *CloseError with code 1006. It returns ErrClosed if the connection was already closed.
func (c *Conn) CloseNow() error {
	c.mu.Lock()
	if c.tcpClosed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.mu.Unlock()
	c.abort(&CloseError{Code: frame.CloseAbnormal, Reason: "closed without a closing handshake", Err: ErrClosed})
	return nil
}

// closeClock bounds a closing handshake: a deadline for I/O, and a timer for waiting on other
// goroutines, made only when there is such a wait (a Close that finds the locks free, the
// common case, makes none).
type closeClock struct {
	deadline time.Time
	t        *time.Timer
}

// expiry returns a channel that receives when the deadline passes, starting the timer.
func (k *closeClock) expiry() <-chan time.Time {
	if k.t == nil {
		k.t = time.NewTimer(time.Until(k.deadline))
	}
	return k.t.C
}

// started returns the timer's channel if it was started, and nil (never ready) otherwise.
func (k *closeClock) started() <-chan time.Time {
	if k.t == nil {
		return nil
	}
	return k.t.C
}

func (k *closeClock) stop() {
	if k.t != nil {
		k.t.Stop()
	}
}

// writeClose writes a close frame with payload, waiting for the frame lock until the clock
// expires. It owns the write deadline from then on. The caller has set closeSent.
func (c *Conn) writeClose(payload []byte, clk *closeClock) error {
	if !c.frameLock.tryLock() {
		if err := c.frameLock.lockSlow(context.Background(), c.doneChan(), clk.expiry()); err != nil {
			return err
		}
	}
	defer c.frameLock.unlock()
	c.dmu.Lock()
	c.closeDeadline = true
	c.nc.SetWriteDeadline(clk.deadline)
	c.dmu.Unlock()
	return c.fw.WriteControl(frame.OpClose, payload)
}

// sendClose writes a close frame with code and reason within the close timeout, for a reply or
// a failing connection; errors are ignored, as the TCP connection is closed next.
func (c *Conn) sendClose(code frame.CloseCode, reason string) {
	var pb [frame.MaxControlPayload]byte
	payload, err := frame.AppendClose(pb[:0], code, reason)
	if err != nil {
		payload, _ = frame.AppendClose(pb[:0], code, "")
	}
	clk := closeClock{deadline: time.Now().Add(c.closeTimeout)}
	c.writeClose(payload, &clk)
	clk.stop()
}

// readUntilPeerClose reads and discards frames until the peer's close frame, for Close with no
// reader active. The caller holds readLock.
func (c *Conn) readUntilPeerClose(deadline time.Time) error {
	if c.z != nil {
		c.endInflate(true) // a message being streamed is dropped with the connection
	}
	c.dmu.Lock()
	c.closeDeadline = true
	c.nc.SetReadDeadline(deadline)
	c.dmu.Unlock()
	for {
		c.mu.Lock()
		seen := c.peerSeen
		c.mu.Unlock()
		if seen {
			return nil
		}
		if c.inFrame && c.fr.Remaining() == 0 {
			c.inFrame = false
		}
		err := c.nextDataFrame(context.Background(), true)
		if err == nil {
			continue // data frame: NextFrame skips its payload
		}
		if ce, ok := err.(*CloseError); ok && ce.Remote {
			return nil
		}
		if pe, ok := err.(*frame.ProtocolError); ok {
			c.fail(pe)
		}
		return err
	}
}

// peerClose handles the peer's close frame (§7.1.5): it records the code and reason, replies
// with the same code (1000 for a close without one) unless this end had sent its close first,
// and then closes the TCP connection; when this end had sent its close, Close closes it. It
// returns the *CloseError for reads.
func (c *Conn) peerClose(code frame.CloseCode, reason []byte) error {
	ce := &CloseError{Code: code, Reason: string(reason), Remote: true}
	c.mu.Lock()
	if c.termErr.Load() == nil {
		c.termErr.Store(ce)
	}
	reply := !c.closeSent.Load()
	c.closeSent.Store(true)
	if !c.peerSeen {
		c.peerSeen = true
		if c.peerClosed != nil {
			close(c.peerClosed)
		}
	}
	term := c.termErr.Load()
	c.mu.Unlock()
	if reply {
		if code == frame.CloseNoStatus {
			code = frame.CloseNormal
		}
		c.sendClose(code, "")
		c.closeTCP()
	}
	return term
}

// fail fails the connection for a protocol violation (§7.1.7): it sends a close frame with the
// violation's code and reason, unless one was sent already, and closes the TCP connection.
//
// Messages that Enqueue accepted before go out first, within Config.CloseTimeout in all: an
// application that answered a message before the violation arrived gets its answer out, as
// a blocking writer that answers before it reads again would. When they do not go out in
// time, the TCP connection is closed without a close frame, which could not go out either.
func (c *Conn) fail(pe *frame.ProtocolError) error {
	c.mu.Lock()
	drain := c.termErr.Load() == nil && !c.closeSent.Load()
	c.mu.Unlock()
	if drain && errors.Is(c.flushQueue(false), ErrQueueStalled) {
		// The peer reads nothing: our close frame could not go out either.
		return c.abort(&CloseError{Code: pe.Code, Reason: pe.Reason, Err: pe})
	}
	return c.failWith(pe.Code, pe.Reason, pe)
}

// failWith fails the connection with a close frame of code and reason; cause is the
// CloseError's Err.
func (c *Conn) failWith(code frame.CloseCode, reason string, cause error) error {
	ce := &CloseError{Code: code, Reason: reason, Err: cause}
	c.mu.Lock()
	if t := c.termErr.Load(); t != nil {
		c.mu.Unlock()
		c.closeTCP()
		return t
	}
	c.termErr.Store(ce)
	send := !c.closeSent.Load()
	c.closeSent.Store(true)
	c.mu.Unlock()
	c.closeQueue()
	if send {
		c.sendClose(code, reason)
	}
	c.closeTCP()
	return ce
}

// abort ends the connection without (further) close frames: it records ce unless the end was
// recorded already, and closes the TCP connection. It returns the recorded error.
func (c *Conn) abort(ce *CloseError) error {
	c.mu.Lock()
	if c.termErr.Load() == nil {
		c.termErr.Store(ce)
	}
	c.closeSent.Store(true)
	t := c.termErr.Load()
	c.mu.Unlock()
	c.closeQueue()
	c.closeTCP()
	return t
}

// closeTCP closes the net.Conn once.
func (c *Conn) closeTCP() {
	c.mu.Lock()
	if c.tcpClosed {
		c.mu.Unlock()
		return
	}
	c.tcpClosed = true
	done := c.done
	c.mu.Unlock()
	c.nc.Close()
	if done != nil {
		close(done)
	}
}

// lostConnection is the CloseError of a connection that ended without a close frame.
func lostConnection(err error) *CloseError {
	reason := "connection lost: " + err.Error()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		reason = "connection closed without a close frame"
	}
	return &CloseError{Code: frame.CloseAbnormal, Reason: reason, Err: err}
}
