// Package hostile is a scripted WebSocket server on raw TCP for conformance tests of the
// client: it can send any byte sequence, including every violation of RFC 6455 a server could
// commit (masked frames §5.1, reserved bits and opcodes §5.2, bad control frames §5.5, broken
// fragmentation §5.4, invalid UTF-8 §8.1, bad close payloads §5.5.1 and §7.4, broken opening
// handshakes §4.1), and check what the client sends back.
//
// A Server accepts one connection on 127.0.0.1, reads the client's opening handshake request
// itself, writes the response a Handshake function builds (valid or broken), then runs a Script
// of Steps: write bytes, read and check a frame from the client, wait, close TCP, hang. Bytes
// can be delivered whole, one byte per write, or in random chunks from a seeded RNG (Mode), with
// TCP_NODELAY so that each write leaves as its own segment.
//
// The frames it writes are built by this package (Frame.Bytes), not by the engine's encoder,
// and the client's frames are decoded here too (ReadFrame), so that a bug in the engine cannot
// hide itself. For the same reason the package imports nothing from this module: not mask,
// frame, handshake, conn nor client. It is for tests only.
package hostile

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// Mode is how a Server delivers the bytes of its Write steps.
type Mode int

// The delivery modes.
const (
	Whole   Mode = iota // each Write step in one write call
	Bytes               // one byte per write call, TCP_NODELAY
	Chunked             // random chunks of 1-16 bytes from a seeded RNG, TCP_NODELAY
	Paced               // one byte per write with PaceDelay between writes, TCP_NODELAY
)

// PaceDelay is the pause between the one-byte writes of Paced mode: long enough for the client
// to be waiting in a read for nearly every byte.
const PaceDelay = 200 * time.Microsecond

// String returns "whole", "bytes" or "chunked".
func (m Mode) String() string {
	switch m {
	case Whole:
		return "whole"
	case Bytes:
		return "bytes"
	case Chunked:
		return "chunked"
	case Paced:
		return "paced"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// StepTimeout bounds every read and write of a step, so that a script never hangs.
const StepTimeout = 5 * time.Second

// Request is what the server parsed of the client's opening handshake request.
type Request struct {
	Line       string            // request line, e.g. "GET /chat HTTP/1.1"
	Header     map[string]string // lower-case names; repeated fields joined with ", "
	Key        string            // Sec-WebSocket-Key
	Protocols  []string          // offered subprotocols, in order
	Extensions string            // Sec-WebSocket-Extensions as sent
}

// AcceptKey returns the Sec-WebSocket-Accept value for key (§4.2.2 item 5.4), computed here.
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// Handshake builds the server's response to a request: valid or deliberately broken.
type Handshake func(r *Request) []byte

// Accept is the valid 101 response, with extra header lines (each "Name: value") appended.
func Accept(extra ...string) Handshake {
	return func(r *Request) []byte {
		s := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + AcceptKey(r.Key) + "\r\n"
		for _, h := range extra {
			s += h + "\r\n"
		}
		return []byte(s + "\r\n")
	}
}

// Raw is a response of fixed bytes; "{accept}" in it is replaced by the accept key.
func Raw(s string) Handshake {
	return func(r *Request) []byte {
		return []byte(strings.ReplaceAll(s, "{accept}", AcceptKey(r.Key)))
	}
}

// Conn is the server end of one connection, as Steps see it.
type Conn struct {
	NC      *net.TCPConn  // the TCP connection, TCP_NODELAY set
	R       *bufio.Reader // reads NC; may hold bytes the client sent past the last frame read
	Request *Request      // the client's opening handshake request
	mode    Mode
	rng     *rand.Rand
}

// Write delivers p in the connection's Mode. Each write call is bounded by StepTimeout.
func (c *Conn) Write(p []byte) error {
	return c.write(p, c.mode)
}

func (c *Conn) write(p []byte, mode Mode) error {
	for len(p) > 0 {
		if err := c.NC.SetWriteDeadline(time.Now().Add(StepTimeout)); err != nil {
			return err
		}
		n := len(p)
		switch mode {
		case Bytes:
			n = 1
		case Chunked:
			n = min(n, 1+c.rng.IntN(16))
		case Paced:
			n = 1
			time.Sleep(PaceDelay)
		}
		if _, err := c.NC.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// ReadFrame reads the client's next frame within d (see the package function ReadFrame).
func (c *Conn) ReadFrame(d time.Duration) (Frame, error) {
	if err := c.NC.SetReadDeadline(time.Now().Add(d)); err != nil {
		return Frame{}, err
	}
	return ReadFrame(c.R)
}

// Step is one action of a script. An error ends the script and is reported by Server.Wait.
type Step func(c *Conn) error

// Script is the sequence of steps run after the handshake.
type Script []Step

// Server is a one-connection scripted server on 127.0.0.1.
type Server struct {
	// URL is "ws://127.0.0.1:<port>/hostile".
	URL string

	ln   net.Listener
	done chan struct{}
	err  error // the script's result, set before done closes

	mu sync.Mutex
	nc net.Conn
}

// Start listens on 127.0.0.1 and serves the first connection: handshake hs, then script, with
// writes delivered in mode (random chunk sizes seeded with seed). Stop must be called.
func Start(hs Handshake, script Script, mode Mode, seed uint64) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "ws://" + ln.Addr().String() + "/hostile", ln: ln, done: make(chan struct{})}
	go s.serve(hs, script, mode, seed)
	return s, nil
}

func (s *Server) serve(hs Handshake, script Script, mode Mode, seed uint64) {
	defer close(s.done)
	nc, err := s.ln.Accept()
	s.ln.Close()
	if err != nil {
		s.err = fmt.Errorf("accept: %w", err)
		return
	}
	s.mu.Lock()
	s.nc = nc
	s.mu.Unlock()
	defer nc.Close()
	tc := nc.(*net.TCPConn)
	if err := tc.SetNoDelay(true); err != nil {
		s.err = err
		return
	}
	c := &Conn{NC: tc, R: bufio.NewReader(tc), mode: mode, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	if err := tc.SetReadDeadline(time.Now().Add(StepTimeout)); err != nil {
		s.err = err
		return
	}
	req, err := readRequest(c.R)
	if err != nil {
		s.err = fmt.Errorf("reading the handshake request: %w", err)
		return
	}
	c.Request = req
	if hs != nil {
		// The client may refuse the response, and close, before all of it is written. Paced
		// mode writes the response one byte at a time without pauses (as Bytes does): pausing
		// adds nothing to the handshake but time.
		mode := mode
		if mode == Paced {
			mode = Bytes
		}
		if err := c.write(hs(req), mode); err != nil && !isReset(err) && !errors.Is(err, syscall.EPIPE) {
			s.err = fmt.Errorf("writing the handshake response: %w", err)
			return
		}
	}
	for i, step := range script {
		if err := step(c); err != nil {
			s.err = fmt.Errorf("step %d: %w", i+1, err)
			return
		}
	}
}

// Wait waits up to d for the script to end and returns its error, or an error saying it did
// not end in time.
func (s *Server) Wait(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.done:
		return s.err
	case <-t.C:
		return fmt.Errorf("hostile: script still running after %v", d)
	}
}

// Stop closes the listener and the connection and waits for the serving goroutine.
func (s *Server) Stop() {
	s.ln.Close()
	s.mu.Lock()
	if s.nc != nil {
		s.nc.Close()
	}
	s.mu.Unlock()
	<-s.done
}

// maxRequest bounds the size of the request the server reads.
const maxRequest = 64 << 10

// readRequest reads the request head and parses what the scripts need.
func readRequest(br *bufio.Reader) (*Request, error) {
	r := &Request{Header: map[string]string{}}
	total := 0
	for first := true; ; first = false {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if total += len(line); total > maxRequest {
			return nil, errors.New("request head over 64 KiB")
		}
		line = strings.TrimRight(line, "\r\n")
		if first {
			r.Line = line
			continue
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("header line without a colon: %q", line)
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if v, ok := r.Header[name]; ok {
			value = v + ", " + value
		}
		r.Header[name] = value
	}
	r.Key = r.Header["sec-websocket-key"]
	if r.Key == "" {
		return nil, errors.New("no Sec-WebSocket-Key")
	}
	if p := r.Header["sec-websocket-protocol"]; p != "" {
		for _, t := range strings.Split(p, ",") {
			r.Protocols = append(r.Protocols, strings.TrimSpace(t))
		}
	}
	r.Extensions = r.Header["sec-websocket-extensions"]
	return r, nil
}

// Steps.

// Send writes the frames' bytes in the connection's mode.
func Send(frames ...Frame) Step {
	b := Join(frames...)
	return func(c *Conn) error { return c.Write(b) }
}

// SendEarlyFail writes the frames' bytes like Send but accepts that the client fails the
// connection and closes TCP before all of them are written (a write error, broken pipe or
// reset): a client must fail as soon as a frame header breaks a rule, without waiting for the
// payload. Later steps still read what the client sent before it closed.
func SendEarlyFail(frames ...Frame) Step {
	b := Join(frames...)
	return func(c *Conn) error {
		if err := c.Write(b); err != nil && !isReset(err) && !errors.Is(err, syscall.EPIPE) {
			return err
		}
		return nil
	}
}

// SendBytes writes p in the connection's mode.
func SendBytes(p []byte) Step {
	return func(c *Conn) error { return c.Write(p) }
}

// Flood writes f again and again, without reading anything, for d: a server that floods the
// client (with pings, say) and never reads its answers. The client's answers fill the TCP
// buffers, and the server's writes then block; that is expected, and the step ends after d.
func Flood(f Frame, d time.Duration) Step {
	b := Join(f)
	for len(b) < 64<<10 {
		b = append(b, b...)
	}
	return func(c *Conn) error {
		end := time.Now().Add(d)
		if err := c.NC.SetWriteDeadline(end); err != nil {
			return err
		}
		for time.Now().Before(end) {
			if _, err := c.NC.Write(b); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() || isReset(err) || errors.Is(err, syscall.EPIPE) {
					return nil
				}
				return err
			}
		}
		return nil
	}
}

// Sleep waits d.
func Sleep(d time.Duration) Step {
	return func(*Conn) error { time.Sleep(d); return nil }
}

// ExpectFrame reads the client's next frame and checks its opcode and payload; it fails when
// another frame, or none within StepTimeout, arrives.
func ExpectFrame(op byte, payload []byte) Step {
	return func(c *Conn) error {
		f, err := c.ReadFrame(StepTimeout)
		if err != nil {
			return fmt.Errorf("want %s, read: %w", Frame{Op: op, Fin: true, Payload: payload}, err)
		}
		if !f.Fin || f.Rsv != 0 || f.Op != op || string(f.Payload) != string(payload) {
			return fmt.Errorf("client sent %s %x, want opcode %#x with %x", f, f.Payload, op, payload)
		}
		return nil
	}
}

// ExpectPong reads the client's next frame and checks that it is a pong carrying exactly p.
func ExpectPong(p []byte) Step { return ExpectFrame(OpPong, p) }

// ExpectPongs reads the client's next frames until a pong carrying last; pongs carrying one of
// earlier, the payloads of pings sent before, may come first (§5.5.3 lets a client answer
// only the most recent of several pings). Any other frame fails the step.
func ExpectPongs(last []byte, earlier ...[]byte) Step {
	return func(c *Conn) error {
		for {
			f, err := c.ReadFrame(StepTimeout)
			if err != nil {
				return fmt.Errorf("want pong %x, read: %w", last, err)
			}
			if f.Op != OpPong || !f.Fin {
				return fmt.Errorf("client sent %s, want pong %x", f, last)
			}
			if string(f.Payload) == string(last) {
				return nil
			}
			ok := false
			for _, e := range earlier {
				ok = ok || string(f.Payload) == string(e)
			}
			if !ok {
				return fmt.Errorf("client sent a pong with %x, which no ping carried", f.Payload)
			}
		}
	}
}

// ExpectClose reads the client's next frame and checks that it is a close frame with code (0:
// no code at all). The reason is not checked.
func ExpectClose(code uint16) Step {
	return func(c *Conn) error {
		f, err := c.ReadFrame(StepTimeout)
		if err != nil {
			return fmt.Errorf("want close %d, read: %w", code, err)
		}
		if f.Op != OpClose || !f.Fin || f.CloseCode() != code || code == 0 && len(f.Payload) != 0 {
			return fmt.Errorf("client sent %s, want close %d", f, code)
		}
		return checkClose(f)
	}
}

// ExpectCloseOneOf reads the client's next frame and checks that it is a close frame with one
// of codes: for closing handshakes whose frames cross (§7.1.2), where the client either sent
// its own close first or echoed the server's.
func ExpectCloseOneOf(codes ...uint16) Step {
	return func(c *Conn) error {
		f, err := c.ReadFrame(StepTimeout)
		if err != nil {
			return fmt.Errorf("want close %v, read: %w", codes, err)
		}
		for _, code := range codes {
			if f.Op == OpClose && f.Fin && f.CloseCode() == code {
				return checkClose(f)
			}
		}
		return fmt.Errorf("client sent %s, want close %v", f, codes)
	}
}

// checkClose checks the rules of §5.5 and §5.5.1 for a close frame the client sent: no RSV
// bit, at most 125 bytes of payload, not 1 byte, and a reason that is UTF-8.
func checkClose(f Frame) error {
	switch {
	case f.Rsv != 0:
		return fmt.Errorf("client close frame has RSV bits %#x", f.Rsv)
	case len(f.Payload) > 125 || len(f.Payload) == 1:
		return fmt.Errorf("client close frame has a payload of %d bytes", len(f.Payload))
	case len(f.Payload) > 2 && !utf8.Valid(f.Payload[2:]):
		return fmt.Errorf("client close reason %q is not UTF-8", f.Payload[2:])
	}
	return nil
}

// ExpectEOF checks that the client closes the TCP connection within StepTimeout without
// sending anything more.
func ExpectEOF() Step {
	return func(c *Conn) error {
		if err := c.NC.SetReadDeadline(time.Now().Add(StepTimeout)); err != nil {
			return err
		}
		var b [1]byte
		n, err := c.R.Read(b[:])
		if n > 0 {
			return fmt.Errorf("client sent %#x after its close frame, want end of stream", b[0])
		}
		if errors.Is(err, io.EOF) || isReset(err) {
			return nil
		}
		return fmt.Errorf("want end of stream: %w", err)
	}
}

// ExpectCloseAndEOF is ExpectClose(code) followed by ExpectEOF: the client failed or closed
// the connection with code and closed TCP (§7.1.1, §7.1.7).
func ExpectCloseAndEOF(code uint16) Step {
	a, b := ExpectClose(code), ExpectEOF()
	return func(c *Conn) error {
		if err := a(c); err != nil {
			return err
		}
		return b(c)
	}
}

// CloseTCP closes the TCP connection without a close frame.
func CloseTCP() Step {
	return func(c *Conn) error { return c.NC.Close() }
}

// Hang keeps the connection open and answers nothing until the client closes TCP, for at most
// d; it reports an error when the client sends anything or does not close in time.
func Hang(d time.Duration) Step {
	return func(c *Conn) error {
		if err := c.NC.SetReadDeadline(time.Now().Add(d)); err != nil {
			return err
		}
		var b [1]byte
		n, err := c.R.Read(b[:])
		if n > 0 {
			return fmt.Errorf("client sent %#x while the server hung", b[0])
		}
		if errors.Is(err, io.EOF) || isReset(err) {
			return nil
		}
		return fmt.Errorf("client did not close the connection within %v: %w", d, err)
	}
}

// Drain reads and discards whatever the client sends until it closes TCP, for at most d.
func Drain(d time.Duration) Step {
	return func(c *Conn) error {
		if err := c.NC.SetReadDeadline(time.Now().Add(d)); err != nil {
			return err
		}
		_, err := io.Copy(io.Discard, c.R)
		if err == nil || isReset(err) {
			return nil
		}
		return fmt.Errorf("client did not close the connection within %v: %w", d, err)
	}
}

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }
