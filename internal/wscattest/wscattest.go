// Package wscattest runs a built wscat binary the way a user pipes input into it, for the tests
// of cmd/wscat and of the interop suite: `seq 1 N | wscat [URL]`, every echo checked.
package wscattest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EchoLines runs the wscat binary bin with args, writes the lines "1" to "n" to its standard
// input (as `seq 1 n` would, while wscat runs), and checks what a user expects of an echo
// server: every line comes back as a MESSAGE, in order, wscat ends within timeout with exit
// status 0 and CLOSE 1000 as its last line, and its peak resident set size (VmHWM, read from
// /proc while it runs) stays at or below maxRSS bytes.
func EchoLines(t testing.TB, bin string, args []string, n int, maxRSS int64, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	in, w := io.Pipe()
	cmd.Stdin = in
	go func() { // seq 1 n
		bw := bufio.NewWriterSize(w, 64<<10)
		var b []byte
		for i := 1; i <= n; i++ {
			b = strconv.AppendInt(b[:0], int64(i), 10)
			b = append(b, '\n')
			if _, err := bw.Write(b); err != nil {
				w.CloseWithError(err)
				return
			}
		}
		w.CloseWithError(bw.Flush())
	}()
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
	next, last, orderErr := 1, "", ""
	for sc.Scan() {
		line := sc.Text()
		last = line
		num, ok := strings.CutPrefix(line, "MESSAGE ")
		if !ok {
			continue
		}
		if want := strconv.Itoa(next); num != want && orderErr == "" {
			orderErr = fmt.Sprintf("echo %d is %q, want %q", next, num, want)
		}
		next++
	}
	err = cmd.Wait()
	in.Close() // ends the writer if wscat stopped reading early
	if ctx.Err() != nil {
		t.Fatalf("wscat did not end within %v; %d echoes\n%s", timeout, next-1, errb.String())
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
// would include the RSS of the test process, from which it was forked) every 20 ms, until the
// returned function is called; that function returns the largest value seen, in bytes.
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
