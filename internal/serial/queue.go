package serial

import (
	"sync"
	"sync/atomic"
)

// Task is one unit of work of a Queue. It is stored by value (a struct of the kinds a facade
// delivers most, so that no closure is allocated per event). Arrays returns the FreeList that
// supplies and keeps the arrays of the queues of this task type (nil: none), so that a queue
// that empties keeps no memory and the zero Queue is ready to use.
type Task[T any] interface {
	Run()
	Arrays() *FreeList[T]
}

// Queue runs tasks one at a time, in the order they were pushed. The tasks run on a goroutine
// that exists only while tasks are pending, or on a caller that took the queue with TryRun.
// Push never blocks and never runs a task itself, so it may be called with locks held and from
// inside a task.
//
// A caller that owns the queue (TryRun returned true, or it is a task) counts as the running
// drainer: pushes meanwhile only queue, and the owner runs them (RunPending, Drain). This lets
// a reading goroutine deliver a run of messages with one TryRun and one Drain, instead of one
// per message.
//
// The zero value is an empty queue.
type Queue[T Task[T]] struct {
	mu    sync.Mutex
	tasks Ring[T] // guarded by mu
	// pending is tasks.Len(), written under mu, read without it by the owner.
	pending atomic.Int32
	// running is set while an owner runs tasks. It is set without mu only by TryRun, and
	// cleared only under mu by Drain, once tasks is empty; Push sets it under mu. So tasks is
	// never non-empty while running is clear, and TryRun needs no lock: one compare-and-swap.
	running atomic.Bool
	idle    chan struct{} // closed when the queue drains; nil when no one waits; guarded by mu
	// drain is q.Drain as a func value, made once (guarded by mu): starting a goroutine on a
	// func value without arguments allocates nothing, `go q.Drain()` allocates a closure.
	drain func()
}

// Push queues t. When no owner runs, it starts a goroutine that runs the queue until it is
// empty.
func (q *Queue[T]) Push(t T) {
	q.mu.Lock()
	q.tasks.Push(t, t.Arrays())
	q.pending.Add(1)
	if q.running.CompareAndSwap(false, true) {
		if q.drain == nil {
			q.drain = q.Drain
		}
		go q.drain()
	}
	q.mu.Unlock()
}

// TryRun reports whether the caller may run a task itself, now: no task is pending or
// running. It then owns the queue and must call Drain when done, which runs the tasks pushed
// meanwhile and lets the queue go. It takes no lock.
func (q *Queue[T]) TryRun() bool {
	return q.running.CompareAndSwap(false, true)
}

// RunPending runs the tasks that wait, in order, and those they push, and returns when none is
// left. Only the owner may call it; it keeps the queue.
func (q *Queue[T]) RunPending() {
	for q.pending.Load() != 0 {
		q.mu.Lock()
		var zero T
		t := q.tasks.Pop(zero.Arrays())
		q.pending.Add(-1)
		q.mu.Unlock()
		t.Run()
	}
}

// Drain runs the tasks that wait, then lets the queue go. Only the owner may call it.
func (q *Queue[T]) Drain() {
	for {
		q.RunPending()
		q.mu.Lock()
		if q.tasks.Len() == 0 {
			q.running.Store(false)
			if q.idle != nil {
				close(q.idle)
				q.idle = nil
			}
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
	}
}

// closedChan is the channel Wait returns when nothing runs: closed once, shared.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Wait returns a channel closed once no task is pending or running. It must not be waited on
// by the owner (a task, or a caller between TryRun and Drain).
func (q *Queue[T]) Wait() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.running.Load() {
		return closedChan
	}
	if q.idle == nil {
		q.idle = make(chan struct{})
	}
	return q.idle
}
