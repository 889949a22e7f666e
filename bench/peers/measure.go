package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// config sizes one run.
type config struct {
	reps       int
	rtCount    int           // timed round trips per repetition
	rtSizes    []int         // round-trip message sizes
	tpSizes    []int         // throughput message sizes
	tpMinTime  time.Duration // minimum time per throughput repetition
	tpMinBytes int           // minimum bytes per throughput repetition
	chunkBytes int           // bytes the source sends per request
	hsCount    int           // connects per handshake repetition
	idleConns  int           // connections of the idle-memory benchmark
	watchdog   time.Duration // a repetition taking longer is aborted and reported as an error
}

func fullConfig() config {
	return config{
		reps:       7,
		rtCount:    10000,
		rtSizes:    []int{16, 1 << 10},
		tpSizes:    []int{64, 1 << 10, 64 << 10, 1 << 20},
		tpMinTime:  500 * time.Millisecond,
		tpMinBytes: 0,
		chunkBytes: 4 << 20,
		hsCount:    300,
		idleConns:  5000,
		watchdog:   2 * time.Minute,
	}
}

func quickConfig() config {
	return config{
		reps:       1,
		rtCount:    50,
		rtSizes:    []int{16, 1 << 10},
		tpSizes:    []int{64, 1 << 10, 64 << 10, 1 << 20},
		tpMinTime:  0,
		tpMinBytes: 2 << 20,
		chunkBytes: 1 << 20,
		hsCount:    10,
		idleConns:  200,
		watchdog:   30 * time.Second,
	}
}

// sample is one repetition's metrics, by name.
type sample map[string]float64

// bench is one benchmark: a key for the tables ("rt/16", "send/65536", ...) and what it runs
// for one library and repetition.
type bench struct {
	kind string // rt, send, recv, handshake, idle, zsend, zrecv
	size int
	run  func(lib library) (sample, error)
	libs []library // the clients it runs; nil: those of the run (the compression section has its own)
}

func (b bench) key() string {
	if b.size == 0 {
		return b.kind
	}
	return b.kind + "/" + strconv.Itoa(b.size)
}

// harness runs benchmarks against the server.
type harness struct {
	cfg config
	srv addrs
	// heapProfile, when not "", is the prefix of heap profiles written while the idle
	// connections are open: <heapProfile>.idle-<library>.
	heapProfile string
}

// dialTimeout bounds one dial of the benchmarks that do not count the dial's cost.
const dialTimeout = 20 * time.Second

// dial connects lib to path, bounded by dialTimeout.
func (h *harness) dial(lib library, path string) (peerConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	return h.dialCtx(ctx, lib, path)
}

// dialCtx connects lib to path within ctx.
func (h *harness) dialCtx(ctx context.Context, lib library, path string) (peerConn, error) {
	c, err := lib.dial(ctx, h.srv, path)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", path, err)
	}
	return c, nil
}

// guard aborts c when the repetition exceeds the watchdog, so that no wait is unbounded.
func (h *harness) guard(c peerConn) (stop func() bool) {
	return time.AfterFunc(h.cfg.watchdog, c.abort).Stop
}

// benches lists the benchmarks selected by only (all when empty).
func (h *harness) benches(only map[string]bool, sizes map[int]bool) []bench {
	var bs []bench
	want := func(kind string, size int) bool {
		return (len(only) == 0 || only[kind]) && (size == 0 || len(sizes) == 0 || sizes[size])
	}
	for _, s := range h.cfg.rtSizes {
		if want("rt", s) {
			bs = append(bs, bench{kind: "rt", size: s, run: func(l library) (sample, error) { return h.roundTrip(l, s) }})
		}
	}
	for _, s := range h.cfg.tpSizes {
		if want("send", s) {
			bs = append(bs, bench{kind: "send", size: s, run: func(l library) (sample, error) { return h.send(l, s) }})
		}
	}
	for _, s := range h.cfg.tpSizes {
		if want("recv", s) {
			bs = append(bs, bench{kind: "recv", size: s, run: func(l library) (sample, error) { return h.recv(l, s) }})
		}
	}
	if want("handshake", 0) {
		bs = append(bs, bench{kind: "handshake", run: h.handshake})
	}
	if want("idle", 0) {
		bs = append(bs, bench{kind: "idle", run: h.idle})
	}
	return append(bs, h.deflateBenches(want)...)
}

// payload returns n bytes of the shared pattern.
func payload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = pattern(i)
	}
	return p
}

// percentile returns the q-quantile (0..1) of sorted durations, in microseconds.
func percentile(sorted []time.Duration, q float64) float64 {
	i := int(q * float64(len(sorted)))
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return float64(sorted[i]) / 1e3
}

// roundTrip times rtCount echo round trips of size bytes, after a warm-up, verifying each
// echo byte for byte.
func (h *harness) roundTrip(lib library, size int) (sample, error) {
	c, err := h.dial(lib, "/echo")
	if err != nil {
		return nil, err
	}
	defer c.close()
	defer h.guard(c)()
	msg := payload(size)
	lat := make([]time.Duration, h.cfg.rtCount)
	warm := min(100, h.cfg.rtCount)
	if cb, ok := c.(callbackRoundTripper); ok {
		if err := cb.roundTrips(msg, lat, warm); err != nil {
			return nil, err
		}
		slices.Sort(lat)
		return sample{"p50": percentile(lat, 0.50), "p99": percentile(lat, 0.99), "p999": percentile(lat, 0.999)}, nil
	}
	for i := -warm; i < len(lat); i++ {
		t0 := time.Now()
		if err := c.write(msg); err != nil {
			return nil, err
		}
		p, err := c.read()
		d := time.Since(t0)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(p, msg) {
			return nil, fmt.Errorf("%w: echo of %d bytes differs (%d bytes back)", errMessage, size, len(p))
		}
		if i >= 0 {
			lat[i] = d
		}
	}
	slices.Sort(lat)
	return sample{"p50": percentile(lat, 0.50), "p99": percentile(lat, 0.99), "p999": percentile(lat, 0.999)}, nil
}

// usage is the client process's resource counters at one moment.
type usage struct {
	mallocs, totalAlloc uint64
	cpu                 time.Duration // user + system
	at                  time.Time
}

func takeUsage() usage {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return usage{mallocs: ms.Mallocs, totalAlloc: ms.TotalAlloc, cpu: cpu, at: time.Now()}
}

// throughput turns two usages around msgs messages of size bytes into metrics.
func throughput(u0, u1 usage, msgs, size int) sample {
	el := u1.at.Sub(u0.at).Seconds()
	bytes := float64(msgs) * float64(size)
	return sample{
		"msgs":   float64(msgs) / el,
		"mbs":    bytes / el / 1e6,
		"allocs": float64(u1.mallocs-u0.mallocs) / float64(msgs),
		"bytes":  float64(u1.totalAlloc-u0.totalAlloc) / float64(msgs),
		"cpu":    (u1.cpu - u0.cpu).Seconds() / (bytes / 1e9),
	}
}

// sinkAck sends "done" and checks the sink's "ack <want>".
func sinkAck(c peerConn, want int) error {
	if err := c.writeText([]byte("done")); err != nil {
		return err
	}
	p, err := c.read()
	if err != nil {
		return err
	}
	if got := string(p); got != "ack "+strconv.Itoa(want) {
		return fmt.Errorf("%w: sink answered %q after %d messages", errMessage, got, want)
	}
	return nil
}

// send writes size-byte messages to the sink for at least tpMinTime and tpMinBytes, then
// times until the sink acknowledges them all.
func (h *harness) send(lib library, size int) (sample, error) {
	c, err := h.dial(lib, "/sink")
	if err != nil {
		return nil, err
	}
	defer c.close()
	defer h.guard(c)()
	msg := payload(size)
	for i := 0; i < 4; i++ { // warm-up
		if err := c.write(msg); err != nil {
			return nil, err
		}
	}
	if err := sinkAck(c, 4); err != nil {
		return nil, err
	}
	minMsgs := max(1, h.cfg.tpMinBytes/size)
	u0 := takeUsage()
	n := 0
	for n < minMsgs || time.Since(u0.at) < h.cfg.tpMinTime {
		for j := 0; j < 8; j++ {
			if err := c.write(msg); err != nil {
				return nil, err
			}
		}
		n += 8
	}
	if err := sinkAck(c, n); err != nil {
		return nil, err
	}
	return throughput(u0, takeUsage(), n, size), nil
}

// recv receives size-byte messages from the source, chunkBytes per request, for at least
// tpMinTime and tpMinBytes.
func (h *harness) recv(lib library, size int) (sample, error) {
	c, err := h.dial(lib, "/source")
	if err != nil {
		return nil, err
	}
	defer c.close()
	defer h.guard(c)()
	if err := c.recv(request(4, size), 4, size); err != nil { // warm-up
		return nil, err
	}
	chunk := max(1, h.cfg.chunkBytes/size)
	req := request(chunk, size)
	minMsgs := max(1, h.cfg.tpMinBytes/size)
	u0 := takeUsage()
	n := 0
	for n < minMsgs || time.Since(u0.at) < h.cfg.tpMinTime {
		if err := c.recv(req, chunk, size); err != nil {
			return nil, err
		}
		n += chunk
	}
	return throughput(u0, takeUsage(), n, size), nil
}

// request is the source's request for n messages of size bytes.
func request(n, size int) []byte { return fmt.Appendf(nil, "%d %d", n, size) }

// handshake times hsCount connects (dial until open) and counts the allocations of each
// connect+close (the library's normal close). One context bounds all the connects of a
// repetition, so that the harness allocates nothing per connect.
func (h *harness) handshake(lib library) (sample, error) {
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.watchdog)
	defer cancel()
	lat := make([]time.Duration, h.cfg.hsCount)
	// One warm-up connection, so that one-time setup is not counted.
	c, err := h.dial(lib, "/echo")
	if err != nil {
		return nil, err
	}
	c.close()
	re, _ := c.(reconnector)
	u0 := takeUsage()
	for i := range lat {
		t0 := time.Now()
		if re != nil {
			err = re.reconnect(ctx, h.srv, "/echo")
		} else {
			c, err = h.dialCtx(ctx, lib, "/echo")
		}
		lat[i] = time.Since(t0)
		if err != nil {
			return nil, err
		}
		c.close()
	}
	u1 := takeUsage()
	slices.Sort(lat)
	n := float64(len(lat))
	return sample{
		"p50":    percentile(lat, 0.50),
		"p99":    percentile(lat, 0.99),
		"allocs": float64(u1.mallocs-u0.mallocs) / n,
		"bytes":  float64(u1.totalAlloc-u0.totalAlloc) / n,
	}, nil
}

// reconnector is a peerConn whose library object connects again after a close (the seed's
// WebSocket does): the handshake benchmark reuses it, so that it counts connecting and closing,
// not making the object and registering its callbacks, which an application does once.
type reconnector interface {
	reconnect(ctx context.Context, a addrs, path string) error
}

// memory is what the idle benchmark counts, after two collections: heap spans in use and
// goroutine stacks, and the number of goroutines.
type memory struct{ heap, stack, goroutines float64 }

func inUse() memory {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{float64(ms.HeapInuse), float64(ms.StackInuse), float64(runtime.NumGoroutine())}
}

// writeHeapProfile writes the heap profile (live objects as of the last collection) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// closedTime is a closed channel: receiving from it never waits.
var closedTime = func() chan time.Time { c := make(chan time.Time); close(c); return c }()

// idleDialers is how many goroutines open the idle connections.
const idleDialers = 4

// idle opens idleConns connections to the idle path, each with a reader waiting, and reports
// (HeapInuse + StackInuse after) - (before), divided by the number of connections.
func (h *harness) idle(lib library) (sample, error) {
	n := h.cfg.idleConns
	conns := make([]peerConn, n)
	readers := make([]<-chan struct{}, n)
	errs := make([]error, idleDialers)
	before := inUse()

	var wg sync.WaitGroup
	for w := range idleDialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += idleDialers {
				c, err := h.dial(lib, "/idle")
				if err != nil {
					errs[w] = err
					return
				}
				conns[i] = c
				readers[i] = c.idle()
			}
		}()
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond) // let every reader block in its read
	after := inUse()
	if h.heapProfile != "" {
		if err := writeHeapProfile(h.heapProfile + ".idle-" + lib.name); err != nil {
			return nil, err
		}
	}

	// Tear down: drop every connection and wait for every reader to end.
	deadline := time.NewTimer(h.cfg.watchdog)
	defer deadline.Stop()
	expired := (<-chan time.Time)(deadline.C)
	var stuck int
	for i, c := range conns {
		if c != nil {
			c.abort()
			select {
			case <-readers[i]:
			case <-expired:
				stuck++
				expired = closedTime // later readers get no more time
			}
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if stuck > 0 {
		return nil, fmt.Errorf("%d idle readers did not end", stuck)
	}
	per := func(a, b float64) float64 { return (a - b) / float64(n) }
	return sample{
		"bytes":      per(after.heap+after.stack, before.heap+before.stack),
		"heap":       per(after.heap, before.heap),
		"stack":      per(after.stack, before.stack),
		"goroutines": per(after.goroutines, before.goroutines),
	}, nil
}
