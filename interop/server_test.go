//go:build interop

package interop_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netkit/websocket/internal/wstest"
	"github.com/netkit/websocket/server"
)

// The server facade (package server) against the clients of Node's ws and Python's websockets,
// over ws:// and wss://: echo with types, the subprotocol selected and a client without it
// refused, the limits refused with 503, the server's close, and Stop with clients attached.

// serverPeer is a client program of one peer.
type serverPeer struct {
	name string
	argv []string
}

func serverPeers() []serverPeer {
	py := os.Getenv("INTEROP_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	return []serverPeer{
		{"node", []string{"node", "node/server_client.js"}},
		{"python", []string{py, "python/server_client.py"}},
	}
}

// runClient runs the peer's client with scenario against url and returns its stdout; a failed
// run fails the test.
func (p serverPeer) runClient(t *testing.T, scenario, url, protocols, caFile string) string {
	t.Helper()
	return p.await(t, p.startClient(t, scenario, url, protocols, caFile))
}

type clientRun struct {
	cmd      *exec.Cmd
	out, err bytes.Buffer
	done     chan error
}

func (p serverPeer) startClient(t *testing.T, scenario, url, protocols, caFile string) *clientRun {
	t.Helper()
	r := &clientRun{done: make(chan error, 1)}
	r.cmd = exec.Command(p.argv[0], append(p.argv[1:], scenario, url, protocols, caFile)...)
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.err
	r.cmd.WaitDelay = peerStopTimeout
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("%s client: %v", p.name, err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	return r
}

func (p serverPeer) await(t *testing.T, r *clientRun) string {
	t.Helper()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("%s client: %v\n%s%s", p.name, err, r.out.String(), r.err.String())
		}
	case <-time.After(testTimeout):
		_ = r.cmd.Process.Kill()
		<-r.done
		t.Fatalf("%s client did not end\n%s%s", p.name, r.out.String(), r.err.String())
	}
	return r.out.String()
}

// startFacade starts an echo server facade on loopback; a message "close-me" makes it close
// that connection with 4000 "bye". It returns the server, its URL and a channel of connect
// events.
func startFacade(t *testing.T, cfg *server.WebSocketServerConfig) (*server.WebSocketServer, string, <-chan server.WebSocketConnection) {
	t.Helper()
	s := server.CreateWebSocketServer()
	connects := make(chan server.WebSocketConnection, 16)
	_ = s.On(server.EventConnect, server.NewConnectCallback(func(c server.WebSocketConnection) { connects <- c }))
	_ = s.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
		if m.Data == server.StringData("close-me") {
			_ = s.Close(m.ClientConnection, &server.WebSocketCloseOptions{Code: 4000, Reason: "bye"}, nil)
			return
		}
		_ = s.Send(m.Data, m.ClientConnection, nil)
	}))
	cfg.ServerIP = "127.0.0.1"
	if err := s.Start(cfg, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopFacade(t, s) })
	scheme := "ws"
	if cfg.ServerCert != nil {
		scheme = "wss"
	}
	return s, scheme + "://" + s.Addr().String() + "/", connects
}

func stopFacade(t *testing.T, s *server.WebSocketServer) {
	done := make(chan struct{})
	if s.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(done) })) != nil {
		return
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Error("Stop's callback did not come")
	}
}

// serverCert writes a self-signed certificate for 127.0.0.1 and its key into dir.
func serverCert(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	certPath, keyPath, _, err := wstest.WriteSelfSigned(dir)
	if err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

// forEachServerCase runs f for each peer client over ws:// and wss://; cfg returns a fresh
// config, with the certificate set for wss.
func forEachServerCase(t *testing.T, f func(t *testing.T, p serverPeer, cfg func() *server.WebSocketServerConfig, ca string)) {
	certPath, keyPath := serverCert(t, t.TempDir())
	for _, p := range serverPeers() {
		for _, secure := range []bool{false, true} {
			name := p.name + "/ws"
			if secure {
				name = p.name + "/wss"
			}
			t.Run(name, func(t *testing.T) {
				ca := ""
				cfg := func() *server.WebSocketServerConfig { return &server.WebSocketServerConfig{} }
				if secure {
					ca = certPath
					cfg = func() *server.WebSocketServerConfig {
						return &server.WebSocketServerConfig{ServerCert: &server.ServerCert{CertPath: certPath, KeyPath: keyPath}}
					}
				}
				f(t, p, cfg, ca)
			})
		}
	}
}

func TestServerFacadeEchoAndSubprotocol(t *testing.T) {
	forEachServerCase(t, func(t *testing.T, p serverPeer, cfg func() *server.WebSocketServerConfig, ca string) {
		c := cfg()
		c.Protocol = "chat"
		_, url, _ := startFacade(t, c)
		out := p.runClient(t, "echo", url, "other,chat", ca)
		if !strings.Contains(out, "PROTOCOL chat\n") || !strings.Contains(out, "CLOSE 1000") {
			t.Fatalf("output %q", out)
		}
		// A client that does not offer the server's subprotocol is refused.
		if out := p.runClient(t, "refused", url, "other", ca); strings.TrimSpace(out) != "STATUS 400" {
			t.Fatalf("offering only another subprotocol: %q", out)
		}
		if out := p.runClient(t, "refused", url, "", ca); strings.TrimSpace(out) != "STATUS 400" {
			t.Fatalf("offering no subprotocol: %q", out)
		}
	})
}

func TestServerFacadeLimitsRefused(t *testing.T) {
	forEachServerCase(t, func(t *testing.T, p serverPeer, cfg func() *server.WebSocketServerConfig, ca string) {
		c := cfg()
		c.MaxConnectionsForOneClient = 1
		_, url, connects := startFacade(t, c)
		holder := p.startClient(t, "hold", url, "", ca)
		select {
		case <-connects:
		case <-time.After(testTimeout):
			t.Fatal("no connect")
		}
		if out := p.runClient(t, "refused", url, "", ca); strings.TrimSpace(out) != "STATUS 503" {
			t.Fatalf("second client of one IP: %q", out)
		}
		_ = holder.cmd.Process.Kill()
		<-holder.done
	})
}

func TestServerFacadeCloseAndStopWithClientsAttached(t *testing.T) {
	forEachServerCase(t, func(t *testing.T, p serverPeer, cfg func() *server.WebSocketServerConfig, ca string) {
		s, url, connects := startFacade(t, cfg())
		if out := p.runClient(t, "close", url, "", ca); strings.TrimSpace(out) != "CLOSE 4000 bye" {
			t.Fatalf("server close: %q", out)
		}
		<-connects
		a := p.startClient(t, "hold", url, "", ca)
		b := p.startClient(t, "hold", url, "", ca)
		for range 2 {
			select {
			case <-connects:
			case <-time.After(testTimeout):
				t.Fatal("no connect")
			}
		}
		t0 := time.Now()
		stopFacade(t, s)
		if d := time.Since(t0); d > 2*server.DefaultCloseTimeout {
			t.Fatalf("Stop took %v", d)
		}
		for _, r := range []*clientRun{a, b} {
			if out := p.await(t, r); !strings.Contains(out, "CLOSE 1001") {
				t.Fatalf("client at Stop: %q", out)
			}
		}
	})
}
