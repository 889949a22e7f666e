package frame

import (
	"bytes"
	"testing"
)

func TestMessageBufferedPeeksForAWholeMessage(t *testing.T) {
	frameOf := func(fin bool, op Opcode, n int) []byte {
		h := Header{Fin: fin, Op: op, Length: int64(n)}
		return append(AppendHeader(nil, &h), make([]byte, n)...)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	data := frameOf(true, OpBinary, 100)
	ping := frameOf(true, OpPing, 5)
	first := frameOf(false, OpText, 10)
	last := frameOf(true, OpContinuation, 10)
	closeF := frameOf(true, OpClose, 2)
	var pings [][]byte
	for range maxScan {
		pings = append(pings, ping)
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want bool
	}{
		{"nothing", nil, false},
		{"one byte of a header", data[:1], false},
		{"header without all its payload", data[:50], false},
		{"a whole message", data, true},
		{"a whole message and part of the next", cat(data, data[:3]), true},
		{"a ping, then a whole message", cat(ping, data), true},
		{"a ping only", ping, false},
		{"a ping, then part of a message", cat(ping, data[:10]), false},
		{"first fragment only", first, false},
		{"both fragments", cat(first, ping, last), true},
		{"a close frame", closeF, true},
		{"a header that fails decoding", []byte{0x82, 126, 0, 5}, true},
		{"more control frames than it looks at", cat(cat(pings...), data), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tc.in), RoleClient, 4096)
			if len(tc.in) > 0 {
				if err := r.fill(len(tc.in)); err != nil {
					t.Fatal(err)
				}
			}
			if got := r.MessageBuffered(); got != tc.want {
				t.Errorf("MessageBuffered() = %v, want %v", got, tc.want)
			}
			if r.Buffered() != len(tc.in) {
				t.Errorf("MessageBuffered consumed input: %d bytes buffered, want %d", r.Buffered(), len(tc.in))
			}
			if allocs := testing.AllocsPerRun(10, func() { r.MessageBuffered() }); allocs != 0 {
				t.Errorf("MessageBuffered allocates %.0f times", allocs)
			}
		})
	}
	t.Run("in the middle of a frame", func(t *testing.T) {
		r := NewReader(bytes.NewReader(cat(data, data)), RoleClient, 4096)
		if _, err := r.NextFrame(); err != nil {
			t.Fatal(err)
		}
		if r.MessageBuffered() {
			t.Error("MessageBuffered() = true with a payload being read")
		}
	})
}
