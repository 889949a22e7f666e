package client

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/internal/wstest"
)

// Regression: Close queued behind a Send whose write was blocked by a server that reads
// nothing waited forever (keepalive off): the CLOSE event never came.
func TestCloseBehindWriteBlockedByServerThatNeverReadsEndsInTime(t *testing.T) {
	release := make(chan struct{})
	srv := wstest.NewRaw(t, func(nc net.Conn) {
		if _, ok := acceptRaw(nc); !ok {
			return
		}
		select { // hold the connection without reading
		case <-release:
		case <-time.After(time.Minute):
		}
	})
	defer close(release)
	ws := CreateWebSocket()
	opened := make(chan struct{}, 1)
	closed := make(chan CloseResult, 1)
	errs := make(chan *BusinessException, 1)
	ws.On(EventOpen, NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) { opened <- struct{}{} }))
	ws.On(EventClose, NewWebSocketAsyncCallback(func(_ *AsyncError, r CloseResult) { closed <- r }))
	ws.On(EventError, NewWebSocketErrorCallback(func(e *BusinessException) { errs <- e }))
	if err := ws.Connect(srv.URL, &WebSocketRequestOptions{Proxy: NoProxy{}}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		t.Fatal("no OPEN")
	}
	for range 3 {
		ws.Send(ArrayData(make([]byte, 16<<20)), nil) // far more than the socket buffers hold
	}
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	ws.Close(nil, nil)
	select {
	case r := <-closed:
		if r.Code != 1006 {
			t.Errorf("CLOSE %d %q, want 1006", r.Code, r.Reason)
		}
		if d := time.Since(start); d > conn.DefaultCloseTimeout+5*time.Second {
			t.Errorf("CLOSE after %v", d)
		}
	case <-time.After(conn.DefaultCloseTimeout + 10*time.Second):
		t.Fatal("no CLOSE: Close waited forever behind the blocked write")
	}
	select {
	case e := <-errs:
		if !errors.Is(e, ErrCloseWriteTimeout) {
			t.Errorf("ERROR %v, want ErrCloseWriteTimeout", e)
		}
	default:
		t.Error("no ERROR before CLOSE")
	}
}
