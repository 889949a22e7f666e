package frame

import (
	"math/bits"
	"sync"
)

// Buffer pools. Readers and Writers borrow their buffers per frame and hand them back, so an
// idle connection holds none. Each size class (a power of two, MinBufferSize to MaxBufferSize)
// has a freeList: a small bounded stack of buffers in front of a sync.Pool.
//
// A sync.Pool alone is emptied by garbage collection (over two cycles), and large messages make
// collections frequent: reading 1 MiB messages the heap doubles every message or two, and after
// each collection the pool allocates its per-P table and new buffers again, one to three
// allocations per cycle. The stack survives collections, so a connection that keeps cycling
// its few buffers allocates nothing; the bound (freeMax buffers and freeBytes per class) keeps
// what the process holds forever small. Buffers beyond it go to the sync.Pool, which absorbs
// bursts of many busy connections and gives the memory back to the collector when the burst
// is over.

const (
	minBufShift = 8  // log2(MinBufferSize)
	maxBufShift = 20 // log2(MaxBufferSize)
)

// Bounds of a size class's free list: at most freeMax buffers, and at most freeBytes bytes of
// them, but at least one buffer (the 1 MiB class keeps one). All classes together keep at most
// about 5 MiB.
const (
	freeMax   = 64
	freeBytes = 512 << 10
)

// freeList is a LIFO stack of at most max objects, protected by a mutex, in front of a
// sync.Pool; alloc makes a new object when both are empty. The pool stores pointers so that
// Put does not allocate. The zero value is not usable: max and alloc must be set.
type freeList[T any] struct {
	mu    sync.Mutex
	list  []*T // len <= max; cap max, allocated on the first put
	max   int
	alloc func() *T
	pool  sync.Pool
}

// get pops an object, falls back to the pool, and allocates one when both are empty.
func (f *freeList[T]) get() *T {
	f.mu.Lock()
	if n := len(f.list); n > 0 {
		v := f.list[n-1]
		f.list[n-1] = nil
		f.list = f.list[:n-1]
		f.mu.Unlock()
		return v
	}
	f.mu.Unlock()
	if v, _ := f.pool.Get().(*T); v != nil {
		return v
	}
	return f.alloc()
}

// put pushes v unless the stack is full, in which case it goes to the pool.
func (f *freeList[T]) put(v *T) {
	f.mu.Lock()
	if len(f.list) < f.max {
		if f.list == nil {
			f.list = make([]*T, 0, f.max)
		}
		f.list = append(f.list, v)
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	f.pool.Put(v)
}

// bufPools holds one freeList per size class, MinBufferSize to MaxBufferSize.
var bufPools [maxBufShift - minBufShift + 1]freeList[[]byte]

func init() {
	for i := range bufPools {
		size := MinBufferSize << i
		bufPools[i].max = max(1, min(freeMax, freeBytes/size))
		bufPools[i].alloc = func() *[]byte {
			b := make([]byte, size)
			return &b
		}
	}
}

// bufSize returns the size class for a requested buffer size.
func bufSize(size int) int {
	switch {
	case size <= 0:
		size = DefaultBufferSize
	case size < MinBufferSize:
		size = MinBufferSize
	case size > MaxBufferSize:
		size = MaxBufferSize
	}
	return 1 << bits.Len(uint(size-1))
}

// sizeClass returns the index in bufPools of a buffer of n bytes, or -1 when n is not the size
// of a class.
func sizeClass(n int) int {
	if n < MinBufferSize || n > MaxBufferSize || n&(n-1) != 0 {
		return -1
	}
	return bits.Len(uint(n)) - 1 - minBufShift
}

// getBuf takes a buffer of exactly size bytes (a value bufSize returned) from its pool. It
// allocates only when the class's free list and sync.Pool are both empty.
func getBuf(size int) *[]byte {
	return bufPools[sizeClass(size)].get()
}

// putBuf returns a buffer taken with getBuf to its pool. A buffer whose length is not that of
// a size class is dropped.
func putBuf(b *[]byte) {
	if c := sizeClass(len(*b)); c >= 0 {
		bufPools[c].put(b)
	}
}

// GetBuffer takes a buffer of the size class of size (rounded as NewReader rounds it) from the
// pool that Readers and Writers share. It is for a BufferSource, which hands the buffer to a
// Reader; PutBuffer gives back one that was not handed over.
func GetBuffer(size int) *[]byte { return getBuf(bufSize(size)) }

// PutBuffer returns a buffer taken with GetBuffer to its pool. The caller must not use it
// afterwards. A buffer of another length is dropped.
func PutBuffer(b *[]byte) { putBuf(b) }
