package serverconf

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// wait bounds every wait of these tests; generous, as the machine running them may be loaded.
const wait = 10 * time.Second

// testKey is the Sec-WebSocket-Key of RFC 6455 §1.3; its accept value is computed below.
const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// maskKey is the masking key of the raw client's frames (the example of RFC 6455 §5.7).
var maskKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// rawFrame is one frame as the raw client builds or parses it (RFC 6455 §5.2), with its own
// encoder and decoder: nothing of package frame is used on the client side.
type rawFrame struct {
	fin    bool
	rsv    byte // RSV1..RSV3 in the low three bits
	op     byte
	masked bool
	// length, when not zero, is written as the payload length instead of len(payload), with
	// the encoding chosen by enc (for frames that announce more than they carry).
	length uint64
	enc    int // 0: minimal; 2: 16-bit (126); 8: 64-bit (127)
	// payload is the payload, unmasked.
	payload []byte
}

// bytes encodes f, masking the payload with maskKey when f.masked.
func (f rawFrame) bytes() []byte {
	b0 := f.op&0x0f | f.rsv&7<<4
	if f.fin {
		b0 |= 0x80
	}
	n := uint64(len(f.payload))
	if f.length != 0 {
		n = f.length
	}
	b := []byte{b0, 0}
	enc := f.enc
	if enc == 0 {
		switch {
		case n > 0xffff:
			enc = 8
		case n > 125:
			enc = 2
		}
	}
	switch enc {
	case 2:
		b[1] = 126
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	case 8:
		b[1] = 127
		b = binary.BigEndian.AppendUint64(b, n)
	default:
		b[1] = byte(n)
	}
	if f.masked {
		b[1] |= 0x80
		b = append(b, maskKey[:]...)
	}
	start := len(b)
	b = append(b, f.payload...)
	if f.masked {
		for i := range f.payload {
			b[start+i] ^= maskKey[i%4]
		}
	}
	return b
}

// Frames of a well-behaved client: final, masked.
func text(s string) rawFrame     { return rawFrame{fin: true, op: 0x1, masked: true, payload: []byte(s)} }
func binFrame(p []byte) rawFrame { return rawFrame{fin: true, op: 0x2, masked: true, payload: p} }
func ping(s string) rawFrame     { return rawFrame{fin: true, op: 0x9, masked: true, payload: []byte(s)} }

// closeFrame is a masked close frame with code (none when code is 0) and reason.
func closeFrame(code uint16, reason string) rawFrame {
	var p []byte
	if code != 0 {
		p = binary.BigEndian.AppendUint16(nil, code)
	}
	return rawFrame{fin: true, op: 0x8, masked: true, payload: append(p, reason...)}
}

// frag is a masked fragment: op 0 for a continuation.
func frag(op byte, fin bool, p string) rawFrame {
	return rawFrame{fin: fin, op: op, masked: true, payload: []byte(p)}
}

// acceptFor computes Sec-WebSocket-Accept for key (RFC 6455 §4.2.2 item 5.4), independently of
// package handshake.
func acceptFor(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// request returns an opening handshake request (RFC 6455 §4.1) for addr with the given header
// lines ("Name: value", CRLF added) after the request line and Host.
func request(addr string, lines ...string) string {
	var b strings.Builder
	b.WriteString("GET /chat HTTP/1.1\r\nHost: " + addr + "\r\n")
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// goodHeaders are the header lines of a valid request.
var goodHeaders = []string{
	"Upgrade: websocket",
	"Connection: Upgrade",
	"Sec-WebSocket-Key: " + testKey,
	"Sec-WebSocket-Version: 13",
}

// outcome is what the server side saw of one connection.
type outcome struct {
	req   *handshake.ServerRequest
	proto string
	hsErr error      // Upgrade's error
	msgs  []received // messages read, in order
	end   error      // the read error that ended the connection
}

type received struct {
	typ conn.MessageType
	p   []byte
}

// startServer starts our server role on 127.0.0.1: each connection is upgraded by an Upgrader
// and served by a conn.Conn in the server role that echoes every message and reports, when the
// connection ends, its outcome. setup may adjust the Upgrader and the Config.
func startServer(t *testing.T, setup func(*handshake.Upgrader, *conn.Config)) (string, <-chan outcome) {
	t.Helper()
	var up handshake.Upgrader
	cfg := conn.Config{Role: frame.RoleServer, CloseTimeout: 2 * time.Second}
	if setup != nil {
		setup(&up, &cfg)
	}
	out := make(chan outcome, 16)
	srv := wstest.NewRaw(t, func(nc net.Conn) {
		var o outcome
		defer func() { out <- o }()
		nc.SetDeadline(time.Now().Add(wait))
		br := bufio.NewReader(nc)
		o.req, o.proto, o.hsErr = up.Upgrade(br, nc)
		if o.hsErr != nil {
			return
		}
		nc.SetDeadline(time.Time{})
		var prefix []byte
		if n := br.Buffered(); n > 0 {
			prefix, _ = br.Peek(n)
		}
		c := conn.New(nc, prefix, &cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 2*wait)
		defer cancel()
		for {
			typ, p, err := c.ReadMessage(ctx, nil)
			if err != nil {
				o.end = err
				c.CloseNow()
				return
			}
			o.msgs = append(o.msgs, received{typ, p})
			if err := c.WriteMessage(ctx, typ, p); err != nil {
				o.end = err
				c.CloseNow()
				return
			}
		}
	})
	return strings.TrimSuffix(strings.TrimPrefix(srv.URL, "ws://"), wstest.DefaultPath), out
}

// result waits (bounded) for the outcome of the server's next connection.
func result(t *testing.T, out <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-out:
		return o
	case <-time.After(2 * wait):
		t.Fatal("the server did not finish the connection in time")
		return outcome{}
	}
}

// rawClient is a TCP client that speaks WebSocket by hand.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

// dialRaw connects to addr; every read and write of the client is bounded by wait.
func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(wait))
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("raw client write: %v", err)
	}
}

func (c *rawClient) send(fs ...rawFrame) {
	c.t.Helper()
	for _, f := range fs {
		c.write(f.bytes())
	}
}

// response reads the server's HTTP response with net/http's parser.
func (c *rawClient) response() *http.Response {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatalf("reading the handshake response: %v", err)
	}
	return resp
}

// upgrade sends a valid request and checks the 101 response (RFC 6455 §4.2.2).
func (c *rawClient) upgrade() {
	c.t.Helper()
	c.write([]byte(request(c.nc.RemoteAddr().String(), goodHeaders...)))
	c.check101(c.response())
}

func (c *rawClient) check101(resp *http.Response) {
	c.t.Helper()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != acceptFor(testKey) {
		c.t.Fatalf("Sec-WebSocket-Accept %q, want %q", got, acceptFor(testKey))
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") ||
		!strings.EqualFold(resp.Header.Get("Connection"), "Upgrade") {
		c.t.Fatalf("response headers %v lack Upgrade: websocket / Connection: Upgrade", resp.Header)
	}
}

// readFrame reads one frame from the server and fails the test if it is masked: a server must
// not mask what it sends (RFC 6455 §5.1).
func (c *rawClient) readFrame() (rawFrame, error) {
	c.t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return rawFrame{}, err
	}
	f := rawFrame{fin: h[0]&0x80 != 0, rsv: h[0] >> 4 & 7, op: h[0] & 0x0f, masked: h[1]&0x80 != 0}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return rawFrame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return rawFrame{}, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if f.masked {
		c.t.Errorf("server frame (opcode %#x) is masked", f.op)
		var k [4]byte
		if _, err := io.ReadFull(c.br, k[:]); err != nil {
			return rawFrame{}, err
		}
	}
	if f.rsv != 0 {
		c.t.Errorf("server frame (opcode %#x) has RSV bits %03b", f.op, f.rsv)
	}
	if n > 1<<24 {
		return rawFrame{}, fmt.Errorf("server frame of %d bytes", n)
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.payload); err != nil {
		return rawFrame{}, err
	}
	return f, nil
}

// expectFrame reads a frame and checks its opcode and payload.
func (c *rawClient) expectFrame(op byte, payload []byte) {
	c.t.Helper()
	f, err := c.readFrame()
	if err != nil {
		c.t.Fatalf("want a frame with opcode %#x, got %v", op, err)
	}
	if f.op != op || !f.fin || string(f.payload) != string(payload) {
		c.t.Fatalf("got frame fin=%v op=%#x payload %q (%d bytes), want final op=%#x %q (%d bytes)",
			f.fin, f.op, trim(f.payload), len(f.payload), op, trim(payload), len(payload))
	}
}

// expectClose reads the server's close frame and returns its code (0 for an empty payload),
// then checks that the server closes the TCP connection (RFC 6455 §7.1.1: the server closes
// first).
func (c *rawClient) expectClose() uint16 {
	c.t.Helper()
	f, err := c.readFrame()
	if err != nil {
		c.t.Fatalf("want a close frame, got %v", err)
	}
	if f.op != 0x8 {
		c.t.Fatalf("want a close frame, got opcode %#x payload %q", f.op, trim(f.payload))
	}
	var code uint16
	if len(f.payload) >= 2 {
		code = binary.BigEndian.Uint16(f.payload)
	}
	c.expectEOF()
	return code
}

// expectEOF checks that the server closed the TCP connection and sent nothing more.
func (c *rawClient) expectEOF() {
	c.t.Helper()
	var b [1]byte
	n, err := c.br.Read(b[:])
	if n != 0 || err == nil {
		c.t.Fatalf("want the end of the TCP stream, got %d more bytes", n)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatal("the server did not close the TCP connection in time")
	}
}

func trim(p []byte) []byte {
	if len(p) > 40 {
		return p[:40]
	}
	return p
}
