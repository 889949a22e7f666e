package handshake

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

const ok101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: " + sampleAccept + "\r\n"

// offer is the client request the response tests validate against.
var offer = &Request{Host: "example.com", Protocols: []string{"chat", "superchat"},
	Extensions: []string{"permessage-deflate; client_max_window_bits", "x-foo"}}

// readAll runs ReadResponse on wire through the reader wrap makes, with a bufio.Reader of size,
// and returns the response, the error and what is left in the reader afterwards.
func readAll(wire string, req *Request, lim *Limits, wrap func(io.Reader) io.Reader, size int) (*Response, string, error) {
	br := bufio.NewReaderSize(wrap(strings.NewReader(wire)), size)
	resp, err := ReadResponse(br, req, sampleKey, lim)
	rest, _ := io.ReadAll(br)
	return resp, string(rest), err
}

// sameResult reports whether two parses of the same bytes agree. For a header over the limits,
// which limit is hit first and how far the reader was consumed depend on the buffering;
// otherwise the reader must be left exactly after the header.
func sameResult(resp *Response, err error, rest string, resp2 *Response, err2 error, rest2 string) bool {
	if errors.Is(err, ErrHeaderTooLarge) || errors.Is(err2, ErrHeaderTooLarge) {
		return errors.Is(err, ErrHeaderTooLarge) && errors.Is(err2, ErrHeaderTooLarge)
	}
	return fmt.Sprint(err) == fmt.Sprint(err2) && reflect.DeepEqual(resp, resp2) && rest == rest2
}

// short cuts s for a failure message.
func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func same(r io.Reader) io.Reader { return r }

// readers are the ways the tests feed bytes: whole, one byte per Read, and through a
// 16-byte bufio.Reader (lines longer than the buffer).
var readers = []struct {
	name string
	wrap func(io.Reader) io.Reader
	size int
}{
	{"whole", same, 4096},
	{"one byte at a time", iotest.OneByteReader, 4096},
	{"16-byte buffer", same, 16},
	{"half reads, 16-byte buffer", iotest.HalfReader, 16},
}

// checkSameEverywhere parses wire in all the ways of readers and fails unless all agree.
func checkSameEverywhere(t *testing.T, wire string, req *Request, lim *Limits) (*Response, string, error) {
	t.Helper()
	resp, rest, err := readAll(wire, req, lim, same, 4096)
	for _, r := range readers[1:] {
		resp2, rest2, err2 := readAll(wire, req, lim, r.wrap, r.size)
		if !sameResult(resp, err, rest, resp2, err2, rest2) {
			t.Fatalf("%s: got (%s, %v, %q), whole read got (%s, %v, %q)", r.name,
				short(fmt.Sprint(resp2)), err2, short(rest2), short(fmt.Sprint(resp)), err, short(rest))
		}
	}
	return resp, rest, err
}

func TestReadResponseAccepts(t *testing.T) {
	tests := []struct {
		name       string
		wire       string
		wantProto  string
		wantExts   []string
		wantFields []Field
		wantHeader http.Header
	}{
		{
			name: "RFC 6455 section 1.3 sample with subprotocol",
			wire: ok101 + "Sec-WebSocket-Protocol: chat\r\n\r\n", wantProto: "chat",
			wantFields: []Field{{"Upgrade", "websocket"}, {"Connection", "Upgrade"},
				{"Sec-WebSocket-Accept", sampleAccept}, {"Sec-WebSocket-Protocol", "chat"}},
			wantHeader: http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"},
				"Sec-Websocket-Accept": {sampleAccept}, "Sec-Websocket-Protocol": {"chat"}},
		},
		{
			name: "bare LF line endings",
			wire: strings.ReplaceAll(ok101, "\r\n", "\n") + "\n",
		},
		{
			name: "names and tokens in any case, Connection token list, OWS around values",
			wire: "HTTP/1.1 101 Switching Protocols\r\nupgrade:WebSocket\r\nCONNECTION: \t keep-alive, Upgrade \t\r\n" +
				"sec-websocket-accept: " + sampleAccept + "  \r\n\r\n",
			wantFields: []Field{{"upgrade", "WebSocket"}, {"CONNECTION", "keep-alive, Upgrade"},
				{"sec-websocket-accept", sampleAccept}},
			wantHeader: http.Header{"Upgrade": {"WebSocket"}, "Connection": {"keep-alive, Upgrade"},
				"Sec-Websocket-Accept": {sampleAccept}},
		},
		{
			name: "repeated headers kept in order",
			wire: "HTTP/1.1 101 \r\nSet-Cookie: a=1\r\nUpgrade: websocket\r\nset-cookie: b=2\r\nConnection: upgrade\r\n" +
				"X-Odd-NAME: v\r\nSec-WebSocket-Accept: " + sampleAccept + "\r\nSet-Cookie: c=3\r\n\r\n",
			wantFields: []Field{{"Set-Cookie", "a=1"}, {"Upgrade", "websocket"}, {"set-cookie", "b=2"},
				{"Connection", "upgrade"}, {"X-Odd-NAME", "v"}, {"Sec-WebSocket-Accept", sampleAccept},
				{"Set-Cookie", "c=3"}},
			wantHeader: http.Header{"Set-Cookie": {"a=1", "b=2", "c=3"}, "Upgrade": {"websocket"},
				"Connection": {"upgrade"}, "X-Odd-Name": {"v"}, "Sec-Websocket-Accept": {sampleAccept}},
		},
		{
			name:      "second offered subprotocol, extensions from the offer with parameters",
			wire:      ok101 + "Sec-WebSocket-Protocol: superchat\r\nSec-WebSocket-Extensions: x-foo, Permessage-Deflate; client_max_window_bits=15\r\nSec-WebSocket-Extensions: x-foo;q=\"a,b\"\r\n\r\n",
			wantProto: "superchat",
			wantExts:  []string{"x-foo", "Permessage-Deflate; client_max_window_bits=15", "x-foo;q=\"a,b\""},
		},
		{
			name: "empty Sec-WebSocket-Protocol and Sec-WebSocket-Extensions select nothing",
			wire: ok101 + "Sec-WebSocket-Protocol: \r\nSec-WebSocket-Extensions:\r\n\r\n",
		},
		{
			name: "status line without reason phrase, obs-text in values",
			wire: "HTTP/1.1 101\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nServer: caf\xe9\r\n" +
				"Sec-WebSocket-Accept: " + sampleAccept + "\r\n\r\n",
		},
		{
			name: "HTTP/1.2 is later than 1.1",
			wire: "HTTP/1.2 101 OK\r\n" + ok101[len("HTTP/1.1 101 Switching Protocols\r\n"):] + "\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, rest, err := checkSameEverywhere(t, tt.wire+"\x81\x02hi", offer, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rest != "\x81\x02hi" {
				t.Errorf("left in the reader %q, want the frame", rest)
			}
			if resp.StatusCode != 101 || resp.Subprotocol != tt.wantProto || !reflect.DeepEqual(resp.Extensions, tt.wantExts) {
				t.Errorf("got status %d, subprotocol %q, extensions %q", resp.StatusCode, resp.Subprotocol, resp.Extensions)
			}
			if tt.wantFields != nil && !reflect.DeepEqual(resp.Fields, tt.wantFields) {
				t.Errorf("Fields = %q, want %q", resp.Fields, tt.wantFields)
			}
			if tt.wantHeader != nil && !reflect.DeepEqual(resp.Header, tt.wantHeader) {
				t.Errorf("Header = %q, want %q", resp.Header, tt.wantHeader)
			}
		})
	}
}

func TestReadResponseStatusLineReasonPhrase(t *testing.T) {
	resp, _, err := readAll(ok101+"\r\n", nil, nil, same, 4096)
	if err != nil || resp.Status != "Switching Protocols" {
		t.Fatalf("Status = %q, err %v", resp.Status, err)
	}
}

func TestReadResponseRejects(t *testing.T) {
	up, conn, acc := "Upgrade: websocket\r\n", "Connection: Upgrade\r\n", "Sec-WebSocket-Accept: "+sampleAccept+"\r\n"
	head := "HTTP/1.1 101 Switching Protocols\r\n"
	tests := []struct {
		name    string
		wire    string
		req     *Request
		wantErr error
	}{
		{"no Upgrade header", head + conn + acc + "\r\n", offer, ErrNoUpgrade},
		{"Upgrade is not websocket", head + "Upgrade: h2c\r\n" + conn + acc + "\r\n", offer, ErrNoUpgrade},
		{"Upgrade websocket as a prefix only", head + "Upgrade: websocketx\r\n" + conn + acc + "\r\n", offer, ErrNoUpgrade},
		{"no Connection header", head + up + acc + "\r\n", offer, ErrNoConnection},
		{"Connection without upgrade token", head + up + "Connection: keep-alive\r\n" + acc + "\r\n", offer, ErrNoConnection},
		{"no Sec-WebSocket-Accept", head + up + conn + "\r\n", offer, ErrBadAccept},
		{"wrong Sec-WebSocket-Accept", head + up + conn + "Sec-WebSocket-Accept: " + AcceptKey(NewKey()) + "\r\n\r\n", offer, ErrBadAccept},
		{"Sec-WebSocket-Accept in another case", head + up + conn + "Sec-WebSocket-Accept: " + strings.ToLower(sampleAccept) + "\r\n\r\n", offer, ErrBadAccept},
		{"two Sec-WebSocket-Accept", head + up + conn + acc + acc + "\r\n", offer, ErrBadAccept},
		{"subprotocol not offered", ok101 + "Sec-WebSocket-Protocol: mqtt\r\n\r\n", offer, ErrUnofferedSubprotocol},
		{"subprotocol in another case", ok101 + "Sec-WebSocket-Protocol: Chat\r\n\r\n", offer, ErrUnofferedSubprotocol},
		{"subprotocol when none offered", ok101 + "Sec-WebSocket-Protocol: chat\r\n\r\n", nil, ErrUnofferedSubprotocol},
		{"two subprotocols in one field", ok101 + "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n", offer, ErrUnofferedSubprotocol},
		{"two Sec-WebSocket-Protocol fields", ok101 + "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n\r\n", offer, ErrUnofferedSubprotocol},
		{"extension not offered", ok101 + "Sec-WebSocket-Extensions: x-bar\r\n\r\n", offer, ErrUnofferedExtension},
		{"extension when none offered", ok101 + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", &Request{}, ErrUnofferedExtension},
		{"offered extension after an unoffered one", ok101 + "Sec-WebSocket-Extensions: x-foo, x-bar\r\n\r\n", offer, ErrUnofferedExtension},
		{"malformed extension", ok101 + "Sec-WebSocket-Extensions: x-foo;=1\r\n\r\n", offer, ErrMalformedResponse},
		{"101 over HTTP/1.0", "HTTP/1.0 101 Switching Protocols\r\n" + up + conn + acc + "\r\n", offer, ErrMalformedResponse},
		{"not HTTP", "HTTX/1.1 101 Switching Protocols\r\n\r\n", offer, ErrMalformedResponse},
		{"status not numeric", "HTTP/1.1 1O1 Switching Protocols\r\n\r\n", offer, ErrMalformedResponse},
		{"status of four digits", "HTTP/1.1 1011 Switching Protocols\r\n\r\n", offer, ErrMalformedResponse},
		{"status below 100", "HTTP/1.1 099 x\r\n\r\n", offer, ErrMalformedResponse},
		{"two spaces before status", "HTTP/1.1  101 Switching Protocols\r\n\r\n", offer, ErrMalformedResponse},
		{"status line only", "HTTP/1.1\r\n\r\n", offer, ErrMalformedResponse},
		{"control byte in reason phrase", "HTTP/1.1 101 Switching\x00Protocols\r\n" + up + conn + acc + "\r\n", offer, ErrMalformedResponse},
		{"obs-fold continuation line", ok101 + "X-Long: a\r\n  b\r\n\r\n", offer, ErrMalformedResponse},
		{"obs-fold with tab", ok101 + "X-Long: a\r\n\tb\r\n\r\n", offer, ErrMalformedResponse},
		{"whitespace line after status line", head + " \r\n" + up + conn + acc + "\r\n", offer, ErrMalformedResponse},
		{"header without colon", ok101 + "X-Broken\r\n\r\n", offer, ErrMalformedResponse},
		{"space before colon", ok101 + "X-Broken : v\r\n\r\n", offer, ErrMalformedResponse},
		{"empty header name", ok101 + ": v\r\n\r\n", offer, ErrMalformedResponse},
		{"bare CR inside a value", ok101 + "X-A: a\rb\r\n\r\n", offer, ErrMalformedResponse},
		{"NUL inside a value", ok101 + "X-A: a\x00b\r\n\r\n", offer, ErrMalformedResponse},
		{"empty line before status line", "\r\n" + ok101 + "\r\n", offer, ErrMalformedResponse},
		{"nothing before EOF", "", offer, io.EOF},
		{"EOF inside the status line", "HTTP/1.1 10", offer, io.ErrUnexpectedEOF},
		{"EOF before the blank line", ok101, offer, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := checkSameEverywhere(t, tt.wire, tt.req, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "websocket: handshake: ") {
				t.Errorf("message %q lacks the prefix", err)
			}
		})
	}
}

func TestReadResponseValidationErrorStillReturnsResponse(t *testing.T) {
	resp, _, err := readAll("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nServer: x\r\n\r\n", offer, nil, same, 4096)
	if !errors.Is(err, ErrNoConnection) || resp == nil || resp.Header.Get("Server") != "x" {
		t.Fatalf("resp %+v, err %v", resp, err)
	}
}

func TestReadResponseSizeLimits(t *testing.T) {
	lim := &Limits{MaxLineBytes: 100, MaxHeaderBytes: 400, MaxHeaders: 5}
	lim10 := &Limits{MaxLineBytes: 100, MaxHeaderBytes: 400, MaxHeaders: 10}
	pad := func(name string, lineLen int) string { // a header line of exactly lineLen bytes before CRLF
		return name + ": " + strings.Repeat("v", lineLen-len(name)-2) + "\r\n"
	}
	tests := []struct {
		name    string
		wire    string
		lim     *Limits
		wantErr error // nil: accepted
	}{
		{"header line at the line limit", ok101 + pad("X-A", 100) + "\r\n", lim, nil},
		{"header line at the limit with bare LF", ok101 + strings.TrimSuffix(pad("X-A", 100), "\r\n") + "\n\r\n", lim, nil},
		{"header line one byte over", ok101 + pad("X-A", 101) + "\r\n", lim, ErrHeaderTooLarge},
		{"status line over the line limit", "HTTP/1.1 101 " + strings.Repeat("x", 100) + "\r\n\r\n", lim, ErrHeaderTooLarge},
		{"endless status line", "HTTP/1.1 101 " + strings.Repeat("x", 100000), lim, ErrHeaderTooLarge},
		{"five headers at the count limit", ok101 + "A: 1\r\nB: 2\r\n\r\n", lim, nil},
		{"six headers over the count limit", ok101 + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", lim, ErrHeaderTooLarge},
		{"header at the byte limit", ok101 + pad("X-A", 100) + pad("X-B", 100) + pad("X-C", 400-len(ok101)-2-204-2) + "\r\n", lim10, nil},
		{"header one byte over the byte limit", ok101 + pad("X-A", 100) + pad("X-B", 100) + pad("X-C", 400-len(ok101)-2-204-1) + "\r\n", lim10, ErrHeaderTooLarge},
		{"default line limit is 8 KiB", ok101 + pad("X-A", 8192) + "\r\n", nil, nil},
		{"default line limit plus one", ok101 + pad("X-A", 8193) + "\r\n", nil, ErrHeaderTooLarge},
		{"default header limit is 64 KiB", ok101 + strings.Repeat(pad("X-A", 8000), 8) + "\r\n", nil, nil},
		{"default header limit plus one line", ok101 + strings.Repeat(pad("X-A", 8000), 9) + "\r\n", nil, ErrHeaderTooLarge},
		{"default count limit is 128", ok101 + strings.Repeat("A: 1\r\n", 125) + "\r\n", nil, nil},
		{"default count limit plus one", ok101 + strings.Repeat("A: 1\r\n", 126) + "\r\n", nil, ErrHeaderTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := checkSameEverywhere(t, tt.wire, nil, tt.lim)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// countingReader counts the bytes handed out.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReadResponseReadsAtMostTheHeaderLimit(t *testing.T) {
	cr := &countingReader{r: iotest.OneByteReader(strings.NewReader(ok101 + strings.Repeat("X: y\r\n", 1e5)))}
	_, err := ReadResponse(bufio.NewReaderSize(cr, 16), offer, sampleKey, &Limits{MaxHeaderBytes: 1000})
	if !errors.Is(err, ErrHeaderTooLarge) || cr.n > 1000+16 {
		t.Fatalf("read %d bytes, err %v", cr.n, err)
	}
}

func TestReadResponseNon101StatusError(t *testing.T) {
	tests := []struct {
		name     string
		wire     string
		wantCode int
		wantStat string
		wantLoc  string
		wantBody string
		wantRest string
	}{
		{
			name:     "403 with Content-Length body",
			wire:     "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nforbidden" + "next",
			wantCode: 403, wantStat: "Forbidden", wantBody: "forbidden", wantRest: "next",
		},
		{
			name:     "302 redirect with Location",
			wire:     "HTTP/1.1 302 Found\r\nLocation: wss://other.example/chat\r\nContent-Length: 0\r\n\r\n",
			wantCode: 302, wantStat: "Found", wantLoc: "wss://other.example/chat",
		},
		{
			name: "401 with chunked body decoded from what is buffered",
			wire: "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"5\r\nlogin\r\n9;ext=1\r\n required\r\n0\r\n\r\n",
			wantCode: 401, wantStat: "Unauthorized", wantBody: "login required", wantRest: "\r\n",
		},
		{
			name:     "HTTP/1.0 503 without length keeps what arrived",
			wire:     "HTTP/1.0 503 Service Unavailable\r\nRetry-After: 5\r\n\r\nbusy, try later",
			wantCode: 503, wantStat: "Service Unavailable", wantBody: "busy, try later",
		},
		{
			name:     "body over 4 KiB is cut, the rest stays",
			wire:     "HTTP/1.1 400 Bad Request\r\nContent-Length: 5000\r\n\r\n" + strings.Repeat("a", 4096) + strings.Repeat("b", 904),
			wantCode: 400, wantStat: "Bad Request", wantBody: strings.Repeat("a", 4096), wantRest: strings.Repeat("b", 904),
		},
		{
			name:     "Content-Length longer than the stream keeps what there is",
			wire:     "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100\r\n\r\noops",
			wantCode: 500, wantStat: "Internal Server Error", wantBody: "oops",
		},
		{
			name:     "204 has no body",
			wire:     "HTTP/1.1 204 No Content\r\n\r\nframe",
			wantCode: 204, wantStat: "No Content", wantRest: "frame",
		},
		{
			name:     "100 Continue, then a final 403",
			wire:     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
			wantCode: 403, wantStat: "Forbidden",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Chunked and length-less bodies depend on what is buffered, so only whole reads
			// give the full body; all readers must agree on status, headers and Location.
			resp, rest, err := readAll(tt.wire, offer, nil, same, 8192)
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *StatusError", err)
			}
			if se.StatusCode != tt.wantCode || se.Status != tt.wantStat || se.Location != tt.wantLoc ||
				string(se.Body) != tt.wantBody || rest != tt.wantRest {
				t.Fatalf("got %d %q loc %q body %q rest %q", se.StatusCode, se.Status, se.Location, se.Body, rest)
			}
			if resp == nil || !reflect.DeepEqual(se.Header, resp.Header) || !reflect.DeepEqual(se.Fields, resp.Fields) {
				t.Errorf("StatusError headers differ from the response's")
			}
			if !strings.HasPrefix(se.Error(), fmt.Sprintf("websocket: handshake: unexpected HTTP status %d %s", tt.wantCode, tt.wantStat)) {
				t.Errorf("message %q", se.Error())
			}
			for _, r := range readers[1:] {
				_, _, err2 := readAll(tt.wire, offer, nil, r.wrap, r.size)
				var se2 *StatusError
				if !errors.As(err2, &se2) || se2.StatusCode != se.StatusCode || !reflect.DeepEqual(se2.Header, se.Header) ||
					se2.Location != se.Location {
					t.Errorf("%s: got %v", r.name, err2)
				}
			}
		})
	}
}

func TestReadResponseNon101WithoutLengthDoesNotWaitForBody(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	go func() {
		_, _ = pw.Write([]byte("HTTP/1.1 403 Forbidden\r\nServer: x\r\n\r\nno"))
		// The server keeps the connection open and sends nothing more.
	}()
	done := make(chan error, 1)
	go func() {
		_, err := ReadResponse(bufio.NewReader(pr), offer, sampleKey, nil)
		done <- err
	}()
	select {
	case err := <-done:
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != 403 {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadResponse blocked on a body without a length")
	}
	pw.Close()
}

func TestDechunkPartialInput(t *testing.T) {
	tests := []struct {
		in       string
		max      int
		wantBody string
		wantUsed int
	}{
		{"5\r\nhello\r\n0\r\n", 100, "hello", 13},
		{"5\r\nhel", 100, "hel", 6},
		{"5\r\nhello", 100, "hello", 8},
		{"5\nhello\n3\nabc\n", 100, "helloabc", 14},
		{"5\r\nhello\r\n5\r\nworld\r\n", 7, "hellowo", 15},
		{"zz\r\nhello", 100, "", 0},
		{"5", 100, "", 0},
		{"5\r\nhelloXX", 100, "hello", 8},
		{"fffffffffffffff\r\nab", 100, "ab", 19},
		{"ffffffffffffffff\r\nab", 100, "", 0},
	}
	for _, tt := range tests {
		body, used := dechunk([]byte(tt.in), tt.max)
		if string(body) != tt.wantBody || used != tt.wantUsed {
			t.Errorf("dechunk(%q, %d) = %q, %d; want %q, %d", tt.in, tt.max, body, used, tt.wantBody, tt.wantUsed)
		}
	}
}

// TestReadResponseSkipsInterimResponses: interim 1xx responses (other than 101) before the
// final one are skipped (RFC 9110 §15.2; RFC 6455 §4.1 hands a non-101 status to HTTP), a
// bounded number of times, in every way of reading.
func TestReadResponseSkipsInterimResponses(t *testing.T) {
	interim := func(n int) string {
		return strings.Repeat("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n", n/2) +
			strings.Repeat("HTTP/1.1 102 Processing\r\n\r\n", n%2)
	}
	for _, n := range []int{1, 2, MaxInterimResponses} {
		resp, rest, err := checkSameEverywhere(t, interim(n)+ok101+"\r\nframe", offer, nil)
		if err != nil || resp.StatusCode != 101 || rest != "frame" {
			t.Fatalf("%d interim responses: %v, %v, rest %q; want the 101 and the bytes after it", n, resp, err, rest)
		}
		if _, ok := resp.Header["Link"]; ok {
			t.Fatalf("%d interim responses: an interim response's header leaked into the 101: %v", n, resp.Header)
		}
	}
	_, _, err := checkSameEverywhere(t, interim(MaxInterimResponses+1)+ok101+"\r\n", offer, nil)
	if !errors.Is(err, ErrMalformedResponse) {
		t.Fatalf("%d interim responses: %v, want ErrMalformedResponse", MaxInterimResponses+1, err)
	}
	_, _, err = checkSameEverywhere(t, "HTTP/1.1 100 Continue\r\n\r\n", offer, nil)
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		t.Fatalf("a 100 Continue and then nothing: %v, want an EOF error", err)
	}
}
