package client

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// TestFacadeReassemblesManySmallFragmentsInLinearTime: a server sends a 4 MiB message as
// 65,536 frames of 64 B; the facade's MESSAGE delivers it whole, byte for byte, and within a
// bound that only linear reassembly meets (it took 35-48 s when every fragment copied the
// message so far; it now takes some 10-20 ms, more under -race).
func TestFacadeReassemblesManySmallFragmentsInLinearTime(t *testing.T) {
	const size, frag = 4 << 20, 64
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(i*7 + i>>8)
	}
	var wire bytes.Buffer
	fw := frame.NewWriter(&wire, frame.RoleServer, 0)
	for off := 0; off < size; off += frag {
		op := frame.OpContinuation
		if off == 0 {
			op = frame.OpBinary
		}
		if err := fw.WriteFrame(off+frag >= size, op, 0, msg[off:off+frag]); err != nil {
			t.Fatal(err)
		}
	}
	srv := wstest.New(t, func(c *conn.Conn, _ *handshake.ServerRequest) {
		if _, err := c.NetConn().Write(wire.Bytes()); err != nil {
			return
		}
		for { // until our close, which the read answers
			if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
				return
			}
		}
	})
	got := make(chan []byte, 1)
	opened := make(chan time.Time, 1)
	ws := CreateWebSocket()
	ws.On(EventOpen, NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { opened <- time.Now() }))
	ws.On(EventMessage, NewWebSocketAsyncCallback(func(_ *AsyncError, m MessageData) { got <- m.(ArrayData) }))
	closed := make(chan struct{})
	ws.On(EventClose, NewWebSocketAsyncCallback(func(*AsyncError, CloseResult) { close(closed) }))
	if err := ws.Connect(srv.URL, realOptions(), nil); err != nil {
		t.Fatal(err)
	}
	start := <-opened
	select {
	case p := <-got:
		d := time.Since(start)
		t.Logf("4 MiB in %d frames of %d B reached MESSAGE in %v", size/frag, frag, d)
		if !bytes.Equal(p, msg) {
			t.Fatalf("MESSAGE of %d bytes differs from the %d sent", len(p), size)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("MESSAGE did not come within 10 s: reassembly is not linear")
	}
	if err := ws.Close(nil, nil); err != nil {
		t.Fatal(err)
	}
	within(t, closed, "CLOSE")
	wait(t, ws)
}
