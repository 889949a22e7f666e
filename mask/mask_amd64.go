//go:build !purego

package mask

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// useAVX2 selects the AVX2 kernel; otherwise the SSE2 one (SSE2 is part of amd64). Tests switch
// it off to cover the SSE2 path on AVX2 machines.
var useAVX2 = cpu.X86.HasAVX2

// minVector is the shortest input handed to a vector kernel. Below it, up to seven 64-bit XORs
// inline in Go cost less than the call into assembly (measured on AMD Zen 3: about 5-6 ns for
// any length up to 63 bytes).
const minVector = 64

// xorAVX2 writes src XOR the 4-byte key k (little-endian, repeated) into dst for n bytes,
// n > 0 and a multiple of 16. dst and src are equal or do not overlap.
//
//go:noescape
func xorAVX2(dst, src *byte, n int, k uint32)

// xorSSE2 is xorAVX2 with 16-byte SSE2 vectors.
//
//go:noescape
func xorSSE2(dst, src *byte, n int, k uint32)

// maskBytes hands the whole 16-byte blocks of inputs of minVector bytes or more to a vector
// kernel and masks the rest (all of a short input, or the tail of fewer than 16 bytes after
// the blocks, which starts at the same key phase) inline: 8, 4, 2 and 1 bytes at a time.
//
// The inline part goes through unsafe to skip the bounds checks of encoding/binary, which
// cost as much as the work on these short runs: amd64 allows unaligned loads and stores, every
// access is within b, and no pointer past the end of b is formed.
func maskBytes(b []byte, key [4]byte, pos int) int {
	n := len(b)
	k := rotKey(key, pos)
	p := unsafe.Pointer(unsafe.SliceData(b))
	i := 0
	if n >= minVector {
		i = n &^ 15
		if useAVX2 {
			xorAVX2((*byte)(p), (*byte)(p), i, k)
		} else {
			xorSSE2((*byte)(p), (*byte)(p), i, k)
		}
	}
	k64 := uint64(k)<<32 | uint64(k)
	for ; i+8 <= n; i += 8 {
		*(*uint64)(unsafe.Add(p, i)) ^= k64
	}
	if i+4 <= n {
		*(*uint32)(unsafe.Add(p, i)) ^= k
		i += 4
	}
	if i+2 <= n {
		*(*uint16)(unsafe.Add(p, i)) ^= uint16(k)
		k >>= 16
		i += 2
	}
	if i < n {
		*(*byte)(unsafe.Add(p, i)) ^= byte(k)
	}
	return (pos + n) & 3
}

// copyBytes is maskBytes for Copy. The slicing of dst to len(src) comes first, so a short dst
// panics before anything is written.
func copyBytes(dst, src []byte, key [4]byte, pos int) int {
	n := len(src)
	dst = dst[:n]
	k := rotKey(key, pos)
	d, s := unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(src))
	i := 0
	if n >= minVector {
		i = n &^ 15
		if useAVX2 {
			xorAVX2((*byte)(d), (*byte)(s), i, k)
		} else {
			xorSSE2((*byte)(d), (*byte)(s), i, k)
		}
	}
	k64 := uint64(k)<<32 | uint64(k)
	for ; i+8 <= n; i += 8 {
		*(*uint64)(unsafe.Add(d, i)) = *(*uint64)(unsafe.Add(s, i)) ^ k64
	}
	if i+4 <= n {
		*(*uint32)(unsafe.Add(d, i)) = *(*uint32)(unsafe.Add(s, i)) ^ k
		i += 4
	}
	if i+2 <= n {
		*(*uint16)(unsafe.Add(d, i)) = *(*uint16)(unsafe.Add(s, i)) ^ uint16(k)
		k >>= 16
		i += 2
	}
	if i < n {
		*(*byte)(unsafe.Add(d, i)) = *(*byte)(unsafe.Add(s, i)) ^ byte(k)
	}
	return (pos + n) & 3
}
