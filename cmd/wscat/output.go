package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/netkit/websocket/client"
)

// printer writes one line per event to stdout, as text or as JSON. The client delivers events
// one at a time, but the mutex keeps the lines whole whatever calls it.
type printer struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
	// raw (-r) prints message payloads only, one per line: text as it is (escaped as in the
	// event lines when rawEscape, stdout being a terminal), binary as lowercase hex, or with
	// rawBinary (--binary) as its bytes with no line ending. ERROR, an abnormal CLOSE and
	// PING/PONG go to diag (standard error) as "wscat: " lines; nothing else is printed.
	raw, rawBinary, rawEscape bool
	diag                      *lockedWriter
	buf                       []byte // the line written
	enc                       []byte // encoding/json's output, before appendJSONSafe copies it to buf
}

// maxHexBytes is how many bytes of a binary message a text MESSAGE line shows.
const maxHexBytes = 16

func (p *printer) headers(h client.ResponseHeaders) {
	if p.raw {
		return
	}
	m := map[string]string{}
	if md, ok := h.(client.MapData); ok {
		m = md
	}
	if p.json {
		p.writeJSON(struct {
			Event   string            `json:"event"`
			Headers map[string]string `json:"headers"`
		}{"HEADERRECEIVE", m})
		return
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	p.line(func(b []byte) []byte {
		b = append(b, "HEADERRECEIVE"...)
		for i, k := range names {
			if i == 0 {
				b = append(b, ' ')
			} else {
				b = append(b, "; "...)
			}
			b = appendEscaped(b, k)
			b = append(b, ": "...)
			b = appendEscaped(b, m[k])
		}
		return b
	})
}

func (p *printer) open(status map[uint32]string) {
	if p.raw {
		return
	}
	// The status map has one entry: {101: "Switching Protocols"}.
	var code uint32
	var text string
	for k, v := range status {
		code, text = k, v
	}
	if p.json {
		p.writeJSON(struct {
			Event      string `json:"event"`
			Status     uint32 `json:"status"`
			StatusText string `json:"statusText"`
		}{"OPEN", code, text})
		return
	}
	p.line(func(b []byte) []byte {
		b = append(b, "OPEN "...)
		b = strconv.AppendUint(b, uint64(code), 10)
		if text != "" {
			b = append(b, ' ')
			b = appendEscaped(b, text)
		}
		return b
	})
}

func (p *printer) message(m client.MessageData) {
	if p.raw {
		p.rawMessage(m)
		return
	}
	switch d := m.(type) {
	case client.StringData:
		if p.json {
			p.writeJSON(struct {
				Event string `json:"event"`
				Type  string `json:"type"`
				Data  string `json:"data"`
			}{"MESSAGE", "text", string(d)})
			return
		}
		p.line(func(b []byte) []byte {
			b = append(b, "MESSAGE "...)
			return appendEscaped(b, string(d))
		})
	case client.ArrayData:
		if p.json {
			p.writeJSON(struct {
				Event  string `json:"event"`
				Type   string `json:"type"`
				Length int    `json:"length"`
				Data   []byte `json:"data"` // base64
			}{"MESSAGE", "binary", len(d), nonNil(d)})
			return
		}
		p.line(func(b []byte) []byte { return appendBinary(append(b, "MESSAGE "...), d) })
	}
}

// nonNil makes an empty binary message encode as "" rather than null.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// rawMessage writes the payload of m for --raw.
func (p *printer) rawMessage(m client.MessageData) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch d := m.(type) {
	case client.StringData:
		if p.rawEscape {
			p.buf = appendEscaped(p.buf[:0], string(d))
		} else {
			p.buf = append(p.buf[:0], d...)
		}
		p.buf = append(p.buf, '\n')
	case client.ArrayData:
		if p.rawBinary {
			_, _ = p.w.Write(d)
			return
		}
		p.buf = append(hex.AppendEncode(p.buf[:0], d), '\n')
	default:
		return
	}
	_, _ = p.w.Write(p.buf)
}

// pingPong prints a ping or pong received (-P): "PING <hex of the payload>" or with --json
// {"event":"PING","data":"<base64>"}; with --raw on standard error.
func (p *printer) pingPong(name string, payload []byte) {
	if p.json {
		p.writeJSON(struct {
			Event string `json:"event"`
			Data  []byte `json:"data"` // base64
		}{name, nonNil(payload)})
		return
	}
	line := func(b []byte) []byte {
		b = append(b, name...)
		if len(payload) > 0 {
			b = append(b, ' ')
			b = hex.AppendEncode(b, payload)
		}
		return b
	}
	if p.raw {
		p.diag.printf("wscat: %s", line(nil))
		return
	}
	p.line(line)
}

func (p *printer) dataEnd() {
	if p.raw {
		return
	}
	if p.json {
		p.writeJSON(struct {
			Event string `json:"event"`
		}{"DATAEND"})
		return
	}
	p.line(func(b []byte) []byte { return append(b, "DATAEND"...) })
}

func (p *printer) close(r client.CloseResult) {
	if p.raw {
		if r.Code != 1000 && r.Code != 1001 && r.Code != 1005 {
			p.diag.printf("wscat: CLOSE %d %s", r.Code, appendEscaped(nil, r.Reason))
		}
		return
	}
	if p.json {
		p.writeJSON(struct {
			Event  string `json:"event"`
			Code   uint32 `json:"code"`
			Reason string `json:"reason"`
		}{"CLOSE", r.Code, r.Reason})
		return
	}
	p.line(func(b []byte) []byte {
		b = append(b, "CLOSE "...)
		b = strconv.AppendUint(b, uint64(r.Code), 10)
		if r.Reason != "" {
			b = append(b, ' ')
			b = appendEscaped(b, r.Reason)
		}
		return b
	})
}

func (p *printer) error(e *client.BusinessException) {
	var code int32
	msg := "unknown error"
	if e != nil {
		code = e.Code
		msg = e.Message
		if e.Err != nil {
			msg += ": " + e.Err.Error()
		}
	}
	if p.raw {
		p.diag.printf("wscat: ERROR %d %s", code, appendEscaped(nil, msg))
		return
	}
	if p.json {
		p.writeJSON(struct {
			Event   string `json:"event"`
			Code    int32  `json:"code"`
			Message string `json:"message"`
		}{"ERROR", code, msg})
		return
	}
	p.line(func(b []byte) []byte {
		b = append(b, "ERROR "...)
		b = strconv.AppendInt(b, int64(code), 10)
		b = append(b, ' ')
		return appendEscaped(b, msg)
	})
}

// line builds a line with f and writes it, newline included, in one Write. Write errors are
// ignored: with stdout gone there is nobody to tell.
func (p *printer) line(f func([]byte) []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(f(p.buf[:0]), '\n')
	_, _ = p.w.Write(p.buf)
}

// writeJSON writes v as one line of JSON, without HTML escaping.
func (p *printer) writeJSON(v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	bb := bytes.NewBuffer(p.enc[:0])
	enc := json.NewEncoder(bb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // cannot happen for these types
		return
	}
	p.enc = bb.Bytes()
	p.buf = appendJSONSafe(p.buf[:0], p.enc)
	_, _ = p.w.Write(p.buf) // Encode ends the line with '\n'
}

// appendJSONSafe appends the JSON text js with what encoding/json leaves raw and a terminal
// would act on escaped as \uXXXX: DEL, the C1 controls and the bidirectional controls (see
// terminalEscape). They occur only inside strings, where the escape means the same character,
// so the JSON stays valid and decodes to the same values. encoding/json itself escapes C0
// controls, U+2028, U+2029 and invalid UTF-8 (as U+FFFD).
func appendJSONSafe(b, js []byte) []byte {
	for i := 0; i < len(js); {
		r, n := rune(js[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(js[i:])
		}
		if r == 0x7f || terminalEscape(r) {
			b = appendU(b, r)
		} else {
			b = append(b, js[i:i+n]...)
		}
		i += n
	}
	return b
}

// appendEscaped appends s, a string the server chose, with every character a terminal would act
// on escaped, so that each event stays on one line and a server cannot move the cursor, change
// colours, retitle the window or reorder what is shown: \n, \r and \t by name, the other C0
// controls and DEL as \xNN, invalid UTF-8 byte by byte as \xNN, and the C1 controls
// (U+0080-U+009F), the bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
// U+2066-U+2069) and the line and paragraph separators (U+2028, U+2029) as \uXXXX. Printable
// text, backslashes included, is kept as it is.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c < 0x20 || c == 0x7f:
			b = append(b, `\x`...)
			b = hex.AppendEncode(b, []byte{c})
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				b = append(b, `\x`...)
				b = hex.AppendEncode(b, []byte{c})
			case terminalEscape(r):
				b = appendU(b, r)
			default:
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		i++
	}
	return b
}

// terminalEscape reports whether r, a character above ASCII, must not reach a terminal raw:
// a C1 control (U+0080-U+009F, which terminals may take as CSI, OSC and the like), a
// bidirectional control that reorders the text shown after it (U+061C, U+200E, U+200F,
// U+202A-U+202E, U+2066-U+2069), or a line or paragraph separator (U+2028, U+2029).
func terminalEscape(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r == 0x2028, r == 0x2029:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// appendU appends r (at most U+FFFF) as \uXXXX, lower-case hex.
func appendU(b []byte, r rune) []byte {
	const digits = "0123456789abcdef"
	return append(b, '\\', 'u', digits[r>>12&15], digits[r>>8&15], digits[r>>4&15], digits[r&15])
}

// appendBinary appends the event-line form of a binary message: "binary <length> bytes", the
// hex of its first maxHexBytes bytes, and how many more there are.
func appendBinary(b, d []byte) []byte {
	b = append(b, "binary "...)
	b = strconv.AppendInt(b, int64(len(d)), 10)
	b = append(b, " bytes"...)
	if len(d) > 0 {
		b = append(b, ' ')
		b = hex.AppendEncode(b, d[:min(len(d), maxHexBytes)])
	}
	if more := len(d) - maxHexBytes; more > 0 {
		b = append(b, " ... ("...)
		b = strconv.AppendInt(b, int64(more), 10)
		b = append(b, " more)"...)
	}
	return b
}
