//go:build load

package faults

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
)

var (
	loadConns = flag.Int("load.conns", 10000, "concurrent client connections of TestLoadManyConnections")
	loadMsgs  = flag.Int("load.msgs", 5, "messages each connection sends and gets back")
)

// TestLoadManyConnections opens 10,000 concurrent client connections (client.Dial) on loopback
// to our server role, running in a child process (the test binary re-executed, see
// runLoadServer), so that each process holds 10,000 descriptors under a 20,000 limit. With all
// of them open, every connection sends 5 numbered messages and reads the echoes: none may be
// lost, duplicated or reordered, which both ends check. Then all close with the closing
// handshake. It cannot run under the race detector, whose limit is 8128 live goroutines:
// build tag load, make load.
func TestLoadManyConnections(t *testing.T) { loadManyConnections(t, "conn") }

// TestLoadManyConnectionsServerFacade is TestLoadManyConnections against the server facade
// (package server, runLoadServerFacade) with its limits raised to the connection count; the
// server also reports its memory per connection with all of them open.
func TestLoadManyConnectionsServerFacade(t *testing.T) { loadManyConnections(t, "facade") }

// loadManyConnections runs the load test against the server process of mode: "conn" (the
// conn-level server) or "facade".
func loadManyConnections(t *testing.T, mode string) {
	n, per := *loadConns, *loadMsgs
	// Go raises the soft open-file limit to the hard one at start; each process needs n and
	// some more.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < uint64(n)+256 {
		t.Fatalf("open-file limit %d (%v): %d connections need at least %d per process; raise ulimit -Hn",
			lim.Cur, err, n, n+256)
	}
	start := time.Now()

	// The server process.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, fmt.Sprintf("%s=%d", loadConnsEnv, n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitc := make(chan error, 1)
	lines := make(chan string, 2)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		waitc <- cmd.Wait()
	}()
	stopped := false
	var serverRSS, serverMem string
	stop := func() string { // ends the server, returns its summary line
		if stopped {
			return ""
		}
		stopped = true
		stdin.Close()
		var summary string
		timeout := time.After(60 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					select {
					case <-waitc:
					case <-timeout:
						cmd.Process.Kill()
						<-waitc
					}
					return summary
				}
				switch {
				case strings.HasPrefix(l, "maxrss_kib="):
					serverRSS = l
				case strings.HasPrefix(l, "mem_per_conn_b="):
					serverMem = l
				default:
					summary = l
				}
			case <-timeout:
				t.Error("the server process did not exit in time; killed")
				cmd.Process.Kill()
				for range lines {
				}
				<-waitc
				return summary
			}
		}
	}
	defer stop()
	var addr string
	select {
	case addr = <-lines:
	case <-time.After(30 * time.Second):
		t.Fatal("the server process did not print its address")
	}
	url := "ws://" + addr + "/"

	// Dial all, 256 at a time, retrying refusals and timeouts (a full accept backlog).
	conns := make([]*client.Conn, n)
	var retries atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	dialErrs := make(chan error, n)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var err error
			for attempt := range 20 {
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				conns[i], _, err = client.Dial(ctx, url, &client.DialOptions{PingInterval: -1})
				cancel()
				if err == nil {
					return
				}
				if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ECONNRESET) &&
					!errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, syscall.ETIMEDOUT) {
					break
				}
				retries.Add(1)
				time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
			}
			dialErrs <- fmt.Errorf("connection %d: %w", i, err)
		})
	}
	wg.Wait()
	close(dialErrs)
	for err := range dialErrs {
		t.Fatal(err)
	}
	dialed := time.Since(start)

	// Exchange on all connections at once.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var lost, bad atomic.Int64
	for i, c := range conns {
		wg.Go(func() {
			for s := range per {
				if err := c.WriteMessage(ctx, conn.Text, fmt.Appendf(nil, "c=%d s=%d", i, s)); err != nil {
					lost.Add(int64(per - s))
					return
				}
			}
			var buf []byte
			for s := range per {
				_, p, err := c.ReadMessage(ctx, buf)
				if err != nil {
					lost.Add(int64(per - s))
					return
				}
				buf = p
				if string(p) != fmt.Sprintf("c=%d s=%d", i, s) {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	exchanged := time.Since(start)

	// Close all with the closing handshake, 512 at a time.
	var closeErrs atomic.Int64
	sem = make(chan struct{}, 512)
	for _, c := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := c.Close(frame.CloseNormal, ""); err != nil {
				closeErrs.Add(1)
			}
		})
	}
	wg.Wait()
	total := time.Since(start)
	summary := stop()

	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	t.Logf("%d connections, %d messages each way (%d per connection); dialed in %v (%d retries), "+
		"exchanged by %v, closed by %v; server (%s): %s %s %s; client maxrss_kib=%d",
		n, n*per, per, dialed.Round(time.Millisecond), retries.Load(), exchanged.Round(time.Millisecond),
		total.Round(time.Millisecond), mode, summary, serverRSS, serverMem, ru.Maxrss)
	if lost.Load() != 0 || bad.Load() != 0 {
		t.Errorf("client side: %d messages lost, %d wrong (duplicated, reordered or altered)", lost.Load(), bad.Load())
	}
	if closeErrs.Load() != 0 {
		t.Errorf("%d closing handshakes failed", closeErrs.Load())
	}
	want := fmt.Sprintf("served conns=%d peak=%d msgs=%d order_errors=0", n, n, n*per)
	if strings.TrimSpace(summary) != want {
		t.Errorf("server summary %q, want %q", summary, want)
	}
}
