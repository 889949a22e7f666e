package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/hostile"
	"github.com/netkit/websocket/internal/wstest"
)

func TestDialEchoesTextAndBinaryAndReportsResponse(t *testing.T) {
	srv := wstest.New(t, echo, func(s *wstest.Server) { s.Upgrader.Protocols = []string{"superchat", "chat"} })
	ctx := context.Background()
	c, resp, err := Dial(ctx, srv.URL+"?q=1", &DialOptions{
		Header:       http.Header{"X-Token": {"abc"}},
		Subprotocols: []string{"chat", "superchat"},
		PingInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	req := <-srv.Requests
	if req.Header.Get("X-Token") != "abc" || req.Target != "/echo?q=1" {
		t.Fatalf("server saw %q %v", req.Target, req.Header)
	}
	if resp.StatusCode != 101 || resp.Status != "Switching Protocols" || resp.Header.Get("X-Server") != "ours" {
		t.Fatalf("response %+v", resp)
	}
	if resp.Subprotocol != "chat" || c.Subprotocol() != "chat" || c.Response() != resp {
		t.Fatalf("subprotocol %q / %q", resp.Subprotocol, c.Subprotocol())
	}
	for _, m := range []struct {
		typ conn.MessageType
		p   []byte
	}{{conn.Text, []byte("hello")}, {conn.Binary, []byte{0, 1, 2, 255}}, {conn.Binary, bytes.Repeat([]byte{7}, 100000)}, {conn.Text, nil}} {
		if err := c.WriteMessage(ctx, m.typ, m.p); err != nil {
			t.Fatal(err)
		}
		typ, p, err := c.ReadMessage(ctx, nil)
		if err != nil || typ != m.typ || !bytes.Equal(p, m.p) {
			t.Fatalf("echo: %v %v %d bytes", err, typ, len(p))
		}
	}
	if err := c.Close(frame.CloseNormal, "bye"); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ReadMessage(ctx, nil)
	var ce *conn.CloseError
	if !errors.As(err, &ce) || !ce.Remote || ce.Code != frame.CloseNormal {
		t.Fatalf("after close: %v", err)
	}
}

func TestDialNon101IsStatusError(t *testing.T) {
	srv := wstest.New(t, echo, func(s *wstest.Server) {
		s.Raw = func(nc net.Conn) {
			br := bufio.NewReader(nc)
			for {
				line, err := br.ReadString('\n')
				if err != nil || line == "\r\n" {
					break
				}
			}
			_, _ = nc.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope"))
		}
	})
	_, resp, err := Dial(context.Background(), strings.Replace(srv.URL, "ws://", "ws://user:s3cret@", 1), nil)
	var se *handshake.StatusError
	if !errors.As(err, &se) || se.StatusCode != 403 || string(se.Body) != "nope" {
		t.Fatalf("err = %v", err)
	}
	if resp == nil || resp.StatusCode != 403 {
		t.Fatalf("resp %+v", resp)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error shows the password: %v", err)
	}
}

// TestDialStatusErrorKeptWhenHandshakeTimeoutCutsItsBody: a non-101 response whose body is
// shorter than its Content-Length is read until HandshakeTimeout; the error must still carry
// the *handshake.StatusError (status, Location, the part of the body that came) beside
// context.DeadlineExceeded. Found by internal/hostile.
func TestDialStatusErrorKeptWhenHandshakeTimeoutCutsItsBody(t *testing.T) {
	srv, err := hostile.Start(hostile.Raw("HTTP/1.1 307 Temporary Redirect\r\nLocation: ws://127.0.0.1:1/x\r\n"+
		"Content-Length: 100\r\n\r\n0123456789"), hostile.Script{hostile.Hang(10 * time.Second)}, hostile.Whole, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	_, _, err = Dial(context.Background(), srv.URL, &DialOptions{HandshakeTimeout: 300 * time.Millisecond})
	var se *handshake.StatusError
	if !errors.As(err, &se) || se.StatusCode != 307 || se.Location != "ws://127.0.0.1:1/x" || string(se.Body) != "0123456789" {
		t.Fatalf("err = %v, want a *handshake.StatusError 307 with its Location and partial body", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded in the chain too", err)
	}
	if err := srv.Wait(5 * time.Second); err != nil {
		t.Fatalf("server: %v", err)
	}
}

func TestDialHonoursContextAndHandshakeTimeout(t *testing.T) {
	hold := make(chan struct{})
	srv := wstest.New(t, echo, func(s *wstest.Server) {
		s.Raw = func(nc net.Conn) { <-hold } // never answers
	})
	defer close(hold)

	start := time.Now()
	_, _, err := Dial(context.Background(), srv.URL, &DialOptions{HandshakeTimeout: 100 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, _, err = Dial(ctx, srv.URL, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestDialRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1/", "ws://", "ws://h/#f"} {
		if _, _, err := Dial(context.Background(), u, nil); CodeOf(err) != CodeURLError {
			t.Errorf("%q: %v", u, err)
		}
	}
}

func TestKeepalivePongTimeoutClosesConnection(t *testing.T) {
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		_, _ = io.Copy(io.Discard, c.NetConn()) // swallows pings without answering them
	})
	c, _, err := Dial(context.Background(), srv.URL, &DialOptions{PingInterval: 50 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	start := time.Now()
	_, _, err = c.ReadMessage(context.Background(), nil)
	if !errors.Is(err, ErrPongTimeout) {
		t.Fatalf("read: %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 1500*time.Millisecond {
		t.Fatalf("gave up after %v", d)
	}
}

func TestKeepaliveKeepsAnsweringConnectionOpen(t *testing.T) {
	srv := wstest.New(t, echo) // echo reads, so the engine answers pings
	c, _, err := Dial(context.Background(), srv.URL, &DialOptions{PingInterval: 20 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	_, _, err = c.ReadMessage(ctx, nil) // idle for many ping intervals
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read: %v", err)
	}
	if err := c.WriteMessage(context.Background(), conn.Text, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.ReadMessage(context.Background(), nil); err != nil || string(p) != "still here" {
		t.Fatalf("after idle: %q %v", p, err)
	}
	if err := c.Close(frame.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
}

// TestIdleConnectionStartsNoGoroutine checks that a connection from Dial, keepalive on (the
// default), has no goroutine of its own while nobody reads it: keepalive is a timer.
func TestIdleConnectionStartsNoGoroutine(t *testing.T) {
	srv := wstest.New(t, echo)
	warm, _, err := Dial(context.Background(), srv.URL, nil) // one-time setup of the process
	if err != nil {
		t.Fatal(err)
	}
	warm.CloseNow()
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	var conns []*Conn
	for range 10 {
		c, _, err := Dial(context.Background(), srv.URL, &DialOptions{PingInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	time.Sleep(50 * time.Millisecond)
	// The server runs a goroutine per connection in this process; the client must add none.
	after := runtime.NumGoroutine()
	for _, c := range conns {
		if err := c.Close(frame.CloseNormal, ""); err != nil {
			t.Fatal(err)
		}
	}
	if extra := after - before - len(conns); extra > 0 {
		t.Fatalf("%d goroutines for %d idle connections beyond the server's one each", extra+len(conns), len(conns))
	}
}

// TestDialBoundsEveryContextKind covers the ways Dial's bound is applied without a derived
// context: ctx's own deadline, HandshakeTimeout over a context without Done, over a
// cancellable one, and under a later ctx deadline; and cancellation.
func TestDialBoundsEveryContextKind(t *testing.T) {
	hold := make(chan struct{})
	srv := wstest.New(t, echo, func(s *wstest.Server) {
		s.Raw = func(nc net.Conn) { <-hold } // never answers
	})
	defer close(hold)
	short := &DialOptions{HandshakeTimeout: 100 * time.Millisecond}
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		opts *DialOptions
		want error
	}{
		{"ctx deadline is the bound", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, nil, context.DeadlineExceeded},
		{"HandshakeTimeout, ctx without Done", func() (context.Context, context.CancelFunc) {
			return context.Background(), func() {}
		}, short, context.DeadlineExceeded},
		{"HandshakeTimeout, cancellable ctx", func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, short, context.DeadlineExceeded},
		{"HandshakeTimeout before a later ctx deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), time.Minute)
		}, short, context.DeadlineExceeded},
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, nil, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			c, _, err := Dial(ctx, srv.URL, tc.opts)
			if err == nil {
				c.CloseNow()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

// TestDialCancelledAtAnyMomentReturnsAnErrorOrALiveConn cancels the dial's context at a random
// moment (0-400 us, which falls anywhere from the TCP connect to after Dial returned) over
// thousands of dials to a real loopback server. Every Dial must return an error, or a
// connection on which a message round-trips: a context watcher that fires after Dial cleared
// the deadline must never leave a past deadline on a connection Dial returned.
func TestDialCancelledAtAnyMomentReturnsAnErrorOrALiveConn(t *testing.T) {
	srv := wstest.New(t, echo)
	const dials, workers = 3000, 4
	var mu sync.Mutex
	var ok, cancelled int
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			// The cancellation comes at a random moment from 0 to spread, which starts at
			// 400 us and adapts so that about half the dials complete: the moments then
			// cluster around the end of Dial, where the watcher and the return race,
			// however fast this machine dials.
			spread := 400 * time.Microsecond
			for range dials / workers {
				if t.Failed() {
					return
				}
				ctx, cancel := context.WithCancel(context.Background())
				timer := time.AfterFunc(time.Duration(rng.Int64N(int64(spread))), cancel)
				c, _, err := Dial(ctx, srv.URL, &DialOptions{PingInterval: -1})
				if err != nil {
					timer.Stop()
					cancel()
					if !errors.Is(err, context.Canceled) {
						t.Errorf("Dial: %v, want context.Canceled", err)
					}
					mu.Lock()
					cancelled++
					mu.Unlock()
					spread += spread / 16
					continue
				}
				// Let the cancellation happen, if it is still to come, before the round trip.
				for ctx.Err() == nil && !timer.Stop() {
					time.Sleep(time.Microsecond)
				}
				cancel()
				rt, rtCancel := context.WithTimeout(context.Background(), 10*time.Second)
				err = c.WriteMessage(rt, conn.Text, []byte("ping"))
				var p []byte
				if err == nil {
					_, p, err = c.ReadMessage(rt, nil)
				}
				rtCancel()
				c.CloseNow()
				if err != nil || string(p) != "ping" {
					t.Errorf("Dial returned a connection that does not work: %v, %q", err, p)
					return
				}
				mu.Lock()
				ok++
				mu.Unlock()
				spread -= spread / 16
			}
		})
	}
	wg.Wait()
	t.Logf("%d dials: %d connections round-tripped, %d cancelled", ok+cancelled, ok, cancelled)
	if ok == 0 || cancelled == 0 {
		t.Fatalf("%d usable, %d cancelled: the timing must produce both", ok, cancelled)
	}
}
