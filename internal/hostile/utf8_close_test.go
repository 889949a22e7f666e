package hostile_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/netkit/websocket/internal/hostile"
)

// TestClientUTF8Conformance: §8.1 and §5.6 — text must be UTF-8; invalid sequences fail the
// connection with 1007 whether they sit in one frame or across fragments, and binary messages
// are not checked.
func TestClientUTF8Conformance(t *testing.T) {
	frag := func(parts ...string) []hostile.Frame {
		var fs []hostile.Frame
		for i, p := range parts {
			op := hostile.OpContinuation
			if i == 0 {
				op = hostile.OpText
			}
			fs = append(fs, hostile.Fragment(op, i == len(parts)-1, p))
		}
		return fs
	}
	long4 := "a" + strings.Repeat("𝄞", 17000) // 68001 bytes: code points straddle every buffer edge
	table := []scenario{
		{name: "§8.1 byte 0xFF in one frame", script: violation(1007, hostile.Text("ab\xffcd")), want: failed(1007)},
		{name: "§8.1 overlong 2-byte encoding C0 AF", script: violation(1007, hostile.Text("a\xc0\xafb")), want: failed(1007)},
		{name: "§8.1 overlong 3-byte encoding E0 80 AF", script: violation(1007, hostile.Text("\xe0\x80\xaf")), want: failed(1007)},
		{name: "§8.1 UTF-16 surrogate ED A0 80", script: violation(1007, hostile.Text("\xed\xa0\x80")), want: failed(1007)},
		{name: "§8.1 code point over U+10FFFF", script: violation(1007, hostile.Text("\xf4\x90\x80\x80")), want: failed(1007)},
		{name: "§8.1 5-byte sequence", script: violation(1007, hostile.Text("\xf8\x88\x80\x80\x80")), want: failed(1007)},
		{name: "§8.1 lone continuation byte", script: violation(1007, hostile.Text("\x80")), want: failed(1007)},
		{name: "§8.1 message ends inside a code point", script: violation(1007, hostile.Text("ok\xe2\x82")), want: failed(1007)},
		{name: "§8.1 valid message then an invalid one", script: violation(1007, hostile.Text("fine"), hostile.Text("\xff")), want: failed(1007, textMsg("fine"))},
		{name: "§8.1 invalid byte in the second fragment", script: violation(1007, frag("\xce\xba", "\xe1\xbd\xb9\xff")...), want: failed(1007)},
		{name: "§8.1 code point split across fragments, bad continuation", script: violation(1007, frag("\xe2\x82", "\x28")...), want: failed(1007)},
		{name: "§8.1 message ends inside a code point split across fragments", script: violation(1007, frag("\xf0\x9d", "\x84")...), want: failed(1007)},
		{name: "§8.1 invalid byte in a fragment after a ping", script: hostile.Script{
			hostile.SendEarlyFail(hostile.Fragment(hostile.OpText, false, "ok"), hostile.Ping(nil), hostile.Fragment(hostile.OpContinuation, true, "\xc0")),
			hostile.ExpectPong(nil), hostile.ExpectCloseAndEOF(1007)}, want: failed(1007)},
		{name: "§8.1 long text, 4-byte code points across every read boundary", script: byeAfter(hostile.Text(long4)),
			want: closedBy(1000, textMsg(long4)), modes: []hostile.Mode{hostile.Whole, hostile.Chunked}},
		{name: "§8.1 long text, invalid byte after 64 KiB", script: violation(1007, hostile.Text(long4+"\xff")),
			want: failed(1007), modes: []hostile.Mode{hostile.Whole, hostile.Chunked}},
		{name: "§8.1 long fragmented text, code points split at odd fragment sizes", script: byeAfter(frag(chop(long4, 4093)...)...),
			want: closedBy(1000, textMsg(long4)), modes: []hostile.Mode{hostile.Whole, hostile.Chunked}},
		{name: "§5.5 §8.1 code point split around a ping and a pong", script: hostile.Script{
			hostile.Send(hostile.Fragment(hostile.OpText, false, "\xe2\x82"), hostile.Ping([]byte("p")), hostile.Pong(nil),
				hostile.Fragment(hostile.OpContinuation, true, "\xac")),
			hostile.ExpectPong([]byte("p")), hostile.Send(hostile.Close(1000, "")), hostile.ExpectCloseAndEOF(1000)},
			want: closedBy(1000, textMsg("€"))},
		{name: "§7.1.5 close inside a code point of an unfinished message: close, not 1007", script: hostile.Script{
			hostile.Send(hostile.Fragment(hostile.OpText, false, "\xe2\x82"), hostile.Close(1000, "bye")), hostile.ExpectCloseAndEOF(1000)},
			want: closedBy(1000)},
		{name: "§5.6 binary message is not UTF-8 checked", script: byeAfter(hostile.Binary([]byte{0xff, 0xc0, 0xed, 0xa0, 0x80})),
			want: closedBy(1000, binaryMsg([]byte{0xff, 0xc0, 0xed, 0xa0, 0x80}))},
	}
	runTable(t, table)
}

// TestClientFailsAtFirstImpossibleByte: §8.1 "as soon as" — the server announces a text frame
// of 1000 bytes, sends only a prefix that ends in a byte no UTF-8 text can continue with, and
// holds back the rest. The client must send its 1007 close frame (read by the server while it
// still holds the rest) instead of waiting for the rest of the message.
func TestClientFailsAtFirstImpossibleByte(t *testing.T) {
	prefixes := []struct{ name, p string }{
		{"byte FF", "hello \xff"},
		{"byte C0 (never valid)", "abc\xc0"},
		{"surrogate at its second byte ED A0", "abc\xed\xa0"},
		{"over U+10FFFF at its second byte F4 90", "abc\xf4\x90"},
		{"overlong at its second byte E0 80", "abc\xe0\x80"},
		{"bad continuation after a lead byte", "abc\xe2\x28"},
	}
	var table []scenario
	for _, pf := range prefixes {
		header := hostile.Frame{Fin: true, Op: hostile.OpText, Length: u64(1000), Payload: []byte(pf.p)}
		table = append(table, scenario{
			name:   "§8.1 fail before the rest arrives: " + pf.name,
			script: hostile.Script{hostile.SendBytes(header.Bytes()), hostile.ExpectCloseAndEOF(1007)},
			want:   failed(1007),
		})
		// The same inside a fragmented message: a valid first fragment, then the bad one.
		first := hostile.Fragment(hostile.OpText, false, "first ")
		cont := hostile.Frame{Fin: true, Op: hostile.OpContinuation, Length: u64(1000), Payload: []byte(pf.p)}
		table = append(table, scenario{
			name:   "§8.1 fail before the rest of the fragment arrives: " + pf.name,
			script: hostile.Script{hostile.SendBytes(hostile.Join(first, cont)), hostile.ExpectCloseAndEOF(1007)},
			want:   failed(1007),
		})
	}
	runTable(t, table)
}

// TestClientValidUTF8SplitAtEveryByteBoundary: §5.4, §8.1 — valid text with code points of
// every length (1 to 4 bytes) and the empty message, split into two fragments at every byte
// boundary and into one fragment per byte, is delivered whole and unchanged.
func TestClientValidUTF8SplitAtEveryByteBoundary(t *testing.T) {
	samples := []struct{ name, s string }{
		{"empty", ""},
		{"1-byte code points", "a\x7f"},
		{"2-byte code points", "\u0080é\u07ff"},
		{"3-byte code points", "\u0800€\uffff"},
		{"4-byte code points", "\U00010000𝄞\U0010ffff"},
		{"mixed", "aé€𝄞z"},
	}
	var table []scenario
	for _, sm := range samples {
		var frames []hostile.Frame
		var msgs []string
		add := func(parts ...string) {
			for i, p := range parts {
				op := hostile.OpContinuation
				if i == 0 {
					op = hostile.OpText
				}
				frames = append(frames, hostile.Fragment(op, i == len(parts)-1, p))
			}
			msgs = append(msgs, textMsg(sm.s))
		}
		add(sm.s)     // one frame
		add(sm.s, "") // an empty last fragment
		for i := 0; i <= len(sm.s); i++ {
			add(sm.s[:i], sm.s[i:])
		}
		var each []string
		for i := range len(sm.s) {
			each = append(each, sm.s[i:i+1])
		}
		if len(each) > 1 {
			add(each...)
			// Every byte its own fragment, with an empty fragment between each two.
			var gaps []string
			for _, b := range each {
				gaps = append(gaps, b, "")
			}
			add(gaps...)
		}
		table = append(table, scenario{
			name:   fmt.Sprintf("§8.1 valid %s split at every byte (%d messages)", sm.name, len(msgs)),
			script: byeAfter(frames...),
			want:   closedBy(1000, msgs...),
		})
	}
	runTable(t, table)
}

// TestClientCloseConformance: §5.5.1, §7.1.5, §7.4 — the server's close frame: valid codes are
// reported with their reason and echoed; codes §7.4 forbids on the wire, a 1-byte payload and
// control frames over 125 bytes fail the connection with 1002; a reason that is not UTF-8 with
// 1007 (§5.5.1, §8.1); a connection that ends without a close frame is 1006.
func TestClientCloseConformance(t *testing.T) {
	var table []scenario
	valid := []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}
	for _, code := range valid {
		table = append(table, scenario{
			name: fmt.Sprintf("§7.4 valid code %d reported and echoed", code),
			script: hostile.Script{hostile.Send(hostile.Close(code, "why")),
				hostile.ExpectCloseAndEOF(code)},
			want: outcome{code: code, remote: true, reason: "why", checkReason: true},
		})
	}
	invalid := []uint16{0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}
	for _, code := range invalid {
		table = append(table, scenario{
			name:   fmt.Sprintf("§7.4 invalid code %d fails with 1002", code),
			script: violation(1002, hostile.Close(code, "why")),
			want:   failed(1002),
		})
	}
	reason123 := strings.Repeat("r", 120) + "€" // 123 bytes, the longest reason (§5.5)
	table = append(table,
		scenario{name: "§5.5.1 empty close payload reported as 1005, answered with 1000",
			script: hostile.Script{hostile.Send(hostile.CloseRaw(nil)), hostile.ExpectCloseAndEOF(1000)},
			want:   closedBy(1005)},
		scenario{name: "§5.5.1 1-byte close payload fails with 1002",
			script: violation(1002, hostile.CloseRaw([]byte{0x03})), want: failed(1002)},
		scenario{name: "§5.5.1 §8.1 close reason not UTF-8 fails with 1007",
			script: violation(1007, hostile.Close(1000, "bad \xff reason")), want: failed(1007)},
		scenario{name: "§5.5.1 close reason of 123 bytes delivered exactly",
			script: hostile.Script{hostile.Send(hostile.Close(4000, reason123)), hostile.ExpectCloseAndEOF(4000)},
			want:   outcome{code: 4000, remote: true, reason: reason123, checkReason: true}},
		scenario{name: "§5.4 §7.1.5 close in the middle of a fragmented message: partial message dropped",
			script: hostile.Script{hostile.Send(hostile.Fragment(hostile.OpText, false, "part"), hostile.Close(1001, "away")),
				hostile.ExpectCloseAndEOF(1001)},
			want: outcome{code: 1001, remote: true, reason: "away", checkReason: true}},
		scenario{name: "§1.4 data after the server's close frame is not delivered",
			script: hostile.Script{hostile.SendEarlyFail(hostile.Text("before"), hostile.Close(1000, "bye"), hostile.Text("after")),
				hostile.ExpectCloseAndEOF(1000)},
			want: closedBy(1000, textMsg("before"))},
		scenario{name: "§7.1.5 TCP closed without a close frame is 1006",
			script: hostile.Script{hostile.Send(hostile.Text("last")), hostile.CloseTCP()},
			want:   lost(textMsg("last"))},
		scenario{name: "§7.1.5 TCP closed in the middle of a frame is 1006",
			script: hostile.Script{hostile.SendBytes(hostile.Frame{Fin: true, Op: hostile.OpText, Length: u64(10), Payload: []byte("abc")}.Bytes()), hostile.CloseTCP()},
			want:   lost()},
		scenario{name: "§7.1.5 TCP closed in the middle of a frame header is 1006",
			script: hostile.Script{hostile.SendBytes([]byte{0x82, 0x7e, 0x01}), hostile.CloseTCP()},
			want:   lost()},
		scenario{name: "§7.1.5 TCP closed in the middle of a fragmented message is 1006",
			script: hostile.Script{hostile.Send(hostile.Fragment(hostile.OpText, false, "part")), hostile.CloseTCP()},
			want:   lost()},
	)
	runTable(t, table)
}

// chop cuts s into pieces of n bytes (the last may be shorter), ignoring code points.
func chop(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}
