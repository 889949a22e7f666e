package client

import (
	"testing"
)

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
