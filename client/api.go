package client

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// The blocking API with one import: the types, constants and errors a caller of Dial needs,
// as aliases of the engine's (package conn, frame and handshake), so that ordinary use imports
// only client. They are the same types: errors.As, errors.Is and type switches work with
// either name.

// MessageType is a data message's opcode: Text or Binary (RFC 6455 §5.6).
type MessageType = conn.MessageType

// Message types.
const (
	Text   = conn.Text
	Binary = conn.Binary
)

// CloseError is the error of a read (or write) after the connection ended: the close code and
// reason (the peer's after a closing handshake, §7.1.5), Remote for a close the peer started,
// and the cause.
type CloseError = conn.CloseError

// CloseCode is a close status code (RFC 6455 §7.4).
type CloseCode = frame.CloseCode

// Close codes (RFC 6455 §7.4.1). CloseNoStatus, CloseAbnormal and CloseTLSHandshake are
// never sent: they report a close without a code, without a close frame, and a failed TLS
// handshake.
const (
	CloseNormal             = frame.CloseNormal
	CloseGoingAway          = frame.CloseGoingAway
	CloseProtocolError      = frame.CloseProtocolError
	CloseUnsupportedData    = frame.CloseUnsupportedData
	CloseNoStatus           = frame.CloseNoStatus
	CloseAbnormal           = frame.CloseAbnormal
	CloseInvalidPayload     = frame.CloseInvalidPayload
	ClosePolicyViolation    = frame.ClosePolicyViolation
	CloseMessageTooBig      = frame.CloseMessageTooBig
	CloseMandatoryExtension = frame.CloseMandatoryExtension
	CloseInternalError      = frame.CloseInternalError
	CloseServiceRestart     = frame.CloseServiceRestart
	CloseTryAgainLater      = frame.CloseTryAgainLater
	CloseBadGateway         = frame.CloseBadGateway
	CloseTLSHandshake       = frame.CloseTLSHandshake
)

// Response is the server's handshake response (status, headers in wire order, the agreed
// subprotocol and extensions), as Dial returns it.
type Response = handshake.Response

// StatusError is Dial's error for a server that answered the handshake with another status
// than 101: the status, headers, Location and the start of the body.
type StatusError = handshake.StatusError

// Errors of an open connection (see package conn).
var (
	// ErrClosed is wrapped by the error of a call on a connection that ended.
	ErrClosed = conn.ErrClosed
	// ErrCloseTimeout is Close's error when the peer did not answer the closing handshake
	// within the close timeout; the connection was cut.
	ErrCloseTimeout = conn.ErrCloseTimeout
	// ErrQueueStalled is Close's error when the messages Enqueue queued made no progress
	// within the close timeout; the connection was cut.
	ErrQueueStalled = conn.ErrQueueStalled
)

// The methods of the engine's connection, declared here so that `go doc client.Conn` lists
// them all; each forwards to conn.Conn's method of the same name.

// WriteMessage sends p as one message of type typ (conn.Conn.WriteMessage). Safe for
// concurrent use; frames of two messages never interleave.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, p []byte) error {
	return c.Conn.WriteMessage(ctx, typ, p)
}

// NextWriter returns a writer for one message of type typ, sent in fragments as it is written
// (conn.Conn.NextWriter); Close ends the message.
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	return c.Conn.NextWriter(ctx, typ)
}

// Ping sends a ping with payload p (at most 125 bytes) (conn.Conn.Ping).
func (c *Conn) Ping(ctx context.Context, p []byte) error { return c.Conn.Ping(ctx, p) }

// Pong sends an unsolicited pong with payload p (at most 125 bytes) (conn.Conn.Pong).
func (c *Conn) Pong(ctx context.Context, p []byte) error { return c.Conn.Pong(ctx, p) }

// Enqueue sends p as one message without ever blocking, through the bounded send queue
// (conn.Conn.Enqueue): p must not change until done is called (or written is true).
func (c *Conn) Enqueue(typ MessageType, p []byte, done func(error)) (written bool, err error) {
	return c.Conn.Enqueue(typ, p, done)
}

// EnqueueCopy is Enqueue for a caller that reuses p at once: a queued message is copied
// first (conn.Conn.EnqueueCopy).
func (c *Conn) EnqueueCopy(typ MessageType, p []byte, done func(error)) (written bool, err error) {
	return c.Conn.EnqueueCopy(typ, p, done)
}

// Buffered returns the bytes and messages in the send queue not written yet
// (conn.Conn.Buffered).
func (c *Conn) Buffered() (bytes int64, messages int) { return c.Conn.Buffered() }

// MessageBuffered reports whether the next ReadMessage returns without waiting for the
// network (conn.Conn.MessageBuffered).
func (c *Conn) MessageBuffered() bool { return c.Conn.MessageBuffered() }

// TryReadMessage reads the next message only when it is already buffered whole, without
// waiting; ok false means nothing was read (conn.Conn.TryReadMessage).
func (c *Conn) TryReadMessage(buf []byte) (typ MessageType, p []byte, ok bool, err error) {
	return c.Conn.TryReadMessage(buf)
}

// Subprotocol returns the subprotocol the server selected, or "" (conn.Conn.Subprotocol).
func (c *Conn) Subprotocol() string { return c.Conn.Subprotocol() }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.Conn.LocalAddr() }

// RemoteAddr returns the server's network address (the proxy's, through a proxy).
func (c *Conn) RemoteAddr() net.Addr { return c.Conn.RemoteAddr() }

// NetConn returns the underlying connection (a *tls.Conn for wss://). Reading or writing it
// directly corrupts the WebSocket stream.
func (c *Conn) NetConn() net.Conn { return c.Conn.NetConn() }

// SetDeadline sets the read and write deadlines (conn.Conn.SetDeadline).
func (c *Conn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(t) }

// SetReadDeadline sets the deadline of reads (conn.Conn.SetReadDeadline).
func (c *Conn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline of writes (conn.Conn.SetWriteDeadline).
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(t) }
