//go:build interop

package interop_test

import (
	"bufio"
	"bytes"
	"encoding/json"
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
	}
	// The same cases with Python's option names, plus websockets' own defaults.
	pyOptions := []map[string]any{
		{},
		{},
		{"server_no_context_takeover": true, "client_no_context_takeover": true},
		{},
		{"server_max_window_bits": 10, "client_max_window_bits": 11},
		{},
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
	messages := [][]byte{{}, []byte("a"), []byte("Hello"), corpus1k, corpus1k, corpus64k, corpus1k[:500], big, corpus64k}
	type run struct {
		config
		peer string
		opts map[string]any
	}
	var runs []run
	for i, tt := range tests {
		runs = append(runs, run{tt, "node", tt.node}, run{tt, "python", pyOptions[i]})
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
