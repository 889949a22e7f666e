package frame

import (
	"math/bits"
	"sync"
)

// Buffer pools. Readers and Writers borrow their buffers per frame and hand them back, so an
// idle connection holds none. Each size class (a power of two, MinBufferSize to MaxBufferSize)
// has a freeList: a small bounded list of buffers in front of a sync.Pool.
//
// A sync.Pool alone is emptied by garbage collection (over two cycles), and large messages make
// collections frequent: reading 1 MiB messages the heap doubles every message or two, and after
// each collection the pool allocates its per-P table and new buffers again, one to three
// allocations per cycle. The list survives collections, so a connection that keeps cycling
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

// freeList is a buffered channel of at most cap(free) objects in front of a sync.Pool; alloc
// makes a new object when both are empty. A channel rather than a mutex-protected slice: it
// costs a little more alone (49 against 35 ns a get and put) but far less when goroutines on
// several Ps contend for it (86 against 280 ns in BenchmarkBufferPool/parallel, 2 cores). The
// pool stores pointers so that Put does not allocate. Use newFreeList.
type freeList[T any] struct {
	free  chan *T
	alloc func() *T
	pool  sync.Pool
}

// newFreeList returns a freeList that keeps up to max objects across garbage collections.
func newFreeList[T any](max int, alloc func() *T) *freeList[T] {
	return &freeList[T]{free: make(chan *T, max), alloc: alloc}
}

// get takes an object from the free list, else from the pool, and allocates one when both are
// empty.
func (f *freeList[T]) get() *T {
	select {
	case v := <-f.free:
		return v
	default:
	}
	if v, _ := f.pool.Get().(*T); v != nil {
		return v
	}
	return f.alloc()
}

// put keeps v in the free list unless it is full, in which case v goes to the pool.
func (f *freeList[T]) put(v *T) {
	select {
	case f.free <- v:
	default:
		f.pool.Put(v)
	}
}

// bufPools holds one freeList per size class, MinBufferSize to MaxBufferSize.
var bufPools = func() (p [maxBufShift - minBufShift + 1]*freeList[[]byte]) {
	for i := range p {
		size := MinBufferSize << i
		p[i] = newFreeList(max(1, min(freeMax, freeBytes/size)), func() *[]byte {
			b := make([]byte, size)
			return &b
		})
	}
	return p
}()

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
