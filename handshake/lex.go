package handshake

import "github.com/netkit/websocket/internal/httplex"

// Lexical helpers for the HTTP/1.1 grammar of RFC 7230 §3.2.6 and §7 that only the handshake
// needs; the rules deflate shares are in internal/httplex. None of them allocate.

// firstBadValueByte returns the index of the first byte that may not appear in a field value
// (RFC 7230 §3.2: VCHAR, obs-text, SP and HTAB are allowed; other controls and DEL are not),
// or -1.
func firstBadValueByte(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return i
		}
	}
	return -1
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold reports whether a and b are equal under ASCII case folding.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// hasToken reports whether one of the comma-separated lists in values contains tok, compared
// case-insensitively (Connection: keep-alive, Upgrade).
func hasToken(values []string, tok string) bool {
	for _, v := range values {
		for rest := v; rest != ""; {
			var e string
			e, rest = httplex.CutElement(rest)
			if equalFold(e, tok) {
				return true
			}
		}
	}
	return false
}

// extensionName checks one element of Sec-WebSocket-Extensions (RFC 6455 §9.1):
//
//	extension = extension-token *( OWS ";" OWS extension-param )
//	extension-param = token [ OWS "=" OWS ( token / quoted-string ) ]
//
// and returns the extension's name.
func extensionName(e string) (string, bool) {
	i := httplex.TokenEnd(e, 0)
	if i == 0 {
		return "", false
	}
	name := e[:i]
	for {
		i = httplex.SkipOWS(e, i)
		if i == len(e) {
			return name, true
		}
		if e[i] != ';' {
			return "", false
		}
		i = httplex.SkipOWS(e, i+1)
		j := httplex.TokenEnd(e, i)
		if j == i {
			return "", false
		}
		i = httplex.SkipOWS(e, j)
		if i < len(e) && e[i] == '=' {
			i = httplex.SkipOWS(e, i+1)
			if i < len(e) && e[i] == '"' {
				if j = httplex.QuotedEnd(e, i); j < 0 {
					return "", false
				}
			} else if j = httplex.TokenEnd(e, i); j == i {
				return "", false
			}
			i = j
		}
	}
}

// Canonical keys of the headers a handshake usually carries, so that canonicalKey does not
// allocate for them whatever their case on the wire.
var commonKeys = [...]string{
	"Upgrade", "Connection", "Sec-Websocket-Accept", "Sec-Websocket-Protocol",
	"Sec-Websocket-Extensions", "Sec-Websocket-Version", "Sec-Websocket-Key", "Host", "Origin",
	"Server", "Date", "Content-Length", "Content-Type", "Transfer-Encoding", "Location",
	"Set-Cookie", "Cookie", "User-Agent", "Authorization", "Www-Authenticate", "Cache-Control",
	"Pragma", "Expires", "Vary", "Via", "Retry-After", "X-Powered-By", "Keep-Alive",
	"Strict-Transport-Security", "Accept", "Accept-Encoding", "Accept-Language",
	"X-Forwarded-For", "X-Request-Id", "Content-Security-Policy", "X-Content-Type-Options",
}

// canonicalKey returns the canonical form of the header name tok (as http.CanonicalHeaderKey:
// upper case at the start and after each '-', lower case elsewhere). It allocates only for
// names that are neither canonical already nor common.
func canonicalKey(tok string) string {
	upper, canonical := true, true
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			canonical = false
			break
		}
		upper = c == '-'
	}
	if canonical {
		return tok
	}
	for _, k := range commonKeys {
		if equalFold(k, tok) {
			return k
		}
	}
	b := []byte(tok)
	upper = true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
		upper = c == '-'
	}
	return string(b)
}
