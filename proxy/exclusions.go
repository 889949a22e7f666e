package proxy

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Exclusions is a list of hosts that bypass a proxy (the seed's exclusionList). Entries are
// matched against the target's host as written in the URL (names are not resolved):
//
//   - "*": every host;
//   - "*.example.com" or ".example.com": every name under example.com (not example.com
//     itself);
//   - a pattern with "*" elsewhere ("ws-*.example.com"): "*" matches any run of characters;
//   - "example.com": that name exactly;
//   - an IP address ("10.1.2.3", "::1", "[::1]"): that address;
//   - a CIDR range ("10.0.0.0/8", "fd00::/8"): every address in it.
//
// Names match case-insensitively and without a trailing dot. The zero Exclusions matches
// nothing.
type Exclusions struct {
	all      bool
	names    map[string]bool
	suffixes []string // ".example.com"
	globs    []string
	addrs    map[netip.Addr]bool
	prefixes []netip.Prefix
}

// ParseExclusions parses an exclusion list. Empty entries are ignored; an entry that is none of
// the forms of Exclusions (a malformed CIDR range, a name with spaces) is an error.
func ParseExclusions(list []string) (*Exclusions, error) {
	e := &Exclusions{}
	for _, raw := range list {
		s := normName(strings.TrimSpace(raw))
		switch {
		case s == "":
			continue
		case s == "*":
			e.all = true
		case strings.Contains(s, "/"):
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("websocket: proxy exclusion %q: %w", raw, err)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bitsUnmapped(p))
			e.prefixes = append(e.prefixes, p.Masked())
		case strings.ContainsAny(s, " \t,"):
			return nil, fmt.Errorf("websocket: proxy exclusion %q is not a host name, IP address or CIDR range", raw)
		default:
			if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
				if e.addrs == nil {
					e.addrs = map[netip.Addr]bool{}
				}
				e.addrs[a.Unmap().WithZone("")] = true
				continue
			}
			if rest, ok := strings.CutPrefix(s, "*."); ok && !strings.Contains(rest, "*") {
				e.suffixes = append(e.suffixes, "."+rest)
				continue
			}
			if strings.HasPrefix(s, ".") && !strings.Contains(s, "*") {
				e.suffixes = append(e.suffixes, s)
				continue
			}
			if strings.Contains(s, "*") {
				e.globs = append(e.globs, s)
				continue
			}
			if e.names == nil {
				e.names = map[string]bool{}
			}
			e.names[s] = true
		}
	}
	return e, nil
}

func bitsUnmapped(p netip.Prefix) int {
	if p.Addr().Is4In6() {
		if b := p.Bits() - 96; b >= 0 {
			return b
		}
		return 0
	}
	return p.Bits()
}

func normName(s string) string {
	return strings.TrimSuffix(strings.ToLower(s), ".")
}

// Match reports whether host, a host name or IP address with or without a port ("h",
// "h:443", "[::1]:443"), is excluded from the proxy.
func (e *Exclusions) Match(host string) bool {
	if e == nil {
		return false
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = normName(strings.Trim(host, "[]"))
	if host == "" {
		return false
	}
	if e.all {
		return true
	}
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap().WithZone("")
		if e.addrs[a] {
			return true
		}
		for _, p := range e.prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if e.names[host] {
		return true
	}
	for _, s := range e.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	for _, g := range e.globs {
		if globMatch(g, host) {
			return true
		}
	}
	return false
}

// globMatch matches s against a pattern where "*" stands for any run of characters.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// WithExclusions returns a Dialer that dials the targets matched by ex with direct (nil means
// Direct) and every other target with proxied.
func WithExclusions(proxied Dialer, ex *Exclusions, direct Dialer) Dialer {
	if direct == nil {
		direct = Direct
	}
	if ex == nil {
		return proxied
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if ex.Match(addr) {
			return direct(ctx, network, addr)
		}
		return proxied(ctx, network, addr)
	}
}
