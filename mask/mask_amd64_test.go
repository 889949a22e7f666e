//go:build !purego

package mask

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// kernel returns the dispatching functions with useAVX2 forced to avx2 during each call.
// Tests using it must not run in parallel.
func kernel(name string, avx2 bool) impl {
	return impl{
		name: name,
		mask: func(b []byte, key [4]byte, pos int) int {
			saved := useAVX2
			useAVX2 = avx2
			defer func() { useAVX2 = saved }()
			return maskBytes(b, key, pos)
		},
		copy: func(dst, src []byte, key [4]byte, pos int) int {
			saved := useAVX2
			useAVX2 = avx2
			defer func() { useAVX2 = saved }()
			return copyBytes(dst, src, key, pos)
		},
	}
}

func archImpls() []impl {
	ims := []impl{kernel("sse2", false)}
	if cpu.X86.HasAVX2 {
		ims = append(ims, kernel("avx2", true))
	}
	return ims
}

// BenchmarkMaskSSE2 measures Mask with the SSE2 kernel that amd64 CPUs without AVX2 run.
func BenchmarkMaskSSE2(b *testing.B) {
	saved := useAVX2
	useAVX2 = false
	defer func() { useAVX2 = saved }()
	BenchmarkMask(b)
}

// BenchmarkCopySSE2 measures Copy with the SSE2 kernel.
func BenchmarkCopySSE2(b *testing.B) {
	saved := useAVX2
	useAVX2 = false
	defer func() { useAVX2 = saved }()
	BenchmarkCopy(b)
}
