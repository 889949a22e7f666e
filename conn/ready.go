package conn

import "context"

// MessageBuffered reports whether the next ReadMessage returns without waiting for the
// network: a whole message (or a close frame, or input that fails the connection) is already
// buffered, or the connection has ended. An event loop uses it to deliver the messages that
// one read from the socket brought in as a batch (see frame.Reader.MessageBuffered). It only
// peeks at the buffer and allocates nothing. Call it from the goroutine that reads, between
// reads.
func (c *Conn) MessageBuffered() bool {
	if c.terminal() != nil {
		return true
	}
	return !c.ctlPending && !c.pongQueued() && c.fr.MessageBuffered()
}

// TryReadMessage is ReadMessage for a message that is already buffered whole: it never waits.
// When the next message is one frame (text or binary, FIN set) held whole in the read buffer,
// it reads it as ReadMessage(ctx, buf) would and returns ok true, with ReadMessage's result (an
// error then fails the connection as ReadMessage's would: a message over MaxMessageSize, text
// that is not UTF-8 (§8.1)). Otherwise it reads nothing and returns ok false: the next message
// is not buffered whole, is fragmented, or a control frame, a queued pong or another reader
// comes first; the connection's end is also left for ReadMessage to report. An event loop
// calls it while it delivers a batch, and falls back to ReadMessage (which waits) when it
// returns ok false: one call per message, where MessageBuffered and then ReadMessage are two.
// It allocates nothing beyond ReadMessage's growth of buf.
func (c *Conn) TryReadMessage(buf []byte) (typ MessageType, p []byte, ok bool, err error) {
	if !c.readLock.tryLock() {
		return 0, buf[:0], false, nil
	}
	if c.terminal() == nil && c.atMessage() {
		if h, p, ok := c.fr.NextMessage(); ok {
			typ, p, err := c.wholeMessage(context.Background(), h, p, buf[:0])
			c.readLock.unlock()
			return typ, p, true, err
		}
	}
	c.readLock.unlock()
	return 0, buf[:0], false, nil
}
