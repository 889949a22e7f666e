package handshake

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestRequestAppendExactBytes(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{
			name: "minimal request asks for slash",
			req:  Request{Host: "example.com"},
			want: "GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: " + sampleKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n",
		},
		{
			name: "RFC 6455 section 1.3 sample",
			req: Request{Host: "server.example.com", Path: "/chat", Protocols: []string{"chat", "superchat"},
				Origin: "http://example.com"},
			want: "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
				"Sec-WebSocket-Protocol: chat, superchat\r\nOrigin: http://example.com\r\n\r\n",
		},
		{
			name: "extensions joined, user headers sorted and repeated values on own lines",
			req: Request{Host: "[::1]:8080", Path: "/a/b?x=1&y=%20", Extensions: []string{
				"permessage-deflate; client_max_window_bits", "x-foo;a=\"b,c\""},
				Header: http.Header{"X-B": {"2", "3"}, "Authorization": {"Bearer abc"}, "x-a": {"\tv\t"},
					"Cookie": {"k=é"}, "X-Empty": {""}}},
			want: "GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: [::1]:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: " + sampleKey + "\r\nSec-WebSocket-Version: 13\r\n" +
				"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo;a=\"b,c\"\r\n" +
				"Authorization: Bearer abc\r\nCookie: k=é\r\nX-B: 2\r\nX-B: 3\r\nX-Empty: \r\nx-a: v\r\n\r\n",
		},
		{
			name: "Origin in Header allowed when Request.Origin is empty",
			req:  Request{Host: "h", Header: http.Header{"Origin": {"https://h"}}},
			want: "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: " + sampleKey + "\r\nSec-WebSocket-Version: 13\r\nOrigin: https://h\r\n\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.req.Append([]byte("prefix"), sampleKey)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix"+tt.want {
				t.Fatalf("got\n%q\nwant\n%q", got, "prefix"+tt.want)
			}
		})
	}
}

// secret stands for a credential in a header value; no error message may contain it.
const secret = "s3cr3t-T0KEN"

func TestRequestAppendRejectsInjectionAndOwnedHeaders(t *testing.T) {
	tests := []struct {
		name     string
		req      Request
		key      string
		wantErr  error
		wantName string // the header the message must name
	}{
		{"CR in value", Request{Header: http.Header{"X-Token": {"a\r" + secret}}}, "", ErrInvalidHeader, "X-Token"},
		{"LF in value", Request{Header: http.Header{"X-Token": {"a\n" + secret}}}, "", ErrInvalidHeader, "X-Token"},
		{"NUL in value", Request{Header: http.Header{"X-Token": {secret + "\x00"}}}, "", ErrInvalidHeader, "X-Token"},
		{"CRLF header injection in value", Request{Header: http.Header{"Authorization": {"Bearer " + secret + "\r\nHost: evil"}}}, "", ErrInvalidHeader, "Authorization"},
		{"second value with CR", Request{Header: http.Header{"Cookie": {"ok", secret + "\r"}}}, "", ErrInvalidHeader, "Cookie"},
		{"other control byte in value", Request{Header: http.Header{"X-Token": {secret + "\x01"}}}, "", ErrInvalidHeader, "X-Token"},
		{"DEL in value", Request{Header: http.Header{"X-Token": {secret + "\x7f"}}}, "", ErrInvalidHeader, "X-Token"},
		{"CR in name", Request{Header: http.Header{"X-A\r\nX-B": {"v"}}}, "", ErrInvalidHeader, "X-A"},
		{"NUL in name", Request{Header: http.Header{"X-A\x00": {"v"}}}, "", ErrInvalidHeader, "X-A"},
		{"space in name", Request{Header: http.Header{"X Token": {"v"}}}, "", ErrInvalidHeader, "X"},
		{"whole line as name hides the credential", Request{Header: http.Header{"Authorization: Bearer " + secret: {""}}}, "", ErrInvalidHeader, "Authorization"},
		{"empty name", Request{Header: http.Header{"": {"v"}}}, "", ErrInvalidHeader, `""`},
		{"owned Host", Request{Header: http.Header{"host": {secret}}}, "", ErrInvalidHeader, "host"},
		{"owned Upgrade", Request{Header: http.Header{"UPGRADE": {secret}}}, "", ErrInvalidHeader, "UPGRADE"},
		{"owned Connection", Request{Header: http.Header{"Connection": {secret}}}, "", ErrInvalidHeader, "Connection"},
		{"owned Sec-WebSocket-Key", Request{Header: http.Header{"Sec-WebSocket-Key": {secret}}}, "", ErrInvalidHeader, "Sec-WebSocket-Key"},
		{"owned Sec-WebSocket-Version", Request{Header: http.Header{"sec-websocket-version": {secret}}}, "", ErrInvalidHeader, "sec-websocket-version"},
		{"owned Sec-WebSocket-Accept", Request{Header: http.Header{"Sec-Websocket-Accept": {secret}}}, "", ErrInvalidHeader, "Sec-Websocket-Accept"},
		{"owned Sec-WebSocket-Protocol", Request{Header: http.Header{"Sec-WebSocket-Protocol": {secret}}}, "", ErrInvalidHeader, "Sec-WebSocket-Protocol"},
		{"owned Sec-WebSocket-Extensions", Request{Header: http.Header{"Sec-WebSocket-Extensions": {secret}}}, "", ErrInvalidHeader, "Sec-WebSocket-Extensions"},
		{"owned Content-Length", Request{Header: http.Header{"Content-Length": {"0"}}}, "", ErrInvalidHeader, "Content-Length"},
		{"owned Transfer-Encoding", Request{Header: http.Header{"Transfer-Encoding": {"chunked"}}}, "", ErrInvalidHeader, "Transfer-Encoding"},
		{"Origin twice", Request{Origin: "https://a", Header: http.Header{"origin": {secret}}}, "", ErrInvalidHeader, "origin"},
		{"CR in Origin", Request{Origin: "https://a\r\n" + secret}, "", ErrInvalidHeader, "Origin"},
		{"empty subprotocol", Request{Protocols: []string{"chat", ""}}, "", ErrInvalidHeader, "Sec-WebSocket-Protocol"},
		{"subprotocol with space", Request{Protocols: []string{"bearer " + secret}}, "", ErrInvalidHeader, "Sec-WebSocket-Protocol"},
		{"subprotocol with comma", Request{Protocols: []string{"a," + secret}}, "", ErrInvalidHeader, "Sec-WebSocket-Protocol"},
		{"subprotocol with CRLF", Request{Protocols: []string{secret + "\r\nX: y"}}, "", ErrInvalidHeader, "Sec-WebSocket-Protocol"},
		{"duplicate subprotocol", Request{Protocols: []string{secret, "b", secret}}, "", ErrInvalidHeader, "Sec-WebSocket-Protocol"},
		{"extension with CRLF", Request{Extensions: []string{"x\r\n" + secret}}, "", ErrInvalidHeader, "Sec-WebSocket-Extensions"},
		{"malformed extension", Request{Extensions: []string{"x;;" + secret}}, "", ErrInvalidHeader, "Sec-WebSocket-Extensions"},
		{"empty extension", Request{Extensions: []string{" "}}, "", ErrInvalidHeader, "Sec-WebSocket-Extensions"},
		{"empty Host", Request{Host: "-"}, "", ErrInvalidHeader, "Host"},
		{"Host with CRLF", Request{Host: "a\r\nX: " + secret}, "", ErrInvalidHeader, "Host"},
		{"Host with userinfo", Request{Host: "user:" + secret + "@h"}, "", ErrInvalidHeader, "Host"},
		{"Path without slash", Request{Path: "chat"}, "", ErrInvalidRequest, "Path"},
		{"Path with space", Request{Path: "/a b"}, "", ErrInvalidRequest, "Path"},
		{"Path with CRLF", Request{Path: "/a\r\nX: " + secret}, "", ErrInvalidRequest, "Path"},
		{"key not base64 of 16 bytes", Request{}, "abc", ErrBadKey, "Sec-WebSocket-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req
			switch r.Host {
			case "":
				r.Host = "example.com"
			case "-":
				r.Host = ""
			}
			key := tt.key
			if key == "" {
				key = sampleKey
			}
			dst := []byte("keep")
			got, err := r.Append(dst, key)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if string(got) != "keep" {
				t.Errorf("dst changed to %q", got)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "websocket: handshake: ") {
				t.Errorf("message %q lacks the prefix", msg)
			}
			if !strings.Contains(msg, tt.wantName) {
				t.Errorf("message %q does not name %q", msg, tt.wantName)
			}
			if strings.Contains(msg, secret) || strings.ContainsAny(msg, "\r\n\x00") {
				t.Errorf("message %q echoes the value", msg)
			}
			var he *HeaderError
			if errors.Is(tt.wantErr, ErrInvalidHeader) && !errors.As(err, &he) {
				t.Errorf("%T is not a *HeaderError", err)
			}
		})
	}
}
