package conn

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netkit/websocket/frame"
)

// MessageType is the opcode of a data message: Text or Binary.
type MessageType = frame.Opcode

// The two message types (RFC 6455 §5.6).
const (
	Text   MessageType = frame.OpText
	Binary MessageType = frame.OpBinary
)

// Defaults of Config.
const (
	// DefaultBufferSize is the default size of the read and the write buffer.
	DefaultBufferSize = 4096
	// DefaultMaxMessageSize is the default limit on a received message: 32 MiB.
	DefaultMaxMessageSize = 32 << 20
	// DefaultCloseTimeout is the default bound on the closing handshake.
	DefaultCloseTimeout = 5 * time.Second
)

// Config holds the options of a Conn. A nil *Config and zero fields mean the defaults.
type Config struct {
	// Role is this end of the connection: frame.RoleClient (the zero value) masks what it
	// sends and rejects masked frames; frame.RoleServer does the opposite (§5.1).
	Role frame.Role
	// ReadBufferSize and WriteBufferSize size the frame reader's and writer's buffers
	// (default DefaultBufferSize, 4096; see frame.NewReader for the rounding). Frames whose
	// header and payload fit the write buffer leave in one write.
	ReadBufferSize, WriteBufferSize int
	// MaxMessageSize bounds the size of a received message, all fragments together (default
	// DefaultMaxMessageSize, 32 MiB; negative means no limit). A message over it fails the
	// connection with 1009 as soon as a frame header announces it.
	MaxMessageSize int64
	// CloseTimeout bounds the closing handshake: how long Close waits to send its close frame
	// and then for the peer's, and how long a close reply or a failing close may take
	// (default DefaultCloseTimeout, 5s).
	CloseTimeout time.Duration
	// Subprotocol is the subprotocol the opening handshake selected; Conn only reports it.
	Subprotocol string
	// AllowedRsv holds the RSV bits a negotiated extension defines; 0, the default, rejects
	// every RSV bit. Conn implements no extension for these bits: with a bit allowed,
	// messages are delivered as received. Compression allows RSV1 by itself.
	AllowedRsv byte
	// Compression, when set, is the per-message compression extension the opening handshake
	// agreed on (permessage-deflate, RFC 7692): see Compression. nil (the default) means
	// none, and RSV1 fails the connection with 1002 unless AllowedRsv allows it.
	Compression *Compression
	// ReadLoop declares that one goroutine reads the Conn until the connection ends (an event
	// loop, such as the client package's facade). Close then never reads by itself while it
	// waits for the peer's close: it leaves the reading to that goroutine, so every message the
	// peer sent before its close reaches it, even when Close runs between two of its reads.
	ReadLoop bool
	// OnPing and OnPong, when set, are called from the goroutine reading the connection for
	// each ping and pong received, with the payload, which is valid only during the call. A
	// ping is answered with a pong of the same payload whether or not OnPing is set. The
	// callbacks may write to the Conn (WriteMessage, Ping, Pong) but must not read from it,
	// nor call Close, which would wait for the reading goroutine, theirs, until CloseTimeout.
	OnPing, OnPong func(payload []byte)
	// ReadAlloc, when set, allocates the buffers ReadMessage grows a too-small buffer into:
	// it returns a slice of length 0 and capacity at least n, which ReadMessage then owns
	// (the bytes read so far are copied into it). n at least doubles from one call to the
	// next within a message (capped by MaxMessageSize), so a message in k fragments costs
	// O(log k) calls, not k; a message of one frame gets one call of its exact size. It is called on the reading goroutine. nil
	// means the runtime's allocation (slices.Grow). It lets a caller that hands each message
	// away put the payload in a block of its own making (the client facade puts the
	// MessageData header in front of it).
	ReadAlloc func(n int) []byte
	// TrackReads makes the Conn record, for a keepalive, what its reader sees of the network:
	// that bytes arrived (any bytes, not only whole messages) and how long reads waited on an
	// empty socket; ReadActivity returns it. On a *net.TCPConn or *net.UnixConn it costs a
	// load of a flag per read(2), and a clock read only when a read parks to wait for input;
	// on other net.Conns a read counts as waiting from its start to its return.
	TrackReads bool
	// SendQueueBytes and SendQueueMessages cap the send queue of Enqueue: the payload bytes
	// (as given to Enqueue, before any compression: messages are compressed as they are
	// written, in wire order) and the messages queued and not yet written (default DefaultSendQueueBytes, 16 MiB, and
	// DefaultSendQueueMessages, 4096; negative means no cap). An Enqueue past either cap fails
	// at once with ErrQueueFull. They do not apply to WriteMessage, which waits instead.
	SendQueueBytes    int64
	SendQueueMessages int
}

// Errors returned by Conn and its message readers and writers.
var (
	// ErrClosed is returned by writes once the closing handshake has started or the
	// connection is closed, and by a second Close or CloseNow.
	ErrClosed = errors.New("websocket: connection closed")
	// ErrCloseTimeout is returned by Close when the peer's close frame did not arrive within
	// Config.CloseTimeout.
	ErrCloseTimeout = errors.New("websocket: peer did not answer the close frame in time")
	// ErrMessageType is returned for a message type other than Text or Binary.
	ErrMessageType = errors.New("websocket: message type must be Text or Binary")
	// ErrControlTooLong is returned by Ping and Pong for a payload over 125 bytes (§5.5).
	ErrControlTooLong = errors.New("websocket: control frame payload over 125 bytes")
	// ErrWriterClosed is returned by a message writer used after its Close.
	ErrWriterClosed = errors.New("websocket: message writer already closed")
	// ErrReaderDone is returned by a message reader used after the next message was asked
	// for (NextReader or ReadMessage); the message it read was discarded.
	ErrReaderDone = errors.New("websocket: message reader used after the next message was requested")
	// ErrMessageAbandoned is wrapped in the error of a message writer whose message could not
	// be completed after some of its frames were sent (its context was cancelled, say). The
	// peer would wait for the rest forever, so the connection is failed with 1011.
	ErrMessageAbandoned = errors.New("websocket: message abandoned after some of its frames were sent; connection closed")
)

// Conn is a WebSocket connection over a net.Conn, for the client or the server end, after the
// opening handshake.
//
// Concurrency: all methods are safe to call from any goroutine. Reads are serialized: one
// ReadMessage, NextReader or message-reader Read runs at a time, and concurrent ones wait
// (respecting their contexts); use one reading goroutine. Writes from many goroutines are
// serialized per message: WriteMessage and the message writer of NextWriter hold the message
// lock for the whole message, so the frames of two messages never interleave; Ping, Pong and
// the automatic pong and close replies wait only for the frame being written, so they can go
// out between the fragments of a streamed message. A message reader or writer itself belongs to
// one goroutine.
//
// Contexts: a context passed to a call bounds that call. When it is cancelled, the call returns
// ctx.Err() and the connection stays usable: a read keeps what it had read (a partly received
// message is kept inside the Conn and the next ReadMessage continues it), and a write that had
// not written any byte of its frame leaves nothing behind. A frame that was written in part
// cannot be taken back; the connection is then closed and the error says so, wrapping
// frame.ErrIncompleteWrite. Cancellation is done with read and write deadlines on the net.Conn,
// which SetReadDeadline and SetWriteDeadline also set; a deadline that passes is reported as
// os.ErrDeadlineExceeded and likewise leaves the connection usable. (A tls.Conn is an
// exception: after a write timeout it refuses all further writes.)
//
// End of the connection: once the peer's close frame has been received, the connection was
// failed, or it was closed, every read returns a *CloseError saying how it ended, and every
// write returns ErrClosed.
//
// Allocation: ReadMessage into a buffer large enough and WriteMessage allocate nothing with a
// context that cannot be cancelled (such as context.Background()); a cancellable context costs
// the registration of a context.AfterFunc per call that waits for the network (none for a
// message already buffered whole).
//
// Memory: the read and write buffers (Config.ReadBufferSize, WriteBufferSize) are borrowed
// from pools while a frame is in flight and handed back when the connection is idle (the read
// buffer grows to four times its size while input streams in; see frame.Reader); messages
// of up to 125 bytes are written through a small buffer inside the Conn. On a *net.TCPConn or
// *net.UnixConn, a read waiting for the peer holds no buffer: it parks in the runtime's network
// poller through syscall.RawConn, and a ready read takes a buffer from the pool and costs one
// read(2). ReadMessage with a context that cannot be cancelled waits in a short call chain, so
// a goroutine that waits there fits the smallest goroutine stack (2 KiB). Locks and signals
// allocate their channels only when a goroutine has to wait for another. An idle client
// connection costs about 4.7 KiB in all (Conn, net.Conn, handshake response, the waiting
// goroutine's stack). Other net.Conns (TLS, wrappers) keep the read buffer while a read waits.
type Conn struct {
	nc           net.Conn
	role         frame.Role
	readLoop     bool // Config.ReadLoop
	maxSize      int64
	closeTimeout time.Duration
	subprotocol  string
	onPing       func([]byte)
	onPong       func([]byte)
	readAlloc    func(int) []byte // Config.ReadAlloc
	act          *activity        // &track with Config.TrackReads; nil when off
	track        activity
	q            sendQueue  // Enqueue's queue (queue.go)
	z            *compState // Config.Compression's state (compress.go); nil without it

	readLock  ctxLock // held during each read call
	msgLock   ctxLock // held by a data message being written, from start to end
	frameLock ctxLock // held while a frame is written (and by message-writer Writes)

	// Reading state, owned by the holder of readLock.
	fr         frame.Reader
	ctlOp      frame.Opcode // control frame whose payload is still to be read, if ctlPending
	ctlPending bool
	inFrame    bool // the current frame is a data frame of c's message
	msgFin     bool // the current data frame is the message's last
	inMsg      bool // a message has started and not ended
	msgType    MessageType
	compressed bool // the current message has RSV1: its payload is compressed
	streamed   bool // the current message was handed to a message reader
	msgSize    int64
	readGen    uint64
	partial    []byte // bytes of the current message kept by an interrupted ReadMessage
	utf8       frame.UTF8Validator

	// Writing state, owned by the holder of frameLock.
	fw frame.Writer

	// The pong to send for the last ping, guarded by mu: the reader queues it and whoever
	// holds or next takes the frame lock sends it, so the reader never waits for writers.
	// pongWanted is written under mu and read without it by pongQueued.
	pongBuf    [frame.MaxControlPayload]byte
	pongN      int
	pongWanted atomic.Bool

	mu          sync.Mutex
	closeSent   atomic.Bool                // a close frame was sent or is being sent: no frame may follow; written under mu
	termErr     atomic.Pointer[CloseError] // what every read returns once the connection is over; set under mu
	closeCalled bool                       // Close was called (it may be flushing the send queue)
	peerSeen    bool                       // the peer's close frame was received
	peerClosed  chan struct{}              // closed when peerSeen is set; made on demand (peerClosedChan)
	tcpClosed   bool
	done        chan struct{} // closed when tcpClosed is set; made on demand (doneChan)

	dmu           sync.Mutex // guards the deadline fields
	rdl, wdl      time.Time  // deadlines set by the user
	rgen, wgen    uint64     // generation of the current context watcher
	rCancel       bool       // a context forced the read deadline into the past
	wCancel       bool       // a context forced the write deadline into the past
	closeDeadline bool       // a closing handshake owns the deadlines now
}

// New returns a Conn over nc, on which the opening handshake has taken place. prefix holds the
// bytes read from nc past the handshake, which belong to the frame stream; they are copied. cfg
// may be nil for the defaults (client role).
func New(nc net.Conn, prefix []byte, cfg *Config) *Conn {
	var cf Config
	if cfg != nil {
		cf = *cfg
	}
	if cf.ReadBufferSize <= 0 {
		cf.ReadBufferSize = DefaultBufferSize
	}
	if cf.WriteBufferSize <= 0 {
		cf.WriteBufferSize = DefaultBufferSize
	}
	if cf.MaxMessageSize == 0 {
		cf.MaxMessageSize = DefaultMaxMessageSize
	}
	if cf.CloseTimeout <= 0 {
		cf.CloseTimeout = DefaultCloseTimeout
	}
	switch {
	case cf.SendQueueBytes == 0:
		cf.SendQueueBytes = DefaultSendQueueBytes
	case cf.SendQueueBytes < 0:
		cf.SendQueueBytes = 1<<63 - 1
	}
	switch {
	case cf.SendQueueMessages == 0:
		cf.SendQueueMessages = DefaultSendQueueMessages
	case cf.SendQueueMessages < 0:
		cf.SendQueueMessages = int(^uint(0) >> 1)
	}
	c := &Conn{
		nc:           nc,
		role:         cf.Role,
		maxSize:      cf.MaxMessageSize,
		closeTimeout: cf.CloseTimeout,
		readLoop:     cf.ReadLoop,
		subprotocol:  cf.Subprotocol,
		onPing:       cf.OnPing,
		onPong:       cf.OnPong,
		readAlloc:    cf.ReadAlloc,
	}
	if cf.TrackReads {
		c.act = &c.track
	}
	c.q.maxBytes, c.q.maxMsgs = cf.SendQueueBytes, cf.SendQueueMessages
	src := newSource(nc, c.act)
	c.fr.Init(src, cf.Role, cf.ReadBufferSize)
	c.fr.Reset(src, prefix)
	if cf.Compression != nil {
		c.z = newCompState(cf.Compression)
		cf.AllowedRsv |= frame.Rsv1
	}
	c.fr.SetAllowedRsv(cf.AllowedRsv)
	c.fw.Init(nc, cf.Role, cf.WriteBufferSize)
	return c
}

// growRead returns buf with room for n more bytes: slices.Grow, or a buffer from
// Config.ReadAlloc with buf's bytes copied in. Growth is geometric, so that a message that
// arrives in many small fragments costs O(log size) allocations and O(size) copying, not one
// allocation and a copy of everything so far per fragment: the new capacity is at least twice
// the old one (a buffer with no capacity gets exactly n, so a message of one frame gets a
// buffer of its size), but no more than MaxMessageSize when that is larger than what is
// needed, since a message cannot grow past it.
func (c *Conn) growRead(buf []byte, n int) []byte {
	need := len(buf) + n
	size := max(need, 2*cap(buf))
	if c.maxSize >= 0 && int64(size) > c.maxSize {
		size = max(need, int(c.maxSize))
	}
	if c.readAlloc == nil {
		return slices.Grow(buf, size-len(buf))
	}
	return append(c.readAlloc(size)[:0], buf...)
}

// NetConn returns the underlying connection. Reading or writing it directly corrupts the
// frame stream.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Subprotocol returns Config.Subprotocol, the subprotocol of the opening handshake.
func (c *Conn) Subprotocol() string { return c.subprotocol }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Role returns the end of the connection c is.
func (c *Conn) Role() frame.Role { return c.role }

// SetReadDeadline sets the deadline of reads on the underlying connection (see
// net.Conn.SetReadDeadline). A read that passes it returns an error wrapping
// os.ErrDeadlineExceeded and the connection stays usable; a zero t means no deadline. It
// combines with contexts: a read stops at the deadline or the context's end, whichever comes
// first.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.rdl = t
	if c.rCancel || c.closeDeadline {
		return nil
	}
	return c.nc.SetReadDeadline(t)
}

// SetWriteDeadline sets the deadline of writes on the underlying connection, like
// SetReadDeadline. A write that passes it before writing any byte of its frame returns an error
// wrapping os.ErrDeadlineExceeded and the connection stays usable.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.wdl = t
	if c.wCancel || c.closeDeadline {
		return nil
	}
	return c.nc.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}

// aLongTimeAgo is a deadline that has passed: setting it interrupts blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

// watchRead makes the cancellation of ctx interrupt the caller's reads on nc, until
// unwatchRead. It returns nil, allocating nothing, for a context that cannot be cancelled.
// The caller holds readLock.
func (c *Conn) watchRead(ctx context.Context) func() bool {
	if ctx.Done() == nil {
		return nil
	}
	c.dmu.Lock()
	gen := c.rgen
	c.dmu.Unlock()
	return context.AfterFunc(ctx, func() {
		c.dmu.Lock()
		if c.rgen == gen && !c.closeDeadline {
			c.rCancel = true
			c.nc.SetReadDeadline(aLongTimeAgo)
		}
		c.dmu.Unlock()
	})
}

// unwatchRead ends what watchRead started and restores the user's read deadline if the
// context had forced it.
func (c *Conn) unwatchRead(stop func() bool) {
	if stop == nil || stop() {
		return // the callback never ran and never will
	}
	c.dmu.Lock()
	c.rgen++
	if c.rCancel {
		c.rCancel = false
		if !c.closeDeadline {
			c.nc.SetReadDeadline(c.rdl)
		}
	}
	c.dmu.Unlock()
}

// watchWrite is watchRead for writes; the caller holds frameLock.
func (c *Conn) watchWrite(ctx context.Context) func() bool {
	if ctx.Done() == nil {
		return nil
	}
	c.dmu.Lock()
	gen := c.wgen
	c.dmu.Unlock()
	return context.AfterFunc(ctx, func() {
		c.dmu.Lock()
		if c.wgen == gen && !c.closeDeadline {
			c.wCancel = true
			c.nc.SetWriteDeadline(aLongTimeAgo)
		}
		c.dmu.Unlock()
	})
}

// unwatchWrite is unwatchRead for writes.
func (c *Conn) unwatchWrite(stop func() bool) {
	if stop == nil || stop() {
		return
	}
	c.dmu.Lock()
	c.wgen++
	if c.wCancel {
		c.wCancel = false
		if !c.closeDeadline {
			c.nc.SetWriteDeadline(c.wdl)
		}
	}
	c.dmu.Unlock()
}

// isTimeout reports whether err is a deadline passing on the net.Conn.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// lockWrite takes l, one of the write locks, giving up when ctx ends or the connection closes
// (ErrClosed).
func (c *Conn) lockWrite(ctx context.Context, l *ctxLock) error {
	if l.tryLock() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.lockSlow(ctx, c.doneChan(), nil)
}

// closedChan is a closed channel, returned for a signal that has happened.
var closedChan = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// doneChan returns a channel closed when the net.Conn is closed. It is made only when a
// goroutine has to wait for it, so a Conn whose calls never wait for each other makes none.
func (c *Conn) doneChan() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.tcpClosed {
			return closedChan
		}
		c.done = make(chan struct{})
	}
	return c.done
}

// peerClosedChan returns a channel closed when the peer's close frame has been received, made
// on demand like doneChan.
func (c *Conn) peerClosedChan() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.peerClosed == nil {
		if c.peerSeen {
			return closedChan
		}
		c.peerClosed = make(chan struct{})
	}
	return c.peerClosed
}

// ctxLock is a mutual exclusion lock whose waiters give up when their context ends (or the
// connection closes): the read lock, taken by every read call, and the two write locks.
// Taking and releasing it uncontended costs one atomic operation each, against two runtime
// lock round trips for a channel used as a lock; a goroutine that finds it held waits for a
// wake-up token, or its context. The token channel is made by the first goroutine that has to
// wait, so a Conn whose calls never wait for each other makes none.
//
// It is not fair: a goroutine taking it may overtake one woken to take it. That suits its
// uses, whose holders hold it briefly or are normally one goroutine.
type ctxLock struct {
	held    atomic.Bool
	waiters atomic.Int32                  // goroutines waiting for a token
	wakeCh  atomic.Pointer[chan struct{}] // 1-slot: unlock leaves a token in it when someone waits
}

// tryLock takes l if it is free and reports whether it did.
func (l *ctxLock) tryLock() bool { return l.held.CompareAndSwap(false, true) }

// wake returns the token channel, making it on first use.
func (l *ctxLock) wake() chan struct{} {
	if p := l.wakeCh.Load(); p != nil {
		return *p
	}
	ch := make(chan struct{}, 1)
	if l.wakeCh.CompareAndSwap(nil, &ch) {
		return ch
	}
	return *l.wakeCh.Load()
}

// unlock releases l, waking a waiter if there is one.
func (l *ctxLock) unlock() {
	l.held.Store(false)
	// A waiter makes the channel and counts itself before trying l, so either it sees l free
	// or this sees it.
	if l.waiters.Load() > 0 {
		select {
		case l.wake() <- struct{}{}:
		default: // a token is already there
		}
	}
}

// lock takes l, giving up with ctx.Err() when ctx ends first.
func (l *ctxLock) lock(ctx context.Context) error {
	if l.tryLock() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.lockSlow(ctx, nil, nil)
}

// lockSlow waits for l. It gives up with ctx.Err() when ctx ends, ErrClosed when closed is
// closed, and ErrCloseTimeout when expiry fires; nil channels never fire.
func (l *ctxLock) lockSlow(ctx context.Context, closed <-chan struct{}, expiry <-chan time.Time) error {
	wake := l.wake()
	l.waiters.Add(1)
	defer l.waiters.Add(-1)
	for !l.tryLock() {
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-closed:
			return ErrClosed
		case <-expiry:
			return ErrCloseTimeout
		}
	}
	return nil
}

// closing reports whether a close frame has been or is being sent, after which no frame may be
// written. It takes no lock: closeSent is only written under mu, and a writer that misses a
// close being started at this very moment writes its frame before the close frame, which
// waits for the frame lock.
func (c *Conn) closing() bool { return c.closeSent.Load() }

// terminal returns the error every read returns once the connection is over, or nil. It takes
// no lock: termErr is set once, under mu, and never cleared.
func (c *Conn) terminal() error {
	if t := c.termErr.Load(); t != nil {
		return t
	}
	return nil
}
