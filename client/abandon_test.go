package client

import (
	"net"
	"testing"
	"time"
)

// TestCloseAbandonsARealHandshakeThatNeverAnswers: Close while the opening handshake waits on
// a server that accepted the TCP connection and never answers ends the attempt at once (CLOSE
// 1006), through the session's abort slot, not after the handshake timeout; the socket is
// closed (the server sees EOF).
func TestCloseAbandonsARealHandshakeThatNeverAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	opts := NewWebSocketRequestOptions()
	opts.Proxy = NoProxy{}
	if err := ws.Connect("ws://"+ln.Addr().String()+"/", opts, nil); err != nil {
		t.Fatal(err)
	}
	var sc net.Conn
	select {
	case sc = <-accepted:
		defer sc.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("no connection")
	}
	// The request arrives: the dial now waits for the response, in the handshake.
	buf := make([]byte, 4096)
	if _, err := sc.Read(buf); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := ws.Close(nil, nil); err != nil {
		t.Fatal(err)
	}
	r.expect("CLOSE 1006 connection attempt abandoned by Close")
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("CLOSE after %v (the handshake timeout is %v)", el, DefaultHandshakeTimeout)
	}
	_ = sc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := sc.Read(buf); err == nil {
		t.Fatalf("server read %d more bytes, want EOF", n)
	}
	wait(t, ws)
}
