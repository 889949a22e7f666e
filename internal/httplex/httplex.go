// Package httplex holds the lexical rules of the HTTP/1.1 grammar (RFC 7230 §3.2.6, §7) that
// the opening handshake (package handshake) and the permessage-deflate negotiation (package
// deflate) both parse: tokens, optional whitespace, quoted strings and comma-separated lists.
// deflate may not import handshake (handshake imports it), so the rules live here, once. None of
// the functions allocate. It imports nothing from this module.
package httplex

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" /
// "~" / DIGIT / ALPHA (RFC 7230 §3.2.6).
var tchar = func() (t [256]bool) {
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

// IsTchar reports whether c may appear in a token.
func IsTchar(c byte) bool { return tchar[c] }

// FirstNonToken returns the index of the first byte of s that is not a tchar, or -1.
func FirstNonToken(s string) int {
	for i := 0; i < len(s); i++ {
		if !tchar[s[i]] {
			return i
		}
	}
	return -1
}

// IsToken reports whether s is a token: one or more tchars.
func IsToken(s string) bool { return s != "" && FirstNonToken(s) < 0 }

// TokenEnd returns the end of the token that starts at s[i:] (i when there is none).
func TokenEnd(s string, i int) int {
	for i < len(s) && tchar[s[i]] {
		i++
	}
	return i
}

// IsOWS reports whether c is optional whitespace: SP or HTAB.
func IsOWS(c byte) bool { return c == ' ' || c == '\t' }

// SkipOWS returns the index of the first byte at or after i that is not OWS.
func SkipOWS(s string, i int) int {
	for i < len(s) && IsOWS(s[i]) {
		i++
	}
	return i
}

// TrimOWS returns s without leading and trailing OWS.
func TrimOWS(s string) string {
	i, j := 0, len(s)
	for i < j && IsOWS(s[i]) {
		i++
	}
	for j > i && IsOWS(s[j-1]) {
		j--
	}
	return s[i:j]
}

// CutElement splits the first element off a comma-separated list (RFC 7230 §7), respecting
// quoted strings, and returns it trimmed of OWS. Empty elements are returned as "" and are
// meant to be skipped.
func CutElement(s string) (elem, rest string) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			return TrimOWS(s[:i]), s[i+1:]
		}
	}
	return TrimOWS(s), ""
}

// QuotedEnd returns the index after the quoted-string that starts at s[i] == '"', or -1 when it
// is not terminated or holds a control character (RFC 7230 §3.2.6).
func QuotedEnd(s string, i int) int {
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
