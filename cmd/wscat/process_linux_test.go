//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Regression: wscat read all of stdin at once and queued it without limit: `seq 1 1000000 |
// wscat` lost the lines after some 521,000 (CLOSE 1006, exit 1) and 300,000 lines took 104 MB.
// It now reads input only as fast as the server takes it: 300,000 lines to the embedded echo
// server all come back, in order, with exit 0, and the process stays small.
func TestProcessManyLinesAllEchoedInOrderInBoundedMemory(t *testing.T) {
	const n = 300_000
	const maxRSS = 80 << 20 // measured: 14-19 MB, 49 MB built with -race (before the fix: 104 MB)
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
	rss := int64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) << 10 // kilobytes on Linux
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
