package faults

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// TestCloseRacesWritersAndReader closes a busy connection from two goroutines at once while
// eight others write (whole and streamed messages, pings) and one reads, against our echoing
// server role: every call returns in time, exactly one Close does the closing handshake
// (RFC 6455 §7.1.2) and the other gets ErrClosed, writes end with ErrClosed (or complete), and
// the reader ends with the server's close reply. Repeated, under the race detector.
func TestCloseRacesWritersAndReader(t *testing.T) {
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		var buf []byte
		for {
			typ, p, err := c.ReadMessage(ctx, buf)
			if err != nil {
				return
			}
			buf = p
			if err := c.WriteMessage(ctx, typ, p); err != nil {
				return
			}
		}
	})
	for round := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		c, _, err := client.Dial(ctx, srv.URL, &client.DialOptions{PingInterval: -1})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var readEnd error
		wg.Go(func() {
			for {
				if _, _, err := c.ReadMessage(ctx, nil); err != nil {
					readEnd = err
					return
				}
			}
		})
		var badWrites atomic.Int64
		for g := range 8 {
			wg.Go(func() {
				for i := 0; ; i++ {
					var err error
					switch (g + i) % 3 {
					case 0:
						err = c.WriteMessage(ctx, conn.Binary, make([]byte, 1+i%5000))
					case 1:
						var mw interface {
							Write([]byte) (int, error)
							Close() error
						}
						if mw, err = c.NextWriter(ctx, conn.Text); err == nil {
							_, err = mw.Write(make([]byte, 6000))
							if cerr := mw.Close(); err == nil {
								err = cerr
							}
						}
					case 2:
						err = c.Ping(ctx, []byte("p"))
					}
					if err != nil {
						if !errors.Is(err, conn.ErrClosed) {
							badWrites.Add(1)
							t.Errorf("round %d: write: %v, want ErrClosed", round, err)
						}
						return
					}
				}
			})
		}
		time.Sleep(time.Duration(round%5) * time.Millisecond)
		closeErrs := make(chan error, 2)
		for range 2 {
			wg.Go(func() { closeErrs <- c.Close(frame.CloseNormal, "race") })
		}
		within(t, bound, "the goroutines of the round", wg.Wait)
		cancel()
		e1, e2 := <-closeErrs, <-closeErrs
		if (e1 == nil) == (e2 == nil) || !errors.Is(errors.Join(e1, e2), conn.ErrClosed) {
			t.Errorf("round %d: Close results %v and %v, want one nil and one ErrClosed", round, e1, e2)
		}
		var ce *conn.CloseError
		if !errors.As(readEnd, &ce) || !ce.Remote || ce.Code != frame.CloseNormal {
			t.Errorf("round %d: reader ended with %v, want the server's 1000 reply", round, readEnd)
		}
	}
}

// TestSimultaneousClose has both ends start the closing handshake at the same moment (RFC
// 6455 §7.1.3: each receives the other's close after sending its own). Both Close calls must
// return nil in time, and each end must report the other's code.
func TestSimultaneousClose(t *testing.T) {
	for round := range 20 {
		cc, sc := enginePair(t)
		var wg sync.WaitGroup
		var cerr, serr error
		start := make(chan struct{})
		wg.Go(func() { <-start; cerr = cc.Close(4001, "client") })
		wg.Go(func() { <-start; serr = sc.Close(4002, "server") })
		close(start)
		within(t, bound, "both Close calls", wg.Wait)
		if cerr != nil || serr != nil {
			t.Errorf("round %d: Close: client %v, server %v; want nil, nil", round, cerr, serr)
		}
		_, _, cread := cc.ReadMessage(context.Background(), nil)
		_, _, sread := sc.ReadMessage(context.Background(), nil)
		var ce, se *conn.CloseError
		if !errors.As(cread, &ce) || !ce.Remote || ce.Code != 4002 || ce.Reason != "server" {
			t.Errorf("round %d: client reports %v, want the server's 4002", round, cread)
		}
		if !errors.As(sread, &se) || !se.Remote || se.Code != 4001 || se.Reason != "client" {
			t.Errorf("round %d: server reports %v, want the client's 4001", round, sread)
		}
	}
}
