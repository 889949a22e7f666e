package handshake

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// typical101 is a 101 as gobwas/ws, nginx and most servers send it: the three required
// headers, a subprotocol, Server and Date.
const typical101 = "HTTP/1.1 101 Switching Protocols\r\nServer: nginx/1.25.3\r\nDate: Tue, 25 Nov 2025 04:16:00 GMT\r\n" +
	"Connection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + sampleAccept + "\r\n" +
	"Sec-WebSocket-Protocol: chat\r\n\r\n"

// browserRequest is a handshake as Chrome sends it.
const browserRequest = "GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\nConnection: Upgrade\r\nPragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n" +
	"Upgrade: websocket\r\nOrigin: https://server.example.com\r\nSec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: " + sampleKey + "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"Sec-WebSocket-Protocol: chat, superchat\r\n\r\n"

func benchReadResponse(b *testing.B, wire string) {
	r := strings.NewReader(wire)
	br := bufio.NewReaderSize(r, 4096)
	req := &Request{Protocols: []string{"chat", "superchat"}}
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		r.Reset(wire)
		br.Reset(r)
		if _, err := ReadResponse(br, req, sampleKey, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadResponse(b *testing.B) {
	b.Run("minimal", func(b *testing.B) { benchReadResponse(b, ok101+"\r\n") })
	b.Run("typical", func(b *testing.B) { benchReadResponse(b, typical101) })
}

// BenchmarkStdlibReadResponse is net/http's parser on the same bytes, for reference only
// (it does not validate the handshake).
func BenchmarkStdlibReadResponse(b *testing.B) {
	r := strings.NewReader(typical101)
	br := bufio.NewReaderSize(r, 4096)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(typical101)
		br.Reset(r)
		if _, err := http.ReadResponse(br, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRequestAppend(b *testing.B) {
	req := &Request{Host: "server.example.com", Path: "/chat?room=1", Protocols: []string{"chat", "superchat"},
		Origin: "https://server.example.com",
		Header: http.Header{"Authorization": {"Bearer abcdef"}, "User-Agent": {"netkit/1.0"}}}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = req.Append(buf[:0], sampleKey); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkReadRequest(b *testing.B) {
	r := strings.NewReader(browserRequest)
	br := bufio.NewReaderSize(r, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(browserRequest)))
	for b.Loop() {
		r.Reset(browserRequest)
		br.Reset(r)
		if _, err := ReadRequest(br, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpgrade(b *testing.B) {
	u := &Upgrader{Protocols: []string{"chat"}}
	r := strings.NewReader(browserRequest)
	br := bufio.NewReaderSize(r, 4096)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(browserRequest)
		br.Reset(r)
		if _, _, err := u.Upgrade(br, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendResponse(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendResponse(buf[:0], sampleKey, "chat", nil)
	}
	if !bytes.Contains(buf, []byte(sampleAccept)) {
		b.Fatal("bad response")
	}
}

func BenchmarkAcceptKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = AcceptKey(sampleKey)
	}
}

func BenchmarkNewKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = NewKey()
	}
}
