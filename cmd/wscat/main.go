package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/internal/echoserver"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		signal.Stop(sigs) // from now on a second interrupt ends the process at once
		cancel(&signalError{sig})
	}()
	code := runContext(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	signal.Stop(sigs)
	os.Exit(code)
}

// signalError is the cause of runContext's context when a signal ended it.
type signalError struct{ sig os.Signal }

func (e *signalError) Error() string { return "received " + e.sig.String() }

// signalStatus is the exit status of a client ended by a signal, 128 plus the signal's number
// as shells report it (130 for SIGINT, 143 for SIGTERM), or 0 when no signal ended ctx.
func signalStatus(ctx context.Context) int {
	var se *signalError
	if errors.As(context.Cause(ctx), &se) {
		if n, ok := se.sig.(syscall.Signal); ok {
			return 128 + int(n)
		}
		return 128 + int(syscall.SIGINT)
	}
	return 0
}

// Exit statuses.
const (
	exitOK    = 0 // normal close
	exitFail  = 1 // ERROR event or abnormal close
	exitUsage = 2 // bad command line
)

// run is wscat with the given arguments (without the program name) and standard streams; it
// returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdin, stdout, stderr)
}

// runContext is run, ended early by ctx: when ctx is done wscat closes as at the end of input.
//
// When stdin blocks, the goroutine reading it may outlive runContext (a process exits anyway);
// callers inside a process should give a reader that ends.
func runContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	errw := &lockedWriter{w: stderr}
	o, err := parseArgs(args)
	if errors.Is(err, errHelp) {
		_, _ = io.WriteString(stdout, usage)
		return exitOK
	}
	if err != nil {
		errw.printf("wscat: %v (wscat -h for help)", err)
		return exitUsage
	}
	if o.version {
		_, _ = fmt.Fprintf(stdout, "wscat %s\n", version())
		return exitOK
	}

	if o.listen != "" {
		return runServer(ctx, o, stdin, stdout, errw)
	}

	target := o.url
	if target == "" {
		srv, err := echoserver.Start("127.0.0.1:0", serverOptions(o)...)
		if err != nil {
			errw.printf("wscat: cannot start the embedded echo server: %v", err)
			return exitFail
		}
		defer srv.Close()
		target = srv.URL()
	}
	terminal := isTerminalReader(stdin)
	demo := o.url == "" && !o.echo && len(o.execute) == 0 && !terminal

	s := newSession(o, &printer{w: stdout, json: o.json, raw: o.raw, rawBinary: o.binary,
		rawEscape: isTerminalWriter(stdout), diag: errw})
	if terminal && !o.echo && len(o.execute) == 0 {
		s.onOpen = func() {
			errw.printf("wscat: connected; type a message and press Enter to send it, Ctrl-D to close")
		}
	}
	if err := s.subscribe(); err != nil {
		errw.printf("wscat: %v", err)
		return exitFail
	}
	ro := requestOptions(o)
	if o.pingPong {
		ro.OnPing = func(p []byte) { s.out.pingPong("PING", p) }
		ro.OnPong = func(p []byte) { s.out.pingPong("PONG", p) }
	}
	if err := s.ws.Connect(target, ro, nil); err != nil {
		errw.printf("wscat: %v", err)
		switch client.CodeOf(err) {
		case client.CodeURLError, client.CodeParameterError, client.CodeFileNotExist:
			return exitUsage
		}
		return exitFail
	}
	if o.url == "" {
		// Said once Connect accepted the options, so that a usage error stays one line.
		errw.printf("wscat: no URL given: started the embedded echo server at %s", target)
	}

	if o.echo {
		select {
		case <-s.done:
			return s.status()
		case <-ctx.Done():
		}
	} else if len(o.execute) > 0 {
		for i, m := range o.execute {
			if err := s.send(inputMessage([]byte(m), o.binary)); err != nil {
				if client.CodeOf(err) != client.CodeParameterError {
					break // the connection has ended: CLOSE tells the rest
				}
				s.refused.Store(true)
				errw.printf("wscat: -x message %d not sent: %v", i+1, err)
			}
		}
	} else {
		input := make(chan bool, 1)
		go readInput(stdin, s, o.binary, errw, input)
		select {
		case <-s.done:
			return s.status()
		case nonEmpty := <-input:
			if !nonEmpty && demo {
				errw.printf("wscat: standard input is empty: sending a demo conversation")
				for _, m := range demoConversation {
					if s.send(m) != nil {
						break // the connection has ended
					}
				}
			}
		case <-ctx.Done():
		}
		if o.noClose && ctx.Err() == nil {
			// Keep printing until the server closes or a signal comes.
			select {
			case <-s.done:
				return s.status()
			case <-ctx.Done():
			}
		}
	}

	// Close once the connection is open: a Close while connecting would abandon the attempt
	// and the messages queued for it. An interrupt does not wait.
	if ctx.Err() == nil {
		select {
		case <-s.opened:
		case <-s.done:
			return s.status()
		case <-ctx.Done():
		}
	}
	if ctx.Err() == nil {
		switch {
		case o.wait >= 0:
			s.waitFor(ctx, o.wait)
		case o.url == "":
			s.drain(ctx, drainEcho)
		case len(o.execute) > 0:
			s.drain(ctx, drainAnswered)
		default:
			s.drain(ctx, drainQuiet)
		}
	}
	s.weClosed.Store(true)
	// Close fails only when the connection is already ending; CLOSE comes either way.
	_ = s.ws.Close(nil, &client.WebSocketCloseOptions{Code: o.closeCode, Reason: o.closeReason})
	<-s.done
	if code := signalStatus(ctx); code != 0 {
		return code
	}
	return s.status()
}

// version is the module version wscat was built from (go install ...@v1.2.3 records it; a
// build in a checkout records a pseudo-version or "(devel)"), "devel" when unknown.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "devel"
	}
	return bi.Main.Version
}

// inputMessage is a line of input or an -x message as a text or, with --binary, binary message.
func inputMessage(p []byte, binary bool) client.MessageData {
	if binary {
		return client.ArrayData(p)
	}
	return client.StringData(p)
}

// session is one connection of wscat and what its events tell.
type session struct {
	o        *options
	ws       *client.WebSocket
	out      *printer
	failed   atomic.Bool   // an ERROR event came
	refused  atomic.Bool   // a line of input (or an -x message) was refused: exit 1
	onOpen   func()        // called once at OPEN when set (the terminal hint)
	weClosed atomic.Bool   // wscat started the close
	opened   chan struct{} // closed by OPEN
	done     chan struct{} // closed by CLOSE, after result is set
	result   client.CloseResult

	mu       sync.Mutex
	calls    int           // Send calls, each of which calls sentCB once
	sent     int           // of them, those Send accepted
	written  int           // sentCB calls: messages written, failed or refused
	received int           // MESSAGE events
	last     time.Time     // the last OPEN, MESSAGE or write
	changed  chan struct{} // capacity 1: one of the counters changed
	room     *sync.Cond    // on mu: broadcast when wakeAt messages were written or CLOSE came
	wakeAt   int           // send waits: wake it when written reaches this; 0: no one waits
	ended    bool          // CLOSE came: send waits no more
	sentCB   *client.WebSocketAsyncCallback[bool]
}

// Bounds of what wscat keeps in flight: send waits while more is queued and not yet written,
// so that input is read only as fast as the server takes it. They are well below the send
// queue's caps (client.DefaultSendQueueBytes, 16 MiB, and DefaultSendQueueMessages, 4096),
// which wscat therefore never meets; a line longer than maxInFlightBytes waits until nothing
// is queued and then goes alone.
const (
	maxInFlightBytes    = 1 << 20
	maxInFlightMessages = 1024
)

func newSession(o *options, out *printer) *session {
	s := &session{o: o, ws: client.CreateWebSocket(), out: out,
		opened: make(chan struct{}), done: make(chan struct{}), changed: make(chan struct{}, 1)}
	s.room = sync.NewCond(&s.mu)
	s.sentCB = client.NewWebSocketAsyncCallback(func(*client.AsyncError, bool) {
		s.update(func() { s.written++ })
	})
	return s
}

// update changes the counters with f and wakes drain.
func (s *session) update(f func()) {
	s.mu.Lock()
	f()
	s.last = time.Now()
	if s.wakeAt > 0 && (s.written >= s.wakeAt || s.ended) {
		s.wakeAt = 0
		s.room.Broadcast()
	}
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// send sends m, counting it for drain. It first waits while maxInFlightMessages, or with m
// more than maxInFlightBytes, are queued and not yet written (backpressure: the input is read
// no faster than the server reads), or until the connection ended.
func (s *session) send(m client.MessageData) error {
	size := int64(len(m.String()))
	if a, ok := m.(client.ArrayData); ok {
		size = int64(len(a))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.ended {
		bytes, msgs := s.ws.BufferedAmount()
		if msgs == 0 || msgs < maxInFlightMessages && bytes+size <= maxInFlightBytes {
			break
		}
		// Wait until half of what is in flight was written, rather than waking at each
		// message.
		s.wakeAt = s.written + max(1, (s.calls-s.written)/2)
		s.room.Wait()
	}
	s.calls++ // under mu, so that drain never sees the callback before the call
	if err := s.ws.Send(m, s.sentCB); err != nil {
		return err
	}
	s.sent++
	return nil
}

// subscribe registers a callback for each of the six events.
func (s *session) subscribe() error {
	var openOnce, closeOnce sync.Once
	return errors.Join(
		s.ws.On(client.EventHeaderReceive, client.NewHeaderReceiveCallback(s.out.headers)),
		s.ws.On(client.EventOpen, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, status map[uint32]string) {
			s.out.open(status)
			s.update(func() {}) // drain's quiet time counts from OPEN
			openOnce.Do(func() {
				if s.onOpen != nil {
					s.onOpen()
				}
				close(s.opened)
			})
		})),
		s.ws.On(client.EventMessage, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, m client.MessageData) {
			s.out.message(m)
			s.update(func() { s.received++ })
			if s.o.echo {
				_ = s.ws.Send(m, nil) // fails only when the connection is ending
			}
		})),
		s.ws.On(client.EventDataEnd, client.NewDataEndCallback(s.out.dataEnd)),
		s.ws.On(client.EventError, client.NewWebSocketErrorCallback(func(e *client.BusinessException) {
			s.failed.Store(true)
			s.out.error(e)
		})),
		s.ws.On(client.EventClose, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, r client.CloseResult) {
			s.out.close(r)
			closeOnce.Do(func() {
				s.result = r
				close(s.done)
			})
			s.update(func() { s.ended = true })
		})),
	)
}

// drainMode says when drain considers the server's answers complete.
type drainMode int

const (
	drainQuiet    drainMode = iota // every message written and no message for quietTime
	drainEcho                      // as many messages received as sent (the embedded echo server)
	drainAnswered                  // as many messages received as sent, then quietTime without one (-x)
)

// waitFor waits d (-w), or until the connection ends or ctx is done.
func (s *session) waitFor(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.done:
	case <-ctx.Done():
	}
}

// Bounds of drain.
const (
	echoWait   = 5 * time.Second        // for the embedded server's echoes
	quietTime  = 250 * time.Millisecond // no message for this long: the server has answered
	answerWait = 2 * time.Second        // for a server's answers
)

// drain waits, before wscat closes, until every message sent was written and the server
// answered: with the embedded echo server (drainEcho) until as many messages came back as
// were sent; with -x (drainAnswered) until as many came back and then none for quietTime;
// otherwise (drainQuiet) until no message arrived for quietTime. It gives up when nothing was
// written or received for echoWait or answerWait (so a long tail of echoes still coming in
// is waited for), when the connection ends or ctx is done. So the answers to the input are
// printed before the close rather than racing it. (While writing wscat, the engine's Close
// also dropped data messages that arrived after it started, when a reading goroutine was
// active; waiting here kept the output whole with that engine too.)
func (s *session) drain(ctx context.Context, mode drainMode) {
	limit := answerWait
	if mode == drainEcho {
		limit = echoWait
	}
	needAnswer, needQuiet := mode != drainQuiet, mode != drainEcho
	giveUp := time.NewTimer(limit) // reset to limit after the last progress
	defer giveUp.Stop()
	quiet := time.NewTimer(quietTime)
	defer quiet.Stop()
	for {
		s.mu.Lock()
		allWritten := s.written >= s.calls
		answered := s.received >= s.sent
		idle := time.Since(s.last)
		s.mu.Unlock()
		if idle >= limit {
			return
		}
		giveUp.Reset(limit - idle)
		var quietC <-chan time.Time
		if allWritten && (answered || !needAnswer) {
			if !needQuiet || idle >= quietTime {
				return
			}
			quiet.Reset(quietTime - idle)
			quietC = quiet.C
		}
		select {
		case <-s.changed:
		case <-quietC:
		case <-giveUp.C:
			return
		case <-s.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// status is the exit status after CLOSE.
func (s *session) status() int {
	if s.failed.Load() || s.refused.Load() {
		return exitFail
	}
	switch r := s.result; {
	case r.Code == 1000, r.Code == 1001, r.Code == s.o.closeCode:
		return exitOK
	case r.Code == 1005 && s.weClosed.Load(): // our close answered by a close frame without a code
		return exitOK
	}
	return exitFail
}

// readInput sends each line of stdin as a message, then reports on done whether stdin had any
// bytes at all. It stops early when the connection has ended.
func readInput(stdin io.Reader, s *session, binary bool, errw *lockedWriter, done chan<- bool) {
	br := bufio.NewReaderSize(stdin, 64<<10)
	nonEmpty := false
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			nonEmpty = true
			if serr := s.send(inputMessage(trimEOL(line), binary)); serr != nil {
				if client.CodeOf(serr) != client.CodeParameterError {
					break // the connection has ended: CLOSE tells the rest
				}
				s.refused.Store(true)
				errw.printf("wscat: line %d not sent: %v", n, serr)
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				errw.printf("wscat: reading standard input: %v", err)
			}
			break
		}
	}
	done <- nonEmpty
}

// trimEOL removes a trailing "\n" or "\r\n".
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// demoConversation is what wscat sends when it runs with no URL and empty input.
var demoConversation = []client.MessageData{
	client.StringData("Hello from wscat!"),
	client.StringData("Each message goes to the echo server and comes back: MESSAGE, then DATAEND."),
	client.StringData("UTF-8 travels unchanged: héllo wörld ✓"),
	client.ArrayData{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
		0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f},
	client.StringData("Goodbye!"),
}

// requestOptions maps the command line to the seed's WebSocketRequestOptions.
func requestOptions(o *options) *client.WebSocketRequestOptions {
	r := client.NewWebSocketRequestOptions()
	r.Header = o.headers
	r.Protocol = o.subprotocol
	if o.ca != "" {
		r.CAPath = o.ca
	}
	if o.cert != "" {
		r.ClientCert = &client.WebSocketClientCert{CertPath: o.cert, KeyPath: o.key, KeyPassword: o.keyPassword}
	}
	r.Proxy = o.proxy
	r.PingInterval = o.pingSec
	r.PongTimeout = o.pongSec
	r.SkipServerCertVerification = o.insecure
	r.MinSupportTlsProtocol = client.TlsProtocol(o.tlsMin)
	r.MaxMessageSize = o.maxSize
	r.PerMessageDeflate = o.deflate
	o.connect.apply(r)
	return r
}

// serverOptions configures the embedded echo server like the client: it speaks the offered
// subprotocols and accepts messages as large as the client does.
func serverOptions(o *options) []echoserver.Option {
	var opts []echoserver.Option
	var protocols []string
	for p := range strings.SplitSeq(o.subprotocol, ",") {
		if p = strings.TrimSpace(p); p != "" {
			protocols = append(protocols, p)
		}
	}
	if len(protocols) > 0 {
		opts = append(opts, echoserver.WithSubprotocols(protocols...))
	}
	if o.maxSize != 0 {
		opts = append(opts, echoserver.WithMaxMessageSize(o.maxSize))
	}
	if o.deflate != nil {
		opts = append(opts, echoserver.WithDeflate(deflate.ServerOptions{Level: o.deflate.Level}, 0))
	}
	return opts
}

// isTerminalReader reports whether r is a terminal.
func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && isTerminal(f)
}

// isTerminalWriter reports whether w is a terminal.
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

// lockedWriter serializes whole lines to a writer shared by goroutines (stderr).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// printf writes one line.
func (l *lockedWriter) printf(format string, a ...any) {
	line := fmt.Sprintf(format, a...)
	line = strings.ReplaceAll(line, "\n", " ") + "\n"
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, line)
}
