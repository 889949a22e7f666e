package conn

import (
	"bytes"
	"context"
	"testing"

	"github.com/netkit/websocket/frame"
)

// TestTryReadMessageReadsOnlyWhatIsBufferedWhole: TryReadMessage returns a one-frame message
// held whole in the read buffer, and otherwise reads nothing and leaves the message to
// ReadMessage: before anything arrived, half a frame, a fragmented message. Text that is not
// UTF-8 fails the connection as ReadMessage would (1007, §8.1).
func TestTryReadMessageReadsOnlyWhatIsBufferedWhole(t *testing.T) {
	cn, sn := tcpPair(t)
	c := New(cn, nil, nil)
	defer c.CloseNow()
	ctx := context.Background()
	if _, _, ok, err := c.TryReadMessage(nil); ok || err != nil {
		t.Fatalf("nothing arrived: ok %v, err %v", ok, err)
	}
	third := rawFrame(true, 0, frame.OpBinary, false, bytes.Repeat([]byte{7}, 100))
	write := func(frames ...[]byte) {
		t.Helper()
		if _, err := sn.Write(bytes.Join(frames, nil)); err != nil {
			t.Fatal(err)
		}
	}
	read := func(want string) {
		t.Helper()
		if _, p, err := c.ReadMessage(ctx, nil); err != nil || string(p) != want {
			t.Fatalf("ReadMessage: %q, %v; want %q", p, err, want)
		}
	}
	// One write: the first ReadMessage's socket read brings in all of it.
	write(rawFrame(true, 0, frame.OpText, false, []byte("one")),
		rawFrame(true, 0, frame.OpText, false, []byte("two")),
		third[:50])
	read("one")
	typ, p, ok, err := c.TryReadMessage(make([]byte, 0, 8))
	if !ok || err != nil || typ != Text || string(p) != "two" {
		t.Fatalf("buffered whole: %v %q ok %v err %v", typ, p, ok, err)
	}
	if _, p, ok, err := c.TryReadMessage(nil); ok || err != nil || len(p) != 0 {
		t.Fatalf("half a frame buffered: %q ok %v err %v", p, ok, err)
	}
	write(third[50:])
	if _, p, err := c.ReadMessage(ctx, nil); err != nil || !bytes.Equal(p, bytes.Repeat([]byte{7}, 100)) {
		t.Fatalf("the rest: %d bytes, %v", len(p), err)
	}

	write(rawFrame(true, 0, frame.OpText, false, []byte("x")),
		rawFrame(false, 0, frame.OpText, false, []byte("fr")),
		rawFrame(true, 0, frame.OpContinuation, false, []byte("ag")))
	read("x")
	if _, _, ok, err := c.TryReadMessage(nil); ok || err != nil {
		t.Fatalf("fragmented message: ok %v err %v", ok, err)
	}
	read("frag")

	write(rawFrame(true, 0, frame.OpText, false, []byte("y")),
		rawFrame(true, 0, frame.OpText, false, []byte{0xff}))
	read("y")
	_, _, ok, err = c.TryReadMessage(nil)
	if !ok {
		t.Fatal("invalid text buffered whole: ok false")
	}
	wantClose(t, err, frame.CloseInvalidPayload, false)
	if code, _, err := readCloseFrame(sn, frame.RoleServer); err != nil || code != frame.CloseInvalidPayload {
		t.Fatalf("close frame sent: %v, %v", code, err)
	}
	if allocs := testing.AllocsPerRun(20, func() { c.TryReadMessage(nil) }); allocs != 0 {
		t.Fatalf("TryReadMessage on a failed connection allocates %v", allocs)
	}
}
