package serial

import (
	"slices"
	"testing"
)

func TestListCopyOnWrite(t *testing.T) {
	var l List[int]
	if l.Load() != nil {
		t.Fatal("zero List is not empty")
	}
	l.Add(1)
	l.Add(2)
	l.Add(2) // already there
	l.Add(3)
	snap := l.Load()
	if !slices.Equal(snap, []int{1, 2, 3}) {
		t.Fatalf("Load = %v, want [1 2 3]", snap)
	}
	if !l.Still(snap, 3) {
		t.Error("Still = false on an unchanged list")
	}
	l.Remove(2)
	if !slices.Equal(snap, []int{1, 2, 3}) {
		t.Fatalf("Remove changed a published list: %v", snap)
	}
	if got := l.Load(); !slices.Equal(got, []int{1, 3}) {
		t.Fatalf("after Remove(2): %v, want [1 3]", got)
	}
	if l.Still(snap, 2) || !l.Still(snap, 3) {
		t.Error("Still does not follow the current list after a change")
	}
	l.Remove(7) // not there
	l.Clear()
	if l.Load() != nil {
		t.Error("Clear left callbacks")
	}
	l.Add(4)
	l.Remove(4)
	if l.Load() != nil {
		t.Error("removing the last callback left a list")
	}
}

// Each skips a callback that an earlier one removed, and calls every other one once, in order.
func TestListEachSkipsCallbacksRemovedMeanwhile(t *testing.T) {
	var l List[int]
	for i := 1; i <= 4; i++ {
		l.Add(i)
	}
	var got []int
	l.Each(func(c int) {
		got = append(got, c)
		if c == 2 {
			l.Remove(3)
		}
	})
	if !slices.Equal(got, []int{1, 2, 4}) {
		t.Fatalf("Each called %v, want [1 2 4]", got)
	}
}
