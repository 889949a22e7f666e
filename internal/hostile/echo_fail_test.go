package hostile_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/internal/hostile"
)

// No message lost on failure: the server sends a text message and then breaks a rule. The
// client answers the message (the facade's MESSAGE callback calls Send; a blocking reader
// calls Enqueue) before it reads the violation; the server must receive that echo, and only
// then the close frame with 1002 or 1007. Before the fix the reader failed the connection at
// once and the queued echo never went out.
var echoFailures = []struct {
	name string
	bad  hostile.Frame
	code uint16
}{
	{"§5.2 reserved bit", hostile.Frame{Fin: true, Op: hostile.OpText, Rsv: hostile.Rsv1, Payload: []byte("x")}, 1002},
	{"§5.2 reserved opcode", hostile.Frame{Fin: true, Op: 0x3, Payload: []byte("x")}, 1002},
	{"§5.4 continuation without a start", hostile.Fragment(hostile.OpContinuation, true, "x"), 1002},
	{"§8.1 invalid UTF-8 in a later message", hostile.Frame{Fin: true, Op: hostile.OpText, Payload: []byte{'a', 0xff, 'b'}}, 1007},
}

// echoScript waits for the client's "ready" (sent once it is set up to echo), lets the
// facade's OPEN callbacks finish (while callbacks are pending, the facade reads ahead and
// queues MESSAGE behind them), then sends the message and the violation in one write, and
// expects the echo, then the close frame with code.
func echoScript(bad hostile.Frame, code uint16) hostile.Script {
	return hostile.Script{
		hostile.ExpectFrame(hostile.OpText, []byte("ready")),
		hostile.Sleep(100 * time.Millisecond),
		hostile.SendEarlyFail(hostile.Text("echo me"), bad),
		hostile.ExpectFrame(hostile.OpText, []byte("echo me")),
		hostile.ExpectCloseAndEOF(code),
	}
}

func TestEchoQueuedBeforeFailureReachesServerBeforeTheCloseFrame(t *testing.T) {
	for _, tc := range echoFailures {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for i, m := range []hostile.Mode{hostile.Whole, hostile.Chunked} {
				t.Run(m.String(), func(t *testing.T) {
					t.Run("facade", func(t *testing.T) { echoFacade(t, tc.bad, tc.code, m, uint64(i+1)) })
					t.Run("blocking", func(t *testing.T) { echoBlocking(t, tc.bad, tc.code, m, uint64(i+1)) })
				})
			}
		})
	}
}

func echoFacade(t *testing.T, bad hostile.Frame, code uint16, m hostile.Mode, seed uint64) {
	srv, err := hostile.Start(hostile.Accept(), echoScript(bad, code), m, seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	ws := client.CreateWebSocket()
	r := newRecorder(t, ws, false)
	r.onOpen = func() { _ = ws.Send(client.StringData("ready"), nil) }
	echoed := make(chan *client.AsyncError, 1)
	if err := ws.On(client.EventMessage, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, m client.MessageData) {
		_ = ws.Send(m, client.NewWebSocketAsyncCallback(func(e *client.AsyncError, _ bool) { echoed <- e }))
	})); err != nil {
		t.Fatal(err)
	}
	if err := ws.Connect(srv.URL, &client.WebSocketRequestOptions{Proxy: client.NoProxy{}}, nil); err != nil {
		t.Fatal(err)
	}
	got := r.waitClose(t, runBound)
	want := []string{"HEADERRECEIVE", "OPEN 101 Switching Protocols", "MESSAGE text:echo me", "DATAEND",
		fmt.Sprintf("ERROR %d", client.CodeOtherError), fmt.Sprintf("CLOSE %d", code)}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
	select {
	case e := <-echoed:
		if e != nil {
			t.Errorf("the echo's Send callback: %v, want written", e)
		}
	case <-time.After(runBound):
		t.Error("the echo's Send callback was not called")
	}
	checkServer(t, srv)
}

func echoBlocking(t *testing.T, bad hostile.Frame, code uint16, m hostile.Mode, seed uint64) {
	srv, err := hostile.Start(hostile.Accept(), echoScript(bad, code), m, seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	c, _, err := client.Dial(ctx, srv.URL, &client.DialOptions{HandshakeTimeout: runBound, PingInterval: -1})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.CloseNow()
	if err := c.WriteMessage(ctx, conn.Text, []byte("ready")); err != nil {
		t.Fatal(err)
	}
	typ, p, err := c.ReadMessage(ctx, nil)
	if err != nil || typ != conn.Text || string(p) != "echo me" {
		t.Fatalf("ReadMessage: %v %q %v", typ, p, err)
	}
	echoed := make(chan error, 1)
	written, err := c.Enqueue(typ, p, func(err error) { echoed <- err })
	if err != nil {
		t.Fatal(err)
	}
	if written {
		echoed <- nil
	}
	_, _, err = c.ReadMessage(ctx, nil)
	var ce *conn.CloseError
	if !errors.As(err, &ce) || uint16(ce.Code) != code || ce.Remote {
		t.Errorf("ReadMessage after the violation: %v, want a local *conn.CloseError %d", err, code)
	}
	if err := <-echoed; err != nil {
		t.Errorf("the echo's done: %v, want written", err)
	}
	checkServer(t, srv)
}
