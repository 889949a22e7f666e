//go:build interop

package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// TestDeflateWithRealPeers: our client (client.Dial with DialOptions.Deflate, the engine
// compressing and inflating) against Node's ws and Python's websockets as servers (zlib
// compressing and inflating in both), echoing compressed messages from 0 B to 4 MiB, text and
// binary, whole and fragmented (NextWriter): every takeover mode in each direction, asked by
// us or imposed by the server, and windows from 2^8 to 2^15. The bytes that arrive are
// counted: the echoes must come compressed.
func TestDeflateWithRealPeers(t *testing.T) {
	type config struct {
		name string
		node map[string]any        // ws perMessageDeflate options; nil: not run on node
		ours deflate.ClientOptions // what we offer
		want deflate.Parameters    // what both must agree on
	}
	tests := []config{
		{"defaults, takeover both ways", map[string]any{}, deflate.ClientOptions{}, deflate.Parameters{}},
		{"no context takeover asked by us both ways",
			map[string]any{}, deflate.ClientOptions{ClientNoContextTakeover: true, ServerNoContextTakeover: true},
			deflate.Parameters{ClientNoContextTakeover: true, ServerNoContextTakeover: true}},
		{"no context takeover set by the server",
			map[string]any{"serverNoContextTakeover": true, "clientNoContextTakeover": true}, deflate.ClientOptions{},
			deflate.Parameters{ClientNoContextTakeover: true, ServerNoContextTakeover: true}},
		{"small windows asked by us, takeover",
			map[string]any{}, deflate.ClientOptions{ServerMaxWindowBits: 9, ClientMaxWindowBits: 9},
			deflate.Parameters{ServerMaxWindowBits: 9, ClientMaxWindowBits: 9}},
		{"small windows set by the server, takeover",
			map[string]any{"serverMaxWindowBits": 10, "clientMaxWindowBits": 11}, deflate.ClientOptions{},
			deflate.Parameters{ServerMaxWindowBits: 10, ClientMaxWindowBits: 11}},
		{"our window 8 (zlib inflates it), server 12",
			map[string]any{}, deflate.ClientOptions{ClientMaxWindowBits: 8, ServerMaxWindowBits: 12},
			deflate.Parameters{ClientMaxWindowBits: 8, ServerMaxWindowBits: 12}},
		{"both windows 8, takeover (node only: websockets' zlib refuses a raw 2^8 window)",
			map[string]any{}, deflate.ClientOptions{ClientMaxWindowBits: 8, ServerMaxWindowBits: 8},
			deflate.Parameters{ClientMaxWindowBits: 8, ServerMaxWindowBits: 8}},
	}
	// The same cases with Python's option names, plus websockets' own defaults.
	pyOptions := []map[string]any{
		{},
		{},
		{"server_no_context_takeover": true, "client_no_context_takeover": true},
		{},
		{"server_max_window_bits": 10, "client_max_window_bits": 11},
		{},
		nil, // websockets accepts server_max_window_bits=8, then fails to make its compressor (500)
	}
	// Every takeover mode in each direction with windows 9, 12 and 15 both ways, on node.
	for _, mode := range []struct {
		name           string
		client, server bool
	}{{"takeover", false, false}, {"client no takeover", true, false}, {"server no takeover", false, true}, {"no takeover", true, true}} {
		for _, bits := range []int{9, 12, 15} {
			tests = append(tests, config{fmt.Sprintf("%s, windows %d", mode.name, bits), map[string]any{},
				deflate.ClientOptions{ClientNoContextTakeover: mode.client, ServerNoContextTakeover: mode.server, ClientMaxWindowBits: bits, ServerMaxWindowBits: bits},
				deflate.Parameters{ClientNoContextTakeover: mode.client, ServerNoContextTakeover: mode.server, ClientMaxWindowBits: bits, ServerMaxWindowBits: bits}})
			pyOptions = append(pyOptions, nil)
		}
	}
	messages := deflateMessages(t)
	type run struct {
		config
		peer string
		opts map[string]any
	}
	var runs []run
	for i, tt := range tests {
		runs = append(runs, run{tt, "node", tt.node})
		if pyOptions[i] != nil {
			runs = append(runs, run{tt, "python", pyOptions[i]})
		}
	}
	runs = append(runs, run{config{name: "websockets' defaults, windows set by the server",
		want: deflate.Parameters{ServerMaxWindowBits: 12, ClientMaxWindowBits: 12}}, "python",
		map[string]any{"server_max_window_bits": 12, "client_max_window_bits": 12, "compress_settings": map[string]any{"memLevel": 5}}})
	for _, tt := range runs {
		t.Run(tt.peer+"/"+tt.name, func(t *testing.T) {
			opts, _ := json.Marshal(tt.opts)
			p := &peer{name: tt.peer + "-deflate", argv: func() []string {
				if tt.peer == "python" {
					return []string{interopPython(), "python/deflate_server.py", "0", string(opts)}
				}
				node, err := exec.LookPath("node")
				if err != nil {
					node = "node"
				}
				return []string{node, "node/deflate_server.js", "0", string(opts)}
			}}
			if err := p.start(); err != nil {
				t.Fatalf("%s deflate peer: %v", tt.peer, err)
			}
			defer func() {
				if err := p.stop(); err != nil {
					t.Errorf("%s deflate peer: %v\n%s", tt.peer, err, p.log.String())
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			var read atomic.Int64
			c, resp, err := client.Dial(ctx, p.url, &client.DialOptions{Deflate: &tt.ours, PingInterval: -1,
				MaxMessageSize: 64 << 20, CompressionThreshold: -1, NetDialContext: wstest.CountingDial(&read)})
			if err != nil {
				t.Fatalf("dial: %v\n%s", err, p.log.String())
			}
			defer c.CloseNow()
			if resp.Deflate == nil || *resp.Deflate != tt.want {
				t.Fatalf("agreed %+v (response %q), want %+v", resp.Deflate, resp.Extensions, tt.want)
			}
			var sent int64
			for i, m := range messages {
				if err := writeMessage(ctx, c.Conn, m.typ, m.p, i%3 == 2); err != nil {
					t.Fatalf("message %d: write: %v", i, err)
				}
				typ, got, err := c.ReadMessage(ctx, nil)
				if err != nil {
					t.Fatalf("message %d (%d bytes): read: %v\n%s", i, len(m.p), err, p.log.String())
				}
				if typ != m.typ || !bytes.Equal(got, m.p) {
					t.Fatalf("message %d (%v, %d bytes): echo %v of %d bytes differs", i, m.typ, len(m.p), typ, len(got))
				}
				sent += int64(len(m.p))
			}
			if wire := read.Load(); wire > sent/2 {
				t.Fatalf("%d bytes arrived for %d bytes of echoes: not compressed", wire, sent)
			}
			if err := c.Close(frame.CloseNormal, ""); err != nil {
				t.Fatalf("close: %v", err)
			}
		})
	}
}

// deflateMessage is one message of the interop echo tests.
type deflateMessage struct {
	typ conn.MessageType
	p   []byte
}

// deflateMessages returns messages from 0 B to 4 MiB, text and binary, from the JSON corpus of
// package deflate, with repeats (takeover refers back) and noise whose start comes again
// about 400 bytes later (beyond a 256-byte window: zlib compresses a 2^8 window as 2^9).
func deflateMessages(t *testing.T) []deflateMessage {
	corpus1k, err := os.ReadFile("../deflate/testdata/msg-1k.json")
	if err != nil {
		t.Fatal(err)
	}
	corpus64k, err := os.ReadFile("../deflate/testdata/msg-64k.json")
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat(corpus64k, 64) // 4 MiB
	noise := make([]byte, 400)
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range noise {
		noise[i] = 'a' + byte(rng.IntN(26))
	}
	txt, bin := conn.Text, conn.Binary
	return []deflateMessage{{txt, []byte{}}, {bin, []byte{}}, {txt, []byte("a")}, {bin, []byte("Hello")},
		{txt, corpus1k}, {txt, corpus1k}, {bin, corpus1k}, {txt, corpus64k}, {bin, corpus64k}, {txt, corpus1k[:500]},
		{txt, big[:1<<20]}, {bin, big}, {txt, big}, {txt, noise}, {bin, noise[:100]}, {txt, corpus64k}}
}

// writeMessage sends p whole or, with stream, through NextWriter in 10,000-byte writes (a
// fragmented compressed message).
func writeMessage(ctx context.Context, c *conn.Conn, typ conn.MessageType, p []byte, stream bool) error {
	if !stream {
		return c.WriteMessage(ctx, typ, p)
	}
	w, err := c.NextWriter(ctx, typ)
	if err != nil {
		return err
	}
	for len(p) > 0 {
		k := min(len(p), 10000)
		if _, err := w.Write(p[:k]); err != nil {
			w.Close()
			return err
		}
		p = p[k:]
	}
	return w.Close()
}

func interopPython() string {
	if py := os.Getenv("INTEROP_PYTHON"); py != "" {
		return py
	}
	return "/usr/bin/python3"
}

// TestDeflateServerWithRealClients: Node's ws and Python's websockets, as clients offering
// permessage-deflate, against our server role (handshake.Upgrader with Deflate, then a
// conn.Conn with Config.Compression): each takeover mode and window they ask for or we
// impose; they send text and binary messages from 0 B to 4 MiB compressed, our engine
// inflates them and echoes them compressed, and they compare the echoes (zlib inflating our
// output). The bytes our server reads are counted: the messages must arrive compressed.
func TestDeflateServerWithRealClients(t *testing.T) {
	tests := []struct {
		name   string
		node   map[string]any // ws client perMessageDeflate options
		python map[string]any // ClientPerMessageDeflateFactory options; nil: node only
		server deflate.ServerOptions
		want   deflate.Parameters
	}{
		{"their defaults, ours", map[string]any{}, map[string]any{}, deflate.ServerOptions{}, deflate.Parameters{}},
		{"they ask for no takeover both ways",
			map[string]any{"serverNoContextTakeover": true, "clientNoContextTakeover": true},
			map[string]any{"server_no_context_takeover": true, "client_no_context_takeover": true},
			deflate.ServerOptions{}, deflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"they ask for small server windows",
			map[string]any{"serverMaxWindowBits": 9}, map[string]any{"server_max_window_bits": 9},
			deflate.ServerOptions{}, deflate.Parameters{ServerMaxWindowBits: 9}},
		{"we limit both windows",
			map[string]any{}, map[string]any{},
			deflate.ServerOptions{ServerMaxWindowBits: 10, ClientMaxWindowBits: 11},
			deflate.Parameters{ServerMaxWindowBits: 10, ClientMaxWindowBits: 11}},
		{"we refuse takeover both ways",
			map[string]any{}, map[string]any{},
			deflate.ServerOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true},
			deflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"they ask for our window 8",
			map[string]any{"serverMaxWindowBits": 8}, nil,
			deflate.ServerOptions{}, deflate.Parameters{ServerMaxWindowBits: 8}},
	}
	for _, mode := range []struct {
		name           string
		client, server bool
	}{{"takeover", false, false}, {"client no takeover", true, false}, {"server no takeover", false, true}, {"no takeover", true, true}} {
		for _, bits := range []int{9, 12, 15} {
			tests = append(tests, struct {
				name   string
				node   map[string]any
				python map[string]any
				server deflate.ServerOptions
				want   deflate.Parameters
			}{fmt.Sprintf("%s, windows %d", mode.name, bits),
				map[string]any{"clientNoContextTakeover": mode.client, "serverNoContextTakeover": mode.server, "clientMaxWindowBits": bits, "serverMaxWindowBits": bits},
				map[string]any{"client_no_context_takeover": mode.client, "server_no_context_takeover": mode.server, "client_max_window_bits": bits, "server_max_window_bits": bits},
				deflate.ServerOptions{},
				// client_max_window_bits=15 is the default: our answer leaves it out.
				deflate.Parameters{ClientNoContextTakeover: mode.client, ServerNoContextTakeover: mode.server, ClientMaxWindowBits: bits % 15, ServerMaxWindowBits: bits}})
		}
	}
	for _, tt := range tests {
		for _, who := range []string{"node", "python"} {
			if who == "python" && tt.python == nil {
				continue
			}
			t.Run(who+"/"+tt.name, func(t *testing.T) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				served := make(chan error, 1)
				agreed := make(chan *deflate.Parameters, 1)
				var wire, payload atomic.Int64
				go func() {
					nc, err := ln.Accept()
					if err != nil {
						agreed <- nil
						served <- err
						return
					}
					defer nc.Close()
					served <- echoCompressed(&wstest.CountingConn{Conn: nc, Count: &wire}, &tt.server, agreed, &payload)
				}()
				opts := tt.node
				argv := []string{"node", "node/deflate_client.js"}
				if who == "python" {
					opts = tt.python
					argv = []string{interopPython(), "python/deflate_client.py"}
				}
				js, _ := json.Marshal(opts)
				cmd := exec.Command(argv[0], append(argv[1:], "ws://"+ln.Addr().String()+"/", string(js), "../deflate/testdata/msg-64k.json")...)
				cmd.WaitDelay = peerStopTimeout
				var out, errOut bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errOut
				done := make(chan error, 1)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				go func() { done <- cmd.Wait() }()
				var runErr error
				select {
				case runErr = <-done:
				case <-time.After(testTimeout):
					_ = cmd.Process.Kill()
					runErr = <-done
				}
				ln.Close()
				serr := <-served
				if runErr != nil {
					t.Fatalf("%s client: %v\n%s%s\nserver: %v", who, runErr, out.String(), errOut.String(), serr)
				}
				if serr != nil {
					t.Fatalf("server: %v", serr)
				}
				if got := <-agreed; got == nil || *got != tt.want {
					t.Fatalf("server agreed %+v, want %+v; client saw %s", got, tt.want, out.String())
				}
				if !strings.Contains(out.String(), "EXTENSIONS permessage-deflate") || !strings.Contains(out.String(), "ECHOED 10") {
					t.Errorf("client output %q", out.String())
				}
				if w, p := wire.Load(), payload.Load(); p < 8<<20 || w > p/2 {
					t.Errorf("server read %d bytes on the wire for %d bytes of messages: not compressed", w, p)
				}
			})
		}
	}
}

// echoCompressed upgrades nc with our Upgrader, makes the connection with the agreed
// compression and echoes every message with its type until the client closes; payload counts
// the inflated bytes received.
func echoCompressed(nc net.Conn, opts *deflate.ServerOptions, agreed chan<- *deflate.Parameters, payload *atomic.Int64) error {
	_ = nc.SetDeadline(time.Now().Add(testTimeout))
	br := bufio.NewReader(nc)
	req, _, err := (&handshake.Upgrader{Deflate: opts}).Upgrade(br, nc)
	if req != nil {
		agreed <- req.Deflate
	} else {
		agreed <- nil
	}
	if err != nil {
		return err
	}
	if req.Deflate == nil {
		return errors.New("no permessage-deflate agreed")
	}
	zc, zd, err := req.Deflate.NewCodecs(true)
	if err != nil {
		return err
	}
	var prefix []byte
	if n := br.Buffered(); n > 0 {
		prefix, _ = br.Peek(n)
	}
	c := conn.New(nc, prefix, &conn.Config{Role: frame.RoleServer, MaxMessageSize: 64 << 20,
		Compression: &conn.Compression{Compressor: zc, Decompressor: zd, Threshold: -1}})
	ctx := context.Background()
	var buf []byte
	for i := 0; ; i++ {
		typ, p, err := c.ReadMessage(ctx, buf)
		if err != nil {
			var ce *conn.CloseError
			if errors.As(err, &ce) && ce.Remote && ce.Code == frame.CloseNormal {
				return nil
			}
			return err
		}
		payload.Add(int64(len(p)))
		if err := writeMessage(ctx, c, typ, p, i%2 == 1); err != nil {
			return err
		}
		buf = p
	}
}
