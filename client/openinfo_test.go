package client

import (
	"errors"
	"testing"

	"github.com/netkit/websocket/internal/wstest"
)

// The platform's openInfo event (issue 12): OPEN's data plus the negotiated subprotocol.

// onOpenInfo registers an openInfo callback that logs "OPENINFO <status> <message> <protocol>"
// to r, in the order of r's other events.
func (r *recorder) onOpenInfo(ws *WebSocket) *OpenInfoCallback {
	cb := NewOpenInfoCallback(func(info WebSocketOpenInfo) {
		defer r.enter()()
		r.log("OPENINFO %d %s %q", info.Status, info.Message, info.Protocol)
	})
	if err := ws.On(EventOpenInfo, cb); err != nil {
		r.t.Fatalf("On(EventOpenInfo): %v", err)
	}
	return cb
}

func TestRealOpenInfoFollowsOpenWithTheNegotiatedSubprotocol(t *testing.T) {
	srv := wstest.New(t, echo, func(s *wstest.Server) { s.Upgrader.Protocols = []string{"b"} })
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	r.onOpenInfo(ws)

	opts := realOptions()
	opts.Protocol = "a, b"
	if err := ws.Connect(srv.URL, opts, r.asyncCB("CONNECT")); err != nil {
		t.Fatal(err)
	}
	_ = ws.Send(StringData("queued before open"), nil)
	// openInfo comes right after OPEN, before the first message.
	r.expect("CONNECT true", "HEADERRECEIVE ", "OPEN 1 Switching Protocols",
		`OPENINFO 101 Switching Protocols "b"`, "MESSAGE text queued before open", "DATAEND")
	_ = ws.Close(nil, nil)
	r.until("CLOSE 1000")

	// No subprotocol offered (or none selected): Protocol is "".
	_ = ws.Connect(srv.URL, realOptions(), nil)
	r.expect("HEADERRECEIVE ", "OPEN 1 Switching Protocols", `OPENINFO 101 Switching Protocols ""`)
	_ = ws.Close(nil, nil)
	r.until("CLOSE 1000")
	wait(t, ws)
}

func TestOpenInfoOrderAndOffWithFakeTransport(t *testing.T) {
	ws := CreateWebSocket()
	f := newFake()
	ws.dial = fakeDialer(f, nil)
	r := newRecorder(t, ws)
	cb := r.onOpenInfo(ws)
	opts := realOptions()
	opts.Protocol = "chat"
	_ = ws.Connect(testURL, opts, nil)
	r.expect("HEADERRECEIVE a, b", "OPEN 1 Switching Protocols", `OPENINFO 101 Switching Protocols "chat"`)
	f.serverClose(1000, "")
	r.expect("CLOSE 1000 ")
	wait(t, ws)

	// Once removed, openInfo is not called; OPEN still is.
	if err := ws.Off(EventOpenInfo, cb); err != nil {
		t.Fatal(err)
	}
	f = newFake()
	ws.dial = fakeDialer(f, nil)
	_ = ws.Connect(testURL, opts, nil)
	r.expect("HEADERRECEIVE a, b", "OPEN 1 Switching Protocols")
	f.serverClose(1000, "")
	r.expect("CLOSE 1000 ")
	wait(t, ws)
}

func TestOnOffOpenInfoAcceptOnlyItsCallbackType(t *testing.T) {
	ws := CreateWebSocket()
	info := NewOpenInfoCallback(func(WebSocketOpenInfo) {})
	wrong := []Callback{
		NewWebSocketAsyncCallback(func(*AsyncError, map[uint32]string) {}),
		NewWebSocketAsyncCallback(func(*AsyncError, WebSocketOpenInfo) {}),
		NewHeaderReceiveCallback(func(ResponseHeaders) {}),
		NewDataEndCallback(func() {}),
		(*OpenInfoCallback)(nil),
	}
	for _, cb := range wrong {
		if err := ws.On(EventOpenInfo, cb); CodeOf(err) != CodeParameterError {
			t.Errorf("On(EventOpenInfo, %T): %v, want 401", cb, err)
		}
		if err := ws.Off(EventOpenInfo, cb); CodeOf(err) != CodeParameterError {
			t.Errorf("Off(EventOpenInfo, %T): %v, want 401", cb, err)
		}
	}
	for _, ev := range []OnOffType{EventOpen, EventHeaderReceive, EventMessage, EventClose, EventError, EventDataEnd} {
		if err := ws.On(ev, info); CodeOf(err) != CodeParameterError || !errors.Is(err, ErrCallbackType) {
			t.Errorf("On(%v, *OpenInfoCallback): %v, want 401", ev, err)
		}
	}
	if err := ws.On(EventOpenInfo, info); err != nil {
		t.Fatal(err)
	}
	if err := ws.Off(EventOpenInfo, info); err != nil {
		t.Fatal(err)
	}
	if got := EventOpenInfo.String(); got != "OPENINFO" {
		t.Errorf("EventOpenInfo.String() = %q", got)
	}
}
