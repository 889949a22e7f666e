package hostile_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/netkit/websocket/internal/hostile"
)

// TestClientFramingConformance: every framing rule of RFC 6455 §5 a client must enforce on what
// a server sends; each violation fails the connection with 1002 (§7.1.7), and the valid
// encodings around them are delivered.
func TestClientFramingConformance(t *testing.T) {
	masked := hostile.Text("hi")
	masked.Masked, masked.Key = true, [4]byte{1, 2, 3, 4}
	rsv := func(bit byte) hostile.Frame { f := hostile.Text("x"); f.Rsv = bit; return f }
	big := bytes.Repeat([]byte{0xA5}, 65536)
	table := []scenario{
		{name: "§5.1 masked frame from the server", script: violation(1002, masked), want: failed(1002)},
		{name: "§5.2 RSV1 without extension", script: violation(1002, rsv(hostile.Rsv1)), want: failed(1002)},
		{name: "§5.2 RSV2 without extension", script: violation(1002, rsv(hostile.Rsv2)), want: failed(1002)},
		{name: "§5.2 RSV3 without extension", script: violation(1002, rsv(hostile.Rsv3)), want: failed(1002)},
		{name: "§5.2 RSV1 on a ping", script: violation(1002, hostile.Frame{Fin: true, Op: hostile.OpPing, Rsv: hostile.Rsv1}), want: failed(1002)},
		{name: "§5.5 ping of 126 bytes", script: violation(1002, hostile.Ping(make([]byte, 126))), want: failed(1002)},
		{name: "§5.5 pong of 126 bytes", script: violation(1002, hostile.Pong(make([]byte, 126))), want: failed(1002)},
		{name: "§5.5 close of 126 bytes", script: violation(1002, hostile.Close(1000, repeatStr("r", 124))), want: failed(1002)},
		{name: "§5.5 ping of 65536 bytes (64-bit length)", script: violation(1002, hostile.Ping(big)), want: failed(1002)},
		{name: "§5.5 fragmented ping", script: violation(1002, hostile.Frame{Op: hostile.OpPing, Payload: []byte("p")}), want: failed(1002)},
		{name: "§5.5 fragmented close", script: violation(1002, hostile.Frame{Op: hostile.OpClose, Payload: []byte{3, 232}}), want: failed(1002)},
		{name: "§5.4 continuation with nothing to continue", script: violation(1002, hostile.Fragment(hostile.OpContinuation, true, "x")), want: failed(1002)},
		{name: "§5.4 continuation after a complete message", script: violation(1002, hostile.Text("a"), hostile.Fragment(hostile.OpContinuation, true, "x")), want: failed(1002, textMsg("a"))},
		{name: "§5.4 text frame inside a fragmented message", script: violation(1002, hostile.Fragment(hostile.OpText, false, "a"), hostile.Text("b")), want: failed(1002)},
		{name: "§5.4 binary frame inside a fragmented message", script: violation(1002, hostile.Fragment(hostile.OpBinary, false, "a"), hostile.Binary([]byte("b"))), want: failed(1002)},
		{name: "§5.2 non-minimal 16-bit length of 5", script: violation(1002, hostile.Frame{Fin: true, Op: hostile.OpText, LenForm: hostile.Len16, Payload: []byte("Hello")}), want: failed(1002)},
		{name: "§5.2 non-minimal 64-bit length of 5", script: violation(1002, hostile.Frame{Fin: true, Op: hostile.OpText, LenForm: hostile.Len64, Payload: []byte("Hello")}), want: failed(1002)},
		{name: "§5.2 non-minimal 64-bit length of 200", script: violation(1002, hostile.Frame{Fin: true, Op: hostile.OpBinary, LenForm: hostile.Len64, Payload: make([]byte, 200)}), want: failed(1002)},
		{name: "§5.2 non-minimal 16-bit length on a ping", script: violation(1002, hostile.Frame{Fin: true, Op: hostile.OpPing, LenForm: hostile.Len16, Payload: []byte("p")}), want: failed(1002)},
		{name: "§5.2 64-bit length with the top bit set", script: violation(1002, hostile.Frame{Fin: true, Op: hostile.OpBinary, Length: u64(1<<63 | 5), Payload: []byte("hello")}), want: failed(1002)},
		{name: "§5.2 16-bit length 126 delivered", script: byeAfter(hostile.Binary(big[:126])), want: closedBy(1000, binaryMsg(big[:126]))},
		{name: "§5.2 16-bit length 65535 delivered", script: byeAfter(hostile.Binary(big[:65535])), want: closedBy(1000, binaryMsg(big[:65535])), modes: []hostile.Mode{hostile.Whole, hostile.Chunked}},
		{name: "§5.2 64-bit length 65536 delivered", script: byeAfter(hostile.Binary(big)), want: closedBy(1000, binaryMsg(big)), modes: []hostile.Mode{hostile.Whole, hostile.Chunked}},
		{name: "§5.4 fragmented text and binary reassembled", script: byeAfter(
			hostile.Fragment(hostile.OpText, false, "Hel"), hostile.Fragment(hostile.OpContinuation, false, ""),
			hostile.Fragment(hostile.OpContinuation, true, "lo"),
			hostile.Frame{Op: hostile.OpBinary, Payload: []byte{1}}, hostile.Frame{Fin: true, Payload: []byte{2, 3}}),
			want: closedBy(1000, textMsg("Hello"), binaryMsg([]byte{1, 2, 3}))},
		{name: "§10.4 message over the size limit", maxMsg: 1024, script: violation(1009, hostile.Binary(make([]byte, 1025))), want: failed(1009)},
		{name: "§10.4 fragmented message over the size limit", maxMsg: 1024, script: violation(1009,
			hostile.Frame{Op: hostile.OpBinary, Payload: make([]byte, 1000)}, hostile.Frame{Fin: true, Payload: make([]byte, 25)}), want: failed(1009)},
		{name: "§10.4 message at the size limit delivered", maxMsg: 1024, script: byeAfter(hostile.Binary(big[:1024])), want: closedBy(1000, binaryMsg(big[:1024]))},
	}
	maskedClose := hostile.Close(1000, "")
	maskedClose.Masked, maskedClose.Key = true, [4]byte{9, 9, 9, 9}
	table = append(table,
		scenario{name: "§5.1 masked close frame from the server", script: violation(1002, maskedClose), want: failed(1002)},
		scenario{name: "§5.2 reserved opcode inside a fragmented message", script: violation(1002,
			hostile.Fragment(hostile.OpText, false, "a"), hostile.Frame{Fin: true, Op: 0xB}), want: failed(1002)},
		scenario{name: "§10.4 length of 2^62 fails at the header with 1009",
			script: violation(1009, hostile.Frame{Fin: true, Op: hostile.OpBinary, Length: u64(1 << 62)}), want: failed(1009)},
		scenario{name: "§4.1 frames in the same segment as the 101 response",
			hs: hostile.Raw(upgradeOK + "Sec-WebSocket-Accept: {accept}\r\n\r\n" +
				string(hostile.Join(hostile.Text("first"), hostile.Ping([]byte("p"))))),
			script: hostile.Script{hostile.ExpectPong([]byte("p")), hostile.Send(hostile.Close(1000, "")), hostile.ExpectCloseAndEOF(1000)},
			want:   closedBy(1000, textMsg("first"))},
		scenario{name: "§4.1 interim 100 and 103 responses before the 101 are skipped (RFC 9110 §15.2)",
			hs: hostile.Raw("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n" +
				upgradeOK + "Sec-WebSocket-Accept: {accept}\r\n\r\n"),
			script: byeAfter(hostile.Text("ok")), want: closedBy(1000, textMsg("ok"))},
		scenario{name: "§4.1 header names and tokens are case-insensitive, Connection is a list",
			hs: hostile.Raw("HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, UPGRADE\r\n" +
				"sec-websocket-accept: {accept}\r\nX-Other: 1\r\n\r\n"),
			script: byeAfter(hostile.Text("ok")), want: closedBy(1000, textMsg("ok"))},
		scenario{name: "§4.1 header line of 8000 bytes, under the 8 KiB limit, accepted",
			hs: hostile.Accept("X-Long: " + repeatStr("l", 8000)), script: byeAfter(hostile.Text("ok")), want: closedBy(1000, textMsg("ok")),
			modes: []hostile.Mode{hostile.Whole, hostile.Chunked}},
		scenario{name: "§4.1 header of 60 KiB in 120 fields, under the limits, accepted",
			hs: hostile.Accept(manyHeaders(120, 500)...), script: byeAfter(hostile.Text("ok")), want: closedBy(1000, textMsg("ok")),
			modes: []hostile.Mode{hostile.Whole, hostile.Chunked}},
		scenario{name: "§7.1.5 server closes TCP right after its close frame",
			script: hostile.Script{hostile.Send(hostile.Text("x"), hostile.Close(1001, "gone")), hostile.CloseTCP()},
			want:   closedBy(1001, textMsg("x"))},
	)
	var burst []hostile.Frame
	var burstMsgs []string
	for i := range 300 {
		burst = append(burst, hostile.Text(fmt.Sprintf("m%d", i)))
		burstMsgs = append(burstMsgs, textMsg(fmt.Sprintf("m%d", i)))
	}
	table = append(table, scenario{name: "§5.4 300 messages then a close: all delivered in order before CLOSE",
		script: byeAfter(burst...), want: closedBy(1000, burstMsgs...), modes: []hostile.Mode{hostile.Whole, hostile.Chunked}})
	for op := byte(3); op <= 0xF; op++ {
		if op >= 8 && op <= 0xA {
			continue
		}
		table = append(table, scenario{
			name:   fmt.Sprintf("§5.2 reserved opcode %#x", op),
			script: violation(1002, hostile.Frame{Fin: true, Op: op, Payload: []byte("x")}),
			want:   failed(1002),
		})
	}
	runTable(t, table)
}

// TestClientPingPongConformance: §5.5.2 and §5.5.3 — pings answered with the same payload,
// also between the fragments of a message, and unsolicited pongs ignored.
func TestClientPingPongConformance(t *testing.T) {
	p125 := make([]byte, 125)
	for i := range p125 {
		p125[i] = byte(i * 7)
	}
	table := []scenario{
		{name: "§5.5.2 ping inside a fragmented message answered, message whole", script: hostile.Script{
			hostile.Send(hostile.Fragment(hostile.OpText, false, "hel"), hostile.Ping([]byte("mid"))),
			hostile.ExpectPong([]byte("mid")),
			hostile.Send(hostile.Fragment(hostile.OpContinuation, true, "lo"), hostile.Close(1000, "bye")),
			hostile.ExpectCloseAndEOF(1000),
		}, want: closedBy(1000, textMsg("hello"))},
		{name: "§5.5.2 ping with 125-byte payload echoed exactly", script: hostile.Script{
			hostile.Send(hostile.Ping(p125)), hostile.ExpectPong(p125),
			hostile.Send(hostile.Close(1000, "bye")), hostile.ExpectCloseAndEOF(1000),
		}, want: closedBy(1000)},
		{name: "§5.5.2 empty ping echoed empty", script: hostile.Script{
			hostile.Send(hostile.Ping(nil)), hostile.ExpectPong(nil),
			hostile.Send(hostile.Close(1000, "bye")), hostile.ExpectCloseAndEOF(1000),
		}, want: closedBy(1000)},
		{name: "§5.5.3 unsolicited pong ignored", script: byeAfter(hostile.Pong([]byte("unasked")), hostile.Text("after")),
			want: closedBy(1000, textMsg("after"))},
		{name: "§5.5.3 unsolicited pong inside a fragmented message ignored", script: byeAfter(
			hostile.Fragment(hostile.OpBinary, false, "a"), hostile.Pong(p125), hostile.Fragment(hostile.OpContinuation, true, "b")),
			want: closedBy(1000, binaryMsg([]byte("ab")))},
		{name: "§5.5.3 several pings: the last one answered", script: hostile.Script{
			hostile.Send(hostile.Ping([]byte("1")), hostile.Ping([]byte("2")), hostile.Ping([]byte("3"))),
			hostile.ExpectPongs([]byte("3"), []byte("1"), []byte("2")),
			hostile.Send(hostile.Close(1000, "bye")), hostile.ExpectCloseAndEOF(1000),
		}, want: closedBy(1000)},
		{name: "§5.5.2 ping after the server's close frame not answered", script: hostile.Script{
			hostile.SendEarlyFail(hostile.Close(1000, "bye"), hostile.Ping([]byte("late"))), hostile.ExpectCloseAndEOF(1000),
		}, want: closedBy(1000)},
	}
	runTable(t, table)
}

// manyHeaders returns n header lines "X-H<i>: <size bytes>".
func manyHeaders(n, size int) []string {
	h := make([]string, n)
	for i := range h {
		h[i] = fmt.Sprintf("X-H%d: %s", i, repeatStr("v", size))
	}
	return h
}
