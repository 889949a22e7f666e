//go:build linux

package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal; the test's cleanup closes them.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// TestTerminalHint: with a terminal on standard input, wscat says on standard error how to
// send and close once connected; lines typed are sent and Ctrl-D closes with exit 0.
// (Without a terminal there is no hint: the pipe tests check that stderr stays empty.)
func TestTerminalHint(t *testing.T) {
	srv := startEcho(t)
	master, slave := openPTY(t)
	go func() { _, _ = io.Copy(io.Discard, master) }() // the terminal's echo
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wscatBin, srv.URL())
	cmd.Stdin = slave
	var out, errb syncBuffer
	hinted := make(chan struct{})
	var once bool
	errb.onLine = func(line string) {
		if strings.Contains(line, "Ctrl-D") && !once {
			once = true
			close(hinted)
		}
	}
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hinted:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("no hint on stderr: %q", errb.String())
	}
	if _, err := master.Write([]byte("typed\n\x04")); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	checkConversation(t, out.lines(), []string{"MESSAGE typed"}, "CLOSE 1000")
	if want := "wscat: connected; type a message and press Enter to send it, Ctrl-D to close\n"; errb.String() != want {
		t.Fatalf("stderr %q, want %q", errb.String(), want)
	}
}

// TestRawEscapesOnATerminal: --raw writes text as it is into a pipe, but escapes what a
// terminal would act on when standard output is one.
func TestRawEscapesOnATerminal(t *testing.T) {
	srv := startEcho(t)
	master, slave := openPTY(t)
	cmd := exec.Command(wscatBin, "-r", "-x", "red\x1b[31m\x07", srv.URL())
	cmd.Stdout = slave
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	got, _ := io.ReadAll(master) // ends with EIO once the slave is closed everywhere
	if string(got) != `red\x1b[31m\x07`+"\r\n" {
		t.Fatalf("terminal got %q", got)
	}
}
