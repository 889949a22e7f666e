package bench

import (
	"crypto/subtle"
	"testing"

	"github.com/gobwas/ws"
	"github.com/netkit/websocket/mask"
)

var maskSizes = []struct {
	name string
	n    int
}{
	{"16B", 16}, {"128B", 128}, {"1KiB", 1 << 10}, {"16KiB", 16 << 10}, {"1MiB", 1 << 20},
}

// BenchmarkMask compares in-place masking: ours, gobwas/ws Cipher, and crypto/subtle.XORBytes
// (plain XOR against a pre-expanded key: the SIMD memory-speed reference).
func BenchmarkMask(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, s := range maskSizes {
		buf := make([]byte, s.n)
		keys := make([]byte, s.n)
		for i := range keys {
			keys[i] = key[i&3]
		}
		b.Run("impl=ours/size="+s.name, func(b *testing.B) {
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				mask.Mask(buf, key, 0)
			}
		})
		b.Run("impl=gobwas/size="+s.name, func(b *testing.B) {
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				ws.Cipher(buf, key, 0)
			}
		})
		b.Run("impl=xorbytes/size="+s.name, func(b *testing.B) {
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				subtle.XORBytes(buf, buf, keys)
			}
		})
	}
}

// BenchmarkCopyMask compares the client write path's masking step: ours copies and masks in
// one pass (mask.Copy); gobwas/ws must copy, then Cipher the copy.
func BenchmarkCopyMask(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, s := range maskSizes {
		src := make([]byte, s.n)
		dst := make([]byte, s.n)
		b.Run("impl=ours/size="+s.name, func(b *testing.B) {
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				mask.Copy(dst, src, key, 0)
			}
		})
		b.Run("impl=gobwas/size="+s.name, func(b *testing.B) {
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				copy(dst, src)
				ws.Cipher(dst, key, 0)
			}
		})
	}
}
