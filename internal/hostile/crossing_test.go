package hostile_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/internal/hostile"
)

// midMessageSize is the size of the message the client is sending when the server acts.
const midMessageSize = 8 << 20

// midMessage is a step for a client that sends one binary message of midMessageSize bytes:
// it reads the frame header and 64 KiB of the payload, writes frames, reads the rest of the
// payload, and counts the payload bytes in *seen.
func midMessage(seen *int, frames ...hostile.Frame) hostile.Step {
	return func(c *hostile.Conn) error {
		if err := c.NC.SetReadDeadline(time.Now().Add(runBound)); err != nil {
			return err
		}
		var hdr [14]byte
		if _, err := io.ReadFull(c.R, hdr[:]); err != nil {
			return err
		}
		if hdr[0] != 0x82 || hdr[1] != 0x80|127 {
			return fmt.Errorf("client frame starts % x, want a final masked binary frame with a 64-bit length", hdr[:2])
		}
		n := int64(binary.BigEndian.Uint64(hdr[2:10]))
		if _, err := io.CopyN(io.Discard, c.R, 64<<10); err != nil {
			return err
		}
		if err := c.Write(hostile.Join(frames...)); err != nil {
			return err
		}
		if _, err := io.CopyN(io.Discard, c.R, n-64<<10); err != nil {
			return err
		}
		*seen = int(n)
		return nil
	}
}

// TestClientAnswersWhileSendingLargeMessage: §5.4, §5.5, §7.1.7 — while the client is writing
// a large message (one frame), the server sends a violation, a ping or its close. The client's
// answer (its 1002 close frame, the pong, the echo of the close) must come after the whole
// message frame, never inside it, and the outcome is the same as between messages.
func TestClientAnswersWhileSendingLargeMessage(t *testing.T) {
	tests := []struct {
		name   string
		frame  hostile.Frame
		after  hostile.Script // what the server does once the message frame is read
		events []string       // facade, after OPEN
		code   uint16         // blocking: ReadMessage's *conn.CloseError
		remote bool
	}{
		{name: "§7.1.7 reserved opcode: 1002 after the message", frame: hostile.Frame{Fin: true, Op: 0xB},
			after:  hostile.Script{hostile.ExpectCloseAndEOF(1002)},
			events: []string{"ERROR 2302999", "CLOSE 1002 reserved opcode"}, code: 1002},
		{name: "§5.5.2 ping: pong after the message", frame: hostile.Ping([]byte("mid")),
			after: hostile.Script{hostile.ExpectPong([]byte("mid")), hostile.Send(hostile.Close(1000, "bye")),
				hostile.ExpectCloseAndEOF(1000)},
			events: []string{"SEND true", "CLOSE 1000 bye"}, code: 1000, remote: true},
		{name: "§7.1.2 server's close: echoed after the message", frame: hostile.Close(4000, "stop"),
			after:  hostile.Script{hostile.ExpectCloseAndEOF(4000)},
			events: []string{"SEND true", "CLOSE 4000 stop"}, code: 4000, remote: true},
	}
	big := make([]byte, midMessageSize)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Run("facade", func(t *testing.T) {
				var seen int
				srv, err := hostile.Start(hostile.Accept(), append(hostile.Script{midMessage(&seen, tt.frame)}, tt.after...), hostile.Whole, 1)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(srv.Stop)
				ws := client.CreateWebSocket()
				r := newRecorder(t, ws, true)
				r.onOpen = func() {
					_ = ws.Send(client.ArrayData(big), client.NewWebSocketAsyncCallback(func(_ *client.AsyncError, ok bool) {
						r.log(fmt.Sprintf("SEND %v", ok))
					}))
				}
				if err := ws.Connect(srv.URL, &client.WebSocketRequestOptions{Proxy: client.NoProxy{}}, nil); err != nil {
					t.Fatal(err)
				}
				got := r.waitClose(t, conn.DefaultCloseTimeout+runBound)
				// The Send callback of a failed connection may come before or after ERROR.
				got = slices.DeleteFunc(got, func(s string) bool { return s == "SEND true" && tt.code == 1002 })
				want := append([]string{"HEADERRECEIVE", "OPEN 101 Switching Protocols"}, tt.events...)
				if !slices.Equal(got, want) {
					t.Errorf("events:\n got %q\nwant %q", got, want)
				}
				checkServer(t, srv)
				if seen != midMessageSize {
					t.Errorf("server saw a message frame of %d bytes, want %d", seen, midMessageSize)
				}
			})
			t.Run("blocking", func(t *testing.T) {
				var seen int
				srv, err := hostile.Start(hostile.Accept(), append(hostile.Script{midMessage(&seen, tt.frame)}, tt.after...), hostile.Whole, 1)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(srv.Stop)
				ctx, cancel := context.WithTimeout(context.Background(), runBound)
				defer cancel()
				c, _, err := client.Dial(ctx, srv.URL, dialOptions(scenario{}))
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseNow()
				werr := make(chan error, 1)
				go func() { werr <- c.WriteMessage(ctx, conn.Binary, big) }()
				_, _, rerr := c.ReadMessage(ctx, nil)
				var ce *conn.CloseError
				if !errors.As(rerr, &ce) || uint16(ce.Code) != tt.code || ce.Remote != tt.remote {
					t.Errorf("ReadMessage: %v, want code %d remote %v", rerr, tt.code, tt.remote)
				}
				select {
				case err := <-werr:
					if err != nil {
						t.Errorf("WriteMessage: %v, want the whole message written", err)
					}
				case <-time.After(runBound):
					t.Fatal("WriteMessage hangs")
				}
				checkServer(t, srv)
				if seen != midMessageSize {
					t.Errorf("server saw a message frame of %d bytes, want %d", seen, midMessageSize)
				}
			})
		})
	}
}
