package client

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
)

// within waits for ch, failing tb after a minute.
func within[T any](tb testing.TB, ch <-chan T, what string) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		tb.Fatalf("%s did not happen within a minute", what)
	}
}

// idleConns is how many connections the idle-memory measurements open.
const idleConns = 2000

// heapStack is HeapInuse+StackInuse after two collections: the memory the process holds for
// live objects and goroutine stacks.
func heapStack() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

// waitGoroutines waits (bounded) until at least n goroutines exist and then a little longer,
// so that readers just started have blocked.
func waitGoroutines(tb testing.TB, n int) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() < n {
		if time.Now().After(deadline) {
			tb.Fatalf("%d goroutines, want at least %d", runtime.NumGoroutine(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
}

// idleBlocking opens n connections with Dial, each with a goroutine blocked in ReadMessage,
// and returns the memory they hold per connection (the harness's definition: HeapInuse +
// StackInuse after minus before, divided by n).
func idleBlocking(tb testing.TB, n int) float64 {
	url := peerURL(tb, "/echo")
	ctx := context.Background()
	conns := make([]*Conn, 0, n)
	var wg sync.WaitGroup
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
		wg.Wait()
	}()
	// One connection first, so that what the process sets up once (resolver, pools) is not
	// counted per connection.
	if c, _, err := Dial(ctx, url, nil); err == nil {
		c.Close(frame.CloseNormal, "")
	}
	base := runtime.NumGoroutine()
	before := heapStack()
	for range n {
		c, _, err := Dial(ctx, url, nil)
		if err != nil {
			tb.Fatal(err)
		}
		conns = append(conns, c)
		wg.Go(func() {
			if _, _, err := c.ReadMessage(ctx, nil); err == nil {
				tb.Error("idle connection received a message")
			}
		})
	}
	waitGoroutines(tb, base+n)
	after := heapStack()
	return (float64(after) - float64(before)) / float64(n)
}

// idleFacade opens n connections with CreateWebSocket and Connect, waits for every OPEN, and
// returns the memory they hold per connection, measured as idleBlocking does.
func idleFacade(tb testing.TB, n int) float64 {
	url := peerURL(tb, "/echo")
	opened := make(chan struct{}, n)
	closed := make(chan struct{}, n)
	onOpen := NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { opened <- struct{}{} })
	onClose := NewWebSocketAsyncCallback(func(*AsyncError, CloseResult) { closed <- struct{}{} })
	opts := NewWebSocketRequestOptions()
	opts.Proxy = NoProxy{}
	wss := make([]*WebSocket, 0, n)
	defer func() {
		for _, ws := range wss {
			ws.Close(nil, nil)
		}
		for range wss {
			select {
			case <-closed:
			case <-time.After(30 * time.Second):
				tb.Error("CLOSE did not come")
				return
			}
		}
		for _, ws := range wss {
			within(tb, ws.q.wait(), "callbacks to finish")
		}
	}()
	warm := CreateWebSocket()
	warm.On(EventOpen, onOpen)
	warm.On(EventClose, onClose)
	if err := warm.Connect(url, opts, nil); err == nil {
		within(tb, opened, "OPEN")
		warm.Close(nil, nil)
		within(tb, closed, "CLOSE")
		within(tb, warm.q.wait(), "callbacks to finish")
	}
	before := heapStack()
	for range n {
		ws := CreateWebSocket()
		ws.On(EventOpen, onOpen)
		ws.On(EventClose, onClose)
		if err := ws.Connect(url, opts, nil); err != nil {
			tb.Fatal(err)
		}
		wss = append(wss, ws)
		select {
		case <-opened:
		case <-time.After(30 * time.Second):
			tb.Fatal("OPEN did not come")
		}
	}
	time.Sleep(200 * time.Millisecond)
	after := heapStack()
	return (float64(after) - float64(before)) / float64(n)
}

// BenchmarkIdleConn reports the memory an idle connection holds in the client process
// (B/conn), for the blocking API and the facade. Run it with -benchtime=1x.
func BenchmarkIdleConn(b *testing.B) {
	b.Run("api=blocking", func(b *testing.B) {
		var per float64
		for b.Loop() {
			per = idleBlocking(b, idleConns)
		}
		b.ReportMetric(per, "B/conn")
	})
	b.Run("api=facade", func(b *testing.B) {
		var per float64
		for b.Loop() {
			per = idleFacade(b, idleConns)
		}
		b.ReportMetric(per, "B/conn")
	})
}

// BenchmarkHandshake is one connect and close: Dial (TCP, opening handshake), Close (closing
// handshake, TCP close). allocs/op counts everything the client process allocates.
func BenchmarkHandshake(b *testing.B) {
	url := peerURL(b, "/echo")
	ctx := context.Background()
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		c, _, err := Dial(ctx, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Close(frame.CloseNormal, ""); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkFacadeHandshake is BenchmarkHandshake through the facade: Connect, OPEN, Close,
// CLOSE, with one WebSocket whose callbacks are registered once (a WebSocket connects again
// after CLOSE), so that allocs/op counts what the library allocates per connection.
func BenchmarkFacadeHandshake(b *testing.B) {
	url := peerURL(b, "/echo")
	ws := CreateWebSocket()
	opened := make(chan struct{}, 1)
	closed := make(chan struct{}, 1)
	ws.On(EventOpen, NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { opened <- struct{}{} }))
	ws.On(EventClose, NewWebSocketAsyncCallback(func(*AsyncError, CloseResult) { closed <- struct{}{} }))
	opts := NewWebSocketRequestOptions()
	opts.Proxy = NoProxy{}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if err := ws.Connect(url, opts, nil); err != nil {
			b.Fatal(err)
		}
		<-opened
		if err := ws.Close(nil, nil); err != nil {
			b.Fatal(err)
		}
		<-closed
		<-ws.q.wait()
	}
	reportCPU(b, cpu)
}

// reportCPU reports the CPU time per operation since start as cpu-ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

var benchSizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}

// BenchmarkBlocking measures the blocking API per message against the child-process server:
// send (WriteMessage to a server that drops), receive (ReadMessage from a server that floods)
// and round trip (echo), with a reused buffer: 0 allocs/op.
func BenchmarkBlocking(b *testing.B) {
	ctx := context.Background()
	dial := func(b *testing.B, path string) *Conn {
		c, _, err := Dial(ctx, peerURL(b, path), nil)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	for _, sz := range benchSizes {
		msg := make([]byte, sz.n)
		b.Run("op=send/size="+sz.name, func(b *testing.B) {
			c := dial(b, "/sink")
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				if err := c.WriteMessage(ctx, conn.Binary, msg); err != nil {
					b.Fatal(err)
				}
			}
			if err := c.Close(frame.CloseNormal, ""); err != nil { // the server has read all
				b.Fatal(err)
			}
			reportCPU(b, cpu)
		})
		b.Run("op=recv/size="+sz.name, func(b *testing.B) {
			c := dial(b, "/flood?n="+strconv.Itoa(sz.n))
			buf := make([]byte, 0, sz.n)
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				_, p, err := c.ReadMessage(ctx, buf)
				if err != nil || len(p) != sz.n {
					b.Fatal(err, len(p))
				}
			}
			b.StopTimer()
			reportCPU(b, cpu)
			c.CloseNow()
		})
		b.Run("op=roundtrip/size="+sz.name, func(b *testing.B) {
			c := dial(b, "/echo")
			buf := make([]byte, 0, sz.n)
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				if err := c.WriteMessage(ctx, conn.Binary, msg); err != nil {
					b.Fatal(err)
				}
				_, p, err := c.ReadMessage(ctx, buf)
				if err != nil || len(p) != sz.n {
					b.Fatal(err, len(p))
				}
			}
			b.StopTimer()
			reportCPU(b, cpu)
			c.Close(frame.CloseNormal, "")
		})
	}
}

// BenchmarkFacade measures the seed facade per message: receive (MESSAGE events from a server
// that floods; the one allocation hands the payload to the user) and round trip (Send, then
// the echo's MESSAGE).
func BenchmarkFacade(b *testing.B) {
	open := func(b *testing.B, path string, borrow bool, onMsg func(MessageData)) *WebSocket {
		ws := CreateWebSocket()
		opened := make(chan struct{}, 1)
		ws.On(EventOpen, NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { opened <- struct{}{} }))
		ws.On(EventMessage, NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) { onMsg(m) }))
		opts := NewWebSocketRequestOptions()
		opts.Proxy = NoProxy{}
		opts.BorrowMessages = borrow
		if err := ws.Connect(peerURL(b, path), opts, nil); err != nil {
			b.Fatal(err)
		}
		select {
		case <-opened:
		case <-time.After(30 * time.Second):
			b.Fatal("OPEN did not come")
		}
		return ws
	}
	closeWS := func(b *testing.B, ws *WebSocket) {
		closed := make(chan struct{})
		ws.On(EventClose, NewWebSocketAsyncCallback(func(*AsyncError, CloseResult) { close(closed) }))
		ws.Close(nil, nil)
		select {
		case <-closed:
		case <-time.After(30 * time.Second):
			b.Fatal("CLOSE did not come")
		}
		within(b, ws.q.wait(), "callbacks to finish")
	}
	for _, sz := range benchSizes {
		msg := make([]byte, sz.n)
		for _, borrow := range []bool{false, true} {
			op := "recv"
			if borrow {
				op = "recv-borrow" // BorrowMessages: one reused buffer, 0 allocations
			}
			b.Run("op="+op+"/size="+sz.name, func(b *testing.B) {
				got := make(chan struct{}, 1024)
				ws := open(b, "/flood?n="+strconv.Itoa(sz.n), borrow, func(m MessageData) {
					select {
					case got <- struct{}{}:
					default:
					}
				})
				b.SetBytes(int64(sz.n))
				b.ReportAllocs()
				cpu := cpuTime()
				limit := time.NewTimer(time.Minute) // bounds every wait, allocating nothing per op
				defer limit.Stop()
				for b.Loop() {
					select {
					case <-got:
					case <-limit.C:
						b.Fatal("MESSAGE did not come")
					}
				}
				b.StopTimer()
				reportCPU(b, cpu)
				closeWS(b, ws)
			})
		}
		b.Run("op=send/size="+sz.name, func(b *testing.B) {
			// Paced as the facade documents (and as bench/peers does): a callback for every
			// 64 KiB of payload (every message of 64 KiB or more), at most 32 outstanding, and
			// BufferedAmount kept under 8 MiB.
			ws := open(b, "/sink", false, func(MessageData) {})
			sem := make(chan struct{}, 32)
			drained := make(chan struct{}, 1)
			var failed atomic.Pointer[AsyncError]
			cb := NewWebSocketAsyncCallback(func(err *AsyncError, _ bool) {
				if err != nil {
					failed.CompareAndSwap(nil, err)
				}
				<-sem
				select {
				case drained <- struct{}{}:
				default:
				}
			})
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			cpu := cpuTime()
			n := 0
			for b.Loop() {
				n++
				var c *WebSocketAsyncCallback[bool]
				if n%max(1, (64<<10)/sz.n) == 0 {
					sem <- struct{}{}
					c = cb
				}
				for {
					if q, _ := ws.BufferedAmount(); q == 0 || q+int64(sz.n) <= 8<<20 {
						break
					}
					<-drained
				}
				if err := ws.Send(ArrayData(msg), c); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; i < cap(sem); i++ { // every callback ran: all was written
				sem <- struct{}{}
			}
			b.StopTimer()
			reportCPU(b, cpu)
			if err := failed.Load(); err != nil {
				b.Fatal(err)
			}
			closeWS(b, ws)
		})
		b.Run("op=roundtrip/size="+sz.name, func(b *testing.B) {
			got := make(chan int, 1)
			ws := open(b, "/echo", false, func(m MessageData) { got <- len(m.(ArrayData)) })
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			cpu := cpuTime()
			limit := time.NewTimer(time.Minute)
			defer limit.Stop()
			for b.Loop() {
				ws.Send(ArrayData(msg), nil)
				select {
				case n := <-got:
					if n != sz.n {
						b.Fatal(n)
					}
				case <-limit.C:
					b.Fatal("MESSAGE did not come")
				}
			}
			b.StopTimer()
			reportCPU(b, cpu)
			closeWS(b, ws)
		})
	}
}

// The fragmented message of BenchmarkFragmented: 4 MiB in 65,536 frames of 64 bytes.
const (
	fragMessage = 4 << 20
	fragSize    = 64
)

// BenchmarkFragmented receives a 4 MiB message that the server sends as 65,536 frames of 64
// bytes (fragMessage, fragSize), one message per op, through the blocking API and through the
// facade, side by side: reassembly must be linear in both (issue 9: it was quadratic in the
// facade, 35.8 s per message). api=blocking reads each message into a fresh buffer (as the
// facade must, since it hands each message away), api=blocking-reused into one buffer reused
// across messages, api=facade gets it as a MESSAGE event.
func BenchmarkFragmented(b *testing.B) {
	ctx := context.Background()
	path := "/fragments?n=" + strconv.Itoa(fragMessage) + "&f=" + strconv.Itoa(fragSize)
	for _, reuse := range []bool{false, true} {
		name := "api=blocking"
		if reuse {
			name = "api=blocking-reused"
		}
		b.Run(name, func(b *testing.B) {
			c, _, err := Dial(ctx, peerURL(b, path), &DialOptions{PingInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseNow()
			var buf []byte
			b.SetBytes(fragMessage)
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				_, p, err := c.ReadMessage(ctx, buf)
				if err != nil || len(p) != fragMessage {
					b.Fatal(err, len(p))
				}
				if reuse {
					buf = p
				}
			}
			b.StopTimer()
			reportCPU(b, cpu)
		})
	}
	b.Run("api=facade", func(b *testing.B) {
		ws := CreateWebSocket()
		opened := make(chan struct{}, 1)
		got := make(chan int, 64)
		closed := make(chan struct{})
		ws.On(EventOpen, NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { opened <- struct{}{} }))
		ws.On(EventMessage, NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) {
			select { // never blocks the event queue, so that CLOSE comes once the loop is over
			case got <- len(m.(ArrayData)):
			default:
			}
		}))
		ws.On(EventClose, NewWebSocketAsyncCallback(func(*AsyncError, CloseResult) { close(closed) }))
		opts := NewWebSocketRequestOptions()
		opts.Proxy = NoProxy{}
		opts.PingInterval = 0
		if err := ws.Connect(peerURL(b, path), opts, nil); err != nil {
			b.Fatal(err)
		}
		within(b, opened, "OPEN")
		b.SetBytes(fragMessage)
		b.ReportAllocs()
		cpu := cpuTime()
		limit := time.NewTimer(time.Minute)
		defer limit.Stop()
		for b.Loop() {
			select {
			case n := <-got:
				if n != fragMessage {
					b.Fatal(n)
				}
			case <-limit.C:
				b.Fatal("MESSAGE did not come within a minute")
			}
		}
		b.StopTimer()
		reportCPU(b, cpu)
		ws.Close(nil, nil)
		within(b, closed, "CLOSE")
		within(b, ws.q.wait(), "callbacks to finish")
	})
}
