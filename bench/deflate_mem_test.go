package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/internal/echoserver"
)

// Idle memory with compression: BenchmarkIdleCompressedConns opens many client connections
// of one library and mode, sends the 64 KiB JSON message of ../deflate/testdata on each and
// reads its compressed echo (so that every takeover dictionary is full), leaves each with one
// goroutine blocked in a read (gws: its ReadLoop), then collects garbage twice and reports the
// heap and goroutine stacks in use per connection, as bench/peers' idle benchmark does. The
// echo servers run in a child process (this test binary, started with memServerEnv set), so
// that only the clients are measured. Pooled compressors and inflaters are freed by the two
// collections: what is left is what each connection keeps.

// memServerEnv, when set in the environment of this test binary, makes TestMain run the echo
// servers of the memory benchmark instead of the tests (see runMemServers).
const memServerEnv = "WEBSOCKET_BENCH_DEFLATE_SERVERS"

// idleConnsEnv overrides idleConnsDefault, the connections opened per case.
const (
	idleConnsEnv     = "WEBSOCKET_BENCH_IDLE_CONNS"
	idleConnsDefault = 1000
)

// runMemServers runs the echo servers of the memory benchmark until stdin ends: ours
// (echoserver, every offer accepted) and, on one HTTP server, gws and coder with compression,
// with context takeover (/gws/takeover, /coder/takeover) or without (/gws/none, /coder/none),
// and gorilla (/gorilla; it has no context takeover).
// It prints the two addresses, ours first, on one line.
func runMemServers() {
	ours, err := echoserver.Start("127.0.0.1:0", echoserver.WithDeflate(deflate.ServerOptions{}, -1))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	for _, takeover := range []bool{false, true} {
		path := "/none"
		if takeover {
			path = "/takeover"
		}
		pmd := gws.PermessageDeflate{Enabled: true, ServerContextTakeover: takeover, ClientContextTakeover: takeover,
			ServerMaxWindowBits: 15, ClientMaxWindowBits: 15, Threshold: 1}
		mux.HandleFunc("/gws"+path, gwsEchoHandler(&gws.ServerOption{PermessageDeflate: pmd, ReadMaxPayloadSize: 64 << 20}))
		mode := coder.CompressionNoContextTakeover
		if takeover {
			mode = coder.CompressionContextTakeover
		}
		mux.HandleFunc("/coder"+path, coderEchoHandler(mode))
	}
	mux.HandleFunc("/gorilla", gorillaEchoHandler())
	srv := &http.Server{Handler: mux}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println(ours.Addr().String(), ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it (or dies)
	os.Exit(0)
}

// memServers starts runMemServers in a child process and returns its addresses.
func memServers(tb testing.TB) (oursAddr, httpAddr string) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), memServerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 2 {
		tb.Fatalf("echo servers: %q, %v", line, err)
	}
	return f[0], f[1]
}

// idleConn is one open client connection of the memory benchmark.
type idleConn struct {
	echo  func(msg []byte) ([]byte, error)
	idle  func() <-chan struct{} // starts the idle reader; the channel closes when it ends
	abort func()
}

// memCase is one library and mode of the memory benchmark.
type memCase struct {
	name string
	dial func(oursAddr, httpAddr string) (idleConn, error)
}

func oursMemCase(name string, opts *deflate.ClientOptions) memCase {
	return memCase{name, func(addr, _ string) (idleConn, error) {
		ctx := context.Background()
		c, _, err := client.Dial(ctx, "ws://"+addr+"/", &client.DialOptions{Deflate: opts, CompressionThreshold: -1})
		if err != nil {
			return idleConn{}, err
		}
		var buf []byte
		return idleConn{
			echo: func(msg []byte) ([]byte, error) {
				if err := c.WriteMessage(ctx, conn.Text, msg); err != nil {
					return nil, err
				}
				_, p, err := c.ReadMessage(ctx, buf)
				return p, err
			},
			idle: func() <-chan struct{} {
				done := make(chan struct{})
				go func() {
					defer close(done)
					for {
						if _, _, err := c.ReadMessage(ctx, nil); err != nil {
							return
						}
					}
				}()
				return done
			},
			abort: func() { _ = c.CloseNow() },
		}, nil
	}}
}

func gwsMemCase(takeover bool) memCase {
	name, path := "gws/no_takeover", "/gws/none"
	if takeover {
		name, path = "gws/takeover_w15", "/gws/takeover"
	}
	return memCase{name, func(_, addr string) (idleConn, error) {
		pmd := gws.PermessageDeflate{Enabled: true, ServerContextTakeover: takeover, ClientContextTakeover: takeover,
			ServerMaxWindowBits: 15, ClientMaxWindowBits: 15, Threshold: 1}
		h := &gwsClient{got: make(chan []byte, 1)}
		c, _, err := gws.NewClient(h, &gws.ClientOption{Addr: "ws://" + addr + path, PermessageDeflate: pmd,
			ReadMaxPayloadSize: 64 << 20})
		if err != nil {
			return idleConn{}, err
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.ReadLoop()
		}()
		return idleConn{
			echo: func(msg []byte) ([]byte, error) {
				if err := c.WriteMessage(gws.OpcodeText, msg); err != nil {
					return nil, err
				}
				select {
				case p := <-h.got:
					return p, nil
				case <-done:
					return nil, io.ErrUnexpectedEOF
				}
			},
			idle:  func() <-chan struct{} { return done },
			abort: func() { c.NetConn().Close() },
		}, nil
	}}
}

func coderMemCase(takeover bool) memCase {
	name, path, mode := "coder/no_takeover", "/coder/none", coder.CompressionNoContextTakeover
	if takeover {
		name, path, mode = "coder/takeover_w15", "/coder/takeover", coder.CompressionContextTakeover
	}
	return memCase{name, func(_, addr string) (idleConn, error) {
		ctx := context.Background()
		c, _, err := coder.Dial(ctx, "ws://"+addr+path, &coder.DialOptions{CompressionMode: mode, CompressionThreshold: 1})
		if err != nil {
			return idleConn{}, err
		}
		c.SetReadLimit(64 << 20)
		return idleConn{
			echo: func(msg []byte) ([]byte, error) {
				if err := c.Write(ctx, coder.MessageText, msg); err != nil {
					return nil, err
				}
				_, p, err := c.Read(ctx)
				return p, err
			},
			idle: func() <-chan struct{} {
				done := make(chan struct{})
				go func() {
					defer close(done)
					for {
						if _, _, err := c.Read(ctx); err != nil {
							return
						}
					}
				}()
				return done
			},
			abort: func() { _ = c.CloseNow() },
		}, nil
	}}
}

// gorillaMemCase is gorilla with compression, which has no context takeover.
var gorillaMemCase = memCase{"gorilla/no_takeover", func(_, addr string) (idleConn, error) {
	d := gorilla.Dialer{EnableCompression: true}
	c, _, err := d.Dial("ws://"+addr+"/gorilla", nil)
	if err != nil {
		return idleConn{}, err
	}
	return idleConn{
		echo: func(msg []byte) ([]byte, error) {
			if err := c.WriteMessage(gorilla.TextMessage, msg); err != nil {
				return nil, err
			}
			_, p, err := c.ReadMessage()
			return p, err
		},
		idle: func() <-chan struct{} {
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			}()
			return done
		},
		abort: func() { c.Close() },
	}, nil
}}

var memCases = []memCase{
	oursMemCase("ours/uncompressed", nil),
	oursMemCase("ours/no_takeover", &deflate.ClientOptions{ClientNoContextTakeover: true, ServerNoContextTakeover: true}),
	oursMemCase("ours/takeover_w9", &deflate.ClientOptions{ClientMaxWindowBits: 9, ServerMaxWindowBits: 9}),
	oursMemCase("ours/takeover_w12", &deflate.ClientOptions{ClientMaxWindowBits: 12, ServerMaxWindowBits: 12}),
	oursMemCase("ours/takeover_w15", &deflate.ClientOptions{ClientMaxWindowBits: 15, ServerMaxWindowBits: 15}),
	oursMemCase("ours/takeover_w15_level1", &deflate.ClientOptions{ClientMaxWindowBits: 15, ServerMaxWindowBits: 15, Level: deflate.BestSpeed}),
	gwsMemCase(false),
	gwsMemCase(true),
	coderMemCase(false),
	coderMemCase(true),
	gorillaMemCase,
}

// memInUse is the heap and stack in use and the goroutines, after two collections (the second
// frees what the first left in the pools' victim caches).
func memInUse() (heap, stack, goroutines float64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapInuse), float64(ms.StackInuse), float64(runtime.NumGoroutine())
}

// BenchmarkIdleCompressedConns reports the memory an idle client connection keeps, per library
// and compression mode: B/conn (heap + stacks), heapB/conn, stackB/conn, goroutines/conn. See
// the comment above memServerEnv. Run it with -benchtime=1x; WEBSOCKET_BENCH_IDLE_CONNS sets
// the connections per case (default 1000).
func BenchmarkIdleCompressedConns(b *testing.B) {
	n := idleConnsDefault
	if s := os.Getenv(idleConnsEnv); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("%s=%q: want a positive count", idleConnsEnv, s)
		}
		n = v
	}
	msg, err := os.ReadFile("../deflate/testdata/msg-64k.json")
	if err != nil {
		b.Fatal(err)
	}
	oursAddr, httpAddr := memServers(b)
	for _, mc := range memCases {
		b.Run(mc.name, func(b *testing.B) {
			// Warm-up: one-time costs of the library and mode (pools, package state) are not
			// the connections'.
			if _, _, _, err := measureIdle(mc, 20, msg, oursAddr, httpAddr); err != nil {
				b.Fatal(err)
			}
			var total, heap, stack, gor float64
			for range b.N {
				h, s, g, err := measureIdle(mc, n, msg, oursAddr, httpAddr)
				if err != nil {
					b.Fatal(err)
				}
				total, heap, stack, gor = total+h+s, heap+h, stack+s, gor+g
			}
			N := float64(b.N)
			b.ReportMetric(total/N, "B/conn")
			b.ReportMetric(heap/N, "heapB/conn")
			b.ReportMetric(stack/N, "stackB/conn")
			b.ReportMetric(gor/N, "goroutines/conn")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// measureIdle opens n idle connections of mc and returns what each keeps.
func measureIdle(mc memCase, n int, msg []byte, oursAddr, httpAddr string) (heap, stack, goroutines float64, err error) {
	conns := make([]idleConn, 0, n)
	readers := make([]<-chan struct{}, 0, n)
	defer func() {
		for i, c := range conns {
			c.abort()
			if i < len(readers) {
				select {
				case <-readers[i]:
				case <-time.After(10 * time.Second):
					if err == nil {
						err = fmt.Errorf("%s: an idle reader did not end", mc.name)
					}
				}
			}
		}
	}()
	h0, s0, g0 := memInUse()
	for range n {
		c, err := mc.dial(oursAddr, httpAddr)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%s: dial: %w", mc.name, err)
		}
		conns = append(conns, c)
		got, err := c.echo(msg)
		if err != nil || !bytes.Equal(got, msg) {
			return 0, 0, 0, fmt.Errorf("%s: echo: %v, %d bytes back of %d", mc.name, err, len(got), len(msg))
		}
		readers = append(readers, c.idle())
	}
	time.Sleep(200 * time.Millisecond) // let every reader block in its read
	h1, s1, g1 := memInUse()
	per := func(a, b float64) float64 { return (a - b) / float64(n) }
	return per(h1, h0), per(s1, s0), per(g1, g0), nil
}
