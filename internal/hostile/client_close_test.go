package hostile_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/internal/hostile"
)

// closeScenario is a closing handshake the client starts (§7.1.2) with code 4001 "cya", and
// what the server does about it.
type closeScenario struct {
	name   string
	script hostile.Script // runs after the server read the client's close frame
	// Facade: the events after OPEN; the Close callback is logged as "CLOSECB <ok>".
	events []string
	alt    []string // another acceptable event sequence after OPEN, for races the RFC allows
	// Blocking API: what Close returns (nil or an error wrapping closeErr) and what
	// ReadMessage returns afterwards.
	closeErr   error
	readCode   frame.CloseCode
	readRemote bool
	// The facade uses conn.DefaultCloseTimeout (its options have no close timeout); the
	// blocking API closeTimeout. slow marks the scenarios that wait for it.
	slow bool
	// crossed: the server sends its close right after the handshake, without waiting for
	// ours; the client's close frame (4001, or the echo 4003) is read afterwards.
	crossed bool
}

// TestClientInitiatedCloseConformance: §7.1.2-§7.1.4 — the client's Close sends a close frame
// with its code, waits for the server's (bounded), and reports the server's code; a server that
// never answers or drops TCP ends the connection as 1006 within the close timeout.
func TestClientInitiatedCloseConformance(t *testing.T) {
	table := []closeScenario{
		{name: "§7.1.2 server answers: its code and reason reported",
			script: hostile.Script{hostile.Send(hostile.Close(4002, "ok")), hostile.ExpectEOF()},
			events: []string{"CLOSECB true", "CLOSE 4002 ok"}, readCode: 4002, readRemote: true},
		{name: "§7.1.2 server answers with an empty close: 1005 reported",
			script: hostile.Script{hostile.Send(hostile.CloseRaw(nil)), hostile.ExpectEOF()},
			events: []string{"CLOSECB true", "CLOSE 1005 "}, readCode: 1005, readRemote: true},
		{name: "§7.1.2 server sends a message before its close",
			script: hostile.Script{hostile.Send(hostile.Text("late"), hostile.Close(1000, "")), hostile.ExpectEOF()},
			events: []string{"MESSAGE text:late", "DATAEND", "CLOSECB true", "CLOSE 1000 "}, readCode: 1000, readRemote: true},
		{name: "§5.5.1 ping after our close: not answered, nothing follows our close frame",
			script: hostile.Script{hostile.Send(hostile.Ping([]byte("x")), hostile.Close(4002, "ok")), hostile.ExpectEOF()},
			events: []string{"CLOSECB true", "CLOSE 4002 ok"}, readCode: 4002, readRemote: true},
		{name: "§7.1.2 server's close crosses ours: its code reported",
			script: hostile.Script{hostile.Send(hostile.Close(4003, "crossed")), hostile.ExpectEOF()},
			events: []string{"CLOSECB true", "CLOSE 4003 crossed"}, readCode: 4003, readRemote: true, crossed: true,
			// When the server's close is handled before the OPEN callback calls Close, the
			// session has ended: Close is refused as not connected (2302999), no ERROR.
			alt: []string{"Close: websocket error 2302999 (other error): websocket: not connected", "CLOSE 4003 crossed", "CLOSECB false"}},
		{name: "§7.1.7 server answers our close with a reserved opcode: failed with 1002, no second close frame",
			script:   hostile.Script{hostile.SendEarlyFail(hostile.Frame{Fin: true, Op: 0xB}), hostile.ExpectEOF()},
			events:   []string{"ERROR 2302999", "CLOSECB false", "CLOSE 1002 reserved opcode"},
			closeErr: frame.ErrReservedOpcode, readCode: 1002},
		{name: "§7.1.1 server drops TCP instead of answering: 1006",
			script:   hostile.Script{hostile.CloseTCP()},
			events:   []string{"ERROR 2302999", "CLOSECB false", "CLOSE 1006 connection closed without a close frame"},
			closeErr: io.EOF, readCode: 1006},
		{name: "§7.1.1 server never answers: Close bounded by the close timeout, 1006",
			script:   hostile.Script{hostile.Hang(conn.DefaultCloseTimeout + runBound)},
			events:   []string{"ERROR 2302999", "CLOSECB false", "CLOSE 1006 the peer did not answer the close frame in time"},
			closeErr: conn.ErrCloseTimeout, readCode: 1006, slow: true},
	}
	for _, sc := range table {
		t.Run(sc.name, func(t *testing.T) {
			t.Run("facade", func(t *testing.T) { runClientCloseFacade(t, sc) })
			t.Run("blocking", func(t *testing.T) { runClientCloseBlocking(t, sc) })
		})
	}
}

func closeServer(t *testing.T, sc closeScenario) *hostile.Server {
	t.Helper()
	script := append(hostile.Script{hostile.ExpectClose(4001)}, sc.script...)
	if sc.crossed {
		script = hostile.Script{sc.script[0], hostile.ExpectCloseOneOf(4001, 4003), sc.script[1]}
	}
	srv, err := hostile.Start(hostile.Accept(), script, hostile.Whole, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

func runClientCloseFacade(t *testing.T, sc closeScenario) {
	srv := closeServer(t, sc)
	ws := client.CreateWebSocket()
	r := newRecorder(t, ws, true)
	var begin time.Time
	r.onOpen = func() {
		begin = time.Now()
		cb := client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, ok bool) { r.log(fmt.Sprintf("CLOSECB %v", ok)) })
		if err := ws.Close(cb, &client.WebSocketCloseOptions{Code: 4001, Reason: "cya"}); err != nil {
			r.log("Close: " + err.Error())
		}
	}
	if err := ws.Connect(srv.URL, &client.WebSocketRequestOptions{Proxy: client.NoProxy{}}, nil); err != nil {
		t.Fatal(err)
	}
	got := r.waitClose(t, conn.DefaultCloseTimeout+runBound)
	took := time.Since(begin)
	want := append([]string{"HEADERRECEIVE", "OPEN 101 Switching Protocols"}, sc.events...)
	alt := append([]string{"HEADERRECEIVE", "OPEN 101 Switching Protocols"}, sc.alt...)
	if !slices.Equal(got, want) && (sc.alt == nil || !slices.Equal(got, alt)) {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
	if sc.slow && (took < conn.DefaultCloseTimeout-100*time.Millisecond || took > conn.DefaultCloseTimeout+slack) {
		t.Errorf("CLOSE after %v, want about the close timeout %v", took, conn.DefaultCloseTimeout)
	}
	checkServer(t, srv)
}

func runClientCloseBlocking(t *testing.T, sc closeScenario) {
	srv := closeServer(t, sc)
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	ct := conn.DefaultCloseTimeout
	if sc.slow {
		ct = closeTimeout
	}
	c, _, err := client.Dial(ctx, srv.URL, &client.DialOptions{CloseTimeout: ct, PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	begin := time.Now()
	err = c.Close(4001, "cya")
	took := time.Since(begin)
	switch {
	case sc.closeErr == nil && err != nil:
		t.Errorf("Close: %v, want nil", err)
	case sc.closeErr != nil && !errors.Is(err, sc.closeErr):
		t.Errorf("Close: %v, want %v", err, sc.closeErr)
	}
	if took > ct+slack || sc.slow && took < ct {
		t.Errorf("Close returned after %v, close timeout %v", took, ct)
	}
	_, _, rerr := c.ReadMessage(ctx, nil)
	var ce *conn.CloseError
	if !errors.As(rerr, &ce) || ce.Code != sc.readCode || ce.Remote != sc.readRemote {
		t.Errorf("ReadMessage after Close: %v, want code %d remote %v", rerr, sc.readCode, sc.readRemote)
	}
	checkServer(t, srv)
}
