package client

import "sync"

// serialQueue runs tasks one at a time in the order they were pushed, on a goroutine that
// exists only while tasks are pending. push never blocks and never runs a task itself, so it
// may be called with locks held and from inside a task.
type serialQueue struct {
	mu      sync.Mutex
	tasks   []func()
	running bool
	idle    chan struct{} // closed when the queue drains; nil when no one waits
}

func (q *serialQueue) push(f func()) {
	q.mu.Lock()
	q.tasks = append(q.tasks, f)
	if !q.running {
		q.running = true
		go q.drain()
	}
	q.mu.Unlock()
}

// runInline reports whether the caller may run a task itself, now: no task is pending or
// running. It then counts as the running drainer and must call drain when done, which runs the
// tasks pushed meanwhile.
func (q *serialQueue) runInline() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running || len(q.tasks) > 0 {
		return false
	}
	q.running = true
	return true
}

func (q *serialQueue) drain() {
	for {
		q.mu.Lock()
		if len(q.tasks) == 0 {
			q.running = false
			q.tasks = nil
			if q.idle != nil {
				close(q.idle)
				q.idle = nil
			}
			q.mu.Unlock()
			return
		}
		f := q.tasks[0]
		q.tasks[0] = nil
		q.tasks = q.tasks[1:]
		q.mu.Unlock()
		f()
	}
}

// wait returns a channel closed once no task is pending or running. It must not be waited on
// from inside a task.
func (q *serialQueue) wait() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.running {
		c := make(chan struct{})
		close(c)
		return c
	}
	if q.idle == nil {
		q.idle = make(chan struct{})
	}
	return q.idle
}
