package faults

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/handshake"
)

// deadServer completes the handshake, then neither reads nor writes until the test ends: a
// peer behind a link that went dead, as far as TCP can tell.
func deadServer(t *testing.T) string {
	t.Helper()
	release := make(chan struct{})
	url := rawServer(t, true, func(net.Conn, *bufio.Reader, *handshake.ServerRequest) {
		select {
		case <-release:
		case <-time.After(6 * bound):
		}
	})
	t.Cleanup(func() { close(release) }) // before the server's cleanup waits for this handler
	return url
}

// TestKeepaliveEndsConnectionBlockedByDeadPeer: with keepalive on, a connection to a peer that
// neither reads nor writes must end within PingInterval + PongTimeout (and some), even while a
// write is blocked on the full socket buffers and the keepalive ping cannot be sent: reads
// report ErrPongTimeout, the blocked write returns.
func TestKeepaliveEndsConnectionBlockedByDeadPeer(t *testing.T) {
	const interval, timeout = 300 * time.Millisecond, 500 * time.Millisecond
	url := deadServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	c, _, err := client.Dial(ctx, url, &client.DialOptions{PingInterval: interval, PongTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	wrote := make(chan error, 1)
	go func() { wrote <- c.WriteMessage(context.Background(), conn.Binary, make([]byte, 64<<20)) }()
	start := time.Now()
	var rerr error
	within(t, interval+2*timeout+slack, "ReadMessage on a dead connection with keepalive", func() {
		_, _, rerr = c.ReadMessage(context.Background(), nil)
	})
	if !errors.Is(rerr, client.ErrPongTimeout) {
		t.Errorf("read: %v, want ErrPongTimeout", rerr)
	}
	t.Logf("the connection ended after %v", time.Since(start))
	select {
	case err := <-wrote:
		if err == nil {
			t.Error("the 64 MiB write succeeded without a reader")
		}
	case <-time.After(bound):
		t.Fatal("the blocked write did not return after keepalive ended the connection")
	}
}

// TestFacadeKeepaliveEndsConnectionBlockedByDeadPeer is the same through the seed facade: a
// Send blocked by a dead server must not hold the WebSocket forever; keepalive (1 s, 1 s)
// reports ERROR, then CLOSE 1006.
func TestFacadeKeepaliveEndsConnectionBlockedByDeadPeer(t *testing.T) {
	url := deadServer(t)
	r := newRecorder(t)
	if err := r.ws.Connect(url, &client.WebSocketRequestOptions{Proxy: client.NoProxy{}, PingInterval: 1, PongTimeout: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if e := <-r.ch; e.typ != client.EventOpen {
		t.Fatalf("first event %v, want OPEN", e)
	}
	r.ws.Send(client.ArrayData(make([]byte, 64<<20)), nil)
	start := time.Now()
	evs := r.until(t, 3*time.Second+slack)
	t.Logf("CLOSE after %v: %v", time.Since(start), evs)
	checkLost(t, append([]event{{typ: client.EventOpen}}, evs...), true)
	if last := evs[len(evs)-1]; !strings.Contains(last.text, "pong timeout") {
		t.Errorf("CLOSE reason %q, want it to say pong timeout", last.text)
	}
}
