// Package serial holds the building blocks of the facades' event delivery and of the send
// queue: a FIFO ring that keeps no array while empty (Ring, with a FreeList of minimum arrays
// that survives garbage collection), and a Queue that runs tasks one at a time, in order, on a
// goroutine that exists only while tasks are pending, or on a caller that may run them inline;
// and the copy-on-write List of callbacks each facade keeps per event type.
//
// It is the one place for this machinery: package conn (the send queue), package client (the
// seed's client facade) and package server (the platform's server facade) all use it. It
// knows nothing of WebSocket (RFC 6455) itself.
package serial

import "sync"

// RingMin is the size of the smallest backing array of a Ring; arrays of this size are kept
// on a FreeList, so that a ring that empties and fills again allocates nothing and an idle
// ring keeps no array.
const RingMin = 32

// Ring is a FIFO queue in a circular buffer: Push and Pop move no other element, so a queue
// that drains and fills again reuses its array. An empty Ring gives its array back to the
// FreeList (when it is of the minimum size) or drops it. The zero value is an empty ring. A
// Ring is not safe for concurrent use.
type Ring[T any] struct {
	buf  []T
	head int
	n    int
}

// Len returns the number of elements in r.
func (r *Ring[T]) Len() int { return r.n }

// Push appends v. A full ring takes a minimum array from pool (which may be nil: a new one) or
// doubles.
func (r *Ring[T]) Push(v T, pool *FreeList[T]) {
	if r.n == len(r.buf) {
		r.grow(pool)
	}
	i := r.head + r.n
	if i >= len(r.buf) {
		i -= len(r.buf)
	}
	r.buf[i] = v
	r.n++
}

func (r *Ring[T]) grow(pool *FreeList[T]) {
	if r.buf == nil {
		r.buf, r.head = pool.get()[:], 0
		return
	}
	b := make([]T, 2*len(r.buf))
	k := copy(b, r.buf[r.head:])
	copy(b[k:], r.buf[:r.head])
	r.buf, r.head = b, 0
}

// Peek returns the first element, which stays in r; r must not be empty. The pointer is
// valid until the next Push or Pop.
func (r *Ring[T]) Peek() *T { return &r.buf[r.head] }

// Pop removes and returns the first element; r must not be empty. The ring that empties
// gives its array to pool (which may be nil).
func (r *Ring[T]) Pop(pool *FreeList[T]) T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head++
	if r.head == len(r.buf) {
		r.head = 0
	}
	r.n--
	if r.n == 0 {
		r.release(pool)
	}
	return v
}

// release lets the array of an empty ring go.
func (r *Ring[T]) release(pool *FreeList[T]) {
	if len(r.buf) == RingMin && pool != nil {
		pool.put((*[RingMin]T)(r.buf))
	}
	r.buf, r.head = nil, 0
}

// FreeMax bounds the arrays a FreeList keeps.
const FreeMax = 64

// FreeList keeps the minimum arrays of the rings that emptied, for the next ring that fills.
// Unlike a sync.Pool it is not emptied by every garbage collection, which large messages make
// frequent (a pool then allocates its per-P table and new arrays again after each one). The
// zero value is an empty list; a nil *FreeList keeps nothing. It is safe for concurrent use.
type FreeList[T any] struct {
	mu   sync.Mutex
	list []*[RingMin]T
}

func (f *FreeList[T]) get() *[RingMin]T {
	if f == nil {
		return new([RingMin]T)
	}
	f.mu.Lock()
	if n := len(f.list); n > 0 {
		a := f.list[n-1]
		f.list[n-1] = nil
		f.list = f.list[:n-1]
		f.mu.Unlock()
		return a
	}
	f.mu.Unlock()
	return new([RingMin]T)
}

// put keeps a, which must hold only zero values, unless FreeMax arrays are kept already.
func (f *FreeList[T]) put(a *[RingMin]T) {
	f.mu.Lock()
	if len(f.list) < FreeMax {
		f.list = append(f.list, a)
	}
	f.mu.Unlock()
}
