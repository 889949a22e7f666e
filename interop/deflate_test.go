//go:build interop

package interop_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/handshake"
)

// TestDeflateWithRealPeers negotiates permessage-deflate with Node's ws and Python's
// websockets (zlib compressing and inflating in both) through handshake.Request.Deflate, then
// echoes messages compressed both ways, ours by package deflate: takeover and no takeover in
// each direction, asked by us or imposed by the server, windows from 2^8 to 2^15, messages from
// 0 B to 1 MiB. The engine does not compress yet, so the frames are written and read here
// (single frames, RSV1 set) with gobwas/ws's frame functions.
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
	corpus1k, err := os.ReadFile("../deflate/testdata/msg-1k.json")
	if err != nil {
		t.Fatal(err)
	}
	corpus64k, err := os.ReadFile("../deflate/testdata/msg-64k.json")
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat(corpus64k, 16) // 1 MiB
	// noise then its start again: with takeover the second refers back about 400 bytes into
	// the first, beyond a 256-byte window (zlib compresses a 2^8 window as 2^9).
	noise := make([]byte, 400)
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range noise {
		noise[i] = 'a' + byte(rng.IntN(26))
	}
	messages := [][]byte{{}, []byte("a"), []byte("Hello"), corpus1k, corpus1k, corpus64k, corpus1k[:500], big, corpus64k, noise, noise[:100]}
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
					py := os.Getenv("INTEROP_PYTHON")
					if py == "" {
						py = "/usr/bin/python3"
					}
					return []string{py, "python/deflate_server.py", "0", string(opts)}
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
			addr := strings.TrimPrefix(p.url, "ws://")
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			_ = nc.SetDeadline(time.Now().Add(testTimeout))
			req := &handshake.Request{Host: addr, Path: "/", Deflate: &tt.ours}
			key := handshake.NewKey()
			b, err := req.Append(nil, key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := nc.Write(b); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(nc)
			resp, err := handshake.ReadResponse(br, req, key, nil)
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if resp.Deflate == nil || *resp.Deflate != tt.want {
				t.Fatalf("agreed %+v (response %q), want %+v", resp.Deflate, resp.Extensions, tt.want)
			}
			agreed := *resp.Deflate
			c, err := deflate.NewCompressor(agreed.ClientWindowBits(), agreed.ClientNoContextTakeover)
			if err != nil {
				t.Fatal(err)
			}
			d, err := deflate.NewDecompressor(agreed.ServerWindowBits(), agreed.ServerNoContextTakeover)
			if err != nil {
				t.Fatal(err)
			}
			for i, msg := range messages {
				payload, err := c.AppendMessage(nil, msg)
				if err != nil {
					t.Fatal(err)
				}
				f := ws.NewTextFrame(payload)
				f.Header.Rsv = ws.Rsv(true, false, false)
				f = ws.MaskFrameInPlace(f)
				if err := ws.WriteFrame(nc, f); err != nil {
					t.Fatalf("message %d: write: %v", i, err)
				}
				reply, err := ws.ReadFrame(br)
				if err != nil {
					t.Fatalf("message %d (%d bytes): read: %v\n%s", i, len(msg), err, p.log.String())
				}
				if reply.Header.OpCode != ws.OpText || !reply.Header.Fin || !reply.Header.Rsv1() {
					t.Fatalf("message %d: reply header %+v, want one compressed text frame", i, reply.Header)
				}
				got, err := d.AppendMessage(nil, reply.Payload, int64(len(msg)))
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("message %d (%d bytes): inflated %d bytes, %v", i, len(msg), len(got), err)
				}
			}
			_ = ws.WriteFrame(nc, ws.MaskFrameInPlace(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))))
		})
	}
}

// TestDeflateServerWithRealClients: Node's ws and Python's websockets, as clients offering
// permessage-deflate, negotiate with our handshake.Upgrader (Deflate set) and accept its
// answer; each message they send compressed is inflated by package deflate and echoed
// compressed by it, and they compare the echo (zlib inflating our output).
func TestDeflateServerWithRealClients(t *testing.T) {
	tests := []struct {
		name   string
		node   map[string]any // ws client perMessageDeflate options
		python map[string]any // ClientPerMessageDeflateFactory options
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
	}
	for _, tt := range tests {
		for _, who := range []string{"node", "python"} {
			t.Run(who+"/"+tt.name, func(t *testing.T) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				served := make(chan error, 1)
				agreed := make(chan *deflate.Parameters, 1)
				go func() {
					nc, err := ln.Accept()
					if err != nil {
						served <- err
						return
					}
					defer nc.Close()
					_ = nc.SetDeadline(time.Now().Add(testTimeout))
					served <- echoCompressed(nc, &tt.server, agreed)
				}()
				opts := tt.node
				argv := []string{"node", "node/deflate_client.js"}
				if who == "python" {
					opts = tt.python
					py := os.Getenv("INTEROP_PYTHON")
					if py == "" {
						py = "/usr/bin/python3"
					}
					argv = []string{py, "python/deflate_client.py"}
				}
				js, _ := json.Marshal(opts)
				cmd := exec.Command(argv[0], append(argv[1:], "ws://"+ln.Addr().String()+"/", string(js), "../deflate/testdata/msg-1k.json")...)
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
				if !strings.Contains(out.String(), "EXTENSIONS permessage-deflate") {
					t.Errorf("client output %q", out.String())
				}
			})
		}
	}
}

// echoCompressed upgrades nc with our Upgrader and echoes compressed text messages, each in
// one frame, until the client's close frame, which it answers.
func echoCompressed(nc net.Conn, opts *deflate.ServerOptions, agreed chan<- *deflate.Parameters) error {
	br := bufio.NewReader(nc)
	req, _, err := (&handshake.Upgrader{Deflate: opts}).Upgrade(br, nc)
	agreed <- req.Deflate
	if err != nil {
		return err
	}
	if req.Deflate == nil {
		return errors.New("no permessage-deflate agreed")
	}
	p := *req.Deflate
	c, err := deflate.NewCompressor(p.ServerWindowBits(), p.ServerNoContextTakeover)
	if err != nil {
		return err
	}
	d, err := deflate.NewDecompressor(p.ClientWindowBits(), p.ClientNoContextTakeover)
	if err != nil {
		return err
	}
	for {
		f, err := ws.ReadFrame(br)
		if err != nil {
			return err
		}
		f = ws.UnmaskFrameInPlace(f)
		if f.Header.OpCode == ws.OpClose {
			return ws.WriteFrame(nc, ws.NewCloseFrame(f.Payload))
		}
		if f.Header.OpCode != ws.OpText || !f.Header.Fin || !f.Header.Rsv1() {
			return fmt.Errorf("frame %+v, want one compressed text frame", f.Header)
		}
		msg, err := d.AppendMessage(nil, f.Payload, 1<<20)
		if err != nil {
			return err
		}
		payload, err := c.AppendMessage(nil, msg)
		if err != nil {
			return err
		}
		reply := ws.NewTextFrame(payload)
		reply.Header.Rsv = ws.Rsv(true, false, false)
		if err := ws.WriteFrame(nc, reply); err != nil {
			return err
		}
	}
}
