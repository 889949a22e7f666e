//go:build unix

package client

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user and system) this process has used. Benchmarks report it
// per operation beside the wall time, which on a loaded machine says more about our cost.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
