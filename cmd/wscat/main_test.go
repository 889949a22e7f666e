package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// wscatBin is the wscat binary built for the tests that run it as a process (exit statuses
// need a real process: go run reports every failure as 1).
var wscatBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wscat-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wscatBin = filepath.Join(dir, "wscat")
	build := exec.Command("go", "build", "-o", wscatBin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building wscat: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { os.RemoveAll(dir) }))
}
