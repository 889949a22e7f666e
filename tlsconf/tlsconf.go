// Package tlsconf builds the *tls.Config of a wss:// connection from the options of the seed's
// WebSocketRequestOptions: the CA path (a PEM bundle file or a directory of PEM files, with the
// seed's default path falling back to the system roots when it does not exist), a client
// certificate whose key may be in PKCS#1, PKCS#8 or SEC1 form, encrypted or not (encrypted
// PKCS#8 as current OpenSSL writes it, and legacy "Proc-Type: 4,ENCRYPTED" PEM), server
// certificate and host name verification (on unless explicitly skipped), and a minimum TLS
// version (TLS 1.2 by default).
//
// Files are read with bounds: only regular files (symbolic links to them are fine; a FIFO, a
// device such as /dev/zero, a socket is ErrNotRegular, found without reading or blocking), each
// of at most MaxFileSize bytes (ErrFileTooLarge), and a CA directory of at most
// MaxCADirEntries entries and MaxCADirBytes bytes (ErrCADirTooLarge). A CA directory skips the
// entries it cannot use and reports them (CAs.Skipped, and a *CADirError when none is left).
// BuildContext, LoadCAsContext and LoadKeyPairContext end when their context does.
//
// Failures are distinct: a missing file wraps fs.ErrNotExist; an encrypted key without a
// password is ErrPasswordRequired; a wrong password is ErrWrongPassword; a key that does not
// belong to the certificate is ErrKeyMismatch. Errors name files, never passwords.
//
// The package imports no engine package of this module; package client uses it.
package tlsconf

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// DefaultCAPath is the seed's default caPath. When it does not exist the system roots are used.
const DefaultCAPath = "/etc/ssl/certs/cacert.pem"

// Errors of Build and LoadKeyPair; test them with errors.Is.
var (
	// ErrPasswordRequired: the private key is encrypted and no password was given.
	ErrPasswordRequired = errors.New("tlsconf: private key is encrypted and no password was given")
	// ErrWrongPassword: the password does not decrypt the private key.
	ErrWrongPassword = errors.New("tlsconf: wrong password for the encrypted private key")
	// ErrKeyMismatch: the private key does not belong to the certificate's public key.
	ErrKeyMismatch = errors.New("tlsconf: private key does not match the certificate")
	// ErrNoCertificate: a CA path or certificate file holds no PEM certificate.
	ErrNoCertificate = errors.New("tlsconf: no PEM certificate found")
	// ErrNoKey: the key file holds no PEM private key.
	ErrNoKey = errors.New("tlsconf: no PEM private key found")
	// ErrUnsupportedKey: the key's form or encryption algorithm is not supported.
	ErrUnsupportedKey = errors.New("tlsconf: unsupported private key")
	// ErrTLSVersion: MinVersion is not a TLS version this package accepts.
	ErrTLSVersion = errors.New("tlsconf: unsupported minimum TLS version")
)

// Options configure Build. The zero value means: the default CA path (system roots when it
// does not exist), no client certificate, full verification, TLS 1.2 or later.
type Options struct {
	// CAPath is a PEM file or a directory of PEM files holding the CA certificates that
	// verify the server. "" means DefaultCAPath with CAPathOptional set.
	CAPath string
	// CAPathOptional makes a CAPath that does not exist mean "use the system roots" instead
	// of an error. Set it for the seed's default path; an explicit path must exist.
	CAPathOptional bool
	// CertPath is a PEM file with the client certificate, leaf first, then any intermediates.
	// "" means no client certificate (KeyPath must then be "" too).
	CertPath string
	// KeyPath is a PEM file with the client certificate's private key: PKCS#1, PKCS#8 or SEC1,
	// plain or encrypted.
	KeyPath string
	// KeyPassword decrypts an encrypted key. nil or empty means the key is not encrypted;
	// it is ignored for a key that is not encrypted.
	KeyPassword []byte
	// InsecureSkipVerify turns off verification of the server's certificate chain and host
	// name. Only for tests.
	InsecureSkipVerify bool
	// MinVersion is the lowest TLS version offered (tls.VersionTLS10 to tls.VersionTLS13);
	// 0 means tls.VersionTLS12.
	MinVersion uint16
	// ServerName is the name sent in SNI and checked against the server's certificate:
	// normally the URL's host.
	ServerName string
}

// Build returns a new *tls.Config for opts. It reads the CA path and the client certificate
// files now, so that every error surfaces before any connection is attempted. It is
// BuildContext with a context that never ends.
func Build(opts Options) (*tls.Config, error) {
	return build(context.Background(), opts)
}

// BuildContext is Build ended early by ctx: when ctx ends while files are being read, it
// returns ctx's error at once. The reads themselves never block (a FIFO or device is refused
// without reading it, and files are bounded by MaxFileSize); the reading goroutine stops at
// its next check of ctx.
func BuildContext(ctx context.Context, opts Options) (*tls.Config, error) {
	if ctx.Done() == nil {
		return build(ctx, opts)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		cfg *tls.Config
		err error
	}
	ch := make(chan result, 1)
	go func() {
		cfg, err := build(ctx, opts)
		ch <- result{cfg, err}
	}()
	select {
	case r := <-ch:
		return r.cfg, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func build(ctx context.Context, opts Options) (*tls.Config, error) {
	minVersion := opts.MinVersion
	switch minVersion {
	case 0:
		minVersion = tls.VersionTLS12
	case tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13:
	default:
		return nil, fmt.Errorf("%w: 0x%04x", ErrTLSVersion, minVersion)
	}
	cfg := &tls.Config{
		ServerName:         opts.ServerName,
		MinVersion:         minVersion,
		InsecureSkipVerify: opts.InsecureSkipVerify, // the caller's explicit opt-out
	}
	caPath, optional := opts.CAPath, opts.CAPathOptional
	if caPath == "" {
		caPath, optional = DefaultCAPath, true
	}
	cas, err := LoadCAsContext(ctx, caPath)
	switch {
	case err == nil:
		cfg.RootCAs = cas.Pool
	case optional && errors.Is(err, fs.ErrNotExist):
		// The default path is missing: nil RootCAs means the system roots.
	default:
		return nil, err
	}
	if opts.CertPath != "" || opts.KeyPath != "" {
		if opts.CertPath == "" || opts.KeyPath == "" {
			return nil, errors.New("tlsconf: a client certificate needs both a certificate and a key file")
		}
		cert, err := LoadKeyPairContext(ctx, opts.CertPath, opts.KeyPath, opts.KeyPassword)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Clone returns a copy of cfg for a connection to serverName: cfg itself is never modified.
// A nil cfg means a new config with full verification against the system roots. The copy's
// ServerName is serverName unless cfg sets one, and its MinVersion is TLS 1.2 unless cfg sets
// one.
func Clone(cfg *tls.Config, serverName string) *tls.Config {
	c := cfg.Clone()
	if c == nil {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName = serverName
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// LoadKeyPair reads a client certificate (PEM, leaf first) and its private key (PEM: PKCS#1,
// PKCS#8 or SEC1; encrypted PKCS#8 or legacy encrypted PEM opened with password) and checks
// that they belong together. Both must be regular files of at most MaxFileSize bytes
// (ErrNotRegular, ErrFileTooLarge).
func LoadKeyPair(certPath, keyPath string, password []byte) (tls.Certificate, error) {
	return LoadKeyPairContext(context.Background(), certPath, keyPath, password)
}

// LoadKeyPairContext is LoadKeyPair ended early by ctx, whose error it then returns.
func LoadKeyPairContext(ctx context.Context, certPath, keyPath string, password []byte) (tls.Certificate, error) {
	certPEM, err := readFile(ctx, certPath, "client certificate", MaxFileSize)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := readFile(ctx, keyPath, "client key", MaxFileSize)
	if err != nil {
		return tls.Certificate{}, err
	}
	var cert tls.Certificate
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			cert.Certificate = append(cert.Certificate, b.Bytes)
		}
	}
	if len(cert.Certificate) == 0 {
		return tls.Certificate{}, fmt.Errorf("%w in %q", ErrNoCertificate, certPath)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsconf: parsing client certificate %q: %w", certPath, err)
	}
	key, err := ParsePrivateKeyPEM(keyPEM, password)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w (key file %q)", err, keyPath)
	}
	if !keyMatches(leaf.PublicKey, key) {
		return tls.Certificate{}, fmt.Errorf("%w: key %q, certificate %q", ErrKeyMismatch, keyPath, certPath)
	}
	cert.PrivateKey = key
	cert.Leaf = leaf
	return cert, nil
}

// keyMatches reports whether key is the private half of pub.
func keyMatches(pub crypto.PublicKey, key crypto.Signer) bool {
	p, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	return ok && p.Equal(key.Public())
}

// ParsePrivateKeyPEM returns the first private key of PEM data: "RSA PRIVATE KEY" (PKCS#1),
// "EC PRIVATE KEY" (SEC1), "PRIVATE KEY" (PKCS#8), "ENCRYPTED PRIVATE KEY" (PKCS#8 with
// PBES2: PBKDF2 with HMAC-SHA1/224/256/384/512, AES-128/192/256-CBC), and the legacy
// encrypted PEM form (a "Proc-Type: 4,ENCRYPTED" header) of the first two. password opens
// encrypted keys.
func ParsePrivateKeyPEM(data, password []byte) (crypto.Signer, error) {
	var b *pem.Block
	for rest := data; ; {
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, ErrNoKey
		}
		if b.Type == "PRIVATE KEY" || strings.HasSuffix(b.Type, " PRIVATE KEY") {
			break
		}
	}
	der := b.Bytes
	encrypted := false
	switch {
	case b.Type == "ENCRYPTED PRIVATE KEY":
		if len(password) == 0 {
			return nil, ErrPasswordRequired
		}
		var err error
		if der, err = decryptPKCS8(der, password); err != nil {
			return nil, err
		}
		encrypted = true
	//lint:ignore SA1019 legacy encrypted PEM is insecure by design, but the seed's clientCert accepts such keys and OpenSSL still writes them (-traditional).
	case x509.IsEncryptedPEMBlock(b):
		if len(password) == 0 {
			return nil, ErrPasswordRequired
		}
		var err error
		//lint:ignore SA1019 see above: reading existing legacy keys is the point; no other API opens them.
		der, err = x509.DecryptPEMBlock(b, password)
		if err != nil {
			if errors.Is(err, x509.IncorrectPasswordError) {
				return nil, ErrWrongPassword
			}
			return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
		}
		encrypted = true
	}
	key, err := parseDER(b.Type, der)
	if err != nil {
		if encrypted {
			// Decryption with a wrong password yields valid padding by chance about once in
			// 256 tries; the garbage then fails to parse.
			return nil, ErrWrongPassword
		}
		return nil, err
	}
	return key, nil
}

// parseDER parses an unencrypted private key of a PEM block of type typ.
func parseDER(typ string, der []byte) (crypto.Signer, error) {
	var (
		k   any
		err error
	)
	switch typ {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(der)
	default: // "PRIVATE KEY", a decrypted "ENCRYPTED PRIVATE KEY", or an unknown label
		k, err = x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			if k2, err2 := x509.ParsePKCS1PrivateKey(der); err2 == nil {
				k, err = k2, nil
			} else if k3, err3 := x509.ParseECPrivateKey(der); err3 == nil {
				k, err = k3, nil
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %q block: %v", ErrUnsupportedKey, typ, err)
	}
	switch s := k.(type) {
	case *rsa.PrivateKey:
		return s, nil
	case *ecdsa.PrivateKey:
		return s, nil
	case ed25519.PrivateKey:
		return s, nil
	}
	return nil, fmt.Errorf("%w: key type %T", ErrUnsupportedKey, k)
}
