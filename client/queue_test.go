package client

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
		{"within the minimum array", 0, ringMin},
		{"wrapped", ringMin / 2, ringMin},
		{"grown from a wrapped array", ringMin / 2, 3 * ringMin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fl freeList[int]
			var r ring[int]
			var want, got []int
			next := 0
			for range tc.pushFirst {
				r.push(next, &fl)
				want = append(want, next)
				next++
			}
			for range tc.pushFirst / 2 {
				got = append(got, r.pop(&fl))
			}
			for range tc.n {
				r.push(next, &fl)
				want = append(want, next)
				next++
			}
			for r.len() > 0 {
				got = append(got, r.pop(&fl))
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
	var fl freeList[int]
	var r ring[int]
	r.push(1, &fl)
	a := &r.buf[0]
	r.pop(&fl)
	if len(fl.list) != 1 {
		t.Fatalf("free list has %d arrays after the ring emptied, want 1", len(fl.list))
	}
	r.push(2, &fl)
	if &r.buf[0] != a {
		t.Error("the ring did not reuse the freed array")
	}
	if allocs := testing.AllocsPerRun(100, func() { r.push(3, &fl); r.pop(&fl) }); allocs != 0 {
		t.Errorf("push and pop allocate %.1f times, want 0", allocs)
	}
}

func TestFreeListIsBounded(t *testing.T) {
	var fl freeList[int]
	for range freeMax + 10 {
		fl.put(new([ringMin]int))
	}
	if len(fl.list) != freeMax {
		t.Errorf("free list keeps %d arrays, want at most %d", len(fl.list), freeMax)
	}
}

// The facade's Send costs one allocation per binary message (the copy the caller may not
// change) and none per text message (a string never changes): the caller's conversion to
// MessageData stays on its stack because checkMessage does not let data escape.
func TestCheckMessageAllocatesOnlyTheBinaryCopy(t *testing.T) {
	bin := make([]byte, 100)
	text := "hello, world"
	for _, tc := range []struct {
		name string
		f    func()
		want float64
	}{
		{"binary", func() { _, _, _ = checkMessage(ArrayData(bin)) }, 1},
		{"text", func() { _, _, _ = checkMessage(StringData(text)) }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tc.f); got != tc.want {
				t.Errorf("%.1f allocations, want %.0f", got, tc.want)
			}
		})
	}
	bin[0] = 1
	if _, p, _ := checkMessage(ArrayData(bin)); p[0] != 1 || &p[0] == &bin[0] {
		t.Error("binary data was not copied")
	}
}
