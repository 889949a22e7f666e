package hostile_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/internal/hostile"
)

// TestClientKeepaliveServerNeverAnswersPing: a server that takes the client's ping and never
// answers anything. The client must give up on its own after the pong timeout: 1006 without a
// close frame (the server sees only the ping, then the end of the stream). PongTimeout is not
// longer than PingInterval: otherwise the client pings again, after PingInterval of silence,
// before it gives up.
func TestClientKeepaliveServerNeverAnswersPing(t *testing.T) {
	script := hostile.Script{hostile.ExpectFrame(hostile.OpPing, nil), hostile.Hang(runBound)}
	t.Run("blocking", func(t *testing.T) {
		srv, err := hostile.Start(hostile.Accept(), script, hostile.Whole, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		ctx, cancel := context.WithTimeout(context.Background(), runBound)
		defer cancel()
		c, _, err := client.Dial(ctx, srv.URL, &client.DialOptions{PingInterval: 300 * time.Millisecond, PongTimeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		begin := time.Now()
		_, _, err = c.ReadMessage(ctx, nil)
		took := time.Since(begin)
		var ce *conn.CloseError
		if !errors.Is(err, client.ErrPongTimeout) || !errors.As(err, &ce) || ce.Code != 1006 {
			t.Errorf("ReadMessage: %v, want ErrPongTimeout and a 1006 *conn.CloseError", err)
		}
		if took < 600*time.Millisecond || took > 600*time.Millisecond+slack {
			t.Errorf("gave up after %v, want about 600ms", took)
		}
		checkServer(t, srv)
	})
	t.Run("facade", func(t *testing.T) {
		srv, err := hostile.Start(hostile.Accept(), script, hostile.Whole, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		ws := client.CreateWebSocket()
		r := newRecorder(t, ws, true)
		opts := &client.WebSocketRequestOptions{Proxy: client.NoProxy{}, PingInterval: 1, PongTimeout: 1}
		if err := ws.Connect(srv.URL, opts, nil); err != nil {
			t.Fatal(err)
		}
		got := r.waitClose(t, runBound)
		want := []string{"HEADERRECEIVE", "OPEN 101 Switching Protocols", "ERROR 2302999", "CLOSE 1006 pong timeout: no answer to a ping"}
		if !slices.Equal(got, want) {
			t.Errorf("events:\n got %q\nwant %q", got, want)
		}
		checkServer(t, srv)
	})
}

// TestClientSurvivesPingFloodFromServerThatNeverReads: the server floods 125-byte pings and
// never reads the pongs, so the client's writes block once the TCP buffers are full. Reads
// stay bounded by their context and Close by the close timeout; the connection ends as 1006.
func TestClientSurvivesPingFloodFromServerThatNeverReads(t *testing.T) {
	const flood = 2 * time.Second
	script := hostile.Script{hostile.Flood(hostile.Ping(make([]byte, 125)), flood), hostile.Drain(runBound)}
	t.Run("blocking", func(t *testing.T) {
		srv, err := hostile.Start(hostile.Accept(), script, hostile.Whole, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		c, _, err := client.Dial(context.Background(), srv.URL, &client.DialOptions{CloseTimeout: closeTimeout, PingInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		begin := time.Now()
		// The read ends with its context, or, when the context stopped an automatic pong in
		// the middle of its frame, with the connection closed as 1006 (the stream cannot be
		// continued after part of a frame: the documented exception of conn.Conn).
		_, _, err = c.ReadMessage(ctx, nil)
		var rce *conn.CloseError
		if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &rce) && rce.Code == 1006 && errors.Is(err, frame.ErrIncompleteWrite)) {
			t.Errorf("ReadMessage: %v, want context.DeadlineExceeded or 1006 after an incomplete pong", err)
		}
		if took := time.Since(begin); took > 500*time.Millisecond+slack {
			t.Errorf("ReadMessage returned after %v, its context ended after 500ms", took)
		}
		begin = time.Now()
		err = c.Close(1000, "")
		if took := time.Since(begin); took > closeTimeout+slack {
			t.Errorf("Close returned after %v, close timeout %v", took, closeTimeout)
		}
		if !errors.Is(err, conn.ErrCloseTimeout) && !errors.Is(err, conn.ErrClosed) {
			t.Errorf("Close: %v, want ErrCloseTimeout (or ErrClosed after an incomplete pong)", err)
		}
		var ce *conn.CloseError
		if _, _, err := c.ReadMessage(context.Background(), nil); !errors.As(err, &ce) || ce.Code != 1006 {
			t.Errorf("ReadMessage after Close: %v, want 1006", err)
		}
		checkServer(t, srv)
	})
	t.Run("facade", func(t *testing.T) {
		srv, err := hostile.Start(hostile.Accept(), script, hostile.Whole, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		ws := client.CreateWebSocket()
		r := newRecorder(t, ws, false)
		opened := make(chan struct{})
		r.onOpen = func() { close(opened) }
		if err := ws.Connect(srv.URL, &client.WebSocketRequestOptions{Proxy: client.NoProxy{}}, nil); err != nil {
			t.Fatal(err)
		}
		select {
		case <-opened:
		case <-time.After(runBound):
			t.Fatal("no OPEN")
		}
		time.Sleep(500 * time.Millisecond)
		begin := time.Now()
		if err := ws.Close(nil, nil); err != nil {
			t.Fatal(err)
		}
		got := r.waitClose(t, conn.DefaultCloseTimeout+runBound)
		if took := time.Since(begin); took > conn.DefaultCloseTimeout+slack {
			t.Errorf("CLOSE after %v, close timeout %v", took, conn.DefaultCloseTimeout)
		}
		want := []string{"HEADERRECEIVE", "OPEN 101 Switching Protocols", "ERROR 2302999", "CLOSE 1006"}
		if !slices.Equal(got, want) {
			t.Errorf("events:\n got %q\nwant %q", got, want)
		}
		checkServer(t, srv)
	})
}
