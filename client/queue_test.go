package client

import (
	"testing"
)

// checkMessage allocates nothing, for binary or text messages (the copy a queued binary message
// needs is made by the connection's queue, only when it queues): the caller's conversion to
// MessageData stays on its stack because checkMessage does not let data escape.
func TestCheckMessageAllocatesNothing(t *testing.T) {
	bin := make([]byte, 100)
	text := "hello, world"
	for _, tc := range []struct {
		name string
		f    func()
		want float64
	}{
		{"binary", func() { _, _, _, _ = checkMessage(ArrayData(bin)) }, 0},
		{"text", func() { _, _, _, _ = checkMessage(StringData(text)) }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tc.f); got != tc.want {
				t.Errorf("%.1f allocations, want %.0f", got, tc.want)
			}
		})
	}
	if _, _, fixed, _ := checkMessage(ArrayData(bin)); fixed {
		t.Error("binary data reported as never changing")
	}
	if _, _, fixed, _ := checkMessage(StringData(text)); !fixed {
		t.Error("text data reported as changing")
	}
}
