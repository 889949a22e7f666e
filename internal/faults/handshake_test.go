package faults

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/echoserver"
	"github.com/netkit/websocket/internal/wstest"
)

// response101 answers req with a complete 101.
func response101(req *handshake.ServerRequest) []byte {
	return handshake.AppendResponse(nil, req.Key, "", nil)
}

// TestClientDialServerFailsMidHandshake cuts the server's side of the opening handshake (RFC
// 6455 §4.1, §4.2.2): Dial must return an error, in time, and no connection.
func TestClientDialServerFailsMidHandshake(t *testing.T) {
	tests := []struct {
		name    string
		respond func(nc net.Conn, req *handshake.ServerRequest) // then the server closes
		timeout time.Duration                                   // DialOptions.HandshakeTimeout
		want    []error                                         // one of them is in the chain
	}{
		{"closed after the request", func(net.Conn, *handshake.ServerRequest) {},
			0, []error{io.EOF, io.ErrUnexpectedEOF}},
		{"closed inside the status line", func(nc net.Conn, req *handshake.ServerRequest) {
			nc.Write(response101(req)[:16])
		}, 0, []error{io.ErrUnexpectedEOF}},
		{"closed before the blank line", func(nc net.Conn, req *handshake.ServerRequest) {
			b := response101(req)
			nc.Write(b[:len(b)-2])
		}, 0, []error{io.ErrUnexpectedEOF}},
		{"reset after the request", func(nc net.Conn, req *handshake.ServerRequest) {
			nc.(*net.TCPConn).SetLinger(0)
		}, 0, []error{syscall.ECONNRESET, io.EOF}},
		{"dribbling an endless header until the handshake timeout", func(nc net.Conn, req *handshake.ServerRequest) {
			nc.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nX-Slow: "))
			for i := 0; i < 1000; i++ {
				if _, err := nc.Write([]byte("x")); err != nil {
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		}, 300 * time.Millisecond, []error{context.DeadlineExceeded}},
		{"silent until the handshake timeout", func(nc net.Conn, req *handshake.ServerRequest) {
			nc.SetReadDeadline(time.Now().Add(bound))
			nc.Read(make([]byte, 1)) // until the client gives up
		}, 300 * time.Millisecond, []error{context.DeadlineExceeded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := wstest.NewRaw(t, func(nc net.Conn) {
				nc.SetDeadline(time.Now().Add(bound))
				req, err := handshake.ReadRequest(bufio.NewReader(nc), nil)
				if err != nil {
					return
				}
				tt.respond(nc, req)
			})
			start := time.Now()
			var (
				c   *client.Conn
				err error
			)
			within(t, bound, "Dial", func() {
				c, _, err = client.Dial(context.Background(), srv.URL, &client.DialOptions{
					PingInterval: -1, HandshakeTimeout: tt.timeout})
			})
			if c != nil {
				c.CloseNow()
				t.Fatal("Dial returned a connection")
			}
			found := false
			for _, w := range tt.want {
				found = found || errors.Is(err, w)
			}
			if !found {
				t.Errorf("Dial: %v, want one of %v", err, tt.want)
			}
			if tt.timeout > 0 && time.Since(start) > tt.timeout+slack {
				t.Errorf("Dial took %v with a %v handshake timeout", time.Since(start), tt.timeout)
			}
		})
	}
}

// TestServerClientFailsMidHandshake cuts the client's side of the opening handshake: the
// server's Upgrade must return the reader's error, write no 101, and not wait (RFC 6455
// §4.2.1); the embedded echo server must drop a client that stays silent after its handshake
// timeout.
func TestServerClientFailsMidHandshake(t *testing.T) {
	const partial = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConn"
	tests := []struct {
		name  string
		after func(nc *net.TCPConn) // after the partial request
		want  []error
	}{
		{"closed inside the request", func(nc *net.TCPConn) { nc.Close() }, []error{io.ErrUnexpectedEOF}},
		{"half-closed inside the request", func(nc *net.TCPConn) { nc.CloseWrite() }, []error{io.ErrUnexpectedEOF}},
		{"reset inside the request", func(nc *net.TCPConn) { nc.SetLinger(0); nc.Close() },
			[]error{syscall.ECONNRESET, io.ErrUnexpectedEOF}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errc := make(chan error, 1)
			srv := wstest.NewRaw(t, func(nc net.Conn) {
				nc.SetDeadline(time.Now().Add(bound))
				var u handshake.Upgrader
				_, _, err := u.Upgrade(bufio.NewReader(nc), nc)
				errc <- err
			})
			nc, err := net.DialTimeout("tcp", srv.URL[len("ws://"):len(srv.URL)-len(wstest.DefaultPath)], bound)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(bound))
			if _, err := nc.Write([]byte(partial)); err != nil {
				t.Fatal(err)
			}
			tt.after(nc.(*net.TCPConn))
			select {
			case err := <-errc:
				found := false
				for _, w := range tt.want {
					found = found || errors.Is(err, w)
				}
				var re *handshake.RejectError
				if !found || errors.As(err, &re) {
					t.Errorf("Upgrade: %v, want a reader error among %v and no rejection", err, tt.want)
				}
			case <-time.After(bound):
				t.Fatal("Upgrade did not return")
			}
			if tt.name == "half-closed inside the request" {
				// Nothing may have been written back.
				if n, err := nc.Read(make([]byte, 1)); n != 0 || err == nil {
					t.Errorf("the server wrote %d bytes after a cut request (%v)", n, err)
				}
			}
		})
	}
	t.Run("dribbling client dropped after the handshake timeout", func(t *testing.T) {
		nc := dialEchoserver300ms(t)
		start := time.Now()
		nc.Write([]byte(partial))
		for time.Since(start) < bound {
			nc.SetWriteDeadline(time.Now().Add(bound))
			if _, err := nc.Write([]byte("x")); err != nil {
				break // the server closed the connection
			}
			nc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
			if n, err := nc.Read(make([]byte, 1)); n > 0 || err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				break // the server answered or closed
			}
		}
		if d := time.Since(start); d > 300*time.Millisecond+slack {
			t.Errorf("the server kept a dribbling client for %v", d)
		}
	})
	t.Run("silent client dropped after the handshake timeout", func(t *testing.T) {
		nc := dialEchoserver300ms(t)
		nc.Write([]byte(partial))
		start := time.Now()
		nc.SetReadDeadline(time.Now().Add(bound))
		if n, err := nc.Read(make([]byte, 1)); n != 0 || err == nil {
			t.Fatalf("read %d bytes, %v; want the server to close the connection", n, err)
		}
		if d := time.Since(start); d > 300*time.Millisecond+slack {
			t.Errorf("the server dropped the silent client after %v", d)
		}
	})
}

// dialEchoserver300ms starts an echoserver whose opening handshake must finish within 300 ms
// and opens a TCP connection to it; the test's cleanup closes both.
func dialEchoserver300ms(t *testing.T) net.Conn {
	t.Helper()
	srv, err := echoserver.Start("127.0.0.1:0", echoserver.WithHandshakeTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	nc, err := net.DialTimeout("tcp", srv.Addr().String(), bound)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}
