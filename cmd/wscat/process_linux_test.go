//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Regression: wscat read all of stdin at once and queued it without limit: `seq 1 1000000 |
// wscat` lost the lines after some 521,000 (CLOSE 1006, exit 1) and 300,000 lines took 104 MB.
// It now reads input only as fast as the server takes it: 300,000 lines to the embedded echo
// server all come back, in order, with exit 0, and the process stays small.
func TestProcessManyLinesAllEchoedInOrderInBoundedMemory(t *testing.T) {
	const n = 300_000
	const maxRSS = 48 << 20 // measured: about 15 MB (before the fix: 104-108 MB)
	var in strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&in, "%d\n", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wscatBin)
	cmd.Stdin = strings.NewReader(in.String())
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peakRSS := watchPeakRSS(cmd.Process.Pid)
	sc := bufio.NewScanner(out)
	next, last := 1, ""
	var orderErr string
	for sc.Scan() {
		line := sc.Text()
		last = line
		num, ok := strings.CutPrefix(line, "MESSAGE ")
		if !ok {
			continue
		}
		if want := fmt.Sprint(next); num != want && orderErr == "" {
			orderErr = fmt.Sprintf("echo %d is %q, want %q", next, num, want)
		}
		next++
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("wscat did not end within 120 s; %d echoes\n%s", next-1, errb.String())
	}
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	rss := peakRSS()
	t.Logf("%d lines: %v, max RSS %.1f MB", n, time.Since(start).Round(time.Millisecond), float64(rss)/(1<<20))
	if orderErr != "" {
		t.Error(orderErr)
	}
	if next-1 != n {
		t.Errorf("%d echoes, want %d", next-1, n)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 || last != "CLOSE 1000" {
		t.Errorf("exit %d, last line %q; want 0 and CLOSE 1000\n%s", code, last, errb.String())
	}
	if rss > maxRSS {
		t.Errorf("max RSS %.1f MB, want at most %d MB", float64(rss)/(1<<20), maxRSS>>20)
	}
}

// watchPeakRSS samples the peak resident set size of process pid (VmHWM in
// /proc/<pid>/status, which counts only the program the process runs: the rusage of wait4
// would include the RSS of this test process, from which it was forked) every 20 ms, until
// the returned function is called; that function returns the largest value seen, in bytes.
func watchPeakRSS(pid int) func() int64 {
	stop, done := make(chan struct{}), make(chan int64)
	go func() {
		var peak int64
		path := "/proc/" + strconv.Itoa(pid) + "/status"
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if b, err := os.ReadFile(path); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
						kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
						peak = max(peak, kb<<10)
					}
				}
			}
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 { close(stop); return <-done }
}
