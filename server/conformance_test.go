package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/netkit/websocket/handshake"
)

// The server MUSTs of RFC 6455, played against the facade by a hostile client: hand-written
// handshake requests, and frames built with gobwas/ws (an independent encoder).

const confKey = "dGhlIHNhbXBsZSBub25jZQ=="

var confHeaders = []string{
	"Upgrade: websocket",
	"Connection: Upgrade",
	"Sec-WebSocket-Key: " + confKey,
	"Sec-WebSocket-Version: 13",
}

func confRequest(addr string, lines ...string) string {
	return "GET /chat HTTP/1.1\r\nHost: " + addr + "\r\n" + strings.Join(lines, "\r\n") + "\r\n\r\n"
}

func confWithout(name string) []string {
	var out []string
	for _, l := range confHeaders {
		if !strings.HasPrefix(l, name+":") {
			out = append(out, l)
		}
	}
	return out
}

func confReplaced(name, line string) []string { return append(confWithout(name), line) }

func addrOf(url string) string {
	return strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
}

func TestConformanceHandshakeRefusals(t *testing.T) {
	many := append([]string(nil), confHeaders...)
	for i := range handshake.DefaultMaxHeaders + 1 {
		many = append(many, "X-H"+itoa(i)+": v")
	}
	tests := []struct {
		name       string
		rfc        string
		raw        func(addr string) string
		wantStatus int
		wantHeader [2]string
		wantErr    error
	}{
		{"missing Sec-WebSocket-Key", "§4.2.1 item 5",
			func(a string) string { return confRequest(a, confWithout("Sec-WebSocket-Key")...) }, 400, [2]string{}, handshake.ErrBadKey},
		{"Sec-WebSocket-Key not base64", "§4.2.1 item 5",
			func(a string) string {
				return confRequest(a, confReplaced("Sec-WebSocket-Key", "Sec-WebSocket-Key: not*base64*at*all!!=")...)
			}, 400, [2]string{}, handshake.ErrBadKey},
		{"Sec-WebSocket-Key of 15 bytes", "§4.2.1 item 5",
			func(a string) string {
				return confRequest(a, confReplaced("Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA")...)
			}, 400, [2]string{}, handshake.ErrBadKey},
		{"missing Upgrade", "§4.2.1 item 3",
			func(a string) string { return confRequest(a, confWithout("Upgrade")...) }, 400, [2]string{}, handshake.ErrNoUpgrade},
		{"missing Connection", "§4.2.1 item 4",
			func(a string) string { return confRequest(a, confWithout("Connection")...) }, 400, [2]string{}, handshake.ErrNoConnection},
		{"version 8: 426 with Sec-WebSocket-Version 13", "§4.2.2 item 4, §4.4",
			func(a string) string {
				return confRequest(a, confReplaced("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8")...)
			}, 426, [2]string{"Sec-WebSocket-Version", "13"}, handshake.ErrBadVersion},
		{"missing version: 426", "§4.2.1 item 6",
			func(a string) string { return confRequest(a, confWithout("Sec-WebSocket-Version")...) },
			426, [2]string{"Sec-WebSocket-Version", "13"}, handshake.ErrBadVersion},
		{"POST: 405", "§4.2.1 item 1",
			func(a string) string { return strings.Replace(confRequest(a, confHeaders...), "GET", "POST", 1) },
			405, [2]string{"Allow", "GET"}, handshake.ErrBadMethod},
		{"missing Host", "§4.2.1 item 2",
			func(a string) string {
				return strings.Replace(confRequest(a, confHeaders...), "Host: "+a+"\r\n", "", 1)
			}, 400, [2]string{}, handshake.ErrNoHost},
		{"oversize header: 431", "§4.2.1 (RFC 6585 §5)",
			func(a string) string { return confRequest(a, many...) }, 431, [2]string{}, handshake.ErrHeaderTooLarge},
		{"oversize header line: 431", "§4.2.1 (RFC 6585 §5)",
			func(a string) string {
				return confRequest(a, append(confHeaders, "X-Long: "+strings.Repeat("x", handshake.DefaultMaxLineBytes+1))...)
			}, 431, [2]string{}, handshake.ErrHeaderTooLarge},
	}
	s := CreateWebSocketServer()
	rec := record(t, s)
	addr := addrOf(start(t, s, nil))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			must(t, err)
			defer nc.Close()
			_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
			_, err = io.WriteString(nc, tt.raw(addr))
			must(t, err)
			br := bufio.NewReader(nc)
			resp, err := http.ReadResponse(br, nil)
			must(t, err)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || len(body) == 0 {
				t.Errorf("%s: %d %q, want %d with a reason", tt.rfc, resp.StatusCode, body, tt.wantStatus)
			}
			if resp.Header.Get("Sec-WebSocket-Accept") != "" {
				t.Errorf("%s: a refusal carries Sec-WebSocket-Accept", tt.rfc)
			}
			if k := tt.wantHeader[0]; k != "" && resp.Header.Get(k) != tt.wantHeader[1] {
				t.Errorf("%s: %s = %q, want %q", tt.rfc, k, resp.Header.Get(k), tt.wantHeader[1])
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Errorf("%s: connection not closed after the refusal: %v", tt.rfc, err)
			}
			e := rec.expect(t, "error")
			if !errors.Is(e.err, tt.wantErr) || e.err.Code != CodeOtherError {
				t.Errorf("%s: error event %v, want %v", tt.rfc, e.err, tt.wantErr)
			}
		})
	}
	select {
	case e := <-rec.ch:
		t.Fatalf("unexpected event %+v", e)
	default:
	}
}

// hostile is a client connection after a valid handshake, writing frames of its choosing.
type hostile struct {
	t  *testing.T
	nc net.Conn
}

func dialHostile(t *testing.T, url string) *hostile {
	t.Helper()
	nc, _, _, err := ws.Dial(context.Background(), url)
	must(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &hostile{t: t, nc: nc}
}

// frame writes a frame, masked unless unmasked is set.
func (h *hostile) frame(fin bool, op ws.OpCode, rsv byte, p []byte, unmasked bool) {
	h.t.Helper()
	f := ws.NewFrame(op, fin, append([]byte(nil), p...))
	f.Header.Rsv = rsv
	if !unmasked {
		f = ws.MaskFrame(f)
	}
	must(h.t, ws.WriteFrame(h.nc, f))
}

// expectClose reads the server's frames until its close frame and returns its code; every
// server frame must be unmasked (§5.1). Data frames before it are returned too.
func (h *hostile) expectClose() (ws.StatusCode, []ws.Frame) {
	h.t.Helper()
	var data []ws.Frame
	for {
		f, err := ws.ReadFrame(h.nc)
		if err != nil {
			h.t.Fatalf("no close frame: %v", err)
		}
		if f.Header.Masked {
			h.t.Fatal("§5.1: the server sent a masked frame")
		}
		if f.Header.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(f.Payload)
			return code, data
		}
		data = append(data, f)
	}
}

func TestConformanceFailures(t *testing.T) {
	longPing := make([]byte, 126)
	tests := []struct {
		name  string
		rfc   string
		write func(h *hostile)
		code  ws.StatusCode
	}{
		{"unmasked frame", "§5.1", func(h *hostile) { h.frame(true, ws.OpText, 0, []byte("x"), true) }, 1002},
		{"RSV1 without an extension", "§5.2", func(h *hostile) { h.frame(true, ws.OpText, 4, []byte("x"), false) }, 1002},
		{"reserved opcode 3", "§5.2", func(h *hostile) { h.frame(true, 3, 0, nil, false) }, 1002},
		{"reserved control opcode 0xB", "§5.2", func(h *hostile) { h.frame(true, 0xB, 0, nil, false) }, 1002},
		{"fragmented ping", "§5.5", func(h *hostile) { h.frame(false, ws.OpPing, 0, nil, false) }, 1002},
		{"ping over 125 bytes", "§5.5", func(h *hostile) { h.frame(true, ws.OpPing, 0, longPing, false) }, 1002},
		{"continuation without a message", "§5.4", func(h *hostile) { h.frame(true, ws.OpContinuation, 0, []byte("x"), false) }, 1002},
		{"new message inside a fragmented one", "§5.4", func(h *hostile) {
			h.frame(false, ws.OpText, 0, []byte("a"), false)
			h.frame(true, ws.OpText, 0, []byte("b"), false)
		}, 1002},
		{"invalid UTF-8 text fails fast, before the message ends", "§8.1", func(h *hostile) {
			h.frame(false, ws.OpText, 0, []byte{'o', 'k', 0xff}, false) // no final fragment follows
		}, 1007},
		{"close code 1005 on the wire", "§7.4.1", func(h *hostile) {
			h.frame(true, ws.OpClose, 0, []byte{0x03, 0xed}, false)
		}, 1002},
		{"close reason not UTF-8", "§5.5.1, §8.1", func(h *hostile) {
			h.frame(true, ws.OpClose, 0, []byte{0x03, 0xe8, 0xff}, false)
		}, 1007},
		{"close payload of 1 byte", "§5.5.1", func(h *hostile) { h.frame(true, ws.OpClose, 0, []byte{3}, false) }, 1002},
		{"message over MaxMessageSize", "§10.4", func(h *hostile) {
			h.frame(true, ws.OpBinary, 0, make([]byte, 2048), false)
		}, 1009},
	}
	s := CreateWebSocketServer()
	rec := record(t, s)
	url := start(t, s, &WebSocketServerConfig{MaxMessageSize: 1024, MaxConcurrentClientsNumber: 100, MaxConnectionsForOneClient: 100})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := dialHostile(t, url)
			id := rec.expect(t, "connect").conn
			tt.write(h)
			code, _ := h.expectClose()
			if code != tt.code {
				t.Fatalf("%s: close code %d, want %d", tt.rfc, code, tt.code)
			}
			e := rec.expect(t, "error")
			if e.conn != id {
				t.Fatalf("error event for %v, want %v", e.conn, id)
			}
			if c := rec.expect(t, "close"); c.res.Code != uint32(tt.code) || c.conn != id {
				t.Fatalf("close event %+v, want %d", c, tt.code)
			}
			// The server closes the TCP connection (§7.1.1).
			if _, err := h.nc.Read(make([]byte, 1)); err == nil {
				t.Fatal("connection still open after the failure")
			}
		})
	}
}

func TestConformanceCloseHandshake(t *testing.T) {
	s := CreateWebSocketServer()
	rec := record(t, s)
	url := start(t, s, nil)

	t.Run("client starts: server echoes the code §5.5.1, §7.1.2", func(t *testing.T) {
		h := dialHostile(t, url)
		id := rec.expect(t, "connect").conn
		h.frame(true, ws.OpClose, 0, ws.NewCloseFrameBody(4321, "bye"), false)
		code, _ := h.expectClose()
		if code != 4321 {
			t.Fatalf("close reply %d, want the client's code", code)
		}
		if _, err := h.nc.Read(make([]byte, 1)); err == nil {
			t.Fatal("the server did not close the TCP connection")
		}
		if c := rec.expect(t, "close"); c.conn != id || c.res != (CloseResult{4321, "bye"}) {
			t.Fatalf("close event %+v", c)
		}
	})
	t.Run("client closes with no code: 1005 reported, close answered §7.1.5", func(t *testing.T) {
		h := dialHostile(t, url)
		rec.expect(t, "connect")
		h.frame(true, ws.OpClose, 0, nil, false)
		f, err := ws.ReadFrame(h.nc)
		if err != nil || f.Header.OpCode != ws.OpClose {
			t.Fatalf("reply %+v %v, want a close", f.Header, err)
		}
		if code, _ := ws.ParseCloseFrameData(f.Payload); len(f.Payload) != 0 && code != 1000 {
			t.Fatalf("reply code %d, want none or 1000", code)
		}
		if c := rec.expect(t, "close"); c.res.Code != 1005 {
			t.Fatalf("close event %+v", c)
		}
	})
	t.Run("server starts: messages before the client's reply are delivered §7.1.2", func(t *testing.T) {
		h := dialHostile(t, url)
		id := rec.expect(t, "connect").conn
		must(t, s.Close(id, &WebSocketCloseOptions{Code: 1000, Reason: "done"}, nil))
		f, err := ws.ReadFrame(h.nc)
		must(t, err)
		if code, reason := ws.ParseCloseFrameData(f.Payload); f.Header.OpCode != ws.OpClose || code != 1000 || reason != "done" {
			t.Fatalf("got %+v %q", f.Header, f.Payload)
		}
		h.frame(true, ws.OpText, 0, []byte("late"), false)
		h.frame(true, ws.OpClose, 0, ws.NewCloseFrameBody(1000, ""), false)
		if m := rec.expect(t, "message"); m.msg != StringData("late") {
			t.Fatalf("message %+v", m)
		}
		if c := rec.expect(t, "close"); c.res.Code != 1000 {
			t.Fatalf("close event %+v", c)
		}
	})
	t.Run("ping answered with a pong of the same payload §5.5.2", func(t *testing.T) {
		h := dialHostile(t, url)
		rec.expect(t, "connect")
		h.frame(true, ws.OpPing, 0, []byte("abc"), false)
		f, err := ws.ReadFrame(h.nc)
		must(t, err)
		if f.Header.OpCode != ws.OpPong || string(f.Payload) != "abc" || f.Header.Masked {
			t.Fatalf("got %+v %q", f.Header, f.Payload)
		}
		h.frame(true, ws.OpClose, 0, ws.NewCloseFrameBody(1000, ""), false)
		rec.expect(t, "close")
	})
	t.Run("TCP drop without close: error, then 1006", func(t *testing.T) {
		h := dialHostile(t, url)
		rec.expect(t, "connect")
		_ = h.nc.Close()
		rec.expect(t, "error")
		if c := rec.expect(t, "close"); c.res.Code != 1006 {
			t.Fatalf("close event %+v", c)
		}
	})
}
