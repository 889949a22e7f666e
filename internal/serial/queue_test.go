package serial

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// rec is a task that appends its number to a shared log.
type rec struct {
	log *[]int
	mu  *sync.Mutex
	n   int
	f   func()
}

var recArrays FreeList[rec]

func (rec) Arrays() *FreeList[rec] { return &recArrays }

func (r rec) Run() {
	r.mu.Lock()
	*r.log = append(*r.log, r.n)
	r.mu.Unlock()
	if r.f != nil {
		r.f()
	}
}

func waitIdle(t *testing.T, q *Queue[rec]) {
	t.Helper()
	select {
	case <-q.Wait():
	case <-time.After(10 * time.Second):
		t.Fatal("queue did not drain")
	}
}

func TestQueueRunsPushedTasksInOrderOnItsOwnGoroutine(t *testing.T) {
	var q Queue[rec]
	var mu sync.Mutex
	var log []int
	for i := range 1000 {
		q.Push(rec{log: &log, mu: &mu, n: i})
	}
	waitIdle(t, &q)
	for i, n := range log {
		if n != i {
			t.Fatalf("task %d ran at position %d", n, i)
		}
	}
	if len(log) != 1000 {
		t.Fatalf("%d tasks ran, want 1000", len(log))
	}
}

// An owner (TryRun) keeps the queue across its own work: tasks pushed meanwhile wait for it,
// run in order by RunPending or Drain, and never on another goroutine.
func TestQueueOwnerRunsWhatIsPushedMeanwhile(t *testing.T) {
	var q Queue[rec]
	var mu sync.Mutex
	var log []int
	if !q.TryRun() {
		t.Fatal("TryRun on an idle queue = false")
	}
	if q.TryRun() {
		t.Fatal("TryRun on an owned queue = true")
	}
	q.Push(rec{log: &log, mu: &mu, n: 1})
	q.Push(rec{log: &log, mu: &mu, n: 2, f: func() { q.Push(rec{log: &log, mu: &mu, n: 4}) }})
	time.Sleep(20 * time.Millisecond) // a goroutine started by Push would run them now
	mu.Lock()
	if len(log) != 0 {
		t.Fatalf("tasks ran while the queue was owned: %v", log)
	}
	mu.Unlock()
	if q.pending.Load() == 0 {
		t.Fatal("Pending = false with tasks waiting")
	}
	q.RunPending()
	q.Push(rec{log: &log, mu: &mu, n: 5})
	q.Drain()
	if want := []int{1, 2, 4, 5}; len(log) != len(want) || log[0] != 1 || log[1] != 2 || log[2] != 4 || log[3] != 5 {
		t.Fatalf("ran %v, want %v", log, want)
	}
	if q.pending.Load() != 0 || !q.TryRun() {
		t.Fatal("the queue is not free after Drain")
	}
	q.Drain()
}

// Many pushers and an owner that takes and lets go the queue: every task runs exactly once,
// each pusher's tasks in its order, never two at once.
func TestQueueConcurrentPushersAndOwner(t *testing.T) {
	var q Queue[rec]
	var mu sync.Mutex
	var log []int
	var running, overlap int32
	var rmu sync.Mutex
	check := func() {
		rmu.Lock()
		running++
		if running > 1 {
			overlap++
		}
		rmu.Unlock()
		runtime.Gosched() // let another runner in, if one could be
		rmu.Lock()
		running--
		rmu.Unlock()
	}
	const pushers, each = 4, 2000
	var wg sync.WaitGroup
	for p := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				q.Push(rec{log: &log, mu: &mu, n: p*each + i, f: check})
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 2000 {
			if q.TryRun() {
				check()
				q.RunPending()
				q.Drain()
			}
		}
	}()
	wg.Wait()
	waitIdle(t, &q)
	if len(log) != pushers*each {
		t.Fatalf("%d tasks ran, want %d", len(log), pushers*each)
	}
	last := make([]int, pushers)
	for i := range last {
		last[i] = -1
	}
	for _, n := range log {
		p, i := n/each, n%each
		if i <= last[p] {
			t.Fatalf("pusher %d: task %d ran after %d", p, i, last[p])
		}
		last[p] = i
	}
	if overlap != 0 {
		t.Fatalf("%d tasks ran while another ran", overlap)
	}
}

func TestQueueWaitOnIdleQueueIsClosed(t *testing.T) {
	var q Queue[rec]
	select {
	case <-q.Wait():
	default:
		t.Fatal("Wait on an idle queue is not closed")
	}
}
