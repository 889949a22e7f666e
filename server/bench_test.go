package server

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// bareServer is the baseline of the benchmarks: a conn-level echo server (handshake.Upgrader
// and conn.Conn in the server role, a goroutine per connection reading into one buffer and
// writing with WriteMessage), with no facade. It returns its ws:// URL and a stop function that
// waits for its goroutines.
func bareServer(tb testing.TB) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(tb, err)
	done := make(chan struct{})
	conns := make(chan net.Conn, 16)
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for {
			nc, err := ln.Accept()
			if err != nil {
				wg.Wait()
				return
			}
			conns <- nc
			wg.Go(func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				var u handshake.Upgrader
				if _, _, err := u.Upgrade(br, nc); err != nil {
					return
				}
				var prefix []byte
				if n := br.Buffered(); n > 0 {
					prefix, _ = br.Peek(n)
				}
				c := conn.New(nc, append([]byte(nil), prefix...), &conn.Config{Role: frame.RoleServer})
				var buf []byte
				for {
					typ, p, err := c.ReadMessage(context.Background(), buf)
					if err != nil {
						return
					}
					buf = p[:0]
					if c.WriteMessage(context.Background(), typ, p) != nil {
						return
					}
				}
			})
		}
	}()
	return "ws://" + ln.Addr().String() + "/", func() {
		ln.Close()
		for {
			select {
			case nc := <-conns:
				nc.Close()
				continue
			default:
			}
			break
		}
		<-done
	}
}

// facadeEcho starts the facade as an echo server: Send from the messageReceive callback.
func facadeEcho(tb testing.TB) (string, func()) { return facadeEchoWith(tb, false) }

// facadeBorrowEcho is facadeEcho in the borrowing mode (BorrowMessages): the callback sends
// the *BorrowedData it got.
func facadeBorrowEcho(tb testing.TB) (string, func()) { return facadeEchoWith(tb, true) }

func facadeEchoWith(tb testing.TB, borrow bool) (string, func()) {
	s := CreateWebSocketServer()
	must(tb, s.On(EventMessageReceive, NewMessageReceiveCallback(func(m WebSocketMessage) {
		echoWaiting(s, m)
	})))
	res := newResult()
	must(tb, s.Start(&WebSocketServerConfig{ServerIP: "127.0.0.1", BorrowMessages: borrow}, res.cb))
	if err := res.wait(tb); err != nil {
		tb.Fatal(err)
	}
	return "ws://" + s.Addr().String() + "/", func() {
		r := newResult()
		_ = s.Stop(r.cb)
		r.wait(tb)
	}
}

// echoWaiting sends m back. When the send queue is full (the pipelined client writes faster
// than it reads), it waits for the queue to drain to half its caps and sends again, rather than
// drop the message, which would leave the benchmark's reader waiting forever: this callback
// holding the connection's queue stops its reading, and TCP flow control slows the client.
func echoWaiting(s *WebSocketServer, m WebSocketMessage) {
	for errors.Is(s.Send(m.Data, m.ClientConnection, nil), ErrQueueFull) {
		for {
			bytes, n, err := s.BufferedAmount(m.ClientConnection)
			if err != nil || bytes <= DefaultSendQueueBytes/2 && n <= DefaultSendQueueMessages/2 {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
}

var servers = []struct {
	name  string
	start func(testing.TB) (string, func())
}{
	{"bare-conn", bareServer},
	{"facade", facadeEcho},
	{"facade-borrow", facadeBorrowEcho},
}

// BenchmarkEchoRoundTrip: one message of 64 bytes out and its echo back, one at a time
// (latency: ns/op is one round trip), through the facade and the bare conn-level server.
func BenchmarkEchoRoundTrip(b *testing.B) {
	msg := []byte(strings.Repeat("x", 64))
	for _, srv := range servers {
		b.Run(srv.name, func(b *testing.B) {
			url, stop := srv.start(b)
			defer stop()
			c, _, err := client.Dial(context.Background(), url, &client.DialOptions{PingInterval: -1})
			must(b, err)
			defer c.CloseNow()
			ctx := context.Background()
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			for range b.N {
				must(b, c.WriteMessage(ctx, conn.Text, msg))
				if _, _, err := c.ReadMessage(ctx, buf); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			_ = c.Close(1000, "")
		})
	}
}

// BenchmarkEchoThroughput: messages of 64 bytes and 16 KiB written back to back while another
// goroutine reads the echoes (throughput: ns/op per message, MB/s one way).
func BenchmarkEchoThroughput(b *testing.B) {
	for _, size := range []int{64, 16 << 10} {
		msg := []byte(strings.Repeat("y", size))
		for _, srv := range servers {
			b.Run(srv.name+"/"+itoa(size), func(b *testing.B) {
				url, stop := srv.start(b)
				defer stop()
				c, _, err := client.Dial(context.Background(), url, &client.DialOptions{PingInterval: -1})
				must(b, err)
				defer c.CloseNow()
				ctx := context.Background()
				b.ReportAllocs()
				b.SetBytes(int64(size))
				b.ResetTimer()
				read := make(chan error, 1)
				go func() {
					buf := make([]byte, 0, size+64)
					for range b.N {
						if _, _, err := c.ReadMessage(ctx, buf); err != nil {
							read <- err
							return
						}
					}
					read <- nil
				}()
				for range b.N {
					if err := c.WriteMessage(ctx, conn.Binary, msg); err != nil {
						b.Fatal(err)
					}
				}
				if err := <-read; err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				_ = c.Close(1000, "")
			})
		}
	}
}

// rawWS opens a client connection to url with a hand-written handshake on a bare net.Conn, so
// that the client side costs no more than its socket.
func rawWS(tb testing.TB, addr string, extra ...string) net.Conn {
	nc, err := net.Dial("tcp", addr)
	must(tb, err)
	_, err = io.WriteString(nc, confRequest(addr, append(slices.Clone(confHeaders), extra...)...))
	must(tb, err)
	// The 101 response ends with an empty line; it is short and comes in one segment.
	var b [512]byte
	n := 0
	for !strings.Contains(string(b[:n]), "\r\n\r\n") {
		m, err := nc.Read(b[n:])
		must(tb, err)
		n += m
	}
	if !strings.HasPrefix(string(b[:n]), "HTTP/1.1 101") {
		tb.Fatalf("handshake: %q", b[:n])
	}
	if len(extra) > 0 && !strings.Contains(string(b[:n]), "permessage-deflate") {
		tb.Fatalf("handshake: %q: no permessage-deflate", b[:n])
	}
	return nc
}

func memInUse() int64 {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc + ms.StackInuse)
}

// BenchmarkIdleConnectionMemory reports what an idle server-side connection of the facade
// costs: heap and goroutine stacks, the socket included. N clients with hand-made handshakes on
// bare sockets connect to the facade; the same N socket pairs with nothing on the server side
// but the accepted net.Conn give the baseline. The server side's cost per connection is
// (facade - baseline/2)/N: the baseline holds two sockets per connection, one of them the
// server's.
func BenchmarkIdleConnectionMemory(b *testing.B) {
	idleMemory(b, nil, false)
}

// BenchmarkIdleConnectionMemoryDeflate is BenchmarkIdleConnectionMemory after a message of 33
// KiB of text each way (the server sends its own on connect, which the client never reads),
// without compression, and with PerMessageDeflate accepted by every connection: with no
// context takeover in either direction (the codecs hold a window only while a message is
// compressed or inflated), and with context takeover (each connection keeps its two windows
// of 2^15 bytes).
func BenchmarkIdleConnectionMemoryDeflate(b *testing.B) {
	b.Run("uncompressed", func(b *testing.B) { idleMemory(b, nil, true) })
	b.Run("no_context_takeover", func(b *testing.B) {
		idleMemory(b, &deflate.ServerOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, true)
	})
	b.Run("takeover", func(b *testing.B) { idleMemory(b, &deflate.ServerOptions{}, true) })
}

// idleFrame returns the client's message of the deflate idle benchmarks: a masked text frame
// (mask key 0) of payload, compressed (RSV1, RFC 7692 §7.2.1) when compress is set.
func idleFrame(tb testing.TB, payload []byte, compress bool) []byte {
	hdr := byte(0x81)
	if compress {
		var buf bytes.Buffer
		fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
		must(tb, err)
		_, _ = fw.Write(payload)
		must(tb, fw.Flush())
		payload = bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
		hdr |= 0x40
	}
	if len(payload) > 0xffff {
		tb.Fatalf("frame of %d bytes", len(payload))
	}
	f := []byte{hdr, 0x80 | 126, byte(len(payload) >> 8), byte(len(payload)), 0, 0, 0, 0}
	return append(f, payload...)
}

func idleMemory(b *testing.B, z *deflate.ServerOptions, traffic bool) {
	var offer []string
	if z != nil {
		offer = []string{"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"}
	}
	const n = 2000
	text := strings.Repeat("an idle connection after one message of text ", 33<<10/46)
	var frame []byte
	if traffic {
		frame = idleFrame(b, []byte(text), z != nil)
	}
	for range b.N {
		// Baseline: socket pairs only.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		must(b, err)
		accepted := make(chan net.Conn, n)
		go func() {
			for {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- nc
			}
		}()
		m0 := memInUse()
		var pairs []net.Conn
		for range n {
			nc, err := net.Dial("tcp", ln.Addr().String())
			must(b, err)
			pairs = append(pairs, nc, <-accepted)
		}
		base := memInUse() - m0
		for _, c := range pairs {
			c.Close()
		}
		ln.Close()
		pairs = nil

		s := CreateWebSocketServer()
		connected := make(chan struct{}, n)
		received := make(chan struct{}, n)
		must(b, s.On(EventConnect, NewConnectCallback(func(c WebSocketConnection) {
			if traffic {
				must(b, s.Send(StringData(text), c, nil))
			}
			connected <- struct{}{}
		})))
		must(b, s.On(EventMessageReceive, NewMessageReceiveCallback(func(m WebSocketMessage) {
			if m.Data.String() != text {
				panic("idle benchmark: wrong message")
			}
			received <- struct{}{}
		})))
		res := newResult()
		must(b, s.Start(&WebSocketServerConfig{ServerIP: "127.0.0.1", MaxConcurrentClientsNumber: n, MaxConnectionsForOneClient: n,
			PerMessageDeflate: z}, res.cb))
		if err := res.wait(b); err != nil {
			b.Fatal(err)
		}
		addr := s.Addr().String()
		m1 := memInUse()
		clients := make([]net.Conn, 0, n)
		for range n {
			clients = append(clients, rawWS(b, addr, offer...))
			<-connected
			if traffic {
				_, err := clients[len(clients)-1].Write(frame)
				must(b, err)
				<-received
			}
		}
		time.Sleep(100 * time.Millisecond) // handshake goroutines end
		total := memInUse() - m1
		perConn := float64(total-base/2) / n
		b.ReportMetric(perConn, "B/conn")
		b.ReportMetric(float64(base)/2/n, "B/socket")
		runtime.KeepAlive(clients)
		r := newResult()
		_ = s.Stop(r.cb)
		for _, c := range clients {
			c.Close()
		}
		r.wait(b)
	}
}
