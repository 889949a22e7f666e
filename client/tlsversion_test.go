package client

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/netkit/websocket/internal/wstest"
)

// The platform's minSupportTlsProtocol (issue 12): WebSocketRequestOptions.MinSupportTlsProtocol.

func TestTlsProtocolValuesAndNames(t *testing.T) {
	for _, tt := range []struct {
		p    TlsProtocol
		wire uint16
		name string
	}{{TLSV10, tls.VersionTLS10, "TLS_V_1_0"}, {TLSV11, tls.VersionTLS11, "TLS_V_1_1"},
		{TLSV12, tls.VersionTLS12, "TLS_V_1_2"}, {TLSV13, tls.VersionTLS13, "TLS_V_1_3"},
		{0, 0, "default"}, {0x0305, 0x0305, "TlsProtocol(0x305)"}} {
		if uint16(tt.p) != tt.wire || tt.p.String() != tt.name {
			t.Errorf("%#x: %#x %q, want %#x %q", uint16(tt.p), uint16(tt.p), tt.p.String(), tt.wire, tt.name)
		}
	}
	// Invalid values are 401 from Connect, before any I/O, and reported to its callback.
	for _, bad := range []TlsProtocol{1, 0x0300, 0x0305, 0xffff} {
		ws := CreateWebSocket()
		got := make(chan int32, 1)
		opts := realOptions()
		opts.MinSupportTlsProtocol = bad
		err := ws.Connect("wss://127.0.0.1:1/", opts, NewWebSocketAsyncCallback(func(e *AsyncError, _ bool) {
			if e != nil {
				got <- e.Code
			} else {
				got <- 0
			}
		}))
		if CodeOf(err) != CodeParameterError || !strings.Contains(err.Error(), "MinSupportTlsProtocol") {
			t.Errorf("%v: Connect returned %v, want 401 naming MinSupportTlsProtocol", bad, err)
		}
		if c := <-got; c != CodeParameterError {
			t.Errorf("%v: callback got %d, want 401", bad, c)
		}
		wait(t, ws)
	}
}

// TestRealMinSupportTlsProtocolAgainstServersOfEachMaximum dials two real TLS servers on
// loopback, one whose highest version is TLS 1.2 and one that speaks TLS 1.3: a client that
// requires TLS 1.3 fails against the first with a protocol version error and works with the
// second; with the default (TLS 1.2) it works with both.
func TestRealMinSupportTlsProtocolAgainstServersOfEachMaximum(t *testing.T) {
	cert, caFile := selfSigned(t)
	srv12 := wstest.New(t, echo, func(s *wstest.Server) {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12}
	})
	srv13 := wstest.New(t, echo, func(s *wstest.Server) {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	})
	ws := CreateWebSocket()
	r := newRecorder(t, ws)
	errs := make(chan *BusinessException, 4)
	_ = ws.On(EventError, NewWebSocketErrorCallback(func(e *BusinessException) { errs <- e }))
	opts := func(min TlsProtocol) *WebSocketRequestOptions {
		o := realOptions()
		o.CAPath = caFile
		o.MinSupportTlsProtocol = min
		return o
	}

	// TLS 1.3 required, the server stops at 1.2: the handshake fails with a clear error.
	if err := ws.Connect(srv12.URL, opts(TLSV13), nil); err != nil {
		t.Fatal(err)
	}
	ev := r.until("CLOSE")
	if len(ev) != 2 || ev[0] != "ERROR 2302999" || !strings.HasPrefix(ev[1], "CLOSE 1006 connect failed") {
		t.Fatalf("TLS 1.3 against a TLS 1.2 server: events %q", ev)
	}
	e := <-errs
	if msg := e.Error(); !strings.Contains(msg, "TLS handshake") || !strings.Contains(msg, "protocol version") {
		t.Fatalf("error %q does not say the TLS versions did not match", msg)
	} else {
		t.Logf("TLS 1.3 required against a TLS 1.2 server: %s", msg)
	}

	// The same option against a TLS 1.3 server: open, and the echo works.
	_ = ws.Connect(srv13.URL, opts(TLSV13), nil)
	r.until("OPEN")
	_ = ws.Send(StringData("over tls 1.3"), nil)
	r.expect("MESSAGE text over tls 1.3", "DATAEND")
	_ = ws.Close(nil, nil)
	r.until("CLOSE 1000")

	// The default (TLS 1.2) still reaches the TLS 1.2 server, and so does TLSV12.
	for _, min := range []TlsProtocol{0, TLSV12} {
		_ = ws.Connect(srv12.URL, opts(min), nil)
		r.until("OPEN")
		_ = ws.Close(nil, nil)
		r.until("CLOSE 1000")
	}
	wait(t, ws)
}
