package proxy

import (
	"bufio"
	"bytes"
	"regexp"
	"testing"
)

// replyErrorText is every message readConnectReply may return, digits taken out: the line
// numbers are the only numbers in them. A message outside this set would be one that quotes
// the proxy's bytes.
var replyErrorText = regexp.MustCompile(`^(malformed reply: (empty status line|status line does not begin with HTTP/\. or HTTP/\. and a space|status code is not three digits from  to |status line holds a control character|header line  (has no colon|has an empty or invalid field name|holds a control character|begins with white space))|EOF|reply too large)$`)

// FuzzReadConnectReply feeds arbitrary CONNECT replies to the reply parser: it must never
// panic, must return a code from 100 to 999 when it accepts, and its errors must be one of
// its fixed messages, whatever the bytes, so that nothing the proxy sent (an echo of the
// Proxy-Authorization header, say) can reach an error.
func FuzzReadConnectReply(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 Connection established\r\n\r\n",
		"HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n",
		"HTTP/1.1 200 OK\nVia: 1.1 p\n  folded\n\n",
		"HTTP/1.1 S3cr3t-P4ss OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nProxy-Authorization Basic dXNlcjpwYXNz\r\n\r\n",
		"CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n",
		"\x16\x03\x01\x00\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(&cappedReader{r: bytes.NewReader(data), n: 1024}, 64)
		code, err := readConnectReply(br)
		if err == nil {
			if code < 100 || code > 999 {
				t.Fatalf("accepted with code %d", code)
			}
			return
		}
		msg := regexp.MustCompile(`[0-9]`).ReplaceAllString(err.Error(), "")
		if !replyErrorText.MatchString(msg) {
			t.Fatalf("error %q is not one of the parser's messages", err)
		}
	})
}
