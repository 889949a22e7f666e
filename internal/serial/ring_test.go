package serial

import (
	"slices"
	"testing"
)

func TestRingKeepsFIFOOrderThroughWrapAndGrowth(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pushFirst int // pushed, then half popped, before the main run: the head is not at 0
		n         int
	}{
		{"within the minimum array", 0, RingMin},
		{"wrapped", RingMin / 2, RingMin},
		{"grown from a wrapped array", RingMin / 2, 3 * RingMin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fl FreeList[int]
			var r Ring[int]
			var want, got []int
			next := 0
			for range tc.pushFirst {
				r.Push(next, &fl)
				want = append(want, next)
				next++
			}
			for range tc.pushFirst / 2 {
				got = append(got, r.Pop(&fl))
			}
			for range tc.n {
				r.Push(next, &fl)
				want = append(want, next)
				next++
			}
			for r.Len() > 0 {
				got = append(got, r.Pop(&fl))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("popped %v, want %v", got, want)
			}
			if r.buf != nil {
				t.Error("an empty ring kept its array")
			}
		})
	}
}

func TestRingGivesItsMinimumArrayBackAndReusesIt(t *testing.T) {
	var fl FreeList[int]
	var r Ring[int]
	r.Push(1, &fl)
	a := &r.buf[0]
	r.Pop(&fl)
	if len(fl.list) != 1 {
		t.Fatalf("free list has %d arrays after the ring emptied, want 1", len(fl.list))
	}
	r.Push(2, &fl)
	if &r.buf[0] != a {
		t.Error("the ring did not reuse the freed array")
	}
	if allocs := testing.AllocsPerRun(100, func() { r.Push(3, &fl); r.Pop(&fl) }); allocs != 0 {
		t.Errorf("push and pop allocate %.1f times, want 0", allocs)
	}
}

func TestFreeListIsBounded(t *testing.T) {
	var fl FreeList[int]
	for range FreeMax + 10 {
		fl.put(new([RingMin]int))
	}
	if len(fl.list) != FreeMax {
		t.Errorf("free list keeps %d arrays, want at most %d", len(fl.list), FreeMax)
	}
}
