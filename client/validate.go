package client

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/proxy"
	"github.com/netkit/websocket/tlsconf"
)

// MaxURLLength is the longest URL Connect and Dial accept, in bytes: 2048, the platform's
// limit. A longer URL is error 2302001 (CodeURLError), before any I/O: Connect returns it and
// reports it to its callback, Dial returns it as an *AsyncError.
const MaxURLLength = 2048

// parseURL checks a ws:// or wss:// URL (RFC 6455 §3). Errors are *AsyncError with
// CodeURLError and never contain the URL's user information.
func parseURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLength {
		return nil, newAsync(CodeURLError, fmt.Errorf("URL of %d bytes is longer than %d", len(raw), MaxURLLength))
	}
	u, err := url.Parse(raw)
	if err != nil {
		// *url.Error formats the whole URL, credentials included: keep only the inner error.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		// url.EscapeError quotes the bad escape, which may be part of a password.
		var ee url.EscapeError
		if errors.As(err, &ee) {
			err = errors.New("invalid percent-escape")
		}
		return nil, newAsync(CodeURLError, fmt.Errorf("cannot parse URL: %w", err))
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "wss":
		u.Scheme = strings.ToLower(u.Scheme)
	case "":
		return nil, newAsync(CodeURLError, errors.New("URL has no scheme; want ws:// or wss://"))
	default:
		return nil, newAsync(CodeURLError, fmt.Errorf("URL scheme %q is not ws or wss", u.Scheme))
	}
	if u.Opaque != "" {
		return nil, newAsync(CodeURLError, errors.New("URL must be hierarchical: ws://host/path"))
	}
	if u.Hostname() == "" {
		return nil, newAsync(CodeURLError, errors.New("URL has no host"))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return nil, newAsync(CodeURLError, fmt.Errorf("URL port %q is not in 1-65535", p))
		}
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, newAsync(CodeURLError, errors.New("URL must not have a fragment (RFC 6455 §3)"))
	}
	return u, nil
}

// closeCodeSendable reports whether an endpoint may send code in a close frame (RFC 6455
// §7.4.1, §7.4.2): 1000-1003, 1007-1014 and 3000-4999.
func closeCodeSendable(code uint32) bool {
	return code <= 0xFFFF && frame.CloseCode(code).ValidOnWire()
}

// maxCloseReason is the longest close reason: a control frame carries 125 bytes, 2 of them
// the code (RFC 6455 §5.5).
const maxCloseReason = frame.MaxCloseReason

// resolveClose applies the defaults of WebSocketCloseOptions and checks them; errors are 401.
func resolveClose(o *WebSocketCloseOptions) (uint32, string, error) {
	if o == nil {
		return 1000, "", nil
	}
	code := o.Code
	if code == 0 {
		code = 1000
	}
	if !closeCodeSendable(code) {
		return 0, "", newAsync(CodeParameterError, fmt.Errorf("%w: %d", ErrCloseCode, code))
	}
	if len(o.Reason) > maxCloseReason {
		return 0, "", newAsync(CodeParameterError, fmt.Errorf("%w: %d bytes", ErrCloseReason, len(o.Reason)))
	}
	if !utf8.ValidString(o.Reason) {
		return 0, "", newAsync(CodeParameterError, ErrCloseReason)
	}
	return code, o.Reason, nil
}

// handshakeOwned lists the request header fields the handshake writes itself (lower case).
var handshakeOwned = map[string]bool{
	"host": true, "upgrade": true, "connection": true, "content-length": true,
	"transfer-encoding": true, "sec-websocket-key": true, "sec-websocket-version": true,
	"sec-websocket-accept": true, "sec-websocket-protocol": true, "sec-websocket-extensions": true,
}

// firstNonToken returns the index of the first byte of s that an RFC 9110 token (header
// names, subprotocols) cannot hold, 0 for "", and -1 when s is a token.
func firstNonToken(s string) int {
	if s == "" {
		return 0
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return i
		}
	}
	return -1
}

// firstControl returns the index of the first byte of v that a header field value cannot hold
// (CR, LF, NUL or another control byte but tab), or -1.
func firstControl(v string) int {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return i
		}
	}
	return -1
}

// describeByte names s[i] for an error without showing the text around it: "CR", "LF",
// "NUL", "0x7f", "' '", "','".
func describeByte(s string, i int) string {
	switch c := s[i]; {
	case c == '\r':
		return "CR"
	case c == '\n':
		return "LF"
	case c == 0:
		return "NUL"
	case c < 0x20 || c >= 0x7f:
		return fmt.Sprintf("0x%02x", c)
	default:
		return strconv.QuoteRune(rune(c))
	}
}

// splitProtocols splits a Sec-WebSocket-Protocol value into subprotocol tokens.
func splitProtocols(p string) ([]string, error) {
	if strings.TrimSpace(p) == "" {
		return nil, nil
	}
	// Errors give the subprotocol's position, not its text: a subprotocol may carry a
	// credential (a bearer token, as some servers expect).
	var out []string
	for part := range strings.SplitSeq(p, ",") {
		part = strings.TrimSpace(part)
		n := len(out) + 1
		if part == "" {
			return nil, fmt.Errorf("subprotocol %d of Protocol is empty", n)
		}
		if i := firstNonToken(part); i >= 0 {
			return nil, fmt.Errorf("subprotocol %d of Protocol is not a token: byte %d is %s", n, i, describeByte(part, i))
		}
		for j, q := range out {
			if q == part {
				return nil, fmt.Errorf("subprotocols %d and %d of Protocol are the same", j+1, n)
			}
		}
		out = append(out, part)
	}
	return out, nil
}

// fileExists reports whether path names an existing file or directory.
var fileExists = func(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// resolveRequest copies o with defaults applied and checks it. Errors are *AsyncError with
// CodeParameterError or CodeFileNotExist.
func resolveRequest(o *WebSocketRequestOptions) (*WebSocketRequestOptions, []string, error) {
	var r WebSocketRequestOptions
	if o == nil {
		r = *NewWebSocketRequestOptions()
	} else {
		r = *o
	}
	if r.Header != nil {
		h := make(map[string]string, len(r.Header))
		for k, v := range r.Header {
			if k == "" {
				return nil, nil, newAsync(CodeParameterError, errors.New("header with an empty name"))
			}
			if i := firstNonToken(k); i >= 0 {
				// Only the name's first bytes are shown: a name such as "Authorization: secret"
				// must not show the secret.
				return nil, nil, newAsync(CodeParameterError, fmt.Errorf("header name %q is not a token: byte %d is %s",
					k[:i]+"...", i, describeByte(k, i)))
			}
			if handshakeOwned[strings.ToLower(k)] {
				return nil, nil, newAsync(CodeParameterError, fmt.Errorf("header %q is set by the handshake", k))
			}
			if i := firstControl(v); i >= 0 {
				// The header is named, its value never shown: it may be a credential.
				return nil, nil, newAsync(CodeParameterError, fmt.Errorf("value of header %q has a control character: byte %d is %s",
					k, i, describeByte(v, i)))
			}
			h[k] = v
		}
		r.Header = h
	}
	protocols, err := splitProtocols(r.Protocol)
	if err != nil {
		return nil, nil, newAsync(CodeParameterError, err)
	}
	if r.CAPath == "" {
		r.CAPath = DefaultCAPath
	}
	if r.CAPath != DefaultCAPath && !fileExists(r.CAPath) {
		return nil, nil, newAsync(CodeFileNotExist, fmt.Errorf("CA path %q does not exist", r.CAPath))
	}
	if c := r.ClientCert; c != nil {
		if c.CertPath == "" || c.KeyPath == "" {
			return nil, nil, newAsync(CodeParameterError, errors.New("client certificate needs both certPath and keyPath"))
		}
		for _, p := range []string{c.CertPath, c.KeyPath} {
			if !fileExists(p) {
				return nil, nil, newAsync(CodeFileNotExist, fmt.Errorf("client certificate file %q does not exist", p))
			}
		}
		cc := *c
		r.ClientCert = &cc
	}
	if !r.MinSupportTlsProtocol.valid() {
		return nil, nil, newAsync(CodeParameterError, fmt.Errorf("%w: MinSupportTlsProtocol 0x%04x is not TLSV10..TLSV13",
			tlsconf.ErrTLSVersion, uint16(r.MinSupportTlsProtocol)))
	}
	if d := r.PerMessageDeflate; d != nil {
		if _, err := d.Offer(); err != nil {
			return nil, nil, newAsync(CodeParameterError, fmt.Errorf("PerMessageDeflate: %w", err))
		}
		dc := *d
		r.PerMessageDeflate = &dc
	}
	if r.HTTP2 > HTTP2Required {
		return nil, nil, newAsync(CodeParameterError, fmt.Errorf("HTTP2 %v is not a mode", r.HTTP2))
	}
	if r.MaxRedirects < 0 {
		return nil, nil, newAsync(CodeParameterError, fmt.Errorf("MaxRedirects %d is negative", r.MaxRedirects))
	}
	switch p := r.Proxy.(type) {
	case nil:
		r.Proxy = SystemProxy{}
	case NoProxy, SystemProxy:
	case HTTPProxy:
		if p.Proxy == nil || p.Proxy.Host == nil || *p.Proxy.Host == "" {
			return nil, nil, newAsync(CodeParameterError, errors.New("HTTP proxy without a host"))
		}
		if _, err := proxy.ParseExclusions(p.Proxy.ExclusionList); err != nil {
			return nil, nil, newAsync(CodeParameterError, err)
		}
	case SOCKS5Proxy:
		if _, err := parseSOCKS5URL(p.URL); err != nil {
			return nil, nil, newAsync(CodeParameterError, err)
		}
		if _, err := proxy.ParseExclusions(p.ExclusionList); err != nil {
			return nil, nil, newAsync(CodeParameterError, err)
		}
	default:
		return nil, nil, newAsync(CodeParameterError, fmt.Errorf("unknown proxy configuration %T", p))
	}
	return &r, protocols, nil
}

// errMessageType is the error of MessageData that is neither StringData nor ArrayData (a
// type that embeds MessageData).
var errMessageType = errors.New("unknown message data type")

// checkMessage checks data for Send and returns its bytes, with no copy: for a StringData,
// the string's bytes, which never change (fixed: true; the engine never writes the buffer it
// sends); for an ArrayData or *BorrowedData, the caller's slice, which the caller may reuse
// once Send returns (fixed: false), so that whoever keeps it past the call copies it first.
// data does not escape, so the caller's conversion to MessageData is not a heap allocation.
func checkMessage(data MessageData) (text bool, p []byte, fixed bool, err error) {
	switch d := data.(type) {
	case StringData:
		if !utf8.ValidString(string(d)) {
			return false, nil, false, newAsync(CodeParameterError, ErrTextNotUTF8)
		}
		return true, unsafe.Slice(unsafe.StringData(string(d)), len(d)), true, nil
	case ArrayData:
		return false, d, false, nil
	case *BorrowedData:
		if d == nil {
			return false, nil, false, newAsync(CodeParameterError, fmt.Errorf("%w: message data", ErrNilArgument))
		}
		if d.Text && !utf8.Valid(d.Data) {
			return false, nil, false, newAsync(CodeParameterError, ErrTextNotUTF8)
		}
		return d.Text, d.Data, false, nil
	case nil:
		return false, nil, false, newAsync(CodeParameterError, fmt.Errorf("%w: message data", ErrNilArgument))
	}
	return false, nil, false, newAsync(CodeParameterError, errMessageType)
}

// parseSOCKS5URL parses SOCKS5Proxy.URL: socks5:// or socks5h:// with a host. Its errors never
// quote the URL, whose user information may hold a password.
func parseSOCKS5URL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("SOCKS5 proxy URL does not parse (want socks5://[user:password@]host[:port] or socks5h://host[:port])")
	}
	if sc := strings.ToLower(u.Scheme); sc != "socks5" && sc != "socks5h" {
		return nil, fmt.Errorf("SOCKS5 proxy URL scheme %q is not socks5 or socks5h", u.Scheme)
	}
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, errors.New("SOCKS5 proxy URL must be socks5://[user:password@]host[:port] or socks5h://host[:port]")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return nil, fmt.Errorf("SOCKS5 proxy port %q is not in 1-65535", p)
		}
	}
	return u, nil
}
