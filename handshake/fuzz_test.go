package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/netkit/websocket/internal/httplex"
)

// fuzzLimits are small so that the fuzzers reach every limit.
var fuzzLimits = &Limits{MaxLineBytes: 256, MaxHeaderBytes: 2048, MaxHeaders: 24}

// fuzzRead parses data with parse through a counting reader wrapped by wrap and returns what
// was consumed from data along with the results.
func fuzzRead[T any](data []byte, wrap func(io.Reader) io.Reader, size int,
	parse func(*bufio.Reader) (T, error)) (res T, consumed int, read int, err error) {
	cr := &countingReader{r: bytes.NewReader(data)}
	br := bufio.NewReaderSize(wrap(cr), size)
	res, err = parse(br)
	return res, cr.n - br.Buffered(), cr.n, err
}

func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		ok101 + "\r\n",
		ok101 + "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: x-foo, permessage-deflate; a=\"1\"\r\n\r\n\x81\x02hi",
		strings.ReplaceAll(ok101, "\r\n", "\n") + "\n",
		"HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nConnection: keep-alive, upgrade\r\nsec-websocket-accept:" + sampleAccept + "\r\nX: a\r\n\tb\r\n\r\n",
		"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden",
		"HTTP/1.1 302 Found\r\nLocation: /x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"HTTP/1.0 500 x\r\n\r\nbody",
		"HTTP/1.1 101\r\n" + strings.Repeat("A: 1\r\n", 30) + "\r\n",
		"HTTP/1.1 101 " + strings.Repeat("x", 300) + "\r\n\r\n",
		"",
		"\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Protocol: a, b\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parse := func(br *bufio.Reader) (*Response, error) { return ReadResponse(br, offer, sampleKey, fuzzLimits) }
		resp, consumed, read, err := fuzzRead(data, same, 4096, parse)
		// Bounded reads: the header limit, one body, and what one buffer fill may add.
		if read > fuzzLimits.MaxHeaderBytes+MaxErrorBody+4096 {
			t.Fatalf("read %d bytes", read)
		}
		for _, r := range readers[1:] {
			resp2, consumed2, _, err2 := fuzzRead(data, r.wrap, r.size, parse)
			var se *StatusError
			if errors.As(err, &se) {
				// A body without a length depends on what was buffered; the rest must agree.
				var se2 *StatusError
				if !errors.As(err2, &se2) || se2.StatusCode != se.StatusCode || se2.Location != se.Location {
					t.Fatalf("%s: %v, whole read: %v", r.name, err2, err)
				}
				continue
			}
			if !sameResult(resp, err, "", resp2, err2, "") || err == nil && consumed != consumed2 {
				t.Fatalf("%s: (%s, %v) consumed %d, whole read: (%s, %v) consumed %d", r.name,
					short(fmtResp(resp2)), err2, consumed2, short(fmtResp(resp)), err, consumed)
			}
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "websocket: handshake: ") {
				t.Fatalf("message %q", err)
			}
			var se *StatusError
			if errors.As(err, &se) && (se.StatusCode == 101 || len(se.Body) > MaxErrorBody) {
				t.Fatalf("StatusError %d with %d bytes of body", se.StatusCode, len(se.Body))
			}
			return
		}
		// Success: the header ended exactly at a blank line and the response is consistent.
		head := string(data[:consumed])
		if consumed > fuzzLimits.MaxHeaderBytes || !strings.HasSuffix(head, "\n\n") && !strings.HasSuffix(head, "\n\r\n") {
			t.Fatalf("consumed %q", short(head))
		}
		checkFields(t, resp.Fields, resp.Header)
		if resp.StatusCode != 101 || len(resp.Header["Sec-Websocket-Accept"]) != 1 ||
			!checkAccept(resp.Header["Sec-Websocket-Accept"][0], sampleKey) ||
			!hasToken(resp.Header["Upgrade"], "websocket") || !hasToken(resp.Header["Connection"], "upgrade") {
			t.Fatalf("accepted an invalid 101: %+v", resp)
		}
		if resp.Subprotocol != "" && resp.Subprotocol != "chat" && resp.Subprotocol != "superchat" {
			t.Fatalf("subprotocol %q", resp.Subprotocol)
		}
		for _, e := range resp.Extensions {
			if name, ok := extensionName(e); !ok || !offered(offer.Extensions, name) {
				t.Fatalf("extension %q", e)
			}
		}
	})
}

func fmtResp(r *Response) string {
	if r == nil {
		return "<nil>"
	}
	return r.Status + " " + strings.Join(func() (s []string) {
		for _, f := range r.Fields {
			s = append(s, f.Name+"="+f.Value)
		}
		return s
	}(), ",")
}

// checkFields checks that Fields and Header hold the same clean fields.
func checkFields(t *testing.T, fields []Field, h map[string][]string) {
	t.Helper()
	n := 0
	for _, v := range h {
		n += len(v)
	}
	if n != len(fields) {
		t.Fatalf("%d header values, %d fields", n, len(fields))
	}
	for _, f := range fields {
		if !httplex.IsToken(f.Name) || firstBadValueByte(f.Value) >= 0 || f.Value != httplex.TrimOWS(f.Value) {
			t.Fatalf("bad field %q: %q", f.Name, f.Value)
		}
		found := false
		for _, v := range h[canonicalKey(f.Name)] {
			found = found || v == f.Value
		}
		if !found {
			t.Fatalf("field %q missing from Header", f.Name)
		}
	}
}

func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		sampleRequest,
		sampleRequest + "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
		"\r\n" + strings.ReplaceAll(sampleRequest, "\r\n", "\n"),
		strings.Replace(sampleRequest, "Origin: http://example.com", "Origin: http://server.example.com", 1),
		strings.Replace(sampleRequest, "Version: 13", "Version: 8", 1),
		strings.Replace(sampleRequest, "GET", "POST", 1),
		"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + sampleKey +
			"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: a; b=\"c,d\", e\r\nSec-WebSocket-Protocol: superchat\r\n\r\n",
		"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
		"GET / HTTP/1.1\r\n" + strings.Repeat("A: 1\r\n", 30) + "\r\n",
		"",
	} {
		f.Add([]byte(s))
	}
	u := &Upgrader{Protocols: []string{"superchat", "chat"}, Limits: *fuzzLimits}
	type result struct {
		req   *ServerRequest
		proto string
		out   string
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parse := func(br *bufio.Reader) (result, error) {
			var out bytes.Buffer
			req, proto, err := u.Upgrade(br, &out)
			return result{req, proto, out.String()}, err
		}
		res, consumed, read, err := fuzzRead(data, same, 4096, parse)
		if read > fuzzLimits.MaxHeaderBytes+4096 {
			t.Fatalf("read %d bytes", read)
		}
		for _, r := range readers[1:] {
			res2, consumed2, _, err2 := fuzzRead(data, r.wrap, r.size, parse)
			if errors.Is(err, ErrHeaderTooLarge) && errors.Is(err2, ErrHeaderTooLarge) {
				continue
			}
			if errString(err) != errString(err2) || res.out != res2.out || res.proto != res2.proto || consumed != consumed2 {
				t.Fatalf("%s: %v %q, whole read: %v %q", r.name, err2, short(res2.out), err, short(res.out))
			}
		}
		var re *RejectError
		switch {
		case err == nil:
			req := res.req
			checkFields(t, req.Fields, req.Header)
			if req.Method != "GET" || !validKey(req.Key) || req.Version != "13" || req.Host == "" {
				t.Fatalf("accepted %+v", req)
			}
			for _, p := range req.Protocols {
				if !httplex.IsToken(p) {
					t.Fatalf("subprotocol %q", p)
				}
			}
			// Our client must accept what our server wrote, with the same subprotocol.
			creq := &Request{Protocols: req.Protocols}
			resp, err := ReadResponse(bufio.NewReader(strings.NewReader(res.out)), creq, req.Key, nil)
			if err != nil || resp.Subprotocol != res.proto {
				t.Fatalf("our client refuses our 101: %v (%q)", err, res.out)
			}
		case errors.As(err, &re):
			// The rejection on the wire must read back as that status with the reason.
			_, err := ReadResponse(bufio.NewReader(strings.NewReader(res.out)), nil, "", nil)
			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != re.StatusCode || string(se.Body) != re.Reason+"\n" {
				t.Fatalf("rejection %d %q reads back as %v", re.StatusCode, re.Reason, err)
			}
			if bytes.Contains([]byte(re.Reason), []byte("\r")) {
				t.Fatalf("reason %q", re.Reason)
			}
		default:
			if res.out != "" {
				t.Fatalf("wrote %q after a reader error %v", res.out, err)
			}
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
