package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// sampleRequest is the client handshake of RFC 6455 §1.3.
const sampleRequest = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n" +
	"Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n"

func readRequest(wire string, wrap func(io.Reader) io.Reader, size int) (*ServerRequest, string, error) {
	br := bufio.NewReaderSize(wrap(strings.NewReader(wire)), size)
	req, err := ReadRequest(br, nil)
	rest, _ := io.ReadAll(br)
	return req, string(rest), err
}

func TestReadRequestRFC6455SampleKeepsFollowingBytes(t *testing.T) {
	frame := "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58" // masked "Hello" (§5.7)
	for _, r := range readers {
		t.Run(r.name, func(t *testing.T) {
			req, rest, err := readRequest(sampleRequest+frame, r.wrap, r.size)
			if err != nil {
				t.Fatal(err)
			}
			want := &ServerRequest{
				Method: "GET", Target: "/chat", Host: "server.example.com", Key: sampleKey,
				Origin: "http://example.com", Version: "13", Protocols: []string{"chat", "superchat"},
				Header: http.Header{"Host": {"server.example.com"}, "Upgrade": {"websocket"},
					"Connection": {"Upgrade"}, "Sec-Websocket-Key": {sampleKey}, "Origin": {"http://example.com"},
					"Sec-Websocket-Protocol": {"chat, superchat"}, "Sec-Websocket-Version": {"13"}},
				Fields: []Field{{"Host", "server.example.com"}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"},
					{"Sec-WebSocket-Key", sampleKey}, {"Origin", "http://example.com"},
					{"Sec-WebSocket-Protocol", "chat, superchat"}, {"Sec-WebSocket-Version", "13"}},
			}
			if !reflect.DeepEqual(req, want) {
				t.Errorf("got  %+v\nwant %+v", req, want)
			}
			if rest != frame {
				t.Errorf("left %q, want the frame", rest)
			}
		})
	}
}

func TestReadRequestAccepts(t *testing.T) {
	tests := []struct {
		name      string
		wire      string
		wantProto []string
		wantExts  []string
	}{
		{"bare LF and leading empty lines", "\r\n\n" + strings.ReplaceAll(sampleRequest, "\r\n", "\n"), []string{"chat", "superchat"}, nil},
		{"token lists in any case, Content-Length 0",
			"GET /?q=1 HTTP/1.1\r\nhost: h\r\nupgrade: h2c, WebSocket\r\nconnection: keep-alive,UPGRADE\r\n" +
				"sec-websocket-key: " + sampleKey + "\r\nsec-websocket-version: 13\r\nContent-Length: 0\r\n\r\n", nil, nil},
		{"repeated protocol and extension fields",
			"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + sampleKey +
				"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a,, b\r\nSec-WebSocket-Protocol: c\r\n" +
				"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x;y=\"1,2\"\r\n" +
				"Sec-WebSocket-Extensions: z\r\n\r\n", []string{"a", "b", "c"},
			[]string{"permessage-deflate; client_max_window_bits", "x;y=\"1,2\"", "z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, rest, err := readRequest(tt.wire, same, 4096)
			for _, r := range readers[1:] {
				req2, rest2, err2 := readRequest(tt.wire, r.wrap, r.size)
				if fmt.Sprint(err) != fmt.Sprint(err2) || !reflect.DeepEqual(req, req2) || rest != rest2 {
					t.Fatalf("%s: differs: %v / %v", r.name, err2, err)
				}
			}
			if err != nil || rest != "" {
				t.Fatalf("err %v, rest %q", err, rest)
			}
			if !reflect.DeepEqual(req.Protocols, tt.wantProto) || !reflect.DeepEqual(req.Extensions, tt.wantExts) {
				t.Errorf("protocols %q extensions %q", req.Protocols, req.Extensions)
			}
		})
	}
}

func TestReadRequestRejects(t *testing.T) {
	base := func(drop string, add string) string {
		lines := []string{"Host: server.example.com", "Upgrade: websocket", "Connection: Upgrade",
			"Sec-WebSocket-Key: " + sampleKey, "Sec-WebSocket-Version: 13"}
		s := "GET /chat HTTP/1.1\r\n"
		for _, l := range lines {
			if drop == "" || !strings.HasPrefix(l, drop) {
				s += l + "\r\n"
			}
		}
		return s + add + "\r\n"
	}
	tests := []struct {
		name       string
		wire       string
		wantStatus int
		wantErr    error
		wantHeader http.Header
	}{
		{"POST is not GET", strings.Replace(base("", ""), "GET", "POST", 1), 405, ErrBadMethod, http.Header{"Allow": {"GET"}}},
		{"lower-case get", strings.Replace(base("", ""), "GET", "get", 1), 405, ErrBadMethod, nil},
		{"HTTP/1.0", strings.Replace(base("", ""), "HTTP/1.1", "HTTP/1.0", 1), 400, ErrMalformedRequest, nil},
		{"no Host", base("Host", ""), 400, ErrNoHost, nil},
		{"two Host", base("", "Host: other\r\n"), 400, ErrNoHost, nil},
		{"no Upgrade", base("Upgrade", ""), 400, ErrNoUpgrade, nil},
		{"Upgrade h2c", base("Upgrade", "Upgrade: h2c\r\n"), 400, ErrNoUpgrade, nil},
		{"no Connection", base("Connection", ""), 400, ErrNoConnection, nil},
		{"Connection keep-alive only", base("Connection", "Connection: keep-alive\r\n"), 400, ErrNoConnection, nil},
		{"no Sec-WebSocket-Key", base("Sec-WebSocket-Key", ""), 400, ErrBadKey, nil},
		{"short key", base("Sec-WebSocket-Key", "Sec-WebSocket-Key: YWJj\r\n"), 400, ErrBadKey, nil},
		{"key not base64", base("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!=\r\n"), 400, ErrBadKey, nil},
		{"two keys", base("", "Sec-WebSocket-Key: "+sampleKey+"\r\n"), 400, ErrBadKey, nil},
		{"version 8", base("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8\r\n"), 426, ErrBadVersion, http.Header{"Sec-Websocket-Version": {"13"}}},
		{"no version", base("Sec-WebSocket-Version", ""), 426, ErrBadVersion, http.Header{"Sec-Websocket-Version": {"13"}}},
		{"two versions", base("", "Sec-WebSocket-Version: 13\r\n"), 426, ErrBadVersion, nil},
		{"body with Content-Length", base("", "Content-Length: 5\r\n"), 400, ErrMalformedRequest, nil},
		{"chunked body", base("", "Transfer-Encoding: chunked\r\n"), 400, ErrMalformedRequest, nil},
		{"subprotocol not a token", base("", "Sec-WebSocket-Protocol: chat, a b\r\n"), 400, ErrMalformedRequest, nil},
		{"malformed extension", base("", "Sec-WebSocket-Extensions: x; =1\r\n"), 400, ErrMalformedRequest, nil},
		{"obs-fold", base("", "X-A: 1\r\n 2\r\n"), 400, ErrMalformedRequest, nil},
		{"space before colon", base("", "X-A : 1\r\n"), 400, ErrMalformedRequest, nil},
		{"NUL in a value", base("", "X-A: \x00\r\n"), 400, ErrMalformedRequest, nil},
		{"request line without version", "GET /chat\r\n\r\n", 400, ErrMalformedRequest, nil},
		{"request line with extra space", "GET  /chat HTTP/1.1\r\n\r\n", 400, ErrMalformedRequest, nil},
		{"request line with trailing garbage", "GET /chat HTTP/1.1 x\r\n\r\n", 400, ErrMalformedRequest, nil},
		{"header too large", base("", "X-A: "+strings.Repeat("a", 9000)+"\r\n"), 431, ErrHeaderTooLarge, nil},
		{"too many headers", base("", strings.Repeat("X-A: 1\r\n", 200)), 431, ErrHeaderTooLarge, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range readers {
				_, _, err := readRequest(tt.wire, r.wrap, r.size)
				var re *RejectError
				if !errors.As(err, &re) || !errors.Is(err, tt.wantErr) || re.StatusCode != tt.wantStatus {
					t.Fatalf("%s: err = %v, want %d %v", r.name, err, tt.wantStatus, tt.wantErr)
				}
				if tt.wantHeader != nil && !reflect.DeepEqual(re.Header, tt.wantHeader) {
					t.Errorf("Header = %v, want %v", re.Header, tt.wantHeader)
				}
				if re.Reason == "" || strings.HasPrefix(re.Reason, "websocket:") {
					t.Errorf("Reason %q", re.Reason)
				}
			}
		})
	}
}

func TestReadRequestIOErrorsAreNotRejections(t *testing.T) {
	for _, tt := range []struct {
		wire string
		want error
	}{{"", io.EOF}, {"GET / HTTP/1.1\r\nHost: h\r\n", io.ErrUnexpectedEOF}} {
		_, _, err := readRequest(tt.wire, same, 4096)
		var re *RejectError
		if !errors.Is(err, tt.want) || errors.As(err, &re) {
			t.Errorf("%q: err = %v", tt.wire, err)
		}
	}
	_, err := ReadRequest(bufio.NewReader(iotest.TimeoutReader(strings.NewReader("GET / HTTP/1.1\r\n"))), nil)
	if !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("err = %v, want the reader's error wrapped", err)
	}
}

func TestUpgraderWritesExactResponses(t *testing.T) {
	acceptAll := func(*ServerRequest) bool { return true }
	tests := []struct {
		name      string
		u         Upgrader
		wire      string
		wantProto string
		wantErr   error
		wantOut   string
	}{
		{
			name: "RFC 6455 sample: first of the client's list the server speaks",
			u:    Upgrader{Protocols: []string{"superchat", "chat"}, CheckOrigin: acceptAll},
			wire: sampleRequest, wantProto: "chat",
			wantOut: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
		},
		{
			name: "no common subprotocol selects none, extra headers sorted",
			u: Upgrader{Protocols: []string{"mqtt"}, CheckOrigin: acceptAll,
				Header: http.Header{"Server": {"netkit"}, "Set-Cookie": {"a=1", "b=2"}}},
			wire: sampleRequest,
			wantOut: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nServer: netkit\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
		},
		{
			name:    "default origin check refuses a cross-origin request with 403",
			u:       Upgrader{Protocols: []string{"chat"}},
			wire:    sampleRequest,
			wantErr: ErrOriginDenied,
			wantOut: "HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 19\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\n\r\norigin not allowed\n",
		},
		{
			name: "default origin check accepts the same origin",
			u:    Upgrader{},
			wire: strings.Replace(sampleRequest, "Origin: http://example.com", "Origin: https://Server.Example.com", 1),
			wantOut: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
		},
		{
			name:    "CheckOrigin false is 403",
			u:       Upgrader{CheckOrigin: func(*ServerRequest) bool { return false }},
			wire:    strings.Replace(sampleRequest, "Origin: http://example.com\r\n", "", 1),
			wantErr: ErrOriginDenied,
			wantOut: "HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 19\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\n\r\norigin not allowed\n",
		},
		{
			name:    "version 8 gets 426 with Sec-WebSocket-Version: 13 and the Upgrader's headers",
			u:       Upgrader{CheckOrigin: acceptAll, Header: http.Header{"Server": {"netkit"}}},
			wire:    strings.Replace(sampleRequest, "Version: 13", "Version: 8", 1),
			wantErr: ErrBadVersion,
			wantOut: "HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Length: 43\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\nSec-Websocket-Version: 13\r\nServer: netkit\r\n\r\n" +
				"unsupported Sec-WebSocket-Version, want 13\n",
		},
		{
			name:    "missing Upgrade gets 400",
			u:       Upgrader{CheckOrigin: acceptAll},
			wire:    strings.Replace(sampleRequest, "Upgrade: websocket\r\n", "", 1),
			wantErr: ErrNoUpgrade,
			wantOut: "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 27\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\n\r\nmissing Upgrade: websocket\n",
		},
		{
			name:    "invalid Upgrader.Header gets 500 and a HeaderError",
			u:       Upgrader{Header: http.Header{"Sec-WebSocket-Accept": {"x"}}},
			wire:    sampleRequest,
			wantErr: ErrInvalidHeader,
			wantOut: "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 21\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\n\r\nserver misconfigured\n",
		},
		{
			name:    "nothing written when the client closes first",
			u:       Upgrader{},
			wire:    "GET / HTTP/1.1\r\n",
			wantErr: io.ErrUnexpectedEOF,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			br := bufio.NewReader(strings.NewReader(tt.wire + "after"))
			_, proto, err := tt.u.Upgrade(br, &out)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if proto != tt.wantProto {
				t.Errorf("protocol %q, want %q", proto, tt.wantProto)
			}
			if out.String() != tt.wantOut {
				t.Errorf("wrote\n%q\nwant\n%q", out.String(), tt.wantOut)
			}
			if err == nil {
				if rest, _ := io.ReadAll(br); string(rest) != "after" {
					t.Errorf("left %q", rest)
				}
			}
		})
	}
}

// countingWriter counts Write calls.
type countingWriter struct {
	bytes.Buffer
	calls int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.calls++
	return w.Buffer.Write(p)
}

func TestUpgradeWritesOnce(t *testing.T) {
	for _, wire := range []string{sampleRequest, "POST / HTTP/1.1\r\n\r\n"} {
		var w countingWriter
		_, _, _ = (&Upgrader{CheckOrigin: func(*ServerRequest) bool { return true }}).Upgrade(bufio.NewReader(strings.NewReader(wire)), &w)
		if w.calls != 1 {
			t.Errorf("%d writes for %q", w.calls, wire[:4])
		}
	}
}

func TestUpgradeReportsWriteError(t *testing.T) {
	wErr := errors.New("broken pipe")
	_, _, err := (&Upgrader{CheckOrigin: func(*ServerRequest) bool { return true }}).Upgrade(
		bufio.NewReader(strings.NewReader(sampleRequest)), errWriter{wErr})
	if !errors.Is(err, wErr) {
		t.Fatalf("err = %v", err)
	}
	_, _, err = (&Upgrader{}).Upgrade(bufio.NewReader(strings.NewReader("POST / HTTP/1.1\r\n\r\n")), errWriter{wErr})
	if !errors.Is(err, ErrBadMethod) || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("err = %v", err)
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestAppendResponseSkipsUnsafeInput(t *testing.T) {
	got := AppendResponse(nil, sampleKey, "bad proto\r\nX: y", http.Header{
		"X-Ok": {"1"}, "X-Bad": {"a\r\nInjected: 1"}, "Connection": {"close"}, "Bad Name": {"v"}})
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + sampleAccept + "\r\nX-Ok: 1\r\n\r\n"
	if string(got) != want {
		t.Fatalf("got %q", got)
	}
}

func TestWriteRejectChecksInput(t *testing.T) {
	var b bytes.Buffer
	if err := WriteReject(&b, 101, "x", nil); err == nil {
		t.Error("status 101 accepted")
	}
	if err := WriteReject(&b, 600, "x", nil); err == nil {
		t.Error("status 600 accepted")
	}
	if err := WriteReject(&b, 400, "x", http.Header{"Content-Length": {"1"}}); !errors.Is(err, ErrInvalidHeader) {
		t.Errorf("Content-Length accepted: %v", err)
	}
	if err := WriteReject(&b, 400, "x", http.Header{"X": {"a\nb"}}); !errors.Is(err, ErrInvalidHeader) {
		t.Errorf("LF accepted: %v", err)
	}
	if b.Len() != 0 {
		t.Errorf("wrote %q", b.String())
	}
	if err := WriteReject(&b, 401, "{}", http.Header{"content-type": {"application/json"}}); err != nil {
		t.Fatal(err)
	}
	want := "HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 3\r\ncontent-type: application/json\r\n\r\n{}\n"
	if b.String() != want {
		t.Errorf("got %q", b.String())
	}
}

// TestClientServerRoundTrip runs our client request through our server and the server's
// response through our client, for each way of negotiating.
func TestClientServerRoundTrip(t *testing.T) {
	tests := []struct {
		name          string
		offer, speaks []string
		want          string
	}{
		{"client preference wins", []string{"v2", "v1"}, []string{"v1", "v2"}, "v2"},
		{"server speaks only the second", []string{"v2", "v1"}, []string{"v1"}, "v1"},
		{"no overlap", []string{"v2"}, []string{"v1"}, ""},
		{"nothing offered", nil, []string{"v1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := NewKey()
			creq := &Request{Host: "h:1", Path: "/ws", Protocols: tt.offer, Origin: "http://h:1",
				Extensions: []string{"permessage-deflate"}, Header: http.Header{"Authorization": {"Bearer x"}}}
			wire, err := creq.Append(nil, key)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			sreq, proto, err := (&Upgrader{Protocols: tt.speaks}).Upgrade(bufio.NewReader(bytes.NewReader(wire)), &out)
			if err != nil || proto != tt.want || sreq.Key != key || sreq.Header.Get("Authorization") != "Bearer x" ||
				!reflect.DeepEqual(sreq.Extensions, []string{"permessage-deflate"}) {
				t.Fatalf("server: %v %q %+v", err, proto, sreq)
			}
			resp, err := ReadResponse(bufio.NewReader(&out), creq, key, nil)
			if err != nil || resp.Subprotocol != tt.want || resp.Extensions != nil {
				t.Fatalf("client: %v %+v", err, resp)
			}
		})
	}
}
