package handshake

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/netkit/websocket/deflate"
)

// RFC 8441 §5: the extended CONNECT carries Sec-WebSocket-Version, -Protocol and
// -Extensions, and none of Sec-WebSocket-Key, Upgrade or Connection.
func TestHTTP2HeaderFieldsOfRFC8441(t *testing.T) {
	r := &Request{Host: "example.com", Path: "/chat", Protocols: []string{"chat", "superchat"},
		Deflate: &deflate.ClientOptions{}, Origin: "https://example.com",
		Header: http.Header{"X-Token": {"t"}}}
	h, err := r.HTTP2Header()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Sec-Websocket-Version":    "13",
		"Sec-Websocket-Protocol":   "chat, superchat",
		"Sec-Websocket-Extensions": "permessage-deflate; client_max_window_bits",
		"Origin":                   "https://example.com",
		"X-Token":                  "t",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"Sec-Websocket-Key", "Upgrade", "Connection", "Host"} {
		if _, ok := h[k]; ok {
			t.Errorf("%s sent over HTTP/2", k)
		}
	}
	r.Header = http.Header{"X-Bad": {"a\r\nInjected: 1"}}
	var he *HeaderError
	if _, err := r.HTTP2Header(); !errors.As(err, &he) || he.Name != "X-Bad" {
		t.Fatalf("CR LF in a header: %v", err)
	}
}

func TestCheckHTTP2Response(t *testing.T) {
	req := &Request{Host: "h", Protocols: []string{"chat"}}
	resp, err := CheckHTTP2Response(req, 200, "OK", http.Header{"Sec-Websocket-Protocol": {"chat"}})
	if err != nil || resp.Subprotocol != "chat" || resp.StatusCode != 200 {
		t.Fatalf("200 with the offered subprotocol: %+v, %v", resp, err)
	}
	if _, err := CheckHTTP2Response(req, 200, "OK", http.Header{"Sec-Websocket-Protocol": {"other"}}); !errors.Is(err, ErrUnofferedSubprotocol) {
		t.Fatalf("unoffered subprotocol: %v", err)
	}
	if _, err := CheckHTTP2Response(req, 200, "OK", http.Header{"Sec-Websocket-Extensions": {"x-foo"}}); !errors.Is(err, ErrUnofferedExtension) {
		t.Fatalf("unoffered extension: %v", err)
	}
	var se *StatusError
	_, err = CheckHTTP2Response(req, 308, "Permanent Redirect", http.Header{"Location": {"/x"}})
	if !errors.As(err, &se) || se.StatusCode != 308 || se.Location != "/x" {
		t.Fatalf("308: %v", err)
	}
}

// UpgradeHTTP2 refuses what is not an RFC 8441 request for a WebSocket, with the status
// Upgrade would use, and writes no 200.
func TestUpgradeHTTP2Refusals(t *testing.T) {
	h2 := func(method, protocol, version string) *http.Request {
		r := httptest.NewRequest(method, "https://example.com/chat", nil)
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
		if protocol != "" {
			r.Header.Set(ProtocolHeader, protocol)
		}
		if version != "" {
			r.Header.Set("Sec-WebSocket-Version", version)
		}
		return r
	}
	http1 := httptest.NewRequest(http.MethodGet, "https://example.com/chat", nil)
	for _, tc := range []struct {
		name   string
		r      *http.Request
		status int
		err    error
	}{
		{"HTTP/1.1 GET", http1, http.StatusMethodNotAllowed, ErrBadMethod},
		{"CONNECT without :protocol", h2(http.MethodConnect, "", "13"), http.StatusMethodNotAllowed, ErrBadMethod},
		{"other :protocol", h2(http.MethodConnect, "webtransport", "13"), http.StatusMethodNotAllowed, ErrBadMethod},
		{"GET over HTTP/2", h2(http.MethodGet, "websocket", "13"), http.StatusMethodNotAllowed, ErrBadMethod},
		{"version 8", h2(http.MethodConnect, "websocket", "8"), http.StatusUpgradeRequired, ErrBadVersion},
		{"cross origin", func() *http.Request {
			r := h2(http.MethodConnect, "websocket", "13")
			r.Header.Set("Origin", "https://evil.example")
			return r
		}(), http.StatusForbidden, ErrOriginDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			var u Upgrader
			nc, _, _, err := u.UpgradeHTTP2(w, tc.r)
			if nc != nil || !errors.Is(err, tc.err) || w.Code != tc.status {
				t.Fatalf("got conn %v, status %d, %v; want status %d, %v", nc, w.Code, err, tc.status, tc.err)
			}
		})
	}
}
