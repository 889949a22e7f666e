package handshake

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// The tests in this file run the handshake over real loopback TCP against gobwas/ws, an
// independent RFC 6455 implementation, in both roles.

// serveOnce accepts one connection on a loopback listener and runs handle on it in a goroutine.
// The returned wait function blocks until handle has returned and the connection is closed.
func serveOnce(t *testing.T, handle func(conn net.Conn)) (addr string, wait func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer ln.Close()
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		handle(conn)
	}()
	return ln.Addr().String(), func() { ln.Close(); <-done }
}

// ourClient performs our client handshake on a new connection to addr.
func ourClient(t *testing.T, addr string, req *Request) (net.Conn, *bufio.Reader, *Response, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	key := NewKey()
	req.Host = addr
	b, err := req.Append(nil, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := ReadResponse(br, req, key, nil)
	return conn, br, resp, err
}

func TestInteropOurClientAgainstGobwasServer(t *testing.T) {
	only := func(name string) func([]byte) bool { return func(p []byte) bool { return string(p) == name } }
	tests := []struct {
		name      string
		upgrader  ws.Upgrader
		req       Request
		wantProto string
		wantExts  []string
		wantErr   error
		wantCode  int // StatusError
	}{
		{
			name:     "subprotocol negotiated",
			upgrader: ws.Upgrader{Protocol: only("superchat")},
			req:      Request{Path: "/chat", Protocols: []string{"chat", "superchat"}}, wantProto: "superchat",
		},
		{
			name:     "server refuses every offered subprotocol",
			upgrader: ws.Upgrader{Protocol: only("mqtt")},
			req:      Request{Path: "/chat", Protocols: []string{"chat", "superchat"}},
		},
		{
			name: "server selects a subprotocol that was not offered",
			upgrader: ws.Upgrader{ProtocolCustom: func([]byte) (string, bool) {
				return "evil", true
			}},
			req:     Request{Protocols: []string{"chat"}},
			wantErr: ErrUnofferedSubprotocol,
		},
		{
			name: "offered extension accepted",
			upgrader: ws.Upgrader{Negotiate: func(o httphead.Option) (httphead.Option, error) {
				if string(o.Name) == "x-foo" {
					return o, nil
				}
				return httphead.Option{}, nil
			}},
			req:      Request{Extensions: []string{"permessage-deflate", "x-foo; a=1"}},
			wantExts: []string{"x-foo;a=1"},
		},
		{
			name: "server accepts an extension that was not offered",
			upgrader: ws.Upgrader{Negotiate: func(httphead.Option) (httphead.Option, error) {
				return httphead.NewOption("x-bar", nil), nil
			}},
			req:     Request{Extensions: []string{"x-foo"}},
			wantErr: ErrUnofferedExtension,
		},
		{
			name: "server rejects with 403 and a body",
			upgrader: ws.Upgrader{OnRequest: func([]byte) error {
				return ws.RejectConnectionError(ws.RejectionStatus(403), ws.RejectionReason("go away"))
			}},
			req:      Request{},
			wantCode: 403,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serverErr := make(chan error, 1)
			addr, wait := serveOnce(t, func(conn net.Conn) {
				hs, err := tt.upgrader.Upgrade(conn)
				if err == nil && hs.Protocol != tt.wantProto && tt.wantErr == nil {
					err = errors.New("gobwas selected " + hs.Protocol)
				}
				if err == nil {
					// A frame right behind the 101: it must stay in the client's reader.
					err = wsutil.WriteServerText(conn, []byte("hello"))
					_, _ = io.Copy(io.Discard, conn)
				}
				serverErr <- err
			})
			defer wait()
			req := tt.req
			conn, br, resp, err := ourClient(t, addr, &req)
			if conn != nil {
				defer conn.Close()
			}
			if tt.wantCode != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.StatusCode != tt.wantCode || string(se.Body) != "go away" {
					t.Fatalf("err = %v, want status %d with a body", err, tt.wantCode)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if resp.Subprotocol != tt.wantProto || len(resp.Extensions) != len(tt.wantExts) ||
				len(tt.wantExts) > 0 && resp.Extensions[0] != tt.wantExts[0] {
				t.Errorf("subprotocol %q extensions %q", resp.Subprotocol, resp.Extensions)
			}
			msg, op, err := wsutil.ReadServerData(struct {
				io.Reader
				io.Writer
			}{br, conn})
			if err != nil || op != ws.OpText || string(msg) != "hello" {
				t.Fatalf("frame after the handshake: %q %v %v", msg, op, err)
			}
			conn.Close()
			if err := <-serverErr; err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
}

func TestInteropUserHeadersAndOriginReachGobwasServer(t *testing.T) {
	seen := map[string]string{}
	addr, wait := serveOnce(t, func(conn net.Conn) {
		u := ws.Upgrader{OnHeader: func(k, v []byte) error {
			seen[string(k)] = string(v)
			return nil
		}}
		if _, err := u.Upgrade(conn); err != nil {
			t.Errorf("server: %v", err)
		}
	})
	req := &Request{Path: "/p?q=1", Origin: "http://example.com",
		Header: map[string][]string{"X-Token": {"abc"}, "Cookie": {"a=b"}}}
	conn, _, _, err := ourClient(t, addr, req)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	wait()
	if seen["X-Token"] != "abc" || seen["Cookie"] != "a=b" || seen["Origin"] != "http://example.com" {
		t.Errorf("server saw %q", seen)
	}
}

func TestInteropGobwasClientAgainstOurUpgrader(t *testing.T) {
	tests := []struct {
		name      string
		upgrader  Upgrader
		offer     []string
		wantProto string
		wantCode  int // gobwas StatusError
		wantErr   error
	}{
		{"client's first choice that the server speaks", Upgrader{Protocols: []string{"superchat", "chat"}},
			[]string{"chat", "superchat"}, "chat", 0, nil},
		{"server speaks only the client's second choice", Upgrader{Protocols: []string{"superchat"}},
			[]string{"chat", "superchat"}, "superchat", 0, nil},
		{"server refuses every offered subprotocol", Upgrader{Protocols: []string{"mqtt"}},
			[]string{"chat", "superchat"}, "", 0, nil},
		{"no subprotocol offered", Upgrader{Protocols: []string{"chat"}}, nil, "", 0, nil},
		{"origin refused", Upgrader{CheckOrigin: func(*ServerRequest) bool { return false }},
			nil, "", 403, ErrOriginDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type result struct {
				proto string
				err   error
			}
			res := make(chan result, 1)
			addr, wait := serveOnce(t, func(conn net.Conn) {
				br := bufio.NewReader(conn)
				_, proto, err := tt.upgrader.Upgrade(br, conn)
				if err == nil {
					// Echo one message, reading through br so nothing buffered is lost.
					var msg []byte
					rw := struct {
						io.Reader
						io.Writer
					}{br, conn}
					if msg, _, err = wsutil.ReadClientData(rw); err == nil {
						err = wsutil.WriteServerText(conn, msg)
					}
				}
				res <- result{proto, err}
			})
			defer wait()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d := ws.Dialer{Protocols: tt.offer, Extensions: []httphead.Option{httphead.NewOption("permessage-deflate", nil)}}
			conn, br, hs, err := d.Dial(ctx, "ws://"+addr+"/chat?x=1")
			if tt.wantCode != 0 {
				var se ws.StatusError
				if !errors.As(err, &se) || int(se) != tt.wantCode {
					t.Fatalf("gobwas err = %v, want status %d", err, tt.wantCode)
				}
				if conn != nil {
					conn.Close()
				}
				if r := <-res; !errors.Is(r.err, tt.wantErr) {
					t.Errorf("server err = %v", r.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("gobwas dial: %v", err)
			}
			defer conn.Close()
			if br != nil {
				ws.PutReader(br)
			}
			if hs.Protocol != tt.wantProto || len(hs.Extensions) != 0 {
				t.Errorf("gobwas got protocol %q extensions %v", hs.Protocol, hs.Extensions)
			}
			if err := wsutil.WriteClientText(conn, []byte("ping")); err != nil {
				t.Fatal(err)
			}
			msg, _, err := wsutil.ReadServerData(conn)
			if err != nil || string(msg) != "ping" {
				t.Fatalf("echo: %q %v", msg, err)
			}
			if r := <-res; r.err != nil || r.proto != tt.wantProto {
				t.Errorf("server: %q %v", r.proto, r.err)
			}
		})
	}
}

// TestInteropPipelinedFrameStaysInReader sends the request and a first frame in one TCP write
// to our Upgrader: the frame must be readable from the server's bufio.Reader afterwards.
func TestInteropPipelinedFrameStaysInReader(t *testing.T) {
	got := make(chan string, 1)
	addr, wait := serveOnce(t, func(conn net.Conn) {
		br := bufio.NewReader(conn)
		if _, _, err := (&Upgrader{}).Upgrade(br, conn); err != nil {
			got <- err.Error()
			return
		}
		msg, _, err := wsutil.ReadClientData(struct {
			io.Reader
			io.Writer
		}{br, conn})
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(msg)
	})
	defer wait()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	key := NewKey()
	req := &Request{Host: addr}
	b, _ := req.Append(nil, key)
	var frame bufferWriter
	if err := wsutil.WriteClientText(&frame, []byte("early")); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(append(b, frame...)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadResponse(bufio.NewReader(conn), req, key, nil); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "early" {
		t.Fatalf("server read %q", s)
	}
}

type bufferWriter []byte

func (b *bufferWriter) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }
