package proxy

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"golang.org/x/net/http/httpproxy"
)

// Environment is a proxy setting in the form of the environment variables: HTTP_PROXY,
// HTTPS_PROXY, ALL_PROXY and NO_PROXY. Values are read as golang.org/x/net/http/httpproxy
// reads them: a proxy value without a scheme is an http:// URL, NO_PROXY is a comma-separated
// list of host names, domain suffixes, IP addresses and CIDR ranges ("*" means every host),
// and localhost and loopback addresses are never proxied.
type Environment struct {
	HTTPProxy  string // the proxy of ws:// targets
	HTTPSProxy string // the proxy of wss:// targets
	AllProxy   string // the proxy of both when their own one is empty (often socks5://)
	NoProxy    string // the hosts reached directly
}

// EnvironmentFromOS reads the process environment: each variable in upper case, else in
// lower case (HTTP_PROXY, then http_proxy). Like httpproxy, it ignores HTTP_PROXY when
// REQUEST_METHOD is set (CGI, where HTTP_PROXY may come from a request's Proxy header).
func EnvironmentFromOS() Environment {
	c := httpproxy.FromEnvironment()
	return Environment{
		HTTPProxy:  c.HTTPProxy,
		HTTPSProxy: c.HTTPSProxy,
		AllProxy:   getenvAny("ALL_PROXY", "all_proxy"),
		NoProxy:    c.NoProxy,
	}
}

func getenvAny(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// ProxyURL returns the proxy URL for target (a ws://, wss://, http:// or https:// URL), or nil
// when target is reached directly. ws maps to the http proxy, wss to the https one.
func (e Environment) ProxyURL(target *url.URL) (*url.URL, error) {
	if target == nil {
		return nil, nil
	}
	var scheme string
	switch strings.ToLower(target.Scheme) {
	case "ws", "http":
		scheme = "http"
	case "wss", "https":
		scheme = "https"
	default:
		return nil, fmt.Errorf("websocket: proxy: target scheme %q is not ws or wss", target.Scheme)
	}
	if e.HTTPProxy == "" && e.HTTPSProxy == "" && e.AllProxy == "" {
		return nil, nil // no proxy set: nothing to parse, nothing allocated
	}
	req := *target
	req.Scheme = scheme
	req.User = nil
	c := httpproxy.Config{HTTPProxy: e.HTTPProxy, HTTPSProxy: e.HTTPSProxy, NoProxy: e.NoProxy}
	if c.HTTPProxy == "" {
		c.HTTPProxy = e.AllProxy
	}
	if c.HTTPSProxy == "" {
		c.HTTPSProxy = e.AllProxy
	}
	u, err := c.ProxyFunc()(&req)
	if err != nil {
		// httpproxy's message quotes the value, which may hold a password.
		return nil, fmt.Errorf("websocket: proxy: invalid proxy setting in the environment for %s", req.Scheme)
	}
	return u, nil
}

// Dialer returns the Dialer for target: Direct when no proxy applies, else the dialer of the
// proxy URL (FromURL).
func (e Environment) Dialer(target *url.URL, opts *Options) (Dialer, error) {
	u, err := e.ProxyURL(target)
	if err != nil || u == nil {
		return Direct, err
	}
	d, err := FromURL(u, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (from the environment)", err)
	}
	return d, nil
}

// URLFromEnvironment returns the proxy URL that the process environment (EnvironmentFromOS)
// selects for target, or nil when target is reached directly: NO_PROXY is honoured, and
// localhost and loopback addresses are never proxied. The environment is read at each call.
// It is the default of client.DialOptions.Proxy, and what the seed facade's SystemProxy
// uses: one implementation for both APIs.
func URLFromEnvironment(target *url.URL) (*url.URL, error) {
	if getenvAny("HTTP_PROXY", "http_proxy") == "" && getenvAny("HTTPS_PROXY", "https_proxy") == "" &&
		getenvAny("ALL_PROXY", "all_proxy") == "" {
		// The common case, checked without httpproxy's Config (an allocation per dial).
		return Environment{}.ProxyURL(target)
	}
	return EnvironmentFromOS().ProxyURL(target)
}

// FromEnvironment returns the Dialer for target that the process environment selects
// (EnvironmentFromOS): Direct when no proxy applies.
func FromEnvironment(target *url.URL, opts *Options) (Dialer, error) {
	return EnvironmentFromOS().Dialer(target, opts)
}
