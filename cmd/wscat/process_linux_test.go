//go:build linux

package main

import (
	"testing"
	"time"

	"github.com/netkit/websocket/internal/wscattest"
)

// Regression: wscat read all of stdin at once and queued it without limit: `seq 1 1000000 |
// wscat` lost the lines after some 521,000 (CLOSE 1006, exit 1) and 300,000 lines took 104 MB.
// It now reads input only as fast as the server takes it: 300,000 lines to the embedded echo
// server all come back, in order, with exit 0, and the process stays small.
func TestProcessManyLinesAllEchoedInOrderInBoundedMemory(t *testing.T) {
	const n = 300_000
	const maxRSS = 48 << 20 // measured: about 15 MB (before the fix: 104-108 MB)
	wscattest.EchoLines(t, wscatBin, nil, n, maxRSS, 120*time.Second)
}
