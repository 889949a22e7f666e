package bench

import (
	"bytes"
	"context"
	"net"
	"os"
	"testing"

	"github.com/netkit/websocket/conn"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(memServerEnv) != "" {
		runMemServers() // the child process of BenchmarkIdleCompressedConns
	}
	goleak.VerifyTestMain(m)
}

// TestHarnessRoundTripsBothImplementations checks that the benchmark harness measures what it
// claims: each client gets back, byte for byte, the message it sent through the echo peer.
func TestHarnessRoundTripsBothImplementations(t *testing.T) {
	for _, s := range msgSizes {
		msg := bytes.Repeat([]byte{0xA5, 0x5A, 0x01}, s.n/3+1)[:s.n]
		cl, sv := tcpPair(t)
		done := make(chan struct{})
		go func() { echoFrames(sv); close(done) }()
		c := newOurs(cl)
		if err := c.WriteMessage(context.Background(), conn.Binary, msg); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.ReadMessage(context.Background(), nil)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("ours %s: err %v, equal %v", s.name, err, bytes.Equal(got, msg))
		}
		g := newGobwas(cl)
		if err := g.write(msg); err != nil {
			t.Fatal(err)
		}
		got, err = g.read(nil)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("gobwas %s: err %v, equal %v", s.name, err, bytes.Equal(got, msg))
		}
		cl.Close()
		sv.Close()
		<-done
	}
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-ch
	if server == nil {
		t.Fatal("accept failed")
	}
	return client, server
}
