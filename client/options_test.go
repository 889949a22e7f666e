package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/wstest"
)

// countingListener is a TCP listener on 127.0.0.1 that counts and closes every connection it
// accepts: an option check that comes after I/O shows up as a count above 0.
func countingListener(t *testing.T) (addr string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = new(atomic.Int32)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			nc.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), accepted
}

// secret is the value of the credential-like headers below: no error may contain it.
const secret = "S3cr3t-T0ken"

// TestDialRejectsBadOptionsBeforeAnyIO: every option Dial cannot use fails before the TCP
// connection is opened (the listener accepts nothing), wraps ErrInvalidOption, names the
// offending option and value, and never shows a header's value.
func TestDialRejectsBadOptionsBeforeAnyIO(t *testing.T) {
	addr, accepted := countingListener(t)
	tests := []struct {
		name string
		opts DialOptions
		path string
		want []string // in the error's text
	}{
		{"header value with CR LF", DialOptions{Header: http.Header{"Authorization": {"Bearer " + secret + "\r\nX-Injected: 1"}}},
			"", []string{`"Authorization"`, "CR"}},
		{"header value with LF", DialOptions{Header: http.Header{"X-Api-Key": {secret + "\n"}}}, "", []string{`"X-Api-Key"`, "LF"}},
		{"header value with NUL", DialOptions{Header: http.Header{"Cookie": {secret + "\x00"}}}, "", []string{`"Cookie"`, "NUL"}},
		{"header name with CR LF", DialOptions{Header: http.Header{"X-A\r\nInjected": {"v"}}}, "", []string{`"X-A..."`, "byte 3", "CR"}},
		{"header name with space", DialOptions{Header: http.Header{"Bad Name": {"v"}}}, "", []string{`"Bad..."`, "byte 3"}},
		{"header name empty", DialOptions{Header: http.Header{"": {"v"}}}, "", []string{"empty name"}},
		{"header owned by the handshake", DialOptions{Header: http.Header{"Sec-Websocket-Key": {secret}}}, "", []string{`"Sec-Websocket-Key"`, "written by the handshake"}},
		{"Host header", DialOptions{Header: http.Header{"Host": {"evil"}}}, "", []string{`"Host"`}},
		{"Origin twice", DialOptions{Origin: "http://a", Header: http.Header{"Origin": {"http://b"}}}, "", []string{`"Origin"`}},
		{"Origin with CR LF", DialOptions{Origin: "http://a\r\nX: 1"}, "", []string{`"Origin"`, "CR"}},
		{"subprotocol with space", DialOptions{Subprotocols: []string{"chat", "bad proto"}}, "", []string{"subprotocol 2", "byte 3"}},
		{"subprotocol empty", DialOptions{Subprotocols: []string{""}}, "", []string{"subprotocol 1 is empty"}},
		{"subprotocol twice", DialOptions{Subprotocols: []string{"a", "b", "a"}}, "", []string{"subprotocols 1 and 3"}},
		{"negative ReadBufferSize", DialOptions{ReadBufferSize: -1}, "", []string{"ReadBufferSize -1"}},
		{"negative WriteBufferSize", DialOptions{WriteBufferSize: -4096}, "", []string{"WriteBufferSize -4096"}},
		{"negative CloseTimeout", DialOptions{CloseTimeout: -time.Second}, "", []string{"CloseTimeout -1s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dialed := false
			tc.opts.NetDialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
				dialed = true
				var d net.Dialer
				return d.DialContext(ctx, network, a)
			}
			tc.opts.HandshakeTimeout = 2 * time.Second
			c, _, err := Dial(context.Background(), "ws://"+addr+"/"+tc.path, &tc.opts)
			if err == nil {
				c.CloseNow()
				t.Fatal("Dial accepted the options")
			}
			if !errors.Is(err, ErrInvalidOption) {
				t.Errorf("%v: want ErrInvalidOption in the chain", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%q shows the header's value", err)
			}
			if dialed {
				t.Error("Dial opened a connection before rejecting the options")
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // an accept in flight would be counted by now
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the listener accepted %d connections: options were checked after I/O", n)
	}
	var he *handshake.HeaderError
	_, _, err := Dial(context.Background(), "ws://"+addr+"/", &DialOptions{Header: http.Header{"X-A": {"\r\n"}}})
	if !errors.As(err, &he) || he.Name != "X-A" {
		t.Fatalf("%v: want a *handshake.HeaderError naming X-A", err)
	}
}

// TestConnectRejectsBadOptionsWith401BeforeAnyIO is the facade's side: Connect returns 401 at
// once, the error names the option (never a header's value), and no connection is opened.
func TestConnectRejectsBadOptionsWith401BeforeAnyIO(t *testing.T) {
	addr, accepted := countingListener(t)
	host := "127.0.0.1"
	tests := []struct {
		name string
		set  func(o *WebSocketRequestOptions)
		want []string
	}{
		{"header value with CR LF", func(o *WebSocketRequestOptions) {
			o.Header = map[string]string{"Authorization": "Bearer " + secret + "\r\nX-Injected: 1"}
		}, []string{`"Authorization"`, "CR"}},
		{"header value with NUL", func(o *WebSocketRequestOptions) { o.Header = map[string]string{"Cookie": secret + "\x00"} },
			[]string{`"Cookie"`, "NUL"}},
		{"header name with CR LF", func(o *WebSocketRequestOptions) {
			o.Header = map[string]string{"Authorization: " + secret + "\r\n": "v"}
		}, []string{`"Authorization..."`, "byte 13"}},
		{"header name empty", func(o *WebSocketRequestOptions) { o.Header = map[string]string{"": "v"} }, []string{"empty name"}},
		{"header owned by the handshake", func(o *WebSocketRequestOptions) {
			o.Header = map[string]string{"Sec-WebSocket-Key": secret}
		}, []string{`"Sec-WebSocket-Key"`, "set by the handshake"}},
		{"subprotocol with space", func(o *WebSocketRequestOptions) { o.Protocol = "chat, bearer " + secret },
			[]string{"subprotocol 2", "byte 6", "' '"}},
		{"subprotocol empty", func(o *WebSocketRequestOptions) { o.Protocol = "chat,,x" }, []string{"subprotocol 2", "empty"}},
		{"subprotocol twice", func(o *WebSocketRequestOptions) { o.Protocol = secret + "," + secret },
			[]string{"subprotocols 1 and 2"}},
		{"MinSupportTlsProtocol", func(o *WebSocketRequestOptions) { o.MinSupportTlsProtocol = 0x0999 }, []string{"MinSupportTlsProtocol 0x0999"}},
		{"HTTP proxy without host", func(o *WebSocketRequestOptions) { o.Proxy = HTTPProxy{Proxy: &WebSocketHttpProxy{}} },
			[]string{"without a host"}},
		{"bad exclusion", func(o *WebSocketRequestOptions) {
			o.Proxy = HTTPProxy{Proxy: &WebSocketHttpProxy{Host: &host, ExclusionList: []string{"10.0.0.0/99"}}}
		}, []string{"10.0.0.0/99"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := NewWebSocketRequestOptions()
			opts.Proxy = NoProxy{}
			tc.set(opts)
			ws := CreateWebSocket()
			err := ws.Connect("ws://"+addr+"/", opts, nil)
			if CodeOf(err) != CodeParameterError {
				ws.Close(nil, nil)
				wait(t, ws)
				t.Fatalf("Connect = %v, want 401", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%q shows a header's value or a subprotocol", err)
			}
			wait(t, ws)
		})
	}
	time.Sleep(50 * time.Millisecond)
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the listener accepted %d connections: options were checked after I/O", n)
	}
}

// TestCloseCodeErrorsNameTheCode: a close code that may not be sent is refused by both APIs
// with the number in the error, and the connection stays open.
func TestCloseCodeErrorsNameTheCode(t *testing.T) {
	srv := wstest.New(t, echo)
	c, _, err := Dial(context.Background(), srv.URL, &DialOptions{PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, tc := range []struct {
		code   frame.CloseCode
		reason string
		want   string
	}{
		{1006, "", "close code 1006 may not be sent"},
		{1005, "x", "close reason of 1 bytes without a close code"},
		{1015, "", "close code 1015 may not be sent"},
		{999, "", "close code 999 may not be sent"},
		{5000, "", "close code 5000 may not be sent"},
		{1000, strings.Repeat("r", 124), "close reason of 124 bytes is over 123"},
	} {
		err := c.Close(tc.code, tc.reason)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Close(%d): %v, want it to say %q", tc.code, err, tc.want)
		}
	}
	if err := c.WriteMessage(context.Background(), conn.Text, []byte("open")); err != nil {
		t.Fatalf("connection not usable after refused closes: %v", err)
	}
	if _, p, err := c.ReadMessage(context.Background(), nil); err != nil || string(p) != "open" {
		t.Fatalf("%q %v", p, err)
	}

	ws := CreateWebSocket()
	for _, code := range []uint32{1006, 1005, 1015, 999, 5000, 70000} {
		err := ws.Close(nil, &WebSocketCloseOptions{Code: code})
		if CodeOf(err) != CodeParameterError || !strings.Contains(err.Error(), "close code may not be sent: "+strconv.FormatUint(uint64(code), 10)) {
			t.Errorf("facade Close(%d) = %v, want 401 naming the code", code, err)
		}
	}
	wait(t, ws)
}
