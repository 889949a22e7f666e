package serverconf

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// TestServerInitiatedClose has our server role start the closing handshake (RFC 6455 §7.1.2)
// against the raw client, which answers in different ways: the server's close frame is
// unmasked and carries its code and reason, the server closes the TCP connection first
// (§7.1.1), and Close and the server's reads report the client's answer.
func TestServerInitiatedClose(t *testing.T) {
	tests := []struct {
		name       string
		answer     []byte // the raw client's reply, written whole; nil: none
		wantClose  error  // Close's result: nil, or an error it wraps
		wantCode   frame.CloseCode
		wantRemote bool
	}{
		{"client echoes the code", closeFrame(1001, "").bytes(), nil, 1001, true},
		{"client answers with another code", closeFrame(1000, "ok").bytes(), nil, 1000, true},
		{"client answers without a code", closeFrame(0, "").bytes(), nil, frame.CloseNoStatus, true},
		{"client sends data first, then its close", append(text("late").bytes(), closeFrame(1001, "").bytes()...), nil, 1001, true},
		{"client never answers", nil, conn.ErrCloseTimeout, frame.CloseAbnormal, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type result struct {
				closeErr, readErr error
			}
			res := make(chan result, 1)
			srv := wstest.NewRaw(t, func(nc net.Conn) {
				br := bufio.NewReader(nc)
				var u handshake.Upgrader
				if _, _, err := u.Upgrade(br, nc); err != nil {
					res <- result{closeErr: err}
					return
				}
				c := conn.New(nc, nil, &conn.Config{Role: frame.RoleServer, CloseTimeout: 500 * time.Millisecond})
				var r result
				r.closeErr = c.Close(frame.CloseGoingAway, "shutting down")
				_, _, r.readErr = c.ReadMessage(context.Background(), nil)
				res <- r
			})
			addr := srv.URL[len("ws://") : len(srv.URL)-len(wstest.DefaultPath)]
			c := dialRaw(t, addr)
			c.upgrade()
			f, err := c.readFrame()
			if err != nil || f.op != 0x8 || len(f.payload) < 2 {
				t.Fatalf("want the server's close frame, got op %#x %q, %v", f.op, f.payload, err)
			}
			if code := binary.BigEndian.Uint16(f.payload); code != 1001 || string(f.payload[2:]) != "shutting down" {
				t.Errorf("server's close: %d %q, want 1001 \"shutting down\"", code, f.payload[2:])
			}
			if tt.answer != nil {
				c.write(tt.answer)
			}
			c.expectEOF() // the server closes first, or gives up
			var r result
			select {
			case r = <-res:
			case <-time.After(wait):
				t.Fatal("the server's Close did not return")
			}
			if tt.wantClose == nil && r.closeErr != nil || tt.wantClose != nil && !errors.Is(r.closeErr, tt.wantClose) {
				t.Errorf("Close: %v, want %v", r.closeErr, tt.wantClose)
			}
			checkEnd(t, "§7.1.2", r.readErr, tt.wantCode, tt.wantRemote, nil)
		})
	}
}
