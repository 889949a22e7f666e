package handshake

// Lexical helpers for the HTTP/1.1 grammar of RFC 7230 §3.2.6 and §7. None of them allocate.

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" /
// "~" / DIGIT / ALPHA (RFC 7230 §3.2.6).
var isTchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// firstNonToken returns the index of the first byte of s that is not a tchar, or -1.
func firstNonToken(s string) int {
	for i := 0; i < len(s); i++ {
		if !isTchar[s[i]] {
			return i
		}
	}
	return -1
}

func isToken(s string) bool { return s != "" && firstNonToken(s) < 0 }

// tokenEnd returns the end of the token that starts at s[i:] (i when there is none).
func tokenEnd(s string, i int) int {
	for i < len(s) && isTchar[s[i]] {
		i++
	}
	return i
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

func skipOWS(s string, i int) int {
	for i < len(s) && isOWS(s[i]) {
		i++
	}
	return i
}

func trimOWS(s string) string {
	i, j := 0, len(s)
	for i < j && isOWS(s[i]) {
		i++
	}
	for j > i && isOWS(s[j-1]) {
		j--
	}
	return s[i:j]
}

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

// cutElement splits the first element off a comma-separated list (RFC 7230 §7), respecting
// quoted strings, and returns it trimmed of OWS. Empty elements are returned as "" and are
// meant to be skipped.
func cutElement(s string) (elem, rest string) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			return trimOWS(s[:i]), s[i+1:]
		}
	}
	return trimOWS(s), ""
}

// hasToken reports whether one of the comma-separated lists in values contains tok, compared
// case-insensitively (Connection: keep-alive, Upgrade).
func hasToken(values []string, tok string) bool {
	for _, v := range values {
		for rest := v; rest != ""; {
			var e string
			e, rest = cutElement(rest)
			if equalFold(e, tok) {
				return true
			}
		}
	}
	return false
}

// quotedEnd returns the index after the quoted-string that starts at s[i] == '"', or -1 when it
// is not terminated or holds a control character (RFC 7230 §3.2.6).
func quotedEnd(s string, i int) int {
	for i++; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return i + 1
		case c == '\\':
			i++
			if i == len(s) {
				return -1
			}
			c = s[i]
		}
		if (c < ' ' && c != '\t') || c == 0x7f {
			return -1
		}
	}
	return -1
}

// extensionName checks one element of Sec-WebSocket-Extensions (RFC 6455 §9.1):
//
//	extension = extension-token *( OWS ";" OWS extension-param )
//	extension-param = token [ OWS "=" OWS ( token / quoted-string ) ]
//
// and returns the extension's name.
func extensionName(e string) (string, bool) {
	i := tokenEnd(e, 0)
	if i == 0 {
		return "", false
	}
	name := e[:i]
	for {
		i = skipOWS(e, i)
		if i == len(e) {
			return name, true
		}
		if e[i] != ';' {
			return "", false
		}
		i = skipOWS(e, i+1)
		j := tokenEnd(e, i)
		if j == i {
			return "", false
		}
		i = skipOWS(e, j)
		if i < len(e) && e[i] == '=' {
			i = skipOWS(e, i+1)
			if i < len(e) && e[i] == '"' {
				if j = quotedEnd(e, i); j < 0 {
					return "", false
				}
			} else if j = tokenEnd(e, i); j == i {
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
