package serverconf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// limit is MaxMessageSize of the server in the table of TestServerFrames.
const limit = 1024

// reply is a frame the raw client expects from the server: op and payload, or, for a close
// frame (op 0x8), only its code.
type reply struct {
	op   byte
	p    []byte
	code uint16
}

func echoOf(op byte, p string) reply { return reply{op: op, p: []byte(p)} }
func closeReply(code uint16) reply   { return reply{op: 0x8, code: code} }

// pattern returns n bytes that are not all alike.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func unmasked(f rawFrame) rawFrame          { f.masked = false; return f }
func withRsv(f rawFrame, rsv byte) rawFrame { f.rsv = rsv; return f }
func withOp(f rawFrame, op byte) rawFrame   { f.op = op; return f }
func withEnc(f rawFrame, enc int) rawFrame  { f.enc = enc; return f }
func withLen(f rawFrame, n uint64) rawFrame { f.length = n; return f }
func rawClose(payload []byte) rawFrame {
	return rawFrame{fin: true, op: 0x8, masked: true, payload: payload}
}
func bin(n int) rawFrame  { return binFrame(pattern(n)) }
func echoBin(n int) reply { return reply{op: 0x2, p: pattern(n)} }
func badCloseCode(code uint16) []rawFrame {
	return []rawFrame{rawClose(binary.BigEndian.AppendUint16(nil, code))}
}

// TestServerFrames plays a raw client against our server role (an echo server with
// MaxMessageSize 1024): each case sends frames after a valid handshake and checks every frame
// the server sends back (unmasked, §5.1), its close code, and how the server-side Conn reports
// the end of the connection.
func TestServerFrames(t *testing.T) {
	bye := closeFrame(1000, "")
	tests := []struct {
		name       string
		rfc        string
		send       []rawFrame
		want       []reply
		wantEnd    frame.CloseCode // the Code of the server's *conn.CloseError
		wantRemote bool
		wantErr    error // wrapped by the server's CloseError, when set
	}{
		// Well-formed traffic.
		{"text echoed unmasked", "§5.1, §5.6", []rawFrame{text("hello"), bye},
			[]reply{echoOf(0x1, "hello"), closeReply(1000)}, 1000, true, nil},
		{"binary echoed", "§5.6", []rawFrame{binFrame([]byte{0, 1, 2, 0xff}), bye},
			[]reply{echoOf(0x2, "\x00\x01\x02\xff"), closeReply(1000)}, 1000, true, nil},
		{"empty text echoed", "§5.6", []rawFrame{text(""), bye},
			[]reply{echoOf(0x1, ""), closeReply(1000)}, 1000, true, nil},
		{"7-bit length 125", "§5.2", []rawFrame{bin(125), bye},
			[]reply{echoBin(125), closeReply(1000)}, 1000, true, nil},
		{"16-bit length 126", "§5.2", []rawFrame{bin(126), bye},
			[]reply{echoBin(126), closeReply(1000)}, 1000, true, nil},
		{"message of exactly the limit", "§7.4.1 (1009)", []rawFrame{bin(limit), bye},
			[]reply{echoBin(limit), closeReply(1000)}, 1000, true, nil},
		{"fragmented text reassembled", "§5.4",
			[]rawFrame{frag(0x1, false, "Hel"), frag(0, false, "l"), frag(0, true, "o"), bye},
			[]reply{echoOf(0x1, "Hello"), closeReply(1000)}, 1000, true, nil},
		{"empty fragments", "§5.4",
			[]rawFrame{frag(0x1, false, ""), frag(0, false, "x"), frag(0, true, ""), bye},
			[]reply{echoOf(0x1, "x"), closeReply(1000)}, 1000, true, nil},
		{"ping between fragments answered first", "§5.4, §5.5.2",
			[]rawFrame{frag(0x1, false, "ab"), ping("mid"), frag(0, true, "cd"), bye},
			[]reply{echoOf(0xA, "mid"), echoOf(0x1, "abcd"), closeReply(1000)}, 1000, true, nil},
		{"ping answered with the same payload", "§5.5.2, §5.5.3", []rawFrame{ping("are you there"), bye},
			[]reply{echoOf(0xA, "are you there"), closeReply(1000)}, 1000, true, nil},
		{"empty ping answered", "§5.5.2", []rawFrame{ping(""), bye},
			[]reply{echoOf(0xA, ""), closeReply(1000)}, 1000, true, nil},
		{"125-byte ping answered", "§5.5, §5.5.3", []rawFrame{ping(strings.Repeat("p", 125)), bye},
			[]reply{echoOf(0xA, strings.Repeat("p", 125)), closeReply(1000)}, 1000, true, nil},
		{"unsolicited pong ignored", "§5.5.3",
			[]rawFrame{{fin: true, op: 0xA, masked: true, payload: []byte("beat")}, text("x"), bye},
			[]reply{echoOf(0x1, "x"), closeReply(1000)}, 1000, true, nil},
		{"UTF-8 code point split across fragments", "§8.1",
			[]rawFrame{frag(0x1, false, "caf\xc3"), frag(0, true, "\xa9 \xf0\x9f\x98"+"\x80"), bye},
			[]reply{echoOf(0x1, "café 😀"), closeReply(1000)}, 1000, true, nil},
		// Closing handshake.
		{"close echoed with its code", "§5.5.1, §7.1.2", []rawFrame{closeFrame(1000, "bye")},
			[]reply{closeReply(1000)}, 1000, true, nil},
		{"close without code answered 1000", "§5.5.1, §7.1.5", []rawFrame{rawClose(nil)},
			[]reply{closeReply(1000)}, frame.CloseNoStatus, true, nil},
		{"registered code echoed", "§7.4.2", []rawFrame{closeFrame(3000, "x")},
			[]reply{closeReply(3000)}, 3000, true, nil},
		{"private code echoed", "§7.4.2", []rawFrame{closeFrame(4999, "")},
			[]reply{closeReply(4999)}, 4999, true, nil},
		{"going away echoed", "§7.4.1", []rawFrame{closeFrame(1001, "")},
			[]reply{closeReply(1001)}, 1001, true, nil},
		// Violations: the server fails the connection (§7.1.7).
		{"unmasked client frame", "§5.1", []rawFrame{unmasked(text("hi"))},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrUnmaskedFrame},
		{"unmasked ping", "§5.1", []rawFrame{unmasked(ping("hi"))},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrUnmaskedFrame},
		{"RSV1 without extension", "§5.2", []rawFrame{withRsv(text("hi"), 4)},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrReservedBits},
		{"RSV2", "§5.2", []rawFrame{withRsv(text("hi"), 2)},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrReservedBits},
		{"RSV3 on a ping", "§5.2", []rawFrame{withRsv(ping("hi"), 1)},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrReservedBits},
		{"reserved data opcode 0x3", "§5.2", []rawFrame{withOp(text("hi"), 0x3)},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrReservedOpcode},
		{"reserved data opcode 0x7", "§5.2", []rawFrame{withOp(text("hi"), 0x7)},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrReservedOpcode},
		{"reserved control opcode 0xB", "§5.2", []rawFrame{withOp(ping("hi"), 0xB)},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrReservedOpcode},
		{"reserved control opcode 0xF", "§5.2", []rawFrame{withOp(ping("hi"), 0xF)},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrReservedOpcode},
		{"ping of 126 bytes", "§5.5", []rawFrame{ping(strings.Repeat("p", 126))},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrControlTooLong},
		{"close of 126 bytes", "§5.5", []rawFrame{closeFrame(1000, strings.Repeat("r", 124))},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrControlTooLong},
		{"fragmented ping", "§5.5", []rawFrame{{op: 0x9, masked: true, payload: []byte("a")}},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrControlFragmented},
		{"fragmented close", "§5.5", []rawFrame{{op: 0x8, masked: true, payload: []byte{3, 0xe8}}},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrControlFragmented},
		{"continuation with no message", "§5.4", []rawFrame{frag(0, true, "x")},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrUnexpectedContinuation},
		{"new message inside a fragmented one", "§5.4", []rawFrame{frag(0x1, false, "a"), text("b")},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrExpectedContinuation},
		{"non-minimal 16-bit length", "§5.2", []rawFrame{withEnc(text("short"), 2)},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrNonMinimalLength},
		{"non-minimal 64-bit length", "§5.2", []rawFrame{withEnc(bin(200), 8)},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrNonMinimalLength},
		{"64-bit length with the top bit set", "§5.2", []rawFrame{withLen(withEnc(bin(0), 8), 1<<63|1<<16)},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrLengthTopBit},
		{"message over the limit in one frame", "§7.4.1 (1009), §10.4", []rawFrame{withLen(bin(0), limit+1)},
			[]reply{closeReply(1009)}, 1009, false, frame.ErrMessageTooBig},
		{"message over the limit in fragments", "§7.4.1 (1009), §10.4",
			[]rawFrame{frag(0x2, false, string(pattern(limit))), frag(0, true, "x")},
			[]reply{closeReply(1009)}, 1009, false, frame.ErrMessageTooBig},
		{"invalid UTF-8 in text", "§8.1", []rawFrame{text("ab\xff")},
			[]reply{closeReply(1007)}, 1007, false, frame.ErrInvalidUTF8},
		{"UTF-8 surrogate in text", "§8.1", []rawFrame{text("\xed\xa0\x80")},
			[]reply{closeReply(1007)}, 1007, false, frame.ErrInvalidUTF8},
		{"invalid UTF-8 in a later fragment", "§8.1", []rawFrame{frag(0x1, false, "ok"), frag(0, true, "\xc0\xaf")},
			[]reply{closeReply(1007)}, 1007, false, frame.ErrInvalidUTF8},
		{"text ending inside a code point", "§8.1", []rawFrame{text("caf\xc3")},
			[]reply{closeReply(1007)}, 1007, false, frame.ErrInvalidUTF8},
		{"invalid UTF-8 in a close reason", "§5.5.1, §8.1", []rawFrame{closeFrame(1000, "\xff")},
			[]reply{closeReply(1007)}, 1007, false, frame.ErrInvalidCloseReason},
		{"close payload of one byte", "§5.5.1", []rawFrame{rawClose([]byte{3})},
			[]reply{closeReply(1002)}, 1002, false, frame.ErrCloseTooShort},
	}
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535} {
		tests = append(tests, struct {
			name       string
			rfc        string
			send       []rawFrame
			want       []reply
			wantEnd    frame.CloseCode
			wantRemote bool
			wantErr    error
		}{"close code " + strconv.Itoa(int(code)), "§7.4.1, §7.4.2", badCloseCode(code),
			[]reply{closeReply(1002)}, 1002, false, frame.ErrInvalidCloseCode})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, out := startServer(t, func(_ *handshake.Upgrader, c *conn.Config) { c.MaxMessageSize = limit })
			c := dialRaw(t, addr)
			c.upgrade()
			var b []byte
			for _, f := range tt.send {
				b = append(b, f.bytes()...)
			}
			c.write(b)
			c.expectReplies(tt.rfc, tt.want)
			o := result(t, out)
			checkEnd(t, tt.rfc, o.end, tt.wantEnd, tt.wantRemote, tt.wantErr)
		})
	}
}

// expectReplies reads the server's frames and compares them with want; the last wanted frame
// is a close, after which the server must end the TCP connection.
func (c *rawClient) expectReplies(rfc string, want []reply) {
	c.t.Helper()
	for i, w := range want {
		if w.op == 0x8 {
			if code := c.expectClose(); code != w.code {
				c.t.Errorf("%s: server's close code %d, want %d", rfc, code, w.code)
			}
			return
		}
		f, err := c.readFrame()
		if err != nil {
			c.t.Fatalf("%s: frame %d: %v", rfc, i, err)
		}
		if f.op != w.op || !f.fin || !bytes.Equal(f.payload, w.p) {
			c.t.Fatalf("%s: frame %d: fin=%v op=%#x %q (%d bytes), want final op=%#x %q (%d bytes)",
				rfc, i, f.fin, f.op, trim(f.payload), len(f.payload), w.op, trim(w.p), len(w.p))
		}
	}
}

// checkEnd checks the server-side end of a connection: a *conn.CloseError with code, remote
// and the wanted cause.
func checkEnd(t *testing.T, rfc string, end error, code frame.CloseCode, remote bool, cause error) {
	t.Helper()
	var ce *conn.CloseError
	if !errors.As(end, &ce) {
		t.Fatalf("%s: server ended with %v, want a *conn.CloseError", rfc, end)
	}
	if ce.Code != code || ce.Remote != remote {
		t.Errorf("%s: server reports %v (remote %v), want code %d remote %v", rfc, ce, ce.Remote, code, remote)
	}
	if cause != nil && !errors.Is(end, cause) {
		t.Errorf("%s: server's error %v does not wrap %v", rfc, end, cause)
	}
}

// TestServerKeepsBytesSentWithHandshake sends the request and the first frames in one TCP
// segment: the frames must not be lost with the handshake's read buffer (RFC 6455 §4.1: the
// client may send frames right after its request).
func TestServerKeepsBytesSentWithHandshake(t *testing.T) {
	addr, out := startServer(t, nil)
	c := dialRaw(t, addr)
	b := []byte(request(addr, goodHeaders...))
	for _, f := range []rawFrame{text("first"), ping("p"), bin(300), closeFrame(1000, "")} {
		b = append(b, f.bytes()...)
	}
	c.write(b)
	c.check101(c.response())
	c.expectReplies("§4.1, §5", []reply{echoOf(0x1, "first"), echoOf(0xA, "p"), echoBin(300), closeReply(1000)})
	o := result(t, out)
	checkEnd(t, "§7.1.2", o.end, 1000, true, nil)
	if len(o.msgs) != 2 || string(o.msgs[0].p) != "first" || o.msgs[0].typ != conn.Text {
		t.Errorf("server read %d messages, want 2 starting with text \"first\"", len(o.msgs))
	}
}

// TestServerByteAtATime delivers the handshake and the frames one byte per TCP write, with a
// pause after each, so that every read of the server returns at most a byte or a few: header
// parsing, frame headers, masks, payloads and UTF-8 must resume across reads (RFC 6455 §5.2).
func TestServerByteAtATime(t *testing.T) {
	addr, out := startServer(t, nil)
	c := dialRaw(t, addr)
	c.nc.SetDeadline(time.Now().Add(3 * wait))
	b := []byte(request(addr, goodHeaders...))
	for _, f := range []rawFrame{frag(0x1, false, "h\xc3"), ping("x"), frag(0, true, "\xa9llo"), bin(130), closeFrame(1000, "ok")} {
		b = append(b, f.bytes()...)
	}
	for i := range b {
		c.write(b[i : i+1])
		if i%4 == 0 {
			time.Sleep(200 * time.Microsecond)
		}
	}
	c.check101(c.response())
	c.expectReplies("§5.2", []reply{echoOf(0xA, "x"), echoOf(0x1, "h\xc3\xa9llo"), echoBin(130), closeReply(1000)})
	checkEnd(t, "§7.1.2", result(t, out).end, 1000, true, nil)
}
