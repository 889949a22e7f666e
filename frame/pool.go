package frame

import (
	"math/bits"
	"sync"
	"sync/atomic"
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

// freeList is a bounded set of objects, a slot each, in front of a sync.Pool; alloc makes a
// new object when both are empty. The slots are taken and filled with compare-and-swap: no
// lock, and no call below get or put when a slot serves, which matters because a Reader takes
// its buffer at the bottom of the stack of a goroutine waiting for input. A get and put costs
// 25 ns alone and 73 ns with eight goroutines per P contending on 2 cores
// (BenchmarkBufferPool); a mutex-protected slice cost 35 and 280 ns, and a buffered channel 49
// and 86 ns, its receive path making an idle facade connection's reader need a 4 KiB stack
// instead of 2 KiB. The pool stores pointers so that Put does not allocate. Use newFreeList.
type freeList[T any] struct {
	slots []atomic.Pointer[T]
	alloc func() *T
	pool  sync.Pool
}

// newFreeList returns a freeList that keeps up to max objects across garbage collections.
func newFreeList[T any](max int, alloc func() *T) *freeList[T] {
	return &freeList[T]{slots: make([]atomic.Pointer[T], max), alloc: alloc}
}

// get takes an object from a slot, else from the pool, and allocates one when both are empty.
func (f *freeList[T]) get() *T {
	for i := range f.slots {
		if v := f.slots[i].Load(); v != nil && f.slots[i].CompareAndSwap(v, nil) {
			return v
		}
	}
	if v, _ := f.pool.Get().(*T); v != nil {
		return v
	}
	return f.alloc()
}

// put keeps v in an empty slot, or in the pool when every slot is full.
func (f *freeList[T]) put(v *T) {
	for i := range f.slots {
		if f.slots[i].Load() == nil && f.slots[i].CompareAndSwap(nil, v) {
			return
		}
	}
	f.pool.Put(v)
}

// kept returns how many objects the slots hold.
func (f *freeList[T]) kept() int {
	n := 0
	for i := range f.slots {
		if f.slots[i].Load() != nil {
			n++
		}
	}
	return n
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
