package client

import (
	"context"
	"net/url"

	"github.com/netkit/websocket/handshake"
)

// transport is what the seed facade needs from an open connection. The real one wraps *Conn
// (the blocking API); tests may use a fake. Methods are called from the facade's reading
// goroutine (readMessage), under the WebSocket's lock (enqueue, buffered) and from the closing
// goroutine (close); closeNow may be called at any time.
type transport interface {
	// readMessage returns the next whole message. The data belongs to the caller. It returns
	// a *closedError after a closing handshake (either side started it), a *failedError or any
	// other error when the connection was lost or failed.
	readMessage(ctx context.Context) (MessageData, error)
	// enqueue sends one whole message without blocking (conn.Conn.Enqueue; EnqueueCopy
	// unless fixed says that p never changes, so that a message written at once is not
	// copied and a queued one is): it reports
	// written when the message went out at once (done is then not called); otherwise done is
	// called once the queued message was written or failed, on another goroutine, never from
	// enqueue itself. It fails with an error wrapping conn.ErrQueueFull past the queue's cap,
	// conn.ErrClosed after the end.
	enqueue(text bool, p []byte, fixed bool, done func(error)) (written bool, err error)
	// tryReadMessage is readMessage for a message already buffered whole: it returns it (ok
	// true, with readMessage's result) without waiting, or reads nothing and returns ok false
	// (conn.Conn.TryReadMessage). Called by the reading goroutine only.
	tryReadMessage() (m MessageData, ok bool, err error)
	// buffered returns the bytes and messages queued and not yet written.
	buffered() (int64, int)
	// close writes the queued messages, then performs the closing handshake with code and
	// reason (already validated), bounded (conn.Conn.Close); readMessage then returns the
	// peer's reply as *closedError.
	close(code uint32, reason string) error
	// closeNow closes the network connection at once. It may be called more than once.
	closeNow() error
}

// closedError reports a finished closing handshake: code and reason are the peer's (RFC 6455
// §7.1.5, §7.1.6).
type closedError struct {
	code   uint32
	reason string
}

func (e *closedError) Error() string { return "websocket: connection closed" }

// failedError reports a connection that ended without a closing handshake, or that this end
// failed (RFC 6455 §7.1.7): code is 1006 or the code of the close frame this end sent (1002,
// 1007, 1009, 1011), reason says why, err is the cause.
type failedError struct {
	code   uint32
	reason string
	err    error
}

func (e *failedError) Error() string { return e.err.Error() }
func (e *failedError) Unwrap() error { return e.err }

// handshakeInfo is what the facade reports of the handshake response.
type handshakeInfo struct {
	statusCode int
	statusText string
	fields     []headerField // in wire order, names as sent
	protocol   string        // the subprotocol the server selected, or ""
}

// headerField is a response header line as the handshake read it: the facade keeps the
// handshake's own slice rather than copy it.
type headerField = handshake.Field

// responseHeaders turns the response fields into the seed's MAP_DATA.
func (h *handshakeInfo) responseHeaders() ResponseHeaders {
	if len(h.fields) == 0 {
		return UndefinedData{}
	}
	m := make(MapData, len(h.fields))
	for _, f := range h.fields {
		if v, ok := m[f.Name]; ok {
			m[f.Name] = v + ", " + f.Value
		} else {
			m[f.Name] = f.Value
		}
	}
	return m
}

// dialFunc opens a connection for the facade. opts is already resolved (defaults applied and
// checked); protocols is opts.Protocol split into tokens; ds is the session's dialState.
type dialFunc func(ctx context.Context, u *url.URL, opts *WebSocketRequestOptions, protocols []string, ds *dialState) (transport, *handshakeInfo, error)

// dialState is what a session lends its dial: memory for the transport (the open
// connection's adapter then costs no allocation of its own) and the abort slot through which
// Close abandons the dial once it has a connection, without a context watcher (which costs
// three allocations per connect).
type dialState struct {
	ct    connTransport
	abort dialAbort
}

// bufferReader is the optional method of a transport for the borrowing mode
// (WebSocketRequestOptions.BorrowMessages): readInto reads the next message into buf[:0] and
// returns it, in buf's memory when it fits, with readMessage's errors. A transport without it
// is read with readMessage and the message copied into the buffer.
type bufferReader interface {
	readInto(ctx context.Context, buf []byte) (text bool, p []byte, err error)
	// tryReadInto is readInto for a message already buffered whole, as tryReadMessage.
	tryReadInto(buf []byte) (text bool, p []byte, ok bool, err error)
}

// bufferReaderOf returns t's readInto when it has one, and otherwise an adapter that reads
// with readMessage and copies the message into the buffer. The reading goroutine resolves it
// once, not per message (an assertion to an interface type costs a lookup each time).
func bufferReaderOf(t transport) bufferReader {
	if br, ok := t.(bufferReader); ok {
		return br
	}
	return copyingReader{t}
}

// copyingReader is the bufferReader of a transport without readInto.
type copyingReader struct{ t transport }

func (r copyingReader) readInto(ctx context.Context, buf []byte) (bool, []byte, error) {
	m, err := r.t.readMessage(ctx)
	return copyMessage(m, buf, err)
}

func (r copyingReader) tryReadInto(buf []byte) (bool, []byte, bool, error) {
	m, ok, err := r.t.tryReadMessage()
	if !ok {
		return false, buf[:0], false, nil
	}
	text, p, err := copyMessage(m, buf, err)
	return text, p, true, err
}

// copyMessage copies m, a message read with error err, into buf[:0].
func copyMessage(m MessageData, buf []byte, err error) (bool, []byte, error) {
	if err != nil {
		return false, buf[:0], err
	}
	switch d := m.(type) {
	case StringData:
		return true, append(buf[:0], d...), nil
	case ArrayData:
		return false, append(buf[:0], d...), nil
	}
	return false, buf[:0], nil
}
