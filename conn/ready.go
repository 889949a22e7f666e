package conn

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
