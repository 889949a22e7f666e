package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/netkit/websocket/proxy"
	"github.com/netkit/websocket/tlsconf"
)

// buildTLSConfig returns the *tls.Config of a wss connection made with opts (already
// resolved) to serverName, built by package tlsconf: the CA file or directory of PEM files at
// CAPath (the default path may be missing: then the system roots), certificate and host name
// verification unless SkipServerCertVerification, the client certificate with a plain or
// encrypted key, and MinSupportTlsProtocol. Files are read with tlsconf's bounds (regular files only,
// at most tlsconf.MaxFileSize bytes each; see tlsconf.LoadCAsContext for CA directories), and
// ctx ends the loading: a Close during connecting returns at once. A missing file is error
// 2302002, a bad MinSupportTlsProtocol 401, any other failure (not a regular file, too large, wrong
// password, key mismatch: see tlsconf's errors; ctx's error) 2302999.
var buildTLSConfig = func(ctx context.Context, opts *WebSocketRequestOptions, serverName string) (*tls.Config, error) {
	o := tlsconf.Options{
		CAPath:             opts.CAPath,
		CAPathOptional:     opts.CAPath == "" || opts.CAPath == DefaultCAPath,
		InsecureSkipVerify: opts.SkipServerCertVerification,
		MinVersion:         uint16(opts.MinSupportTlsProtocol),
		ServerName:         serverName,
	}
	if cc := opts.ClientCert; cc != nil {
		o.CertPath, o.KeyPath = cc.CertPath, cc.KeyPath
		if cc.KeyPassword != nil {
			o.KeyPassword = []byte(*cc.KeyPassword)
		}
	}
	cfg, err := tlsconf.BuildContext(ctx, o)
	switch {
	case err == nil:
		return cfg, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, newAsync(CodeFileNotExist, err)
	case errors.Is(err, tlsconf.ErrTLSVersion):
		return nil, newAsync(CodeParameterError, err)
	}
	// Not a regular file, too large, wrong password, key mismatch, unsupported files, or ctx
	// ended.
	return nil, newAsync(CodeOtherError, err)
}

// proxyFunc returns the DialOptions.Proxy of a proxy configuration (nil means SystemProxy):
// the blocking API's own mechanism, so that both APIs choose proxies in one place, for each
// connection a dial opens (redirects included). NoProxy is ProxyDirect, SystemProxy
// ProxyFromEnvironment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY; ws uses the http
// proxy, wss the https one), and HTTPProxy tunnels with CONNECT (Basic authentication when a
// username or password is set) except to the hosts of its ExclusionList. TLS, for wss, runs
// on top of the tunnel.
func proxyFunc(p ProxyConfiguration) (func(target *url.URL) (*url.URL, error), error) {
	switch p := p.(type) {
	case NoProxy:
		return ProxyDirect, nil
	case nil, SystemProxy:
		return ProxyFromEnvironment, nil
	case HTTPProxy:
		hp := p.Proxy
		if hp == nil || hp.Host == nil || *hp.Host == "" {
			return nil, newAsync(CodeParameterError, errors.New("HTTP proxy without a host"))
		}
		port := uint16(80)
		if hp.Port != nil && *hp.Port != 0 {
			port = *hp.Port
		}
		u := &url.URL{Scheme: "http", Host: net.JoinHostPort(strings.Trim(*hp.Host, "[]"), strconv.Itoa(int(port)))}
		if hp.Username != nil || hp.Password != nil {
			var name, pw string
			if hp.Username != nil {
				name = *hp.Username
			}
			if hp.Password != nil {
				pw = *hp.Password
			}
			u.User = url.UserPassword(name, pw)
		}
		ex, err := proxy.ParseExclusions(hp.ExclusionList)
		if err != nil {
			return nil, newAsync(CodeParameterError, err)
		}
		return excludingChooser(u, ex), nil
	case SOCKS5Proxy:
		u, err := parseSOCKS5URL(p.URL)
		if err != nil {
			return nil, newAsync(CodeParameterError, err)
		}
		ex, err := proxy.ParseExclusions(p.ExclusionList)
		if err != nil {
			return nil, newAsync(CodeParameterError, err)
		}
		return excludingChooser(u, ex), nil
	}
	return nil, fmt.Errorf("unknown proxy configuration %T", p)
}

// excludingChooser returns a DialOptions.Proxy that chooses the proxy u except for the hosts
// that ex matches, which are dialled directly.
func excludingChooser(u *url.URL, ex *proxy.Exclusions) func(target *url.URL) (*url.URL, error) {
	return func(target *url.URL) (*url.URL, error) {
		if ex.Match(target.Host) {
			return nil, nil
		}
		return u, nil
	}
}
