package client

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConnectRejectsBadURLWith2302001(t *testing.T) {
	tests := []struct{ name, url string }{
		{"http scheme", "http://example.com/"},
		{"https scheme", "https://example.com/"},
		{"no scheme", "example.com/chat"},
		{"empty", ""},
		{"unparsable", "ws://[::1"},
		{"bad percent escape", "ws://host/%zz"},
		{"no host", "ws:///path"},
		{"opaque", "ws:host"},
		{"port out of range", "ws://host:70000/"},
		{"port zero", "ws://host:0/"},
		{"fragment", "ws://host/path#frag"},
		{"empty fragment", "ws://host/path#"},
		{"too long", "ws://host/" + strings.Repeat("a", MaxURLLength)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := CreateWebSocket()
			done := make(chan *AsyncError, 1)
			err := ws.Connect(tt.url, nil, NewWebSocketAsyncCallback(func(e *AsyncError, ok bool) {
				if ok {
					t.Error("callback says started")
				}
				done <- e
			}))
			if CodeOf(err) != CodeURLError {
				t.Fatalf("Connect(%q) = %v, want code 2302001", tt.url, err)
			}
			if e := <-done; e == nil || e.Code != CodeURLError {
				t.Fatalf("callback got %v", e)
			}
			wait(t, ws)
		})
	}
}

func TestURLErrorsNeverShowCredentials(t *testing.T) {
	for _, u := range []string{"http://user:s3cret@host/", "ws://user:s3cret@[::1/", "ws://user:s3cret@host/%zz", "wss://user:s3cret@host/#x"} {
		_, err := parseURL(u)
		if err == nil {
			t.Fatalf("%q accepted", u)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("error shows the password: %v", err)
		}
	}
	// A bad percent-escape inside the password: url.EscapeError quotes the escape, which is
	// part of the secret, so the error must not show it.
	for _, u := range []string{"ws://user:s3%zzcr3t@host/", "wss://us%e%r:pw@host/"} {
		_, err := parseURL(u)
		if err == nil {
			t.Fatalf("%q accepted", u)
		}
		if strings.Contains(err.Error(), "%zz") || strings.Contains(err.Error(), "%e%") {
			t.Fatalf("error quotes the escape of the user information: %v", err)
		}
	}
}

func TestParseURLAcceptsWsAndWss(t *testing.T) {
	for _, raw := range []string{"ws://127.0.0.1:8080/chat?room=1", "WSS://Example.com", "ws://[::1]:9/", "wss://h/p%20q"} {
		u, err := parseURL(raw)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		if u.Scheme != "ws" && u.Scheme != "wss" {
			t.Fatalf("%q: scheme %q", raw, u.Scheme)
		}
	}
}

func TestCloseOptionsValidationIs401(t *testing.T) {
	tests := []struct {
		name string
		opts *WebSocketCloseOptions
		code uint32
		want error // nil: valid
	}{
		{"nil is 1000", nil, 1000, nil},
		{"zero code is 1000", &WebSocketCloseOptions{}, 1000, nil},
		{"default constructor", NewWebSocketCloseOptions(), 1000, nil},
		{"1001", &WebSocketCloseOptions{Code: 1001}, 1001, nil},
		{"1003", &WebSocketCloseOptions{Code: 1003}, 1003, nil},
		{"1007", &WebSocketCloseOptions{Code: 1007}, 1007, nil},
		{"1014", &WebSocketCloseOptions{Code: 1014}, 1014, nil},
		{"3000", &WebSocketCloseOptions{Code: 3000}, 3000, nil},
		{"4999", &WebSocketCloseOptions{Code: 4999}, 4999, nil},
		{"999", &WebSocketCloseOptions{Code: 999}, 0, ErrCloseCode},
		{"1004 reserved", &WebSocketCloseOptions{Code: 1004}, 0, ErrCloseCode},
		{"1005 no status", &WebSocketCloseOptions{Code: 1005}, 0, ErrCloseCode},
		{"1006 abnormal", &WebSocketCloseOptions{Code: 1006}, 0, ErrCloseCode},
		{"1015 TLS", &WebSocketCloseOptions{Code: 1015}, 0, ErrCloseCode},
		{"1016", &WebSocketCloseOptions{Code: 1016}, 0, ErrCloseCode},
		{"2999", &WebSocketCloseOptions{Code: 2999}, 0, ErrCloseCode},
		{"5000", &WebSocketCloseOptions{Code: 5000}, 0, ErrCloseCode},
		{"beyond uint16", &WebSocketCloseOptions{Code: 1 << 16}, 0, ErrCloseCode},
		{"reason 123 bytes", &WebSocketCloseOptions{Code: 1000, Reason: strings.Repeat("r", 123)}, 1000, nil},
		{"reason 124 bytes", &WebSocketCloseOptions{Code: 1000, Reason: strings.Repeat("r", 124)}, 0, ErrCloseReason},
		{"reason not UTF-8", &WebSocketCloseOptions{Code: 1000, Reason: "\xff"}, 0, ErrCloseReason},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, err := resolveClose(tt.opts)
			if tt.want == nil {
				if err != nil || code != tt.code {
					t.Fatalf("got %d, %v; want %d", code, err, tt.code)
				}
				return
			}
			if CodeOf(err) != CodeParameterError || !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want 401 %v", err, tt.want)
			}
			// Close checks its options before its state: 401 even without a connection.
			ws := CreateWebSocket()
			if err := ws.Close(nil, tt.opts); CodeOf(err) != CodeParameterError {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

func TestRequestOptionsDefaultsAndValidation(t *testing.T) {
	dir := t.TempDir()
	pem := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(pem, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	host := "proxy.local"
	tests := []struct {
		name string
		opts *WebSocketRequestOptions
		code int32 // 0: valid
	}{
		{"nil", nil, 0},
		{"defaults", NewWebSocketRequestOptions(), 0},
		{"zero struct", &WebSocketRequestOptions{}, 0},
		{"headers", &WebSocketRequestOptions{Header: map[string]string{"Content-Type": "application/json", "X-A": "b\tc"}}, 0},
		{"header name with space", &WebSocketRequestOptions{Header: map[string]string{"Bad Name": "v"}}, CodeParameterError},
		{"header value with CRLF", &WebSocketRequestOptions{Header: map[string]string{"X": "a\r\nEvil: 1"}}, CodeParameterError},
		{"header value with NUL", &WebSocketRequestOptions{Header: map[string]string{"X": "a\x00"}}, CodeParameterError},
		{"handshake-owned header", &WebSocketRequestOptions{Header: map[string]string{"sec-websocket-key": "x"}}, CodeParameterError},
		{"one protocol", &WebSocketRequestOptions{Protocol: "chat"}, 0},
		{"protocol list", &WebSocketRequestOptions{Protocol: "chat, superchat"}, 0},
		{"protocol with space", &WebSocketRequestOptions{Protocol: "two words"}, CodeParameterError},
		{"protocol empty item", &WebSocketRequestOptions{Protocol: "a,,b"}, CodeParameterError},
		{"protocol twice", &WebSocketRequestOptions{Protocol: "a,a"}, CodeParameterError},
		{"explicit CA exists", &WebSocketRequestOptions{CAPath: pem}, 0},
		{"explicit CA directory", &WebSocketRequestOptions{CAPath: dir}, 0},
		{"explicit CA missing", &WebSocketRequestOptions{CAPath: missing}, CodeFileNotExist},
		{"client cert exists", &WebSocketRequestOptions{ClientCert: &WebSocketClientCert{CertPath: pem, KeyPath: pem}}, 0},
		{"client cert missing", &WebSocketRequestOptions{ClientCert: &WebSocketClientCert{CertPath: missing, KeyPath: pem}}, CodeFileNotExist},
		{"client key missing", &WebSocketRequestOptions{ClientCert: &WebSocketClientCert{CertPath: pem, KeyPath: missing}}, CodeFileNotExist},
		{"client cert without key", &WebSocketRequestOptions{ClientCert: &WebSocketClientCert{CertPath: pem}}, CodeParameterError},
		{"no proxy", &WebSocketRequestOptions{Proxy: NoProxy{}}, 0},
		{"http proxy", &WebSocketRequestOptions{Proxy: HTTPProxy{Proxy: &WebSocketHttpProxy{Host: &host}}}, 0},
		{"http proxy nil", &WebSocketRequestOptions{Proxy: HTTPProxy{}}, CodeParameterError},
		{"http proxy no host", &WebSocketRequestOptions{Proxy: HTTPProxy{Proxy: &WebSocketHttpProxy{}}}, CodeParameterError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, err := resolveRequest(tt.opts)
			if CodeOf(err) != tt.code {
				t.Fatalf("got %v, want code %d", err, tt.code)
			}
			if err != nil {
				ws := CreateWebSocket()
				if err := ws.Connect(testURL, tt.opts, nil); CodeOf(err) != tt.code {
					t.Fatalf("Connect: %v", err)
				}
				return
			}
			if r.CAPath == "" {
				t.Error("CAPath left empty")
			}
			if r.Proxy == nil {
				t.Error("nil proxy not mapped to SYSTEM")
			}
		})
	}
}

func TestNilProxyMeansSystem(t *testing.T) {
	r, _, err := resolveRequest(&WebSocketRequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Proxy.(SystemProxy); !ok {
		t.Fatalf("proxy %T", r.Proxy)
	}
}

func TestSeedDefaults(t *testing.T) {
	o := NewWebSocketRequestOptions()
	if o.CAPath != "/etc/ssl/certs/cacert.pem" || o.Header != nil || o.ClientCert != nil || o.Protocol != "" ||
		o.PingInterval != 30 || o.PongTimeout != 30 || o.SkipServerCertVerification || o.MaxMessageSize != 0 {
		t.Fatalf("defaults %+v", o)
	}
	if _, ok := o.Proxy.(SystemProxy); !ok {
		t.Fatalf("default proxy %T", o.Proxy)
	}
	if c := NewWebSocketCloseOptions(); c.Code != 1000 || c.Reason != "" {
		t.Fatalf("close defaults %+v", c)
	}
}

func TestSendValidation(t *testing.T) {
	ws := CreateWebSocket()
	if err := ws.Send(nil, nil); CodeOf(err) != CodeParameterError || !errors.Is(err, ErrNilArgument) {
		t.Fatalf("nil data: %v", err)
	}
	if err := ws.Send(StringData("\xc0\xaf"), nil); CodeOf(err) != CodeParameterError || !errors.Is(err, ErrTextNotUTF8) {
		t.Fatalf("bad UTF-8: %v", err)
	}
}

func TestErrorsCarryCodeAndWrapCause(t *testing.T) {
	cause := errors.New("boom")
	be := newBusiness(CodeOtherError, cause)
	ae := newAsync(CodeURLError, cause)
	for _, err := range []error{be, ae} {
		if !errors.Is(err, cause) {
			t.Errorf("%T does not wrap its cause", err)
		}
	}
	if got, want := be.Error(), "websocket error 2302999 (other error): boom"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var target *AsyncError
	if !errors.As(error(ae), &target) || target.Code != 2302001 {
		t.Error("errors.As on *AsyncError")
	}
	if CodeOf(errors.Join(errors.New("x"))) != 0 || CodeOf(nil) != 0 {
		t.Error("CodeOf without code")
	}
	wrapped := errorsWrap(be)
	if CodeOf(wrapped) != CodeOtherError {
		t.Error("CodeOf through a wrapper")
	}
}

type wrapErr struct{ err error }

func (w wrapErr) Error() string { return "wrap: " + w.err.Error() }
func (w wrapErr) Unwrap() error { return w.err }

func errorsWrap(err error) error { return wrapErr{err} }

func TestNamesOfEventsAndData(t *testing.T) {
	want := []string{"OPEN", "MESSAGE", "CLOSE", "ERROR", "DATAEND", "HEADERRECEIVE"}
	for i, w := range want {
		if got := OnOffType(i).String(); got != w {
			t.Errorf("OnOffType(%d) = %q, want %q", i, got, w)
		}
	}
	if got := OnOffType(9).String(); got != "OnOffType(9)" {
		t.Errorf("unknown: %q", got)
	}
	if got := StringData("hi").String(); got != "hi" {
		t.Errorf("StringData: %q", got)
	}
	if got := (ArrayData{1, 2}).String(); got != "ARRAY_DATA(2 bytes: 0102)" {
		t.Errorf("ArrayData: %q", got)
	}
	if got := ArrayData(make([]byte, 20)).String(); !strings.HasSuffix(got, "...)") {
		t.Errorf("long ArrayData: %q", got)
	}
}

func TestResponseHeadersMapJoinsRepeats(t *testing.T) {
	h := &handshakeInfo{fields: []headerField{{Name: "Set-Cookie", Value: "a=1"}, {Name: "X", Value: "y"}, {Name: "Set-Cookie", Value: "b=2"}}}
	m := h.responseHeaders().(MapData)
	if m["Set-Cookie"] != "a=1, b=2" || m["X"] != "y" || len(m) != 2 {
		t.Fatalf("%v", m)
	}
	if _, ok := (&handshakeInfo{}).responseHeaders().(UndefinedData); !ok {
		t.Fatal("no fields should be UNDEFINED_DATA")
	}
}
