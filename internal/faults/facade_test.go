package faults

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// event is one event of the facade, recorded in order.
type event struct {
	typ   client.OnOffType
	code  int64 // the CLOSE code, or the ERROR code
	text  string
	close client.CloseResult
}

func (e event) String() string { return fmt.Sprintf("%v(%d %q)", e.typ, e.code, e.text) }

// recorder records the events of a WebSocket.
type recorder struct {
	ws *client.WebSocket
	ch chan event
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{ws: client.CreateWebSocket(), ch: make(chan event, 1024)}
	r.ws.On(client.EventOpen, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, m map[uint32]string) {
		r.ch <- event{typ: client.EventOpen, code: 101, text: m[101]}
	}))
	r.ws.On(client.EventMessage, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, m client.MessageData) {
		r.ch <- event{typ: client.EventMessage, text: m.String()}
	}))
	r.ws.On(client.EventError, client.NewWebSocketErrorCallback(func(e *client.BusinessException) {
		r.ch <- event{typ: client.EventError, code: int64(e.Code), text: e.Error()}
	}))
	r.ws.On(client.EventClose, client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, c client.CloseResult) {
		r.ch <- event{typ: client.EventClose, code: int64(c.Code), text: c.Reason, close: c}
	}))
	return r
}

// connect connects to url with keepalive off and no proxy.
func (r *recorder) connect(t *testing.T, url string) {
	t.Helper()
	if err := r.ws.Connect(url, &client.WebSocketRequestOptions{Proxy: client.NoProxy{}}, nil); err != nil {
		t.Fatal(err)
	}
}

// until collects events up to and including CLOSE, waiting at most d; it fails the test when
// CLOSE does not come.
func (r *recorder) until(t *testing.T, d time.Duration) []event {
	t.Helper()
	var evs []event
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case e := <-r.ch:
			evs = append(evs, e)
			if e.typ == client.EventClose {
				return evs
			}
		case <-timer.C:
			t.Fatalf("no CLOSE within %v; events so far: %v", d, evs)
		}
	}
}

// checkLost checks the end of a connection lost without a close frame: ERROR 2302999, then
// CLOSE 1006 as the last event, with open (or not) before them.
func checkLost(t *testing.T, evs []event, opened bool) {
	t.Helper()
	want := []client.OnOffType{client.EventError, client.EventClose}
	if opened {
		want = append([]client.OnOffType{client.EventOpen}, want...)
	}
	var got []client.OnOffType
	for _, e := range evs {
		if e.typ != client.EventMessage {
			got = append(got, e.typ)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v (messages aside)", evs, want)
	}
	last := evs[len(evs)-1]
	if last.code != 1006 || last.text == "" {
		t.Errorf("CLOSE %d %q, want 1006 with a reason", last.code, last.text)
	}
	for _, e := range evs {
		if e.typ == client.EventError && e.code != int64(client.CodeOtherError) {
			t.Errorf("ERROR code %d, want %d", e.code, client.CodeOtherError)
		}
	}
}

// rawServer starts a server whose connections run serve after a completed handshake (when
// upgrade is true) or straight after the request was read.
func rawServer(t *testing.T, upgrade bool, serve func(nc net.Conn, br *bufio.Reader, req *handshake.ServerRequest)) string {
	t.Helper()
	srv := wstest.NewRaw(t, func(nc net.Conn) {
		nc.SetDeadline(time.Now().Add(bound))
		br := bufio.NewReader(nc)
		req, err := handshake.ReadRequest(br, nil)
		if err != nil {
			return
		}
		if upgrade {
			if _, err := nc.Write(response101(req)); err != nil {
				return
			}
		}
		serve(nc, br, req)
	})
	return srv.URL
}

// TestFacadeFaults runs the faults against the seed facade: each must end with ERROR (2302999)
// then CLOSE 1006 with a reason, in time, and the WebSocket must be able to connect again.
func TestFacadeFaults(t *testing.T) {
	peer := &rawPeer{} // a server: frames unmasked
	tests := []struct {
		name    string
		upgrade bool
		serve   func(nc net.Conn, br *bufio.Reader, req *handshake.ServerRequest)
		opened  bool
		msgs    []string
	}{
		{"server drops mid-handshake", false, func(nc net.Conn, _ *bufio.Reader, req *handshake.ServerRequest) {
			nc.Write(response101(req)[:20])
		}, false, nil},
		{"server resets mid-handshake", false, func(nc net.Conn, _ *bufio.Reader, _ *handshake.ServerRequest) {
			nc.(*net.TCPConn).SetLinger(0)
		}, false, nil},
		{"server drops mid-frame", true, func(nc net.Conn, _ *bufio.Reader, _ *handshake.ServerRequest) {
			b := append(peer.frameBytes(true, 0x1, []byte("whole")), peer.frameBytes(true, 0x2, make([]byte, 500))...)
			nc.Write(b[:len(b)-10])
		}, true, []string{"whole"}},
		{"server drops between fragments", true, func(nc net.Conn, _ *bufio.Reader, _ *handshake.ServerRequest) {
			nc.Write(peer.frameBytes(false, 0x1, []byte("part")))
		}, true, nil},
		{"server's close frame cut", true, func(nc net.Conn, _ *bufio.Reader, _ *handshake.ServerRequest) {
			b := peer.frameBytes(true, 0x8, []byte{0x03, 0xe8, 'b', 'y', 'e'})
			nc.Write(b[:3])
		}, true, nil},
		{"server resets", true, func(nc net.Conn, _ *bufio.Reader, _ *handshake.ServerRequest) {
			time.Sleep(50 * time.Millisecond)
			nc.(*net.TCPConn).SetLinger(0)
		}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := rawServer(t, tt.upgrade, tt.serve)
			r := newRecorder(t)
			r.connect(t, url)
			evs := r.until(t, bound)
			checkLost(t, evs, tt.opened)
			var msgs []string
			for _, e := range evs {
				if e.typ == client.EventMessage {
					msgs = append(msgs, e.text)
				}
			}
			if strings.Join(msgs, ",") != strings.Join(tt.msgs, ",") {
				t.Errorf("messages %q, want %q", msgs, tt.msgs)
			}
			// After CLOSE the same WebSocket connects again (and fails again the same way).
			r.connect(t, url)
			checkLost(t, r.until(t, bound), tt.opened)
		})
	}
}

// TestFacadeCloseFaults breaks the closing handshake that Close starts: the server drops on our
// close frame, or never reads at all while messages are queued. CLOSE must come in time.
func TestFacadeCloseFaults(t *testing.T) {
	t.Run("server drops on our close", func(t *testing.T) {
		url := rawServer(t, true, func(nc net.Conn, br *bufio.Reader, _ *handshake.ServerRequest) {
			br.ReadByte()
		})
		r := newRecorder(t)
		r.connect(t, url)
		if e := <-r.ch; e.typ != client.EventOpen {
			t.Fatalf("first event %v, want OPEN", e)
		}
		r.ws.Close(nil, nil)
		evs := r.until(t, bound)
		if last := evs[len(evs)-1]; last.code != 1006 {
			t.Errorf("CLOSE %v, want 1006", last)
		}
	})
	t.Run("server reads but never answers our close", func(t *testing.T) {
		t.Parallel() // each waits out a 5 s close timeout
		url := rawServer(t, true, func(nc net.Conn, br *bufio.Reader, _ *handshake.ServerRequest) {
			br.WriteTo(io.Discard) // until the client gives up and closes
		})
		r := newRecorder(t)
		r.connect(t, url)
		if e := <-r.ch; e.typ != client.EventOpen {
			t.Fatalf("first event %v, want OPEN", e)
		}
		closed := make(chan *client.AsyncError, 1)
		start := time.Now()
		r.ws.Close(client.NewWebSocketAsyncCallback(func(e *client.AsyncError, _ bool) { closed <- e }), nil)
		evs := r.until(t, conn.DefaultCloseTimeout+slack)
		t.Logf("CLOSE after %v: %v", time.Since(start), evs)
		if last := evs[len(evs)-1]; last.code != 1006 {
			t.Errorf("CLOSE %v, want 1006", last)
		}
		select {
		case e := <-closed:
			if e == nil {
				t.Error("the Close callback reported success without the server's close frame")
			}
		case <-time.After(bound):
			t.Fatal("the Close callback was never called")
		}
	})
	t.Run("server never reads", func(t *testing.T) {
		t.Parallel() // each waits out a 5 s close timeout
		release := make(chan struct{})
		url := rawServer(t, true, func(nc net.Conn, _ *bufio.Reader, _ *handshake.ServerRequest) {
			select { // hold the connection open without reading
			case <-release:
			case <-time.After(2 * bound):
			}
		})
		defer close(release)
		r := newRecorder(t)
		r.connect(t, url)
		if e := <-r.ch; e.typ != client.EventOpen {
			t.Fatalf("first event %v, want OPEN", e)
		}
		sent := make(chan *client.AsyncError, 4)
		for range 4 {
			r.ws.Send(client.ArrayData(make([]byte, 8<<20)), client.NewWebSocketAsyncCallback(func(e *client.AsyncError, _ bool) { sent <- e }))
		}
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		closed := make(chan *client.AsyncError, 1)
		r.ws.Close(client.NewWebSocketAsyncCallback(func(e *client.AsyncError, _ bool) { closed <- e }), nil)
		evs := r.until(t, bound)
		t.Logf("CLOSE after %v: %v", time.Since(start), evs)
		if last := evs[len(evs)-1]; last.code != 1006 {
			t.Errorf("CLOSE %v, want 1006", last)
		}
		for range 4 {
			select {
			case e := <-sent:
				if e == nil {
					continue // the first message may have fit the socket buffers
				}
			case <-time.After(bound):
				t.Fatal("a Send callback was never called")
			}
		}
	})
}
