package faults

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/netkit/websocket/server"
)

// loadConnsEnv passes the number of connections of the load test to the facade's server
// process, which raises its limits to it and measures its memory once that many are open.
const loadConnsEnv = "FAULTS_LOAD_CONNS"

// runLoadServerFacade is runLoadServer with the server facade (package server) instead of the
// conn-level server: its limits raised to the test's connection count, an echo by Send from the
// messageReceive callback, and the sequence check per connection. Once all connections are open
// it measures heap and goroutine stacks and prints, before the summary line,
// "mem_per_conn_b=N" (the growth since before Start, over the connections).
func runLoadServerFacade() int {
	n, _ := strconv.Atoi(os.Getenv(loadConnsEnv))
	if n <= 0 {
		n = 10000
	}
	base := heapAndStacks()
	var (
		conns, msgs, orderErrs atomic.Int64
		live, peak             atomic.Int64
		memPerConn             atomic.Int64
		mu                     sync.Mutex
		next                   = map[server.WebSocketConnection]int{}
	)
	s := server.CreateWebSocketServer()
	_ = s.On(server.EventConnect, server.NewConnectCallback(func(c server.WebSocketConnection) {
		conns.Add(1)
		l := live.Add(1)
		for {
			if p := peak.Load(); l <= p || peak.CompareAndSwap(p, l) {
				break
			}
		}
		if l == int64(n) {
			go func() { memPerConn.Store((heapAndStacks() - base) / int64(n)) }()
		}
	}))
	_ = s.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
		var id, seq int
		_, err := fmt.Sscanf(m.Data.String(), "c=%d s=%d", &id, &seq)
		mu.Lock()
		want := next[m.ClientConnection]
		next[m.ClientConnection] = want + 1
		mu.Unlock()
		if err != nil || seq != want {
			orderErrs.Add(1)
		}
		msgs.Add(1)
		if err := s.Send(m.Data, m.ClientConnection, nil); err != nil {
			fmt.Fprintln(os.Stderr, "send:", err)
		}
	}))
	_ = s.On(server.EventClose, server.NewCloseCallback(func(c server.WebSocketConnection, _ server.CloseResult) {
		live.Add(-1)
		mu.Lock()
		delete(next, c)
		mu.Unlock()
	}))
	err := s.Start(&server.WebSocketServerConfig{ServerIP: "127.0.0.1", MaxConcurrentClientsNumber: n + 16,
		MaxConnectionsForOneClient: n + 16}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(s.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the test closes our stdin
	stopped := make(chan struct{})
	_ = s.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
	<-stopped
	fmt.Printf("mem_per_conn_b=%d\n", memPerConn.Load())
	fmt.Printf("served conns=%d peak=%d msgs=%d order_errors=%d\n", conns.Load(), peak.Load(), msgs.Load(), orderErrs.Load())
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		fmt.Printf("maxrss_kib=%d\n", ru.Maxrss)
	}
	return 0
}

// heapAndStacks returns the live heap and the goroutine stacks in use, after a collection.
func heapAndStacks() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc + ms.StackInuse)
}
