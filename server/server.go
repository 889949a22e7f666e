package server

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/tlsconf"
)

type serverState uint8

const (
	stateIdle     serverState = iota // not started, or stopped
	stateRunning                     // Start succeeded
	stateStopping                    // Stop called, its callback not queued yet
)

// WebSocketServer is the platform's WebSocketServer: a WebSocket server driven by methods that
// return at once and report through callbacks and events.
//
// All methods are safe for concurrent use and may be called from inside callbacks. The events
// of one connection (connect, messageReceive, close, the error of a lost connection) and the
// results of Send and Close on it run one at a time, in wire order; events of different
// connections may run concurrently, on different goroutines. The error events of refused
// clients and the results of Start and Stop run one at a time on a queue of the server's. After
// Stop's callback the server may Start again. CreateWebSocketServer returns a new one; the zero
// value is ready to use too.
type WebSocketServer struct {
	mu    sync.RWMutex // guards state and run; RLock for the lookups of Send and Close
	state serverState
	run   *running // the current run; nil when idle
	reg   registry
	q     serialQueue
}

// CreateWebSocketServer returns a new WebSocketServer (platform createWebSocketServer).
func CreateWebSocketServer() *WebSocketServer { return &WebSocketServer{} }

// settings is a WebSocketServerConfig with its defaults applied and its files read.
type settings struct {
	protocol         string
	maxClients       int
	maxPerClient     int
	checkOrigin      func(*handshake.ServerRequest) bool
	hook             func(*handshake.ServerRequest) (int, string)
	header           http.Header
	handshakeTimeout time.Duration
	closeTimeout     time.Duration
	tls              *tls.Config
	conn             conn.Config
	borrow           bool                   // WebSocketServerConfig.BorrowMessages
	deflate          *deflate.ServerOptions // a copy of PerMessageDeflate; nil: no compression
	threshold        int                    // CompressionThreshold
}

// running is one run of the server, from Start to the end of Stop.
type running struct {
	s   *WebSocketServer
	ln  net.Listener
	cfg settings

	// Guarded by s.mu.
	stopping bool
	conns    map[WebSocketConnection]*peer // connections whose connect event was queued
	pending  map[net.Conn]struct{}         // accepted, handshake in progress or being refused
	total    int                           // slots taken: pending and open connections
	perIP    map[string]int

	wg     sync.WaitGroup // accept loop, handshakes, readers
	events sync.WaitGroup // one per connection until its close event ran
}

func resolveConfig(c *WebSocketServerConfig) (settings, string, error) {
	st := settings{
		protocol:         c.Protocol,
		maxClients:       c.MaxConcurrentClientsNumber,
		maxPerClient:     c.MaxConnectionsForOneClient,
		checkOrigin:      c.CheckOrigin,
		hook:             c.HandshakeHook,
		header:           c.Header.Clone(),
		handshakeTimeout: c.HandshakeTimeout,
		closeTimeout:     c.CloseTimeout,
		borrow:           c.BorrowMessages,
		threshold:        c.CompressionThreshold,
	}
	bad := func(format string, a ...any) (settings, string, error) {
		return settings{}, "", newAsync(CodeParameterError, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, a...)...))
	}
	ip := c.ServerIP
	if ip == "" {
		ip = DefaultServerIP
	}
	if net.ParseIP(ip) == nil {
		return bad("ServerIP %q is not an IP address", ip)
	}
	if st.protocol != "" && !isToken(st.protocol) {
		return bad("Protocol %q is not a token (RFC 6455 §4.1)", st.protocol)
	}
	switch {
	case st.maxClients == 0:
		st.maxClients = DefaultMaxConcurrentClientsNumber
	case st.maxClients < 0:
		return bad("MaxConcurrentClientsNumber %d", st.maxClients)
	}
	switch {
	case st.maxPerClient == 0:
		st.maxPerClient = DefaultMaxConnectionsForOneClient
	case st.maxPerClient < 0:
		return bad("MaxConnectionsForOneClient %d", st.maxPerClient)
	}
	if st.handshakeTimeout < 0 || st.closeTimeout < 0 {
		return bad("negative timeout")
	}
	if st.handshakeTimeout == 0 {
		st.handshakeTimeout = DefaultHandshakeTimeout
	}
	if st.closeTimeout == 0 {
		st.closeTimeout = DefaultCloseTimeout
	}
	if err := handshake.WriteReject(io.Discard, http.StatusOK, "", st.header); err != nil {
		return bad("Header: %v", err)
	}
	if d := c.PerMessageDeflate; d != nil {
		if err := d.Check(); err != nil {
			return bad("PerMessageDeflate: %v", err)
		}
		dc := *d
		st.deflate = &dc
	}
	qb, qn := c.SendQueueBytes, c.SendQueueMessages
	if qb == 0 {
		qb = DefaultSendQueueBytes
	}
	if qn == 0 {
		qn = DefaultSendQueueMessages
	}
	ms := c.MaxMessageSize
	if ms == 0 {
		ms = DefaultMaxMessageSize
	}
	st.conn = conn.Config{
		Role: frame.RoleServer,
		// A frame that fits the write buffer is written by Send itself when the queue is
		// empty, with no writer goroutine to start (conn.Conn.Enqueue). The buffer is borrowed
		// from a pool only while a frame is written, so its size costs an idle connection
		// nothing.
		WriteBufferSize:   writeBufferSize,
		MaxMessageSize:    ms,
		CloseTimeout:      st.closeTimeout,
		Subprotocol:       st.protocol,
		ReadLoop:          true,
		SendQueueBytes:    qb,
		SendQueueMessages: qn,
	}
	if c.ServerCert == nil {
		// On a TCP socket the read buffer too is borrowed only while input is read (a waiting
		// read parks in the poller holding none), so its size costs an idle connection nothing;
		// a message that fits it whole is copied once. Over TLS the buffer stays while a read
		// waits, so TLS connections keep the default (4 KiB).
		st.conn.ReadBufferSize = readBufferSize
	}
	if sc := c.ServerCert; sc != nil {
		var pw []byte
		if sc.KeyPassword != nil {
			pw = []byte(*sc.KeyPassword)
		}
		kp, err := tlsconf.LoadKeyPair(sc.CertPath, sc.KeyPath, pw)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return settings{}, "", newAsync(CodeFileNotExist, err)
		case err != nil:
			return settings{}, "", newAsync(CodeParameterError, fmt.Errorf("%w: ServerCert: %w", ErrInvalidConfig, err))
		}
		st.tls = &tls.Config{
			Certificates: []tls.Certificate{kp},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"},
		}
	}
	return st, net.JoinHostPort(ip, strconv.Itoa(int(c.ServerPort))), nil
}

// writeBufferSize is the write buffer of each connection: messages up to 64 KiB less a frame
// header are written inline by Send.
const writeBufferSize = 64 << 10

// readBufferSize is the read buffer of each ws:// connection (it grows to four times that while
// input streams in; see frame.Reader).
const readBufferSize = 16 << 10

// listenError maps a failed listen to 2302005 (the port: in use, not allowed) or 2302004
// (the interface: no such local address, or anything else).
func listenError(err error) *AsyncError {
	if errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
		return newAsync(CodeListenPort, err)
	}
	return newAsync(CodeListenInterface, err)
}

// Start listens on config's ServerIP and ServerPort and serves WebSocket clients there (ws://,
// or wss:// with ServerCert) until Stop (platform start). It returns at once: the socket is
// listening when it returns nil. cb, which may be nil, is called with true, or with the error
// that Start also returns: 401 for a nil config or a bad field, 2302002 for a missing
// certificate or key file, 2302004 when ServerIP is not an address of this host, 2302005 when
// ServerPort is in use or not allowed, 2302999 when the server is started or still stopping.
func (s *WebSocketServer) Start(config *WebSocketServerConfig, cb *WebSocketAsyncCallback[bool]) error {
	if config == nil {
		return s.reject(cb, newAsync(CodeParameterError, fmt.Errorf("%w: config", ErrNilArgument)))
	}
	st, addr, err := resolveConfig(config)
	if err != nil {
		return s.reject(cb, err.(*AsyncError))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateIdle {
		return s.reject(cb, newAsync(CodeOtherError, ErrRunning))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return s.reject(cb, listenError(err))
	}
	r := &running{
		s: s, ln: ln, cfg: st,
		conns:   make(map[WebSocketConnection]*peer),
		pending: make(map[net.Conn]struct{}),
		perIP:   make(map[string]int),
	}
	s.run = r
	s.state = stateRunning
	r.wg.Add(1)
	go r.acceptLoop()
	s.q.pushResult(cb, nil)
	return nil
}

// Addr returns the address the server listens on (with the port picked when ServerPort was
// 0), or nil when it is not started. Not in the platform.
func (s *WebSocketServer) Addr() net.Addr {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.run == nil {
		return nil
	}
	return s.run.ln.Addr()
}

// Stop stops the server (platform stop). It returns at once: the listener closes, clients in
// the middle of their handshake are dropped, and every connection is closed with 1001 (going
// away), after the messages queued for it, in parallel. A client that has not answered its
// close frame within CloseTimeout (default 3 s) is cut, and reported with close 1006. The
// close events of all connections run, then cb, which may be nil, is called with true: with
// callbacks that return promptly, that is within CloseTimeout plus a few milliseconds of
// the call. After that the server may Start again.
//
// Stop on a server that is not started (or already stopping) returns 2302999 (ErrNotRunning),
// also given to cb.
func (s *WebSocketServer) Stop(cb *WebSocketAsyncCallback[bool]) error {
	s.mu.Lock()
	if s.state != stateRunning {
		s.mu.Unlock()
		return s.reject(cb, newAsync(CodeOtherError, ErrNotRunning))
	}
	s.state = stateStopping
	r := s.run
	r.stopping = true
	pend := make([]net.Conn, 0, len(r.pending))
	for nc := range r.pending {
		pend = append(pend, nc)
	}
	peers := make([]*peer, 0, len(r.conns))
	for _, p := range r.conns {
		peers = append(peers, p)
	}
	s.mu.Unlock()
	go s.stop(r, pend, peers, cb)
	return nil
}

func (s *WebSocketServer) stop(r *running, pend []net.Conn, peers []*peer, cb *WebSocketAsyncCallback[bool]) {
	_ = r.ln.Close()
	for _, nc := range pend {
		_ = nc.Close()
	}
	for _, p := range peers {
		p.startClose(uint32(frame.CloseGoingAway), "server stopping", nil)
	}
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	t := time.NewTimer(r.cfg.closeTimeout)
	select {
	case <-done:
		t.Stop()
	case <-t.C:
		for _, p := range peers {
			_ = p.c.CloseNow()
		}
		<-done
	}
	r.events.Wait() // the close events ran
	s.mu.Lock()
	s.state = stateIdle
	s.run = nil
	s.q.pushResult(cb, nil)
	s.mu.Unlock()
}

// ListAllConnections returns the open connections: those whose connect event was emitted (or
// is about to be) and whose close event was not (platform listAllConnections). The order is
// unspecified. It is empty when the server is not started.
func (s *WebSocketServer) ListAllConnections() []WebSocketConnection {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.run == nil {
		return []WebSocketConnection{}
	}
	list := make([]WebSocketConnection, 0, len(s.run.conns))
	for c := range s.run.conns {
		list = append(list, c)
	}
	return list
}

// lookup returns the connection c, or a 2302006 error.
func (s *WebSocketServer) lookup(c WebSocketConnection) (*peer, *AsyncError) {
	s.mu.RLock()
	var p *peer
	if s.run != nil {
		p = s.run.conns[c]
	}
	s.mu.RUnlock()
	if p == nil {
		return nil, newAsync(CodeConnectionNotExist, fmt.Errorf("%w: %v", ErrConnectionNotExist, c))
	}
	return p, nil
}

// reject reports a refused call to cb (asynchronously, like every callback) and returns the
// same error.
func (s *WebSocketServer) reject(cb *WebSocketAsyncCallback[bool], err *AsyncError) error {
	s.q.pushResult(cb, err)
	return err
}

// On registers cb for events of type t (platform on). cb must be made by the constructor that
// fits the event: NewConnectCallback, NewMessageReceiveCallback, NewCloseCallback,
// NewErrorCallback; otherwise On returns a *BusinessException with code 401
// (ErrCallbackType). Registering the same callback twice has no further effect.
func (s *WebSocketServer) On(t OnOffType, cb Callback) error {
	if !t.valid() {
		return newBusiness(CodeParameterError, ErrUnknownEvent, nil)
	}
	if cb == nil {
		return newBusiness(CodeParameterError, ErrNilArgument, nil)
	}
	if !fits(t, cb) {
		return newBusiness(CodeParameterError, ErrCallbackType, nil)
	}
	s.mu.Lock()
	s.reg.add(t, cb)
	s.mu.Unlock()
	return nil
}

// Off unregisters callbacks of events of type t (platform off): the given ones, or all of them
// when none is given. A callback that is not registered is ignored; one whose type does not
// fit the event is a 401 *BusinessException. A callback removed while an event is being
// delivered is not called for it any more.
func (s *WebSocketServer) Off(t OnOffType, cbs ...Callback) error {
	if !t.valid() {
		return newBusiness(CodeParameterError, ErrUnknownEvent, nil)
	}
	for _, cb := range cbs {
		if cb == nil || !fits(t, cb) {
			return newBusiness(CodeParameterError, ErrCallbackType, nil)
		}
	}
	s.mu.Lock()
	if len(cbs) == 0 {
		s.reg.clear(t)
	}
	for _, cb := range cbs {
		s.reg.remove(t, cb)
	}
	s.mu.Unlock()
	return nil
}

// emit calls call for every callback registered for t, skipping those removed meanwhile.
func (s *WebSocketServer) emit(t OnOffType, call func(Callback)) { s.reg.each(t, call) }

// emitMessage is the per-message path: like emit, written out (no call through a function
// value per callback).
func (s *WebSocketServer) emitMessage(m WebSocketMessage) {
	l := &s.reg[EventMessageReceive]
	list := l.Load()
	for i, cb := range list {
		if i == 0 || l.Still(list, cb) {
			if f := cb.(*MessageReceiveCallback).f; f != nil {
				f(m)
			}
		}
	}
}

func (s *WebSocketServer) emitConnect(c WebSocketConnection) {
	s.emit(EventConnect, func(cb Callback) {
		if f := cb.(*ConnectCallback).f; f != nil {
			f(c)
		}
	})
}

func (s *WebSocketServer) emitClose(c WebSocketConnection, r CloseResult) {
	s.emit(EventClose, func(cb Callback) {
		if f := cb.(*CloseCallback).f; f != nil {
			f(c, r)
		}
	})
}

func (s *WebSocketServer) emitError(e *BusinessException) {
	s.emit(EventError, func(cb Callback) {
		if f := cb.(*ErrorCallback).f; f != nil {
			f(e)
		}
	})
}

// acceptLoop accepts clients until the listener is closed, and gives each one a slot and a
// handshake goroutine, or a refusal.
func (r *running) acceptLoop() {
	defer r.wg.Done()
	var delay time.Duration
	for {
		nc, err := r.ln.Accept()
		if err != nil {
			r.s.mu.RLock()
			stopping := r.stopping
			r.s.mu.RUnlock()
			if stopping {
				return
			}
			// Out of descriptors, say: retry with a growing pause, as net/http does.
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			e := newBusiness(CodeOtherError, fmt.Errorf("accept: %w", err), nil)
			r.s.q.push(func() { r.s.emitError(e) })
			return
		}
		delay = 0
		id := connectionOf(nc.RemoteAddr())
		var refuse error
		r.s.mu.Lock()
		switch {
		case r.stopping:
			r.s.mu.Unlock()
			_ = nc.Close()
			continue
		case r.total >= r.cfg.maxClients:
			refuse = fmt.Errorf("%w: %d connections open or opening", ErrTooManyClients, r.total)
		case r.perIP[id.ClientIP] >= r.cfg.maxPerClient:
			refuse = fmt.Errorf("%w: %d connections from %s", ErrTooManyForClient, r.perIP[id.ClientIP], id.ClientIP)
		default:
			r.total++
			r.perIP[id.ClientIP]++
		}
		r.pending[nc] = struct{}{}
		r.wg.Add(1)
		r.s.mu.Unlock()
		go r.handshake(nc, id, refuse)
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

// connectionOf returns the WebSocketConnection of a client's address.
func connectionOf(a net.Addr) WebSocketConnection {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip := ta.IP
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		return WebSocketConnection{ClientIP: ip.String(), ClientPort: uint16(ta.Port)}
	}
	host, port, _ := net.SplitHostPort(a.String())
	n, _ := strconv.Atoi(port)
	return WebSocketConnection{ClientIP: host, ClientPort: uint16(n)}
}

// release gives back the slot of a client. s.mu is held.
func (r *running) release(ip string) {
	r.total--
	if n := r.perIP[ip] - 1; n > 0 {
		r.perIP[ip] = n
	} else {
		delete(r.perIP, ip)
	}
}

// refusalTimeout bounds the reading of the request of a client that is refused for the
// limits: the slot it does not have should not hold a goroutine long.
const refusalTimeout = 2 * time.Second

// handshake performs the TLS handshake and the opening handshake of a client (RFC 6455
// §4.2), or refuses it, and starts its connection.
func (r *running) handshake(nc net.Conn, id WebSocketConnection, refuse error) {
	defer r.wg.Done()
	raw := nc
	ok := false
	defer func() {
		if ok {
			return
		}
		_ = raw.Close()
		r.s.mu.Lock()
		delete(r.pending, raw)
		if refuse == nil {
			r.release(id.ClientIP)
		}
		r.s.mu.Unlock()
	}()
	timeout := r.cfg.handshakeTimeout
	if refuse != nil {
		timeout = min(timeout, refusalTimeout)
	}
	_ = nc.SetDeadline(time.Now().Add(timeout))
	if r.cfg.tls != nil {
		tc := tls.Server(nc, r.cfg.tls)
		if err := tc.Handshake(); err != nil {
			r.refused(id, fmt.Errorf("TLS handshake: %w", err))
			return
		}
		nc = tc
	}
	br := bufio.NewReaderSize(nc, 4096)
	req, err := handshake.ReadRequest(br, nil)
	status, reason := 0, ""
	var re *handshake.RejectError
	switch {
	case errors.As(err, &re):
		// A malformed request is answered as RFC 6455 §4.2.1 says, limits or not.
		_ = handshake.WriteReject(nc, re.StatusCode, re.Reason, mergeHeader(re.Header, r.cfg.header))
		r.refused(id, fmt.Errorf("opening handshake: %w", err))
		return
	case err != nil:
		r.refused(id, fmt.Errorf("opening handshake: %w", err))
		return
	case refuse != nil:
		err, status, reason = refuse, http.StatusServiceUnavailable, refuse.Error()
	case !r.originOK(req):
		err, status, reason = fmt.Errorf("%w: %q", ErrOriginRefused, req.Origin), http.StatusForbidden, "origin not allowed"
	case r.cfg.protocol != "" && !offers(req.Protocols, r.cfg.protocol):
		err, status = fmt.Errorf("%w: the server speaks %q, the client offers %q", ErrNoSubprotocol, r.cfg.protocol, req.Protocols), http.StatusBadRequest
		reason = "subprotocol " + r.cfg.protocol + " required"
	case r.cfg.hook != nil:
		if st, why := r.cfg.hook(req); st != 0 {
			if st < 400 || st > 599 {
				st = http.StatusInternalServerError
			}
			err, status, reason = fmt.Errorf("%w: %d %s", ErrHandshakeRefused, st, why), st, why
		}
	}
	if err != nil {
		_ = handshake.WriteReject(nc, status, sanitize(reason), r.cfg.header)
		r.refused(id, err)
		return
	}
	var agreed *deflate.Parameters
	if r.cfg.deflate != nil {
		if p, ok := r.cfg.deflate.Negotiate(req.Extensions); ok {
			agreed = &p
		}
	}
	resp := handshake.AppendResponseDeflate(make([]byte, 0, 256), req.Key, r.cfg.protocol, agreed, r.cfg.header)
	if _, err := nc.Write(resp); err != nil {
		r.refused(id, fmt.Errorf("writing the handshake response: %w", err))
		return
	}
	_ = nc.SetDeadline(time.Time{})
	var prefix []byte
	if n := br.Buffered(); n > 0 {
		prefix, _ = br.Peek(n)
		prefix = append([]byte(nil), prefix...)
	}
	cfg := r.cfg.conn
	if agreed != nil {
		zc, zd, err := agreed.NewCodecsLevel(true, r.cfg.deflate.Level)
		if err != nil { // not expected: Negotiate returns valid parameters
			r.refused(id, fmt.Errorf("permessage-deflate: %w", err))
			return
		}
		cfg.Compression = &conn.Compression{Compressor: zc, Decompressor: zd, Threshold: r.cfg.threshold}
	}
	p := &peer{s: r.s, r: r, id: id}
	if !r.cfg.borrow {
		cfg.ReadAlloc = p.alloc // each message in a block of its own (see blockHeader)
	}
	p.c = conn.New(nc, prefix, &cfg)
	p.done = func(err error) { p.written(nil, err) }

	r.s.mu.Lock()
	delete(r.pending, raw)
	if r.stopping {
		// Stop came during the handshake: the client is dropped, like the other pending ones.
		r.release(id.ClientIP)
		r.s.mu.Unlock()
		ok = true
		_ = p.c.CloseNow()
		return
	}
	ok = true
	r.conns[id] = p
	r.events.Add(1)
	r.wg.Add(1)
	p.q.push(func() { r.s.emitConnect(id) })
	r.s.mu.Unlock()
	// The reader is a goroutine of its own, started with a small stack, rather than this one,
	// whose stack the handshake has grown.
	if r.cfg.borrow {
		go p.readBorrowed()
	} else {
		go p.readLoop()
	}
}

// refused reports a client that was refused or failed its handshake: an error event.
func (r *running) refused(id WebSocketConnection, err error) {
	e := newBusiness(CodeOtherError, err, &id)
	r.s.q.push(func() { r.s.emitError(e) })
}

// originOK applies CheckOrigin, or the default same-origin rule.
func (r *running) originOK(req *handshake.ServerRequest) bool {
	if r.cfg.checkOrigin != nil {
		return r.cfg.checkOrigin(req)
	}
	if req.Origin == "" {
		return true
	}
	o, err := url.Parse(req.Origin)
	return err == nil && o.Host != "" && strings.EqualFold(o.Host, req.Host)
}

func offers(list []string, p string) bool {
	for _, x := range list {
		if x == p {
			return true
		}
	}
	return false
}

// sanitize keeps a refusal reason to one line of printable text.
func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = ' '
		}
	}
	return string(b)
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

func mergeHeader(a, b http.Header) http.Header {
	if len(a) == 0 {
		return b
	}
	m := b.Clone()
	if m == nil {
		m = http.Header{}
	}
	for k, v := range a {
		m[k] = append(m[k], v...)
	}
	return m
}
