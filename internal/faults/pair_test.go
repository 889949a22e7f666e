package faults

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// bound is the longest any wait of these tests may take; generous, for a loaded machine.
const bound = 10 * time.Second

// slack is how much later than its deadline an operation may return and still be "in time".
const slack = 3 * time.Second

// closeTimeout is the CloseTimeout of our end in the pairs: short, as some tests wait it out.
const closeTimeout = time.Second

// ours is our end of a connection: a *client.Conn (from client.Dial) or a server-role
// *conn.Conn.
type ours interface {
	ReadMessage(ctx context.Context, buf []byte) (conn.MessageType, []byte, error)
	WriteMessage(ctx context.Context, typ conn.MessageType, p []byte) error
	NextWriter(ctx context.Context, typ conn.MessageType) (io.WriteCloser, error)
	Ping(ctx context.Context, p []byte) error
	Close(code frame.CloseCode, reason string) error
	CloseNow() error
	NetConn() net.Conn
}

// rawPeer is the other end, played by hand over TCP.
type rawPeer struct {
	nc   net.Conn
	br   *bufio.Reader
	mask bool // the peer is a client: its frames are masked (RFC 6455 §5.3)
}

// frameBytes encodes a frame as the peer sends it (masked when the peer is a client), with its
// own encoder, independent of package frame.
func (p *rawPeer) frameBytes(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0, 0}
	switch n := len(payload); {
	case n > 0xffff:
		b[1] = 127
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	case n > 125:
		b[1] = 126
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b[1] = byte(n)
	}
	key := [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	if p.mask {
		b[1] |= 0x80
		b = append(b, key[:]...)
	}
	start := len(b)
	b = append(b, payload...)
	if p.mask {
		for i := start; i < len(b); i++ {
			b[i] ^= key[(i-start)%4]
		}
	}
	return b
}

// write writes b to the peer's socket.
// flood writes b again and again until stop is closed or a write fails (each write bounded).
func (p *rawPeer) flood(stop <-chan struct{}, b []byte) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		p.nc.SetWriteDeadline(time.Now().Add(bound))
		if _, err := p.nc.Write(b); err != nil {
			return
		}
	}
}

func (p *rawPeer) write(t *testing.T, b []byte) {
	t.Helper()
	p.nc.SetWriteDeadline(time.Now().Add(bound))
	if _, err := p.nc.Write(b); err != nil {
		t.Fatalf("peer write: %v", err)
	}
}

// reset closes the peer's socket with SO_LINGER 0, so that the kernel sends an RST.
func (p *rawPeer) reset(t *testing.T) {
	t.Helper()
	if err := p.nc.(*net.TCPConn).SetLinger(0); err != nil {
		t.Fatal(err)
	}
	p.nc.Close()
}

// roles are the two ends our code can play.
var roles = []struct {
	name string
	pair func(t *testing.T) (ours, *rawPeer)
}{
	{"client", clientPair},
	{"server", serverPair},
}

// clientPair returns a client.Dial connection (keepalive off) and the raw server it talks to.
func clientPair(t *testing.T) (ours, *rawPeer) {
	t.Helper()
	ln := listen(t)
	peerc := make(chan *rawPeer, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			peerc <- nil
			return
		}
		nc.SetDeadline(time.Now().Add(bound))
		br := bufio.NewReader(nc)
		req, err := handshake.ReadRequest(br, nil)
		if err == nil {
			_, err = nc.Write(handshake.AppendResponse(nil, req.Key, "", nil))
		}
		nc.SetDeadline(time.Time{})
		if err != nil {
			nc.Close()
			peerc <- nil
			return
		}
		peerc <- &rawPeer{nc: nc, br: br}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	c, _, err := client.Dial(ctx, "ws://"+ln.Addr().String()+"/", &client.DialOptions{PingInterval: -1, CloseTimeout: closeTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	p := <-peerc // bounded: the accept finished before Dial returned, or Dial failed above
	if p == nil {
		t.Fatal("the raw server's handshake failed")
	}
	t.Cleanup(func() { p.nc.Close() })
	return c, p
}

// serverPair returns a server-role connection (handshake.Upgrader, conn.New with
// frame.RoleServer) and the raw client it talks to.
func serverPair(t *testing.T) (ours, *rawPeer) {
	t.Helper()
	ln := listen(t)
	ourc := make(chan *conn.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			ourc <- nil
			return
		}
		nc.SetDeadline(time.Now().Add(bound))
		br := bufio.NewReader(nc)
		var u handshake.Upgrader
		if _, _, err := u.Upgrade(br, nc); err != nil {
			nc.Close()
			ourc <- nil
			return
		}
		nc.SetDeadline(time.Time{})
		var prefix []byte
		if n := br.Buffered(); n > 0 {
			prefix, _ = br.Peek(n)
		}
		ourc <- conn.New(nc, prefix, &conn.Config{Role: frame.RoleServer, CloseTimeout: closeTimeout})
	}()
	nc, err := net.DialTimeout("tcp", ln.Addr().String(), bound)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	p := &rawPeer{nc: nc, br: bufio.NewReader(nc), mask: true}
	nc.SetDeadline(time.Now().Add(bound))
	p.write(t, []byte("GET / HTTP/1.1\r\nHost: "+ln.Addr().String()+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("raw client handshake: %v %v", resp, err)
	}
	nc.SetDeadline(time.Time{})
	var c *conn.Conn
	select {
	case c = <-ourc:
	case <-time.After(bound):
		t.Fatal("server handshake did not finish")
	}
	if c == nil {
		t.Fatal("server handshake failed")
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, p
}

// listen opens a listener on 127.0.0.1 that the test's cleanup closes.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// within runs f in a goroutine and fails the test if it does not return within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}
