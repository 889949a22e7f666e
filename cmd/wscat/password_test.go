//go:build unix

package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKeyPasswordFileRefusesFIFOsDevicesAndHugeFiles: --key-password-file is read under the
// rules of the key it unlocks. A FIFO used to block wscat forever, /dev/zero to fill memory.
func TestKeyPasswordFileRefusesFIFOsDevicesAndHugeFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := dir + "/fifo"
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := dir + "/huge"
	if err := os.WriteFile(huge, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		{fifo, "not a regular file"},
		{"/dev/zero", "not a regular file"},
		{huge, "bytes"},
	} {
		done := make(chan error, 1)
		go func() {
			_, err := parseArgs([]string{"--cert", huge, "--key", huge, "--key-password-file", tt.path})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--key-password-file") {
				t.Errorf("%s: error %v, want one with %q", tt.path, err, tt.want)
			}
		case <-time.After(5 * time.Second):
			// Unblock the reader so that the test ends: open the FIFO for writing.
			if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				f.Close()
			}
			t.Fatalf("%s: parseArgs still reading after 5 s", tt.path)
		}
	}
}
