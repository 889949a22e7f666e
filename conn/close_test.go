package conn

import (
	"context"
	"testing"
	"time"

	"github.com/netkit/websocket/frame"
)

// TestCloseWithReadLoopLeavesMessagesToTheReader: with Config.ReadLoop, a Close that runs
// while the reading goroutine is between two reads does not read (and discard) the messages
// the peer sent before its close reply: the reader gets them, then the peer's close.
func TestCloseWithReadLoopLeavesMessagesToTheReader(t *testing.T) {
	for _, readLoop := range []bool{true, false} {
		c, s := connPair(t, &Config{ReadLoop: readLoop}, nil)
		// The server sends "late", then answers our close (its read replies automatically).
		go func() { _, _, _ = s.ReadMessage(context.Background(), nil) }()
		if err := s.WriteMessage(context.Background(), Text, []byte("late")); err != nil {
			t.Fatal(err)
		}
		closed := make(chan error, 1)
		go func() { closed <- c.Close(frame.CloseNormal, "") }() // no read call is active
		time.Sleep(50 * time.Millisecond)
		typ, msg, err := c.ReadMessage(context.Background(), nil)
		if readLoop {
			if err != nil || typ != Text || string(msg) != "late" {
				t.Fatalf("ReadLoop: ReadMessage = %v %q %v, want the late message", typ, msg, err)
			}
			_, _, err = c.ReadMessage(context.Background(), nil)
			wantClose(t, err, frame.CloseNormal, true)
		} else if err == nil {
			t.Fatalf("without ReadLoop Close reads by itself: ReadMessage = %q, want the close error", msg)
		}
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		s.CloseNow()
	}
}
