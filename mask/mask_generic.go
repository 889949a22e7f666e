package mask

import (
	"encoding/binary"
	"math/bits"
)

// rotKey returns key as a little-endian uint32 rotated so that its low byte is key[pos&3]:
// the key as seen by a slice that starts at key position pos. Masking then proceeds in whole
// words with this one value, since every word-sized step keeps the phase.
func rotKey(key [4]byte, pos int) uint32 {
	return bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(pos&3))
}

// maskGeneric is the portable Mask: 32 bytes per iteration as four 64-bit XORs, then single
// words, a half word and bytes. encoding/binary compiles to plain unaligned loads and stores
// on the architectures that allow them.
func maskGeneric(b []byte, key [4]byte, pos int) int {
	n := len(b)
	k := rotKey(key, pos)
	k64 := uint64(k)<<32 | uint64(k)
	for len(b) >= 32 {
		w := b[:32:32]
		binary.LittleEndian.PutUint64(w[0:], binary.LittleEndian.Uint64(w[0:])^k64)
		binary.LittleEndian.PutUint64(w[8:], binary.LittleEndian.Uint64(w[8:])^k64)
		binary.LittleEndian.PutUint64(w[16:], binary.LittleEndian.Uint64(w[16:])^k64)
		binary.LittleEndian.PutUint64(w[24:], binary.LittleEndian.Uint64(w[24:])^k64)
		b = b[32:]
	}
	maskShort(b, k)
	return (pos + n) & 3
}

// maskShort XORs b, a short slice or a tail, with the repeated key k whose low byte applies to
// b[0].
func maskShort(b []byte, k uint32) {
	k64 := uint64(k)<<32 | uint64(k)
	n, i := len(b), 0
	for ; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k64)
	}
	if i+4 <= n {
		binary.LittleEndian.PutUint32(b[i:], binary.LittleEndian.Uint32(b[i:])^k)
		i += 4
	}
	for ; i < n; i++ {
		b[i] ^= byte(k)
		k >>= 8
	}
}

// copyGeneric is the portable Copy; see maskGeneric.
func copyGeneric(dst, src []byte, key [4]byte, pos int) int {
	n := len(src)
	dst = dst[:n]
	k := rotKey(key, pos)
	k64 := uint64(k)<<32 | uint64(k)
	for len(src) >= 32 && len(dst) >= 32 {
		s, d := src[:32:32], dst[:32:32]
		binary.LittleEndian.PutUint64(d[0:], binary.LittleEndian.Uint64(s[0:])^k64)
		binary.LittleEndian.PutUint64(d[8:], binary.LittleEndian.Uint64(s[8:])^k64)
		binary.LittleEndian.PutUint64(d[16:], binary.LittleEndian.Uint64(s[16:])^k64)
		binary.LittleEndian.PutUint64(d[24:], binary.LittleEndian.Uint64(s[24:])^k64)
		src, dst = src[32:], dst[32:]
	}
	copyShort(dst, src, k)
	return (pos + n) & 3
}

// copyShort writes src, a short slice or a tail, XOR the repeated key k into dst[:len(src)].
func copyShort(dst, src []byte, k uint32) {
	k64 := uint64(k)<<32 | uint64(k)
	n, i := len(src), 0
	dst = dst[:n]
	for ; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(src[i:])^k64)
	}
	if i+4 <= n {
		binary.LittleEndian.PutUint32(dst[i:], binary.LittleEndian.Uint32(src[i:])^k)
		i += 4
	}
	for ; i < n; i++ {
		dst[i] = src[i] ^ byte(k)
		k >>= 8
	}
}
