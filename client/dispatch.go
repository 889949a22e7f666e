package client

import (
	"sync"
	"sync/atomic"
)

// ringMin is the size of the smallest backing array of a ring; arrays of this size are
// pooled, so that a queue that empties and fills again allocates nothing and an idle
// connection keeps no array.
const ringMin = 32

// ring is a FIFO queue in a circular buffer: push and pop move no other element, so a queue
// that drains and fills again reuses its array. An empty ring gives its array back to pool
// (when it is of the pooled size) or drops it.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

func (r *ring[T]) len() int { return r.n }

func (r *ring[T]) push(v T, pool *freeList[T]) {
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

func (r *ring[T]) grow(pool *freeList[T]) {
	if r.buf == nil {
		r.buf, r.head = pool.get()[:], 0
		return
	}
	b := make([]T, 2*len(r.buf))
	k := copy(b, r.buf[r.head:])
	copy(b[k:], r.buf[:r.head])
	r.buf, r.head = b, 0
}

// pop removes and returns the first element; the ring must not be empty.
func (r *ring[T]) pop(pool *freeList[T]) T {
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
func (r *ring[T]) release(pool *freeList[T]) {
	if len(r.buf) == ringMin {
		pool.put((*[ringMin]T)(r.buf))
	}
	r.buf, r.head = nil, 0
}

// freeMax bounds the arrays a freeList keeps.
const freeMax = 64

// freeList keeps the minimum arrays of the rings that emptied, for the next ring that fills.
// Unlike a sync.Pool it is not emptied by every garbage collection, which large messages make
// frequent (a pool then allocates its per-P table and new arrays again after each one).
type freeList[T any] struct {
	mu   sync.Mutex
	list []*[ringMin]T
}

func (f *freeList[T]) get() *[ringMin]T {
	f.mu.Lock()
	if n := len(f.list); n > 0 {
		a := f.list[n-1]
		f.list[n-1] = nil
		f.list = f.list[:n-1]
		f.mu.Unlock()
		return a
	}
	f.mu.Unlock()
	return new([ringMin]T)
}

// put keeps a, which must hold only zero values, unless freeMax arrays are kept already.
func (f *freeList[T]) put(a *[ringMin]T) {
	f.mu.Lock()
	if len(f.list) < freeMax {
		f.list = append(f.list, a)
	}
	f.mu.Unlock()
}

// task is one callback for the serial queue: a function, or one of the frequent kinds stored
// without a closure (a closure would be one allocation per message).
type task struct {
	f   func()                        // when not nil, the task
	cb  *WebSocketAsyncCallback[bool] // f == nil, msg == nil: report a Send or Close result
	err *AsyncError                   // the result's error; nil means success (true)
	ws  *WebSocket                    // f == nil, msg != nil: deliver msg (MESSAGE, DATAEND)
	msg MessageData
	sem chan struct{} // released after a queued message was delivered
}

func (t *task) run() {
	switch {
	case t.f != nil:
		t.f()
	case t.msg != nil:
		t.ws.emitMessage(t.msg)
		<-t.sem
	default:
		t.cb.invoke(t.err, t.err == nil)
	}
}

var taskArrays freeList[task]

// serialQueue runs tasks one at a time in the order they were pushed, on a goroutine that
// exists only while tasks are pending. push never blocks and never runs a task itself, so it
// may be called with locks held and from inside a task.
type serialQueue struct {
	mu    sync.Mutex
	tasks ring[task] // guarded by mu
	// running is set while a drainer runs (the queue's goroutine, or a caller that runInline
	// let in). It is set without mu only by runInline, and cleared only under mu by drain, once
	// tasks is empty; push sets it under mu. So tasks is never non-empty while running is
	// clear, and runInline needs no lock: one compare-and-swap.
	running atomic.Bool
	idle    chan struct{} // closed when the queue drains; nil when no one waits; guarded by mu
}

func (q *serialQueue) push(f func()) { q.pushTask(task{f: f}) }

// pushResult queues the report of a Send or Close result to cb: true when err is nil.
func (q *serialQueue) pushResult(cb *WebSocketAsyncCallback[bool], err *AsyncError) {
	q.pushTask(task{cb: cb, err: err})
}

func (q *serialQueue) pushTask(t task) {
	q.mu.Lock()
	q.tasks.push(t, &taskArrays)
	if q.running.CompareAndSwap(false, true) {
		go q.drain()
	}
	q.mu.Unlock()
}

// runInline reports whether the caller may run a task itself, now: no task is pending or
// running. It then counts as the running drainer and must call drain when done, which runs the
// tasks pushed meanwhile. It takes no lock (see running).
func (q *serialQueue) runInline() bool {
	return q.running.CompareAndSwap(false, true)
}

func (q *serialQueue) drain() {
	for {
		q.mu.Lock()
		if q.tasks.len() == 0 {
			q.running.Store(false)
			if q.idle != nil {
				close(q.idle)
				q.idle = nil
			}
			q.mu.Unlock()
			return
		}
		t := q.tasks.pop(&taskArrays)
		q.mu.Unlock()
		t.run()
	}
}

// wait returns a channel closed once no task is pending or running. It must not be waited on
// from inside a task.
func (q *serialQueue) wait() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.running.Load() {
		c := make(chan struct{})
		close(c)
		return c
	}
	if q.idle == nil {
		q.idle = make(chan struct{})
	}
	return q.idle
}
