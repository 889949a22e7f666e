package serverconf

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
)

// memConn is a net.Conn whose reads come from a fixed byte stream (then io.EOF) and whose
// writes are kept: a client that sent everything and then hung up. Nothing blocks, so
// deadlines are not needed and are ignored.
type memConn struct {
	r      *bytes.Reader
	mu     sync.Mutex
	out    bytes.Buffer
	closed bool
}

func (m *memConn) Read(p []byte) (int, error) {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	return m.r.Read(p)
}

func (m *memConn) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, net.ErrClosed
	}
	return m.out.Write(p)
}

func (m *memConn) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}

func (m *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (m *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }
func (m *memConn) SetDeadline(t time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(t time.Time) error { return nil }

// parseFrames splits what the server wrote into frames with the raw client's rules (RFC 6455
// §5.2), without unmasking: a server frame must not be masked.
func parseFrames(b []byte) ([]rawFrame, error) {
	var fs []rawFrame
	for len(b) > 0 {
		if len(b) < 2 {
			return fs, errors.New("truncated header")
		}
		f := rawFrame{fin: b[0]&0x80 != 0, rsv: b[0] >> 4 & 7, op: b[0] & 0x0f, masked: b[1]&0x80 != 0}
		n, h := uint64(b[1]&0x7f), 2
		switch n {
		case 126:
			if len(b) < 4 {
				return fs, errors.New("truncated length")
			}
			n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return fs, errors.New("truncated length")
			}
			n, h = binary.BigEndian.Uint64(b[2:]), 10
		}
		if f.masked {
			return fs, errors.New("masked server frame")
		}
		if uint64(len(b)-h) < n {
			return fs, errors.New("truncated payload")
		}
		f.payload = b[h : h+int(n)]
		fs = append(fs, f)
		b = b[h+int(n):]
	}
	return fs, nil
}

// validOnWire is RFC 6455 §7.4's set of codes a close frame may carry, written out here
// independently of frame.CloseCode.ValidOnWire.
func validOnWire(code uint16) bool {
	return code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999
}

// FuzzServerRead feeds our server role (conn.Conn with frame.RoleServer, MaxMessageSize 4096)
// an arbitrary client byte stream after the handshake and reads it to the end with ReadMessage
// and NextReader in turn. It must not panic; every read must end with a *conn.CloseError;
// delivered messages are Text or Binary, within the limit, and text is UTF-8 (§8.1). What the
// server writes back must be frames (§5.2), unmasked (§5.1), without RSV bits, only pongs of
// at most 125 bytes (§5.5) and at most one close frame, last, whose code may be sent on the
// wire (§7.4) and is the code the server reports when it failed the connection.
func FuzzServerRead(f *testing.F) {
	cat := func(fs ...rawFrame) []byte {
		var b []byte
		for _, x := range fs {
			b = append(b, x.bytes()...)
		}
		return b
	}
	f.Add(cat(text("Hello"), closeFrame(1000, "bye")))
	f.Add(cat(frag(0x1, false, "Hel"), ping("p"), frag(0, true, "lo"), closeFrame(1001, "")))
	f.Add(cat(bin(300), rawFrame{fin: true, op: 0xA, masked: true}))
	f.Add(cat(text("caf\xc3\xa9"), frag(0x1, false, "\xf0\x9f"), frag(0, true, "\x98\x80")))
	f.Add(cat(unmasked(text("hi"))))
	f.Add(cat(withRsv(text("hi"), 4)))
	f.Add(cat(withLen(bin(0), 5000)))
	f.Add(cat(rawClose([]byte{3})))
	f.Add(cat(closeFrame(1000, "\xff")))
	f.Add(cat(withEnc(text("short"), 2)))
	f.Fuzz(func(t *testing.T, data []byte) {
		nc := &memConn{r: bytes.NewReader(data)}
		c := conn.New(nc, nil, &conn.Config{Role: frame.RoleServer, ReadBufferSize: 256, MaxMessageSize: 4096,
			CloseTimeout: 50 * time.Millisecond})
		ctx := context.Background()
		var (
			buf []byte
			end error
		)
		for i := 0; i < len(data)+2; i++ { // each message takes at least 2 bytes
			var (
				typ conn.MessageType
				msg []byte
				err error
			)
			if i%2 == 0 {
				typ, msg, err = c.ReadMessage(ctx, buf)
				buf = msg
			} else {
				var r io.Reader
				if typ, r, err = c.NextReader(ctx); err == nil {
					msg, err = io.ReadAll(r)
				}
			}
			if err != nil {
				end = err
				break
			}
			if typ != conn.Text && typ != conn.Binary {
				t.Fatalf("message type %v", typ)
			}
			if len(msg) > 4096 {
				t.Fatalf("message of %d bytes over the limit", len(msg))
			}
			if typ == conn.Text && !utf8.Valid(msg) {
				t.Fatalf("invalid UTF-8 text delivered: %q", msg)
			}
		}
		var ce *conn.CloseError
		if !errors.As(end, &ce) {
			t.Fatalf("reads ended with %v (%T), want a *conn.CloseError", end, end)
		}
		c.CloseNow()
		nc.mu.Lock()
		out := append([]byte(nil), nc.out.Bytes()...)
		nc.mu.Unlock()
		fs, err := parseFrames(out)
		if err != nil {
			t.Fatalf("server output %x: %v", out, err)
		}
		for i, fr := range fs {
			if !fr.fin || fr.rsv != 0 {
				t.Fatalf("server frame %d: fin %v rsv %03b", i, fr.fin, fr.rsv)
			}
			switch fr.op {
			case 0xA:
				if len(fr.payload) > 125 {
					t.Fatalf("pong of %d bytes", len(fr.payload))
				}
			case 0x8:
				if i != len(fs)-1 {
					t.Fatalf("server close frame %d is followed by %d more frames", i, len(fs)-1-i)
				}
				if len(fr.payload) == 1 || len(fr.payload) > 125 {
					t.Fatalf("server close payload of %d bytes", len(fr.payload))
				}
				if len(fr.payload) >= 2 {
					code := binary.BigEndian.Uint16(fr.payload)
					if !validOnWire(code) {
						t.Fatalf("server sent close code %d", code)
					}
					if !ce.Remote && frame.CloseCode(code) != ce.Code {
						t.Fatalf("server sent close %d but reports %v", code, ce)
					}
					if !utf8.Valid(fr.payload[2:]) {
						t.Fatalf("server close reason is not UTF-8: %q", fr.payload[2:])
					}
				}
			default:
				t.Fatalf("server sent opcode %#x while only reading", fr.op)
			}
		}
	})
}
