package conn

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestCtxLockExcludesAndNeverLosesAWakeUp hammers the read lock from goroutines that hold it
// briefly, some of which give up waiting through their context: at most one holder at a time,
// and every goroutine that does not give up gets the lock (a lost wake-up would hang the test).
func TestCtxLockExcludesAndNeverLosesAWakeUp(t *testing.T) {
	var l ctxLock
	var (
		mu      sync.Mutex
		holders int
		wg      sync.WaitGroup
	)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				ctx := context.Background()
				var cancel context.CancelFunc
				if (g+i)%3 == 0 {
					ctx, cancel = context.WithTimeout(ctx, time.Duration(i%5)*time.Microsecond)
				}
				err := l.lock(ctx)
				if cancel != nil {
					cancel()
				}
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("lock failed with a live context: %v", err)
					}
					continue
				}
				mu.Lock()
				holders++
				if holders != 1 {
					t.Errorf("%d holders", holders)
				}
				mu.Unlock()
				if i%7 == 0 {
					time.Sleep(time.Microsecond)
				}
				mu.Lock()
				holders--
				mu.Unlock()
				l.unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("lock waiters hung: a wake-up was lost")
	}
	if !l.tryLock() {
		t.Fatal("lock held after every holder released it")
	}
	if n := l.waiters.Load(); n != 0 {
		t.Fatalf("%d waiters left", n)
	}
}

// TestCtxLockCancelledWaiterReturnsContextError checks that a waiter whose context ends gets
// ctx.Err() and leaves the lock to its holder, and that an ended context fails at once.
func TestCtxLockCancelledWaiterReturnsContextError(t *testing.T) {
	var l ctxLock
	if err := l.lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := l.lock(ctx); err != context.DeadlineExceeded {
		t.Fatalf("got %v, want %v", err, context.DeadlineExceeded)
	}
	if err := l.lock(ctx); err != context.DeadlineExceeded {
		t.Fatalf("ended context: got %v", err)
	}
	l.unlock()
	if err := l.lock(context.Background()); err != nil {
		t.Fatal(err)
	}
}
