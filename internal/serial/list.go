package serial

import "sync/atomic"

// List is a copy-on-write list of callbacks, in registration order: a dispatching goroutine
// reads it with one atomic load and no lock (Load), while Add, Remove and Clear, which the
// owner's mutex serializes, never change a published list but publish a new one. The facades
// keep one per event type. The zero value is empty.
type List[C comparable] struct {
	p atomic.Pointer[[]C]
}

// Load returns the callbacks; the slice must not be changed.
func (l *List[C]) Load() []C {
	if p := l.p.Load(); p != nil {
		return *p
	}
	return nil
}

// Add appends cb, unless it is there already. The owner's mutex is held.
func (l *List[C]) Add(cb C) {
	list := l.Load()
	for _, c := range list {
		if c == cb {
			return
		}
	}
	n := make([]C, len(list), len(list)+1)
	copy(n, list)
	n = append(n, cb)
	l.p.Store(&n)
}

// Remove takes cb out. The owner's mutex is held.
func (l *List[C]) Remove(cb C) {
	list := l.Load()
	for i, c := range list {
		if c == cb {
			if len(list) == 1 {
				l.p.Store(nil)
				return
			}
			n := make([]C, 0, len(list)-1)
			n = append(n, list[:i]...)
			n = append(n, list[i+1:]...)
			l.p.Store(&n)
			return
		}
	}
}

// Clear removes every callback. The owner's mutex is held.
func (l *List[C]) Clear() { l.p.Store(nil) }

// Each calls call for every callback of the list as Load returned it, skipping those removed
// meanwhile (by an earlier callback, say): each one after the first is checked with Still. It
// holds no lock, so call may change the list.
func (l *List[C]) Each(call func(C)) {
	list := l.Load()
	for i, cb := range list {
		if i == 0 || l.Still(list, cb) {
			call(cb)
		}
	}
}

// Still reports whether cb, taken from the snapshot that Load returned, is still in the list:
// at once when the list was not replaced since the snapshot (the common case), else by a
// search. A dispatcher calls it before each callback after the first, so that a callback
// removed by an earlier one is not called.
func (l *List[C]) Still(snapshot []C, cb C) bool {
	cur := l.Load()
	if len(cur) == len(snapshot) && (len(cur) == 0 || &cur[0] == &snapshot[0]) {
		return true
	}
	for _, c := range cur {
		if c == cb {
			return true
		}
	}
	return false
}
