package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// batchConn holds back what is written to it while batching, and sends it all with one Write
// at flush (or Close): the last TLS record of a message and the close_notify alert after it
// reach the client in one piece, as they do from a server that writes quickly, so that
// crypto/tls hands over the message's last bytes together with io.EOF.
type batchConn struct {
	net.Conn
	batching bool
	buf      bytes.Buffer
}

func (c *batchConn) Write(p []byte) (int, error) {
	if c.batching {
		return c.buf.Write(p)
	}
	return c.Conn.Write(p)
}

func (c *batchConn) flush() error {
	c.batching = false
	// crypto/tls puts a past write deadline on the connection after its close_notify.
	_ = c.Conn.SetWriteDeadline(time.Time{})
	_, err := c.Conn.Write(c.buf.Bytes())
	c.buf.Reset()
	return err
}

func (c *batchConn) Close() error {
	_ = c.flush()
	return c.Conn.Close()
}

// How the server ends the connection after its last message, without a close frame.
const (
	endCloseNotify = "close_notify"     // TLS close_notify, the TCP connection stays open
	endTLSClose    = "close_notify+FIN" // close_notify, then the TCP connection closed
	endTCP         = "FIN"              // the TCP connection closed, no close_notify
)

// lastMessageServer serves one connection per accept: the WebSocket handshake over TLS (when
// tlsCfg is set) or plain TCP, then one binary message of size bytes, then the end of the
// connection given by end, all sent with one write.
func lastMessageServer(t *testing.T, tlsCfg *tls.Config, size int, end string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				serveLastMessage(raw, tlsCfg, size, end)
			}()
		}
	}()
	scheme := "ws"
	if tlsCfg != nil {
		scheme = "wss"
	}
	return scheme + "://" + ln.Addr().String() + "/"
}

func serveLastMessage(raw net.Conn, tlsCfg *tls.Config, size int, end string) {
	defer raw.Close()
	bc := &batchConn{Conn: raw}
	var nc net.Conn = bc
	var tc *tls.Conn
	if tlsCfg != nil {
		tc = tls.Server(bc, tlsCfg)
		nc = tc
	}
	var up handshake.Upgrader
	if _, _, err := up.Upgrade(bufio.NewReader(nc), nc); err != nil {
		return
	}
	bc.batching = true
	fw := frame.NewWriter(nc, frame.RoleServer, 0)
	if err := fw.WriteFrame(true, frame.OpBinary, 0, lastPayload(size)); err != nil {
		return
	}
	switch {
	case end == endTCP:
		_ = bc.flush()
		_ = raw.Close()
		return
	case end == endTLSClose:
		_ = tc.Close() // sends the alert into the batch; bc.Close flushes
		return
	}
	_ = tc.CloseWrite()
	_ = bc.flush()
	_, _ = io.Copy(io.Discard, raw) // until the client closes
}

func lastPayload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*31 + i>>9)
	}
	return p
}

// TestCompleteLastMessageBeforeConnectionEndIsDelivered has a server send a message of 0 B,
// 125 B, 50 KB, 100 KB or 1 MiB and end the connection at once without a close frame (TLS 1.2
// or 1.3 close_notify, with or without closing TCP, or TCP closed alone; plain TCP closed):
// the message arrives whole in ReadMessage, NextReader and the facade's MESSAGE event, and only
// then the loss of the connection as 1006. Over TLS 1.2 crypto/tls hands over the last record's
// bytes together with io.EOF.
func TestCompleteLastMessageBeforeConnectionEndIsDelivered(t *testing.T) {
	cert, caFile := selfSigned(t)
	pool := x509.NewCertPool()
	pool.AddCert(mustParse(t, cert.Certificate[0]))
	transports := []struct {
		name string
		cfg  *tls.Config
		ends []string
	}{
		{"tcp", nil, []string{endTCP}},
		{"tls1.2", &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12},
			[]string{endCloseNotify, endTLSClose, endTCP}},
		{"tls1.3", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13},
			[]string{endCloseNotify, endTLSClose, endTCP}},
	}
	for _, tr := range transports {
		for _, end := range tr.ends {
			for _, size := range []int{0, 125, 50_000, 100_000, 1 << 20} {
				name := fmt.Sprintf("%s/%s/%d", tr.name, end, size)
				t.Run(name, func(t *testing.T) {
					url := lastMessageServer(t, tr.cfg, size, end)
					want := lastPayload(size)
					for _, api := range []string{"ReadMessage", "NextReader"} {
						lastMessageBlocking(t, url, pool, api, want)
					}
					lastMessageFacade(t, url, caFile, want)
				})
			}
		}
	}
}

func lastMessageBlocking(t *testing.T, url string, pool *x509.CertPool, api string, want []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := Dial(ctx, url, &DialOptions{TLSConfig: &tls.Config{RootCAs: pool}, PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	var got []byte
	var typ conn.MessageType
	if api == "ReadMessage" {
		typ, got, err = c.ReadMessage(ctx, nil)
	} else {
		var r io.Reader
		if typ, r, err = c.NextReader(ctx); err == nil {
			got, err = io.ReadAll(r)
		}
	}
	if err != nil || typ != conn.Binary || !bytes.Equal(got, want) {
		t.Fatalf("%s: type %v, %d bytes (want %d), %v", api, typ, len(got), len(want), err)
	}
	_, _, err = c.ReadMessage(ctx, nil)
	var ce *conn.CloseError
	if !errors.As(err, &ce) || ce.Code != frame.CloseAbnormal {
		t.Fatalf("%s: after the message got %v, want a 1006 *conn.CloseError", api, err)
	}
}

func lastMessageFacade(t *testing.T, url, caFile string, want []byte) {
	t.Helper()
	ws := CreateWebSocket()
	events := make(chan string, 16)
	_ = ws.On(EventMessage, NewWebSocketAsyncCallback(func(_ *AsyncError, d MessageData) {
		b, ok := d.(ArrayData)
		events <- fmt.Sprintf("MESSAGE binary=%v same=%v", ok, ok && bytes.Equal(b, want))
	}))
	_ = ws.On(EventError, NewWebSocketErrorCallback(func(e *BusinessException) { events <- fmt.Sprintf("ERROR %d", e.Code) }))
	_ = ws.On(EventClose, NewWebSocketAsyncCallback(func(_ *AsyncError, r CloseResult) {
		events <- fmt.Sprintf("CLOSE %d", r.Code)
	}))
	opts := realOptions()
	opts.CAPath = caFile
	_ = ws.Connect(url, opts, nil)
	var got []string
	timeout := time.After(20 * time.Second)
	for len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "CLOSE") {
		select {
		case e := <-events:
			got = append(got, e)
		case <-timeout:
			t.Fatalf("facade: timed out; events %q", got)
		}
	}
	if w := []string{"MESSAGE binary=true same=true", "ERROR 2302999", "CLOSE 1006"}; strings.Join(got, ",") != strings.Join(w, ",") {
		t.Fatalf("facade: events %q, want %q", got, w)
	}
	wait(t, ws)
}
