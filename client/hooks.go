package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
)

// buildTLSConfig returns the *tls.Config of a wss connection made with opts (already
// resolved) to serverName. It is where the tlsconf package plugs in.
//
// For now: the CA file or directory of PEM files at CAPath when it exists (the default path
// may be missing: then the system roots), host name verification unless
// SkipServerCertVerification, and an unencrypted client certificate. Encrypted client keys
// are not supported yet.
var buildTLSConfig = func(opts *WebSocketRequestOptions, serverName string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if opts.SkipServerCertVerification {
		cfg.InsecureSkipVerify = true
	}
	ca := opts.CAPath
	if ca == "" {
		ca = DefaultCAPath
	}
	if ca != DefaultCAPath || fileExists(ca) {
		pool, err := loadCAs(ca)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if cc := opts.ClientCert; cc != nil {
		if cc.KeyPassword != nil {
			return nil, errors.New("encrypted client keys are not supported yet")
		}
		cert, err := tls.LoadX509KeyPair(cc.CertPath, cc.KeyPath)
		if err != nil {
			return nil, fmt.Errorf("loading client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// loadCAs reads a PEM file, or every regular file of a directory, into a pool. A missing path
// is error 2302002; no certificate at all is an error too.
func loadCAs(path string) (*x509.CertPool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, newAsync(CodeFileNotExist, fmt.Errorf("CA path %q: %w", path, err))
	}
	files := []string{path}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("reading CA directory: %w", err)
		}
		files = files[:0]
		for _, e := range entries {
			if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	}
	pool := x509.NewCertPool()
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			if st.IsDir() {
				continue
			}
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		if pool.AppendCertsFromPEM(b) {
			n++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("no PEM certificate in CA path %q", path)
	}
	return pool, nil
}

// proxyDialer returns the function that opens the byte stream to a target "host:port" for a
// proxy configuration (nil means SystemProxy), or nil for a direct connection. It is where the
// proxy package plugs in. For now NoProxy and SystemProxy dial directly (the environment is
// not read yet) and HTTPProxy is refused.
var proxyDialer = func(p ProxyConfiguration, target *url.URL) (func(ctx context.Context, network, addr string) (net.Conn, error), error) {
	switch p.(type) {
	case nil, NoProxy, SystemProxy:
		return nil, nil
	case HTTPProxy:
		return nil, errors.New("HTTP proxies are not supported yet")
	}
	return nil, fmt.Errorf("unknown proxy configuration %T", p)
}
