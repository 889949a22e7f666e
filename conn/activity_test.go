package conn

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestReadActivityOverTCP checks what ReadActivity reports of a reader on loopback TCP (the
// raw-read path) and on a wrapped net.Conn (a read counts as a wait): nothing before the
// first read; the wait of a read that waits for input, growing while it waits; bytes
// received, any bytes (a frame header without its payload); and no waiting time while no
// read is in progress, even with bytes waiting in the kernel.
func TestReadActivityOverTCP(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		name := "raw"
		if wrap {
			name = "wrapped"
		}
		t.Run(name, func(t *testing.T) {
			cn, sn := tcpPair(t)
			var nc net.Conn = cn
			if wrap {
				nc = wrappedConn{cn}
			}
			c := New(nc, nil, &Config{TrackReads: true})
			defer c.CloseNow()
			if a := c.ReadActivity(); a != (ReadActivity{}) {
				t.Fatalf("before any read: %+v", a)
			}
			read := make(chan error, 1)
			go func() {
				_, _, err := c.ReadMessage(context.Background(), nil)
				read <- err
			}()
			time.Sleep(200 * time.Millisecond)
			a := c.ReadActivity()
			if a.Received || a.Waiting < 150*time.Millisecond || a.Waited < a.Waiting {
				t.Fatalf("a read waiting 200ms: %+v", a)
			}
			// The header of a 10-byte frame, without its payload: bytes, not a message.
			if _, err := sn.Write([]byte{0x82, 10}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			b := c.ReadActivity()
			if !b.Received || b.Waited < a.Waited {
				t.Fatalf("after a frame header: %+v (before %+v)", b, a)
			}
			if c2 := c.ReadActivity(); c2.Received {
				t.Fatalf("Received not cleared: %+v", c2)
			}
			sn.Write(make([]byte, 10))
			if err := <-read; err != nil {
				t.Fatal(err)
			}
			// No read in progress: bytes wait in the kernel, and no waiting time accrues.
			sn.Write([]byte{0x82, 1, 'x'})
			before := c.ReadActivity()
			time.Sleep(200 * time.Millisecond)
			after := c.ReadActivity()
			if after.Received || after.Waiting != 0 || after.Waited-before.Waited > 20*time.Millisecond {
				t.Fatalf("no reader for 200ms: %+v, before %+v", after, before)
			}
			if _, p, err := c.ReadMessage(context.Background(), nil); err != nil || string(p) != "x" {
				t.Fatalf("read: %q %v", p, err)
			}
			if a := c.ReadActivity(); !a.Received {
				t.Fatalf("bytes read from the kernel's buffer not recorded: %+v", a)
			}
		})
	}
}

// TestReadActivityOffByDefault: without Config.TrackReads the Conn records nothing.
func TestReadActivityOffByDefault(t *testing.T) {
	cn, sn := tcpPair(t)
	c := New(cn, nil, nil)
	defer c.CloseNow()
	sn.Write([]byte{0x82, 1, 'x'})
	if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if a := c.ReadActivity(); a != (ReadActivity{}) {
		t.Fatalf("untracked: %+v", a)
	}
}
