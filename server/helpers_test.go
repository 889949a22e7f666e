package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/internal/wstest"
)

// event is one event of the server, as recorded by a recorder.
type event struct {
	kind string // "connect", "message", "close", "error"
	conn WebSocketConnection
	msg  MessageData
	res  CloseResult
	err  *BusinessException
}

// recorder records every event of a server on a channel.
type recorder struct {
	ch chan event
}

func record(t *testing.T, s *WebSocketServer) *recorder {
	t.Helper()
	r := &recorder{ch: make(chan event, 10000)}
	must(t, s.On(EventConnect, NewConnectCallback(func(c WebSocketConnection) { r.ch <- event{kind: "connect", conn: c} })))
	must(t, s.On(EventMessageReceive, NewMessageReceiveCallback(func(m WebSocketMessage) {
		r.ch <- event{kind: "message", conn: m.ClientConnection, msg: m.Data}
	})))
	must(t, s.On(EventClose, NewCloseCallback(func(c WebSocketConnection, res CloseResult) {
		r.ch <- event{kind: "close", conn: c, res: res}
	})))
	must(t, s.On(EventError, NewErrorCallback(func(e *BusinessException) {
		ev := event{kind: "error", err: e}
		if e.Connection != nil {
			ev.conn = *e.Connection
		}
		r.ch <- ev
	})))
	return r
}

// next returns the next event, failing the test after 10 s.
func (r *recorder) next(t *testing.T) event {
	t.Helper()
	select {
	case e := <-r.ch:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return event{}
}

// expect returns the next event and checks its kind.
func (r *recorder) expect(t *testing.T, kind string) event {
	t.Helper()
	e := r.next(t)
	if e.kind != kind {
		t.Fatalf("event %q (%+v), want %q", e.kind, e, kind)
	}
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// result is a WebSocketAsyncCallback[bool] whose result can be awaited.
type result struct {
	cb *WebSocketAsyncCallback[bool]
	ch chan *AsyncError
}

func newResult() *result {
	r := &result{ch: make(chan *AsyncError, 1)}
	r.cb = NewWebSocketAsyncCallback(func(err *AsyncError, ok bool) {
		if (err == nil) != ok {
			panic("result: err and data disagree")
		}
		r.ch <- err
	})
	return r
}

func (r *result) wait(t testing.TB) *AsyncError {
	t.Helper()
	select {
	case err := <-r.ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no result within 10 s")
	}
	return nil
}

// start starts s on a free loopback port with cfg (nil: defaults) and stops it at the end of
// the test; it returns the ws:// URL.
func start(t testing.TB, s *WebSocketServer, cfg *WebSocketServerConfig) string {
	t.Helper()
	if cfg == nil {
		cfg = &WebSocketServerConfig{}
	}
	if cfg.ServerIP == "" {
		cfg.ServerIP = "127.0.0.1"
	}
	res := newResult()
	must(t, s.Start(cfg, res.cb))
	if err := res.wait(t); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopWait(t, s) })
	scheme := "ws"
	if cfg.ServerCert != nil {
		scheme = "wss"
	}
	return scheme + "://" + s.Addr().String() + "/"
}

// stopWait stops s, if it runs, and waits for Stop's callback.
func stopWait(t testing.TB, s *WebSocketServer) {
	t.Helper()
	res := newResult()
	if s.Stop(res.cb) != nil {
		<-res.ch
		return
	}
	if err := res.wait(t); err != nil {
		t.Fatal(err)
	}
}

// dial connects our client to url.
func dial(t testing.TB, url string, opts *client.DialOptions) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := client.Dial(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// localConn returns the WebSocketConnection the server sees for a client's local address.
func localConn(a net.Addr) WebSocketConnection { return connectionOf(a) }

var certOnce sync.Once
var certDir string
var certPool *x509.CertPool

// testCert writes a self-signed certificate for 127.0.0.1 and its key to a folder shared by the
// tests, and returns their paths and a pool that trusts it.
func testCert(t testing.TB) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	certOnce.Do(func() {
		var err error
		if certDir, err = os.MkdirTemp("", "servercert"); err != nil {
			panic(err)
		}
		if _, _, certPool, err = wstest.WriteSelfSigned(certDir); err != nil {
			panic(err)
		}
	})
	return filepath.Join(certDir, "cert.pem"), filepath.Join(certDir, "key.pem"), certPool
}

func tlsDial(pool *x509.CertPool) *client.DialOptions {
	return &client.DialOptions{TLSConfig: &tls.Config{RootCAs: pool}}
}

func itoa(i int) string { return strconv.Itoa(i) }
