package bench

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
	"github.com/netkit/websocket/frame"
)

var headerCases = []struct {
	name   string
	length int64
	masked bool
}{
	{"len=64/masked", 64, true},
	{"len=1KiB/unmasked", 1 << 10, false},
	{"len=1MiB/masked", 1 << 20, true},
}

// BenchmarkHeaderEncode compares writing one frame header into a reused buffer.
func BenchmarkHeaderEncode(b *testing.B) {
	for _, c := range headerCases {
		h := frame.Header{Fin: true, Op: frame.OpBinary, Masked: c.masked, Key: [4]byte{1, 2, 3, 4}, Length: c.length}
		gh := ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: c.masked, Mask: [4]byte{1, 2, 3, 4}, Length: c.length}
		var buf [frame.MaxHeaderSize]byte
		b.Run("impl=ours/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.Encode(buf[:])
			}
		})
		w := bytes.NewBuffer(make([]byte, 0, 64))
		b.Run("impl=gobwas/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				if err := ws.WriteHeader(w, gh); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHeaderDecode compares parsing one frame header from bytes in memory.
func BenchmarkHeaderDecode(b *testing.B) {
	for _, c := range headerCases {
		h := frame.Header{Fin: true, Op: frame.OpBinary, Masked: c.masked, Key: [4]byte{1, 2, 3, 4}, Length: c.length}
		wire := frame.AppendHeader(nil, &h)
		b.Run("impl=ours/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := frame.DecodeHeader(wire); err != nil {
					b.Fatal(err)
				}
			}
		})
		r := bytes.NewReader(wire)
		b.Run("impl=gobwas/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(wire)
				if _, err := ws.ReadHeader(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
