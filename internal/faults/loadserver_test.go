package faults

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// runLoadServer is the server process of the load test (load_test.go): the test binary
// re-executed with helperEnv set, so that the server's 10,000 descriptors do not count against
// the client process's open-file limit. It serves our server role (handshake.Upgrader, conn.Conn
// in frame.RoleServer) on 127.0.0.1, echoing every message, and checks that each connection's
// messages carry consecutive sequence numbers. It prints its address on the first line of
// stdout; when stdin ends (the test is done, or gone) it closes everything and prints
// "served conns=N peak=N msgs=N order_errors=N" (peak: most open at once) and its peak resident size before it exits.
func runLoadServer() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ln.Addr())
	var (
		conns, msgs, orderErrs atomic.Int64
		live, peak             atomic.Int64 // connections upgraded and not yet ended
		wg                     sync.WaitGroup
		mu                     sync.Mutex
		open                   = map[net.Conn]bool{}
	)
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open[nc] = true
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					nc.Close()
					mu.Lock()
					delete(open, nc)
					mu.Unlock()
				}()
				nc.SetDeadline(time.Now().Add(time.Minute))
				br := bufio.NewReader(nc)
				var u handshake.Upgrader
				if _, _, err := u.Upgrade(br, nc); err != nil {
					return
				}
				nc.SetDeadline(time.Time{})
				var prefix []byte
				if n := br.Buffered(); n > 0 {
					prefix, _ = br.Peek(n)
				}
				c := conn.New(nc, prefix, &conn.Config{Role: frame.RoleServer})
				conns.Add(1)
				for l := live.Add(1); ; {
					if p := peak.Load(); l <= p || peak.CompareAndSwap(p, l) {
						break
					}
				}
				defer live.Add(-1)
				var buf []byte
				for want := 0; ; want++ {
					typ, p, err := c.ReadMessage(context.Background(), buf)
					if err != nil {
						return
					}
					buf = p
					var id, seq int
					if _, err := fmt.Sscanf(string(p), "c=%d s=%d", &id, &seq); err != nil || seq != want {
						orderErrs.Add(1)
					}
					msgs.Add(1)
					if err := c.WriteMessage(context.Background(), typ, p); err != nil {
						return
					}
				}
			})
		}
	})
	io.Copy(io.Discard, os.Stdin) // until the test closes our stdin
	ln.Close()
	mu.Lock()
	for nc := range open {
		nc.Close()
	}
	mu.Unlock()
	wg.Wait()
	fmt.Printf("served conns=%d peak=%d msgs=%d order_errors=%d\n", conns.Load(), peak.Load(), msgs.Load(), orderErrs.Load())
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		fmt.Printf("maxrss_kib=%d\n", ru.Maxrss)
	}
	return 0
}
