package client

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// The performance tests and benchmarks of this package measure the client process alone: the
// server they talk to runs in a child process, this test binary re-executed with
// peerEnv set, so that its allocations, goroutines and memory are not counted.

// peerEnv selects the child-process server mode of the test binary (see TestMain).
const peerEnv = "NETKIT_WS_PEER"

// runPeer is the child process: a server of our engine's server role on 127.0.0.1 that prints
// its address on stdout and serves until stdin is closed. The request path picks the
// behaviour of each connection:
//
//	/echo         send every message back
//	/sink         read and drop every message
//	/flood?n=64   send binary messages of n bytes until the connection ends
//	/fragments?n=4194304&f=64
//	              send binary messages of n bytes, each in fragments of f bytes, until the
//	              connection ends
func runPeer() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ln.Addr().String())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	var up handshake.Upgrader
	for {
		nc, err := ln.Accept()
		if err != nil {
			return 1
		}
		go peerServe(nc, &up)
	}
}

func peerServe(nc net.Conn, up *handshake.Upgrader) {
	defer nc.Close()
	br := bufio.NewReader(nc)
	req, proto, err := up.Upgrade(br, nc)
	if err != nil {
		return
	}
	var prefix []byte
	if n := br.Buffered(); n > 0 {
		prefix, _ = br.Peek(n)
	}
	c := conn.New(nc, prefix, &conn.Config{Role: frame.RoleServer, Subprotocol: proto,
		MaxMessageSize: -1, ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10})
	defer c.CloseNow()
	ctx := context.Background()
	path, query, _ := strings.Cut(req.Target, "?")
	switch path {
	case "/flood":
		// Whole frames prepared once and written in large batches, so that the server's
		// sending is not what limits the client's receiving.
		n, _ := strconv.Atoi(strings.TrimPrefix(query, "n="))
		var batch bytes.Buffer
		fw := frame.NewWriter(&batch, frame.RoleServer, 0)
		for batch.Len() < 256<<10 {
			if err := fw.WriteFrame(true, frame.OpBinary, 0, make([]byte, n)); err != nil {
				return
			}
		}
		go func() { // reads the close
			for {
				if _, _, err := c.ReadMessage(ctx, nil); err != nil {
					return
				}
			}
		}()
		for {
			if _, err := nc.Write(batch.Bytes()); err != nil {
				return
			}
		}
	case "/fragments":
		// One message of n bytes in fragments of f bytes, prepared once and sent again and
		// again until the connection ends.
		q, _ := url.ParseQuery(query)
		n, _ := strconv.Atoi(q.Get("n"))
		f, _ := strconv.Atoi(q.Get("f"))
		if n <= 0 || f <= 0 {
			return
		}
		var msg bytes.Buffer
		fw := frame.NewWriter(&msg, frame.RoleServer, 0)
		payload := make([]byte, f)
		for off := 0; off < n; off += f {
			op := frame.OpContinuation
			if off == 0 {
				op = frame.OpBinary
			}
			if err := fw.WriteFrame(off+f >= n, op, 0, payload[:min(f, n-off)]); err != nil {
				return
			}
		}
		go func() { // reads the close
			for {
				if _, _, err := c.ReadMessage(ctx, nil); err != nil {
					return
				}
			}
		}()
		for {
			if _, err := nc.Write(msg.Bytes()); err != nil {
				return
			}
		}
	case "/sink":
		var buf []byte
		for {
			_, p, err := c.ReadMessage(ctx, buf)
			if err != nil {
				return
			}
			buf = p
		}
	default:
		var buf []byte
		for {
			typ, p, err := c.ReadMessage(ctx, buf)
			if err != nil {
				return
			}
			if c.WriteMessage(ctx, typ, p) != nil {
				return
			}
			buf = p
		}
	}
}

var (
	peerOnce sync.Once
	peerAddr string
	peerErr  error
	peerStop func()
)

// peerURL starts the child-process server once per test binary run (stopped by TestMain) and
// returns the ws:// URL of path on it.
func peerURL(tb testing.TB, path string) string {
	tb.Helper()
	peerOnce.Do(func() {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), peerEnv+"=1")
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			peerErr = err
			return
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			peerErr = err
			return
		}
		if peerErr = cmd.Start(); peerErr != nil {
			return
		}
		peerStop = func() {
			stdin.Close()
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}
		line := make(chan string, 1)
		go func() {
			s, _ := bufio.NewReader(stdout).ReadString('\n')
			line <- strings.TrimSpace(s)
			_, _ = io.Copy(io.Discard, stdout)
		}()
		select {
		case peerAddr = <-line:
		case <-time.After(30 * time.Second):
			peerErr = fmt.Errorf("child server did not start")
		}
		if peerAddr == "" && peerErr == nil {
			peerErr = fmt.Errorf("child server printed no address")
		}
	})
	if peerErr != nil {
		tb.Fatal(peerErr)
	}
	return "ws://" + peerAddr + path
}
