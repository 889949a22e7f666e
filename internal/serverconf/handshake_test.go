package serverconf

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/handshake"
)

// without returns goodHeaders without the line of the named header.
func without(name string) []string {
	var ls []string
	for _, l := range goodHeaders {
		if !strings.HasPrefix(l, name+":") {
			ls = append(ls, l)
		}
	}
	return ls
}

// replaced returns goodHeaders with the named header's line replaced by line.
func replaced(name, line string) []string {
	return append(without(name), line)
}

// manyHeaders returns n extra header lines.
func manyHeaders(n int) []string {
	ls := append([]string(nil), goodHeaders...)
	for i := range n {
		ls = append(ls, "X-Filler-"+strings.Repeat("a", i%10)+": "+strings.Repeat("v", 10))
	}
	return ls
}

// TestServerHandshakeRefusals sends bad opening handshakes to our server role and checks the
// status and headers the raw client receives and the error the server reports (RFC 6455 §4.2.1,
// §4.2.2, §4.4).
func TestServerHandshakeRefusals(t *testing.T) {
	longLine := "X-Long: " + strings.Repeat("x", handshake.DefaultMaxLineBytes+1)
	tests := []struct {
		name       string
		rfc        string
		raw        func(addr string) string // the request bytes
		wantStatus int
		wantHeader [2]string // a header the response must carry, if set
		wantErr    error
	}{
		{"missing Sec-WebSocket-Key", "§4.2.1 item 5",
			func(a string) string { return request(a, without("Sec-WebSocket-Key")...) },
			400, [2]string{}, handshake.ErrBadKey},
		{"Sec-WebSocket-Key not base64", "§4.2.1 item 5",
			func(a string) string {
				return request(a, replaced("Sec-WebSocket-Key", "Sec-WebSocket-Key: not*base64*at*all!!=")...)
			}, 400, [2]string{}, handshake.ErrBadKey},
		{"Sec-WebSocket-Key of 15 bytes", "§4.2.1 item 5",
			func(a string) string {
				return request(a, replaced("Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA")...)
			}, 400, [2]string{}, handshake.ErrBadKey},
		{"two Sec-WebSocket-Key fields", "§4.2.1 item 5",
			func(a string) string {
				return request(a, append(goodHeaders, "Sec-WebSocket-Key: "+testKey)...)
			}, 400, [2]string{}, handshake.ErrBadKey},
		{"version 8 answered 426 with Sec-WebSocket-Version 13", "§4.2.2 item 4, §4.4",
			func(a string) string {
				return request(a, replaced("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8")...)
			}, 426, [2]string{"Sec-WebSocket-Version", "13"}, handshake.ErrBadVersion},
		{"missing version answered 426", "§4.2.1 item 6, §4.4",
			func(a string) string { return request(a, without("Sec-WebSocket-Version")...) },
			426, [2]string{"Sec-WebSocket-Version", "13"}, handshake.ErrBadVersion},
		{"POST answered 405 with Allow GET", "§4.2.1 item 1",
			func(a string) string {
				return strings.Replace(request(a, goodHeaders...), "GET", "POST", 1)
			}, 405, [2]string{"Allow", "GET"}, handshake.ErrBadMethod},
		{"HTTP/1.0", "§4.2.1 item 1",
			func(a string) string {
				return strings.Replace(request(a, goodHeaders...), "HTTP/1.1", "HTTP/1.0", 1)
			}, 400, [2]string{}, handshake.ErrMalformedRequest},
		{"missing Upgrade", "§4.2.1 item 3",
			func(a string) string { return request(a, without("Upgrade")...) },
			400, [2]string{}, handshake.ErrNoUpgrade},
		{"Upgrade not websocket", "§4.2.1 item 3",
			func(a string) string { return request(a, replaced("Upgrade", "Upgrade: h2c")...) },
			400, [2]string{}, handshake.ErrNoUpgrade},
		{"missing Connection", "§4.2.1 item 4",
			func(a string) string { return request(a, without("Connection")...) },
			400, [2]string{}, handshake.ErrNoConnection},
		{"Connection without upgrade token", "§4.2.1 item 4",
			func(a string) string { return request(a, replaced("Connection", "Connection: keep-alive")...) },
			400, [2]string{}, handshake.ErrNoConnection},
		{"missing Host", "§4.2.1 item 2",
			func(a string) string {
				return strings.Replace(request(a, goodHeaders...), "Host: "+a+"\r\n", "", 1)
			}, 400, [2]string{}, handshake.ErrNoHost},
		{"cross-origin request refused 403", "§4.2.2 item 4, §10.2",
			func(a string) string { return request(a, append(goodHeaders, "Origin: http://evil.example")...) },
			403, [2]string{}, handshake.ErrOriginDenied},
		{"header fields over the limit answered 431", "§4.2.1 (RFC 6585 §5)",
			func(a string) string { return request(a, manyHeaders(handshake.DefaultMaxHeaders+1)...) },
			431, [2]string{}, handshake.ErrHeaderTooLarge},
		{"header line over the limit answered 431", "§4.2.1 (RFC 6585 §5)",
			func(a string) string { return request(a, append(goodHeaders, longLine)...) },
			431, [2]string{}, handshake.ErrHeaderTooLarge},
		{"request line over the limit answered 431", "§4.2.1 (RFC 6585 §5)",
			func(a string) string {
				return strings.Replace(request(a, goodHeaders...), "/chat", "/"+strings.Repeat("p", handshake.DefaultMaxLineBytes), 1)
			}, 431, [2]string{}, handshake.ErrHeaderTooLarge},
		{"request with a body", "§4.1 (RFC 7230 §3.3)",
			func(a string) string { return request(a, append(goodHeaders, "Content-Length: 5")...) + "hello" },
			400, [2]string{}, handshake.ErrMalformedRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, out := startServer(t, nil)
			c := dialRaw(t, addr)
			c.write([]byte(tt.raw(addr)))
			resp := c.response()
			body, err := io.ReadAll(resp.Body)
			if err != nil || len(body) == 0 {
				t.Errorf("%s: body %q, %v; want a short text", tt.rfc, body, err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("%s: status %d, want %d", tt.rfc, resp.StatusCode, tt.wantStatus)
			}
			if resp.Header.Get("Sec-WebSocket-Accept") != "" {
				t.Errorf("%s: a refusal carries Sec-WebSocket-Accept", tt.rfc)
			}
			if k := tt.wantHeader[0]; k != "" && resp.Header.Get(k) != tt.wantHeader[1] {
				t.Errorf("%s: %s = %q, want %q", tt.rfc, k, resp.Header.Get(k), tt.wantHeader[1])
			}
			o := result(t, out)
			var re *handshake.RejectError
			if !errors.As(o.hsErr, &re) || re.StatusCode != tt.wantStatus || !errors.Is(o.hsErr, tt.wantErr) {
				t.Errorf("%s: server reported %v, want a RejectError %d wrapping %v", tt.rfc, o.hsErr, tt.wantStatus, tt.wantErr)
			}
			c.expectEOF() // a refused connection is closed
		})
	}
}

// TestServerHandshakeAccepts checks valid variations of the request and the subprotocol the
// server selects (RFC 6455 §4.2.1, §4.2.2 item 5, §1.9).
func TestServerHandshakeAccepts(t *testing.T) {
	tests := []struct {
		name      string
		rfc       string
		lines     []string
		server    []string // the server's subprotocols
		wantProto string
	}{
		{"Connection token list and mixed case", "§4.2.1 item 4",
			replaced("Connection", "Connection: keep-alive, UPGRADE"), nil, ""},
		{"Upgrade value case-insensitive", "§4.2.1 item 3",
			replaced("Upgrade", "Upgrade: WebSocket"), nil, ""},
		{"same-origin Origin accepted", "§4.2.2 item 4",
			nil, nil, ""},
		{"client's preferred subprotocol selected", "§4.2.2 item 5.4, §11.3.4",
			append(goodHeaders, "Sec-WebSocket-Protocol: b, a"), []string{"a", "b"}, "b"},
		{"subprotocols from repeated fields", "§11.3.4",
			append(goodHeaders, "Sec-WebSocket-Protocol: x", "Sec-WebSocket-Protocol: a"), []string{"a"}, "a"},
		{"offered extension not accepted", "§4.2.2 item 5.5, §9.1",
			append(goodHeaders, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"), nil, ""},
		{"no common subprotocol: none selected", "§4.2.2 item 5.4",
			append(goodHeaders, "Sec-WebSocket-Protocol: x, y"), []string{"a"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, out := startServer(t, func(u *handshake.Upgrader, _ *conn.Config) { u.Protocols = tt.server })
			lines := tt.lines
			if lines == nil {
				lines = append(goodHeaders, "Origin: http://"+addr)
			}
			c := dialRaw(t, addr)
			c.write([]byte(request(addr, lines...)))
			resp := c.response()
			c.check101(resp)
			if ext := resp.Header.Values("Sec-WebSocket-Extensions"); len(ext) > 0 {
				t.Errorf("§9.1: the server accepted extensions %q it does not implement", ext)
			}
			got, present := resp.Header.Get("Sec-WebSocket-Protocol"), len(resp.Header.Values("Sec-WebSocket-Protocol")) > 0
			if got != tt.wantProto || present != (tt.wantProto != "") {
				t.Errorf("%s: Sec-WebSocket-Protocol %q (present %v), want %q", tt.rfc, got, present, tt.wantProto)
			}
			c.send(text("hi"))
			c.expectFrame(0x1, []byte("hi"))
			c.send(closeFrame(1000, ""))
			if code := c.expectClose(); code != 1000 {
				t.Errorf("close reply %d, want 1000", code)
			}
			o := result(t, out)
			if o.hsErr != nil || o.proto != tt.wantProto {
				t.Errorf("server: handshake error %v, subprotocol %q; want nil, %q", o.hsErr, o.proto, tt.wantProto)
			}
		})
	}
}

// TestServerHandshakeResponseIsHTTP11 checks the 101's status line byte for byte (RFC 6455
// §4.2.2 item 5.1), which net/http's parser would forgive.
func TestServerHandshakeResponseIsHTTP11(t *testing.T) {
	addr, out := startServer(t, nil)
	c := dialRaw(t, addr)
	c.write([]byte(request(addr, goodHeaders...)))
	line, err := c.br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if line != "HTTP/1.1 101 Switching Protocols\r\n" {
		t.Errorf("status line %q", line)
	}
	c.nc.Close()
	if o := result(t, out); o.hsErr != nil {
		t.Errorf("server: %v", o.hsErr)
	}
}
