package hostile_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/internal/hostile"
)

// TestClientKeepaliveServerNeverAnswersPing: a server that takes the client's ping and never
// answers anything. The client must give up on its own after the pong timeout: 1006 without a
// close frame (the server sees only the ping, then the end of the stream).
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
		c, _, err := client.Dial(ctx, srv.URL, &client.DialOptions{PingInterval: 200 * time.Millisecond, PongTimeout: 300 * time.Millisecond})
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
		if took < 500*time.Millisecond || took > 5*time.Second {
			t.Errorf("gave up after %v, want about 500ms", took)
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
