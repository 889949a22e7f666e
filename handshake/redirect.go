package handshake

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Errors of [RedirectURL] (compare with errors.Is).
var (
	// ErrRedirectDowngrade means a redirect from a wss:// URL names a ws:// (or http://)
	// one: following it would send the request, and everything after it, in the clear.
	ErrRedirectDowngrade = errors.New("websocket: handshake: redirect from wss to ws refused")
	// ErrBadRedirect means a redirect response cannot be followed: it has no Location, the
	// Location does not parse, or it names a scheme other than ws, wss, http or https, or
	// no host.
	ErrBadRedirect = errors.New("websocket: handshake: redirect cannot be followed")
)

// IsRedirect reports whether status is a redirect a WebSocket client may follow: 301, 302,
// 303, 307 or 308 (RFC 9110 §15.4). The handshake is a GET without a body, so the
// method-changing rule of 301, 302 and 303 makes no difference. 300, 304 and 305 are not
// redirects to follow.
func IsRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// RedirectURL returns the URL a redirect response e tells the client at base (the ws:// or
// wss:// URL of the request that got it) to open instead (RFC 6455 §4.1: "the client MAY
// follow a 3xx redirect"; RFC 9110 §10.2.2 for Location):
//
//   - the Location may be relative (resolved against base, RFC 3986 §5) or absolute;
//   - http:// maps to ws:// and https:// to wss:// (servers often answer with an http URL);
//   - a redirect from wss to ws is refused ([ErrRedirectDowngrade]);
//   - the fragment is dropped (a WebSocket URL has none, RFC 6455 §3);
//   - the result never carries user information: credentials in a URL are the caller's,
//     never the server's to choose, and are not kept from base either.
//
// e must have a status that [IsRedirect] accepts. Errors wrap [ErrBadRedirect] or
// [ErrRedirectDowngrade] and never show the Location's user information.
func RedirectURL(base *url.URL, e *StatusError) (*url.URL, error) {
	if e == nil || !IsRedirect(e.StatusCode) {
		return nil, fmt.Errorf("%w: not a redirect status", ErrBadRedirect)
	}
	if e.Location == "" {
		return nil, fmt.Errorf("%w: %d without Location", ErrBadRedirect, e.StatusCode)
	}
	ref, err := url.Parse(e.Location)
	if err != nil {
		// url's errors quote the whole Location, user information included.
		return nil, fmt.Errorf("%w: Location does not parse", ErrBadRedirect)
	}
	u := base.ResolveReference(ref)
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		u.Scheme = "ws"
	case "wss", "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("%w: Location scheme %q is not ws, wss, http or https", ErrBadRedirect, u.Scheme)
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: Location has no host", ErrBadRedirect)
	}
	if strings.EqualFold(base.Scheme, "wss") && u.Scheme == "ws" {
		return nil, fmt.Errorf("%w: to %s", ErrRedirectDowngrade, u.Redacted())
	}
	return u, nil
}

// SameOrigin reports whether two ws:// or wss:// URLs have the same origin: scheme, host
// and port (RFC 6454 §4), the default port (80 for ws, 443 for wss) written or not, host
// names compared case-insensitively. Credentials and cookies set for one origin must not be
// sent to another.
func SameOrigin(a, b *url.URL) bool {
	sa, sb := strings.ToLower(a.Scheme), strings.ToLower(b.Scheme)
	return sa == sb && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a, sa) == port(b, sb)
}

func port(u *url.URL, scheme string) string {
	if p := u.Port(); p != "" {
		return p
	}
	if scheme == "wss" || scheme == "https" {
		return "443"
	}
	return "80"
}
