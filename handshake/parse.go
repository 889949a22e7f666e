package handshake

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/netkit/websocket/internal/httplex"
)

// Default limits used for the zero fields of [Limits].
const (
	DefaultMaxLineBytes   = 8 << 10  // longest start line or header line
	DefaultMaxHeaderBytes = 64 << 10 // whole header, start line and line endings included
	DefaultMaxHeaders     = 128      // header fields (lines after the start line)
)

// Limits bound what [ReadResponse] and [ReadRequest] accept. A nil *Limits, and any field that
// is zero or negative, means the Default* value. Going over a limit is [ErrHeaderTooLarge]; at
// most MaxHeaderBytes bytes of the header are ever consumed from the reader.
type Limits struct {
	MaxLineBytes   int // longest status, request or header line, without its line ending; default 8 KiB
	MaxHeaderBytes int // the whole header: all lines with their endings and the blank line; default 64 KiB
	MaxHeaders     int // number of header fields; default 128
}

func (l *Limits) orDefault() Limits {
	var r Limits
	if l != nil {
		r = *l
	}
	if r.MaxLineBytes <= 0 {
		r.MaxLineBytes = DefaultMaxLineBytes
	}
	if r.MaxHeaderBytes <= 0 {
		r.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if r.MaxHeaders <= 0 {
		r.MaxHeaders = DefaultMaxHeaders
	}
	return r
}

// Field is one header field as it appeared on the wire: the name in its original case and the
// value without surrounding whitespace.
type Field struct {
	Name  string
	Value string
}

// Scratch buffers for assembling a header before it becomes one string.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledScratch = 64 << 10

// readHeader reads the start line and header lines up to and including the blank line that
// ends them, and returns them as one string without the blank line, with the number of header
// fields. It never consumes a byte past the blank line. Lines may end in CRLF or bare LF.
// skipBlank makes it ignore empty lines before the start line (RFC 7230 §3.5, requests only).
// what ("response" or "request") names the message in I/O errors.
func readHeader(br *bufio.Reader, lim *Limits, skipBlank bool, what string) (string, int, error) {
	bp := scratchPool.Get().(*[]byte)
	buf := (*bp)[:0]
	defer func() {
		if cap(buf) <= maxPooledScratch {
			*bp = buf[:0]
			scratchPool.Put(bp)
		}
	}()
	total, lines := 0, 0
	for {
		start := len(buf)
		for {
			frag, err := br.ReadSlice('\n')
			total += len(frag)
			if total > lim.MaxHeaderBytes {
				return "", 0, fmt.Errorf("%w: %s header over %d bytes", ErrHeaderTooLarge, what, lim.MaxHeaderBytes)
			}
			buf = append(buf, frag...)
			// A line's length is counted without its ending; an incomplete line may still
			// have a '\r' to drop.
			if n := len(buf) - start; n > lim.MaxLineBytes+2 ||
				err == nil && n-lineEndLen(buf[start:]) > lim.MaxLineBytes {
				if lines == 0 {
					return "", 0, fmt.Errorf("%w: %s start line over %d bytes", ErrHeaderTooLarge, what, lim.MaxLineBytes)
				}
				return "", 0, fmt.Errorf("%w: header line over %d bytes", ErrHeaderTooLarge, lim.MaxLineBytes)
			}
			if err == nil {
				break
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				if total == 0 {
					return "", 0, fmt.Errorf(errPrefix+"reading %s: %w", what, io.EOF)
				}
				err = io.ErrUnexpectedEOF
			}
			return "", 0, fmt.Errorf(errPrefix+"reading %s: %w", what, err)
		}
		line := buf[start:]
		if len(line) == lineEndLen(line) { // empty line
			buf = buf[:start]
			if lines == 0 && skipBlank {
				continue
			}
			if lines == 0 {
				return "", 0, fmt.Errorf("%w: empty line before the status line", ErrMalformedResponse)
			}
			break
		}
		if lines > lim.MaxHeaders {
			return "", 0, fmt.Errorf("%w: more than %d header fields", ErrHeaderTooLarge, lim.MaxHeaders)
		}
		lines++
	}
	return string(buf), lines - 1, nil
}

// lineEndLen returns the length of the line ending ("\r\n" or "\n") at the end of line.
func lineEndLen(line []byte) int {
	n := len(line)
	if n == 0 || line[n-1] != '\n' {
		return 0
	}
	if n >= 2 && line[n-2] == '\r' {
		return 2
	}
	return 1
}

// nextLine cuts the first line off s and strips its ending.
func nextLine(s string) (line, rest string) {
	i := 0
	for i < len(s) && s[i] != '\n' {
		i++
	}
	line, rest = s[:i], s[min(i+1, len(s)):]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// parseFields splits the string from readHeader into its start line and n header fields. The
// fields' names and values are substrings of s; the header map's keys are canonical and its
// value slices share one backing array (a repeated name appends to its own copy).
//
// vals, when it has room for n strings, is used for the map's values instead of a new array.
func parseFields(s string, n int, vals []string, malformed error) (start string, fields []Field, h http.Header, err error) {
	start, s = nextLine(s)
	if i := firstBadValueByte(start); i >= 0 {
		return "", nil, nil, fmt.Errorf("%w: control byte 0x%02x in the start line", malformed, start[i])
	}
	fields = make([]Field, n)
	if cap(vals) < n {
		vals = make([]string, n)
	}
	vals = vals[:n:n]
	h = make(http.Header, n)
	for k := range n {
		var line string
		line, s = nextLine(s)
		if line != "" && httplex.IsOWS(line[0]) {
			return "", nil, nil, fmt.Errorf("%w: obsolete line folding in header field %d", malformed, k+1)
		}
		colon := httplex.TokenEnd(line, 0)
		if colon == 0 || colon == len(line) || line[colon] != ':' {
			return "", nil, nil, fmt.Errorf("%w: header field %d is not a token followed by ':'", malformed, k+1)
		}
		name, value := line[:colon], httplex.TrimOWS(line[colon+1:])
		if i := firstBadValueByte(value); i >= 0 {
			return "", nil, nil, fmt.Errorf("%w: control byte 0x%02x in the value of header %q", malformed, value[i], name)
		}
		fields[k] = Field{Name: name, Value: value}
		key := canonicalKey(name)
		if prev, ok := h[key]; ok {
			h[key] = append(prev, value)
		} else {
			vals[k] = value
			h[key] = vals[k : k+1 : k+1]
		}
	}
	return start, fields, h, nil
}

// parseVersion parses "HTTP/d.d" at the start of s.
func parseVersion(s string) (major, minor int, ok bool) {
	if len(s) < 8 || s[:5] != "HTTP/" || !isDigit(s[5]) || s[6] != '.' || !isDigit(s[7]) {
		return 0, 0, false
	}
	return int(s[5] - '0'), int(s[7] - '0'), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseContentLength parses a Content-Length value (1*DIGIT); ok is false when it is not one.
func parseContentLength(v string) (int64, bool) {
	if v == "" || len(v) > 18 {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}
