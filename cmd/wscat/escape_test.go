package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/internal/hostile"
)

// hostileStrings are server-chosen strings a terminal would act on: each C0 control (tab
// included) and DEL, C1 controls (CSI U+009B, OSC U+009D, NEL U+0085, ST U+009C), every
// bidirectional control, the line and paragraph separators, and an invalid byte, each with
// the escape the text output must show.
var hostileStrings = []struct{ in, want string }{
	{"a\tb", `a\tb`},
	{"a\nb\rc", `a\nb\rc`},
	{"\x1b]0;owned\x07", `\x1b]0;owned\x07`},
	{"\x00\x01\x08\x0b\x0c\x1f\x7f", `\x00\x01\x08\x0b\x0c\x1f\x7f`},
	{"csi \u009b31m red", `csi \u009b31m red`},
	{"osc \u009d0;title\u009c", `osc \u009d0;title\u009c`},
	{"c1 \u0080 \u0085 \u009f", `c1 \u0080 \u0085 \u009f`},
	{"evil\u202etxt.exe", `evil\u202etxt.exe`},
	{"\u202a\u202b\u202c\u202d\u202e", `\u202a\u202b\u202c\u202d\u202e`},
	{"\u2066\u2067\u2068\u2069", `\u2066\u2067\u2068\u2069`},
	{"\u200e\u200f\u061c", `\u200e\u200f\u061c`},
	{"\u2028\u2029", `\u2028\u2029`},
	{"bad \xc2 byte", `bad \xc2 byte`},
	{"ok: ünïcode ✓ \u00a0 \\x41", "ok: ünïcode ✓ \u00a0 \\x41"},
}

// rawTerminalControl returns the first character of out (a line without its newline) that a
// terminal would act on, or -1: C0, DEL, C1, a bidirectional control, U+2028 or U+2029 (listed
// here apart from the code under test).
func rawTerminalControl(out string) rune {
	for _, r := range out {
		switch {
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f, r == 0x061c, r == 0x200e, r == 0x200f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029:
			return r
		}
	}
	return -1
}

// TestEveryOutputPathEscapesServerControls sends each hostile string through every printer
// path that shows server-chosen text (header name and value, status text, text message, close
// reason, error text quoting the server): the text line holds no raw control and shows the
// escape; the --json line is valid JSON, holds no raw C1 or bidi control either, and decodes
// to the exact string.
func TestEveryOutputPathEscapesServerControls(t *testing.T) {
	paths := []struct {
		name   string
		emit   func(p *printer, s string)
		prefix string                   // text line before the string
		field  func(map[string]any) any // the string in the decoded JSON
	}{
		{"header value", func(p *printer, s string) { p.headers(client.MapData{"X": s}) }, "HEADERRECEIVE X: ",
			func(m map[string]any) any { return m["headers"].(map[string]any)["X"] }},
		{"header name", func(p *printer, s string) { p.headers(client.MapData{s: "v"}) }, "HEADERRECEIVE ",
			func(m map[string]any) any {
				for k := range m["headers"].(map[string]any) {
					return k
				}
				return nil
			}},
		{"status text", func(p *printer, s string) { p.open(map[uint32]string{101: s}) }, "OPEN 101 ",
			func(m map[string]any) any { return m["statusText"] }},
		{"text message", func(p *printer, s string) { p.message(client.StringData(s)) }, "MESSAGE ",
			func(m map[string]any) any { return m["data"] }},
		{"close reason", func(p *printer, s string) { p.close(client.CloseResult{Code: 4000, Reason: s}) }, "CLOSE 4000 ",
			func(m map[string]any) any { return m["reason"] }},
		{"error quoting the server", func(p *printer, s string) {
			p.error(&client.BusinessException{Code: 2302999, Message: "other error", Err: errors.New(s)})
		}, "ERROR 2302999 other error: ", func(m map[string]any) any { return strings.TrimPrefix(m["message"].(string), "other error: ") }},
	}
	for _, path := range paths {
		// One printer per format for all strings, as in a run: its buffers are reused.
		var text, js bytes.Buffer
		tp, jp := &printer{w: &text}, &printer{w: &js, json: true}
		for _, h := range hostileStrings {
			text.Reset()
			js.Reset()
			path.emit(tp, h.in)
			path.emit(jp, h.in)

			line, ok := strings.CutSuffix(text.String(), "\n")
			if !ok || strings.Contains(line, "\n") {
				t.Errorf("%s %q: not one line: %q", path.name, h.in, text.String())
			}
			if r := rawTerminalControl(line); r >= 0 {
				t.Errorf("%s %q: raw U+%04X in %q", path.name, h.in, r, line)
			}
			if want := path.prefix + h.want; path.name != "header name" && line != want {
				t.Errorf("%s: %q printed as %q, want %q", path.name, h.in, line, want)
			} else if path.name == "header name" && line != path.prefix+h.want+": v" {
				t.Errorf("%s: %q printed as %q, want %q", path.name, h.in, line, path.prefix+h.want+": v")
			}

			jl := strings.TrimSuffix(js.String(), "\n")
			if !json.Valid([]byte(jl)) || strings.Contains(jl, "\n") {
				t.Fatalf("%s %q: invalid JSON line %q", path.name, h.in, js.String())
			}
			if r := rawTerminalControl(jl); r >= 0 {
				t.Errorf("%s %q: raw U+%04X in JSON %q", path.name, h.in, r, jl)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(jl), &m); err != nil {
				t.Fatal(err)
			}
			want := h.in
			if !utf8.ValidString(want) {
				want = strings.ToValidUTF8(want, "\uFFFD") // encoding/json's replacement
			}
			if got := path.field(m); got != want {
				t.Errorf("%s %q: JSON decodes to %q", path.name, h.in, got)
			}
		}
	}
}

// TestBinaryDisplayMarksTruncation shows a binary message of up to 16 bytes whole and a longer
// one cut at 16 bytes with the number of bytes left out.
func TestBinaryDisplayMarksTruncation(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{
		{0, "MESSAGE binary 0 bytes"},
		{1, "MESSAGE binary 1 bytes 00"},
		{16, "MESSAGE binary 16 bytes 000102030405060708090a0b0c0d0e0f"},
		{17, "MESSAGE binary 17 bytes 000102030405060708090a0b0c0d0e0f ... (1 more)"},
		{20, "MESSAGE binary 20 bytes 000102030405060708090a0b0c0d0e0f ... (4 more)"},
		{1 << 20, "MESSAGE binary 1048576 bytes 000102030405060708090a0b0c0d0e0f ... (1048560 more)"},
	} {
		d := make([]byte, tt.n)
		for i := range d {
			d[i] = byte(i)
		}
		var text bytes.Buffer
		(&printer{w: &text}).message(client.ArrayData(d))
		if got := strings.TrimSuffix(text.String(), "\n"); got != tt.want {
			t.Errorf("%d bytes: %q, want %q", tt.n, got, tt.want)
		}
	}
}

// TestRunEscapesWhatARealServerSends runs wscat against a scripted server whose response
// header, text message, binary message and close reason carry terminal controls: every line on
// stdout shows them escaped, with and without --json.
func TestRunEscapesWhatARealServerSends(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		srv, err := hostile.Start(hostile.Accept("X-Evil: a\u009b31m\u202eb\u2066c"),
			hostile.Script{
				hostile.Send(hostile.Text("hi\t\x1b[2J\u009d0;pwned\u009c\u202egnp.exe"),
					hostile.Binary(bytes.Repeat([]byte{0x1b}, 20)),
					hostile.Close(4000, "bye\u0085\u200f\x07")),
				hostile.ExpectClose(4000),
			}, hostile.Whole, 1)
		if err != nil {
			t.Fatal(err)
		}
		stdin, stdinW := io.Pipe() // open until the end: wscat ends with the server's close
		var out, errb syncBuffer
		args := []string{"--ping-interval", "0", srv.URL}
		if asJSON {
			args = append([]string{"--json"}, args...)
		}
		code := run(args, stdin, &out, &errb)
		stdinW.Close()
		if err := srv.Wait(5 * time.Second); err != nil {
			t.Error(err)
		}
		srv.Stop()
		if code != 1 {
			t.Errorf("json=%v: exit %d, want 1 (close 4000)\n%s%s", asJSON, code, out.String(), errb.String())
		}
		lines := out.lines()
		for _, l := range lines {
			if r := rawTerminalControl(l); r >= 0 {
				t.Errorf("json=%v: raw U+%04X in %q", asJSON, r, l)
			}
			if asJSON && !json.Valid([]byte(l)) {
				t.Errorf("invalid JSON line %q", l)
			}
		}
		all := strings.Join(lines, "\n")
		want := []string{`X-Evil: a\u009b31m\u202eb\u2066c`, `MESSAGE hi\t\x1b[2J\u009d0;pwned\u009c\u202egnp.exe`,
			"MESSAGE binary 20 bytes " + strings.Repeat("1b", 16) + " ... (4 more)", `CLOSE 4000 bye\u0085\u200f\x07`}
		if asJSON {
			want = []string{`"X-Evil":"a\u009b31m\u202eb\u2066c"`, `"data":"hi\t\u001b[2J\u009d0;pwned\u009c\u202egnp.exe"`,
				`"length":20`, `"reason":"bye\u0085\u200f\u0007"`}
		}
		for _, w := range want {
			if !strings.Contains(all, w) {
				t.Errorf("json=%v: output lacks %s:\n%s", asJSON, w, all)
			}
		}
	}
}
