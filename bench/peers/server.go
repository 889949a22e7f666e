package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/gobwas/ws"
)

// The fixed server. One process, started by the driver, serves every client library the same
// way; it is never tuned per client. It is written on gobwas/ws's low-level API (ws.Upgrader,
// ws.ReadHeader, ws.WriteHeader), which allocates nothing per frame once a connection's
// buffers have grown, and which is neither of the libraries whose clients the run is mostly
// about (ours).
//
// WebSocket paths (RFC 6455 §5.2 frames; fragmented messages are reassembled):
//
//	/echo    every data message comes back as one unmasked frame of the same opcode
//	/sink    data messages are counted and dropped; the text message "done" is answered with
//	         the text message "ack <count>" (count of data messages since the last ack)
//	/source  the text message "N S" is answered with N binary messages of S bytes, one
//	         prebuilt frame written again and again
//	/idle    nothing is ever sent (only close and pong replies)
//	/zsink, /zsource  with permessage-deflate, for the compression section (see deflate.go)
//
// Every path answers ping with pong and a close frame with a close frame (echoing its code),
// then closes the TCP connection (§5.5.1, §7.1.2).
//
// The raw TCP listener does the same without WebSocket framing: the client's first byte picks
// the behaviour (modeEcho, modeSink, modeSource, modeIdle), then messages are a 4-byte
// big-endian length and the bytes. In sink mode the length rawDone is the done marker.
const (
	modeEcho   = 'e'
	modeSink   = 's'
	modeSource = 'r'
	modeIdle   = 'i'

	rawDone = 0xFFFFFFFF

	// batchSize is how many bytes of prebuilt frames the source writes per write call.
	batchSize = 64 << 10
	// serverBuf is the server's read and write buffer size per connection.
	serverBuf = 32 << 10
	// idleBuf is the buffer size on the idle paths.
	idleBuf = 256
)

// serverEnv marks the child process: when set, the program runs the server, not the driver.
const serverEnv = "NETKIT_PEERS_SERVER"

// runServer listens on 127.0.0.1 (WebSocket and raw TCP), prints "ws=<addr> tcp=<addr>" on
// stdout, serves until stdin reaches EOF (the driver exited or closed it), then returns.
func runServer() error {
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		wl.Close()
		return err
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); acceptLoop(wl, serveWS) }()
	go func() { defer wg.Done(); acceptLoop(tl, serveRaw) }()
	fmt.Printf("ws=%s tcp=%s\n", wl.Addr(), tl.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	wl.Close()
	tl.Close()
	wg.Wait()
	return nil
}

func acceptLoop(l net.Listener, serve func(net.Conn)) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			serve(c)
		}()
	}
}

// wsConn is the server side of one WebSocket connection.
type wsConn struct {
	c   net.Conn
	br  *bufio.Reader
	bw  *bufio.Writer
	buf []byte // reassembled message payload, reused
	pb  prebuilt
}

func serveWS(c net.Conn) {
	var path string
	u := ws.Upgrader{OnRequest: func(uri []byte) error {
		path = string(uri)
		return nil
	}, Negotiate: deflateNegotiator(func() string { return path })}
	if _, err := u.Upgrade(c); err != nil {
		return
	}
	size := serverBuf
	if path == "/idle" {
		size = idleBuf // thousands of these are open at once
	}
	s := &wsConn{c: c, br: bufio.NewReaderSize(c, size), bw: bufio.NewWriterSize(c, size)}
	switch path {
	case "/echo":
		s.loop(s.echo)
	case "/sink":
		var n int
		s.loop(func(op ws.OpCode, p []byte) error {
			if op == ws.OpText && string(p) == "done" {
				err := s.write(ws.OpText, strconv.AppendInt([]byte("ack "), int64(n), 10))
				n = 0
				return err
			}
			n++
			return nil
		})
	case "/source":
		s.loop(s.source)
	case "/idle":
		s.loop(func(ws.OpCode, []byte) error { return nil })
	case "/zsink":
		s.zsink()
	case "/zsource":
		s.zsource()
	}
}

// loop reads messages and hands each whole one to fn until the connection ends or closes.
func (s *wsConn) loop(fn func(op ws.OpCode, p []byte) error) { s.loopHeaders(nil, fn) }

// loopHeaders is loop that also shows every frame header to header, when not nil, before
// the frame is read.
func (s *wsConn) loopHeaders(header func(ws.Header), fn func(op ws.OpCode, p []byte) error) {
	var op ws.OpCode
	s.buf = s.buf[:0]
	for {
		h, err := ws.ReadHeader(s.br)
		if err != nil {
			return
		}
		if header != nil {
			header(h)
		}
		if h.OpCode.IsControl() {
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(s.br, p); err != nil {
				return
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			switch h.OpCode {
			case ws.OpClose:
				if len(p) > 2 {
					p = p[:2]
				}
				_ = s.write(ws.OpClose, p)
				return
			case ws.OpPing:
				if s.write(ws.OpPong, p) != nil {
					return
				}
			}
			continue
		}
		if h.OpCode != ws.OpContinuation {
			op = h.OpCode
			s.buf = s.buf[:0]
		}
		start := len(s.buf)
		end := start + int(h.Length)
		if cap(s.buf) < end {
			nb := make([]byte, start, end+end/4)
			copy(nb, s.buf)
			s.buf = nb
		}
		s.buf = s.buf[:end]
		if _, err := io.ReadFull(s.br, s.buf[start:]); err != nil {
			return
		}
		if h.Masked {
			ws.Cipher(s.buf[start:], h.Mask, 0)
		}
		if !h.Fin {
			continue
		}
		if fn(op, s.buf) != nil {
			return
		}
		s.buf = s.buf[:0]
	}
}

// write sends one unmasked frame and flushes.
func (s *wsConn) write(op ws.OpCode, p []byte) error {
	if err := ws.WriteHeader(s.bw, ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}); err != nil {
		return err
	}
	if _, err := s.bw.Write(p); err != nil {
		return err
	}
	return s.bw.Flush()
}

func (s *wsConn) echo(op ws.OpCode, p []byte) error { return s.write(op, p) }

// source answers "N S" with N binary frames of S bytes.
func (s *wsConn) source(_ ws.OpCode, p []byte) error {
	n, size, ok := parseRequest(p)
	if !ok {
		return fmt.Errorf("bad source request %q", p)
	}
	var hb writeBuf
	_ = ws.WriteHeader(&hb, ws.Header{Fin: true, OpCode: ws.OpBinary, Length: int64(size)})
	return writeRepeated(s.c, &s.pb, hb.b, size, n)
}

// writeBuf is an io.Writer into a byte slice.
type writeBuf struct{ b []byte }

func (w *writeBuf) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// prebuilt is a source connection's batch of identical frames, built once per message size.
type prebuilt struct {
	size  int
	batch []byte // per copies of one frame (header and payload)
	one   int    // length of one frame
	per   int
}

// writeRepeated writes n copies of header followed by size payload bytes (a fixed pattern),
// batching small frames into writes of about batchSize bytes. The batch is built on the first
// request for a size and reused by the next requests of the connection.
func writeRepeated(c net.Conn, pb *prebuilt, header []byte, size, n int) error {
	if pb.batch == nil || pb.size != size {
		one := make([]byte, 0, len(header)+size)
		one = append(one, header...)
		for i := 0; i < size; i++ {
			one = append(one, pattern(i))
		}
		batch := one
		per := 1
		for len(batch)+len(one) <= batchSize {
			batch = append(batch, one...)
			per++
		}
		*pb = prebuilt{size: size, batch: batch, one: len(one), per: per}
	}
	for n >= pb.per {
		if _, err := c.Write(pb.batch); err != nil {
			return err
		}
		n -= pb.per
	}
	if n > 0 {
		if _, err := c.Write(pb.batch[:n*pb.one]); err != nil {
			return err
		}
	}
	return nil
}

// pattern is the byte at offset i of every payload the source sends and the clients send.
func pattern(i int) byte { return byte(i*7 + 3) }

// parseRequest parses a source request "N S".
func parseRequest(p []byte) (n, size int, ok bool) {
	a, b, found := strings.Cut(string(p), " ")
	if !found {
		return 0, 0, false
	}
	n, err1 := strconv.Atoi(a)
	size, err2 := strconv.Atoi(b)
	return n, size, err1 == nil && err2 == nil && n >= 0 && size >= 0
}

// serveRaw serves one raw TCP connection (length-prefixed messages, no WebSocket framing).
func serveRaw(c net.Conn) {
	var first [1]byte
	if _, err := io.ReadFull(c, first[:]); err != nil {
		return
	}
	mode := first[0]
	size := serverBuf
	if mode == modeIdle {
		size = idleBuf
	}
	br := bufio.NewReaderSize(c, size)
	bw := bufio.NewWriterSize(c, size)
	var hdr [4]byte
	var buf []byte
	var pb prebuilt
	count := 0
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if mode == modeSink && n == rawDone {
			reply := strconv.AppendInt([]byte("ack "), int64(count), 10)
			count = 0
			if writeRaw(bw, reply) != nil {
				return
			}
			continue
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return
		}
		switch mode {
		case modeEcho:
			if writeRaw(bw, buf) != nil {
				return
			}
		case modeSink:
			count++
		case modeSource:
			k, size, ok := parseRequest(buf)
			if !ok {
				return
			}
			binary.BigEndian.PutUint32(hdr[:], uint32(size))
			if writeRepeated(c, &pb, hdr[:], size, k) != nil {
				return
			}
		}
	}
}

// writeRaw writes one length-prefixed message and flushes.
func writeRaw(bw *bufio.Writer, p []byte) error {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(p)))
	bw.Write(hdr[:])
	bw.Write(p)
	return bw.Flush()
}
