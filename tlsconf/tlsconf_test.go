package tlsconf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testPassword encrypts the keys made by the tests.
const testPassword = "correct horse battery"

// pki is a CA with a server and a client certificate, written as PEM files in dir.
type pki struct {
	dir                string
	caCert             *x509.Certificate
	caKey              crypto.Signer
	caPath             string // the CA certificate
	serverCert         tls.Certificate
	clientRSA          *rsa.PrivateKey // the key of clientCertPath
	clientCertPath     string
	clientECKey        *ecdsa.PrivateKey // the key of clientECCertPath
	clientECCertPath   string
	clientEdKey        ed25519.PrivateKey // the key of clientEdCertPath
	clientEdCertPath   string
	otherKeyPath       string // a PKCS#1 key that matches no certificate
	passwordPath       string // testPassword, for openssl -passout file:
	serverCertDNSNames []string
}

var serial int64 = 1

// newSerial returns a fresh certificate serial number.
func newSerial() *big.Int {
	serial++
	return big.NewInt(serial)
}

// newPKI makes a CA, a server certificate for "server.test" and 127.0.0.1 and client
// certificates for an RSA, an ECDSA and an Ed25519 key.
func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), serverCertDNSNames: []string{"server.test"}}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.caKey = caKey
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(), Subject: pkix.Name{CommonName: "tlsconf test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	if p.caCert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	p.caPath = p.write(t, "ca.pem", pemOf("CERTIFICATE", der))

	serverKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.serverCert = p.leaf(t, serverKey, false, time.Now().Add(24*time.Hour))

	if p.clientRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	p.clientCertPath = p.writeCert(t, "client-rsa.pem", p.leaf(t, p.clientRSA, true, time.Now().Add(24*time.Hour)))
	if p.clientECKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	p.clientECCertPath = p.writeCert(t, "client-ec.pem", p.leaf(t, p.clientECKey, true, time.Now().Add(24*time.Hour)))
	if _, p.clientEdKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	p.clientEdCertPath = p.writeCert(t, "client-ed.pem", p.leaf(t, p.clientEdKey, true, time.Now().Add(24*time.Hour)))
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err = x509.MarshalECPrivateKey(other)
	if err != nil {
		t.Fatal(err)
	}
	p.otherKeyPath = p.write(t, "other.key", pemOf("EC PRIVATE KEY", der))
	p.passwordPath = p.write(t, "password.txt", []byte(testPassword+"\n"))
	return p
}

// leaf issues a certificate for key signed by the CA: a client certificate, or a server
// certificate for p.serverCertDNSNames and 127.0.0.1, valid until notAfter.
func (p *pki) leaf(t *testing.T, key crypto.Signer, client bool, notAfter time.Time) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = p.serverCertDNSNames
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	if _, ok := key.(*rsa.PrivateKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, key.Public(), p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// write writes data to name in p.dir and returns its path.
func (p *pki) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeCert writes the certificate chain of c as PEM and returns its path.
func (p *pki) writeCert(t *testing.T, name string, c tls.Certificate) string {
	t.Helper()
	var b []byte
	for _, der := range c.Certificate {
		b = append(b, pemOf("CERTIFICATE", der)...)
	}
	return p.write(t, name, b)
}

// pemOf encodes one PEM block.
func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// openssl runs the openssl command line tool in p.dir and fails the test when it fails.
func (p *pki) openssl(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = p.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// keyForm is one way of storing a client key.
type keyForm struct {
	name      string
	certPath  func(p *pki) string
	keyPath   func(t *testing.T, p *pki) string // writes the key file
	encrypted bool
}

// keyForms lists every supported form: plain PKCS#1, PKCS#8 and SEC1, encrypted PKCS#8 as
// written by openssl with several ciphers and PRFs, and legacy encrypted PEM by openssl.
func keyForms() []keyForm {
	rsaCert := func(p *pki) string { return p.clientCertPath }
	ecCert := func(p *pki) string { return p.clientECCertPath }
	edCert := func(p *pki) string { return p.clientEdCertPath }
	plainPKCS1 := func(t *testing.T, p *pki) string {
		return p.write(t, "rsa-pkcs1.key", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(p.clientRSA)))
	}
	plainSEC1 := func(t *testing.T, p *pki) string {
		der, err := x509.MarshalECPrivateKey(p.clientECKey)
		if err != nil {
			t.Fatal(err)
		}
		return p.write(t, "ec-sec1.key", pemOf("EC PRIVATE KEY", der))
	}
	pkcs8 := func(name string, key func(p *pki) any) func(t *testing.T, p *pki) string {
		return func(t *testing.T, p *pki) string {
			der, err := x509.MarshalPKCS8PrivateKey(key(p))
			if err != nil {
				t.Fatal(err)
			}
			return p.write(t, name, pemOf("PRIVATE KEY", der))
		}
	}
	// topk8 encrypts a plain key with openssl pkcs8 -topk8 (PBES2).
	topk8 := func(plain func(t *testing.T, p *pki) string, out string, args ...string) func(t *testing.T, p *pki) string {
		return func(t *testing.T, p *pki) string {
			in := plain(t, p)
			p.openssl(t, append([]string{"pkcs8", "-topk8", "-in", in, "-out", out, "-passout", "file:" + p.passwordPath}, args...)...)
			return filepath.Join(p.dir, out)
		}
	}
	// legacy encrypts a plain key in the traditional PEM form (Proc-Type: 4,ENCRYPTED).
	legacy := func(plain func(t *testing.T, p *pki) string, tool, out, cipher string) func(t *testing.T, p *pki) string {
		return func(t *testing.T, p *pki) string {
			in := plain(t, p)
			args := []string{tool, "-in", in, "-out", out, "-" + cipher, "-passout", "file:" + p.passwordPath}
			if tool == "rsa" {
				args = append(args, "-traditional")
			}
			p.openssl(t, args...)
			return filepath.Join(p.dir, out)
		}
	}
	rsaKey := func(p *pki) any { return p.clientRSA }
	ecKey := func(p *pki) any { return p.clientECKey }
	edKey := func(p *pki) any { return p.clientEdKey }
	return []keyForm{
		{"PKCS#1 RSA", rsaCert, plainPKCS1, false},
		{"PKCS#8 RSA", rsaCert, pkcs8("rsa-pkcs8.key", rsaKey), false},
		{"SEC1 EC", ecCert, plainSEC1, false},
		{"PKCS#8 EC", ecCert, pkcs8("ec-pkcs8.key", ecKey), false},
		{"PKCS#8 Ed25519", edCert, pkcs8("ed-pkcs8.key", edKey), false},
		{"encrypted PKCS#8 RSA AES-256 SHA-256 (openssl default)", rsaCert, topk8(plainPKCS1, "rsa-enc256.key"), true},
		{"encrypted PKCS#8 RSA AES-128 SHA-1", rsaCert, topk8(plainPKCS1, "rsa-enc128.key", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"), true},
		{"encrypted PKCS#8 EC AES-192 SHA-512", ecCert, topk8(plainSEC1, "ec-enc192.key", "-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512"), true},
		{"encrypted PKCS#8 Ed25519 AES-256", edCert, topk8(pkcs8("ed-plain.key", edKey), "ed-enc.key"), true},
		{"legacy encrypted RSA AES-256", rsaCert, legacy(plainPKCS1, "rsa", "rsa-legacy.key", "aes256"), true},
		{"legacy encrypted RSA 3DES", rsaCert, legacy(plainPKCS1, "rsa", "rsa-legacy-des3.key", "des3"), true},
		{"legacy encrypted EC AES-128", ecCert, legacy(plainSEC1, "ec", "ec-legacy.key", "aes128"), true},
	}
}

// handshake runs a mutual TLS handshake over an in-memory pipe between a server presenting
// p.serverCert (or cert when not nil) and requiring a client certificate issued by the CA,
// and a client using cfg. It returns the client's error.
func (p *pki) handshake(t *testing.T, cfg *tls.Config, cert *tls.Certificate) error {
	t.Helper()
	if cert == nil {
		cert = &p.serverCert
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.caCert)
	srvCfg := &tls.Config{Certificates: []tls.Certificate{*cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	c1, c2 := net.Pipe()
	srv := tls.Server(c1, srvCfg)
	cli := tls.Client(c2, cfg)
	_ = c1.SetDeadline(time.Now().Add(10 * time.Second))
	_ = c2.SetDeadline(time.Now().Add(10 * time.Second))
	var wg sync.WaitGroup
	var srvErr error
	wg.Go(func() {
		srvErr = srv.Handshake()
		if srvErr == nil {
			// TLS 1.3: the client's certificate is checked after the client's handshake
			// ends; a read makes the server's verdict reach the client.
			_, srvErr = srv.Write([]byte("x"))
		}
		_ = c1.Close()
	})
	err := cli.Handshake()
	if err == nil {
		var b [1]byte
		_, err = cli.Read(b[:])
	}
	_ = c2.Close()
	wg.Wait()
	if err == nil && srvErr != nil {
		err = srvErr
	}
	return err
}

func TestBuildLoadsEveryKeyForm(t *testing.T) {
	p := newPKI(t)
	for _, f := range keyForms() {
		t.Run(f.name, func(t *testing.T) {
			keyPath := f.keyPath(t, p)
			opts := Options{CAPath: p.caPath, CertPath: f.certPath(p), KeyPath: keyPath, ServerName: "server.test"}
			if f.encrypted {
				opts.KeyPassword = []byte(testPassword)
			}
			cfg, err := Build(opts)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if len(cfg.Certificates) != 1 || cfg.Certificates[0].Leaf == nil {
				t.Fatalf("certificates %+v", cfg.Certificates)
			}
			if err := p.handshake(t, cfg, nil); err != nil {
				t.Fatalf("mutual TLS handshake: %v", err)
			}
			if !f.encrypted {
				// A password given for a plain key is ignored.
				opts.KeyPassword = []byte("unused")
				if _, err := Build(opts); err != nil {
					t.Fatalf("plain key with a password: %v", err)
				}
				return
			}
			opts.KeyPassword = nil
			if _, err := Build(opts); !errors.Is(err, ErrPasswordRequired) {
				t.Fatalf("no password: %v, want ErrPasswordRequired", err)
			}
			for _, wrong := range []string{"hunter2", "correct horse batterx", "x", strings.Repeat("p", 100)} {
				opts.KeyPassword = []byte(wrong)
				_, err := Build(opts)
				if !errors.Is(err, ErrWrongPassword) {
					t.Fatalf("password %q: %v, want ErrWrongPassword", wrong, err)
				}
				if strings.Contains(err.Error(), wrong) {
					t.Fatalf("error shows the password: %v", err)
				}
			}
		})
	}
}

func TestWrongPasswordNeverParses(t *testing.T) {
	// Many wrong passwords: those that happen to leave valid padding must still be
	// ErrWrongPassword, not a parse error.
	p := newPKI(t)
	in := p.write(t, "ec.key", func() []byte {
		der, err := x509.MarshalECPrivateKey(p.clientECKey)
		if err != nil {
			t.Fatal(err)
		}
		return pemOf("EC PRIVATE KEY", der)
	}())
	p.openssl(t, "pkcs8", "-topk8", "-in", in, "-out", "enc.key", "-passout", "file:"+p.passwordPath, "-iter", "1")
	data, err := os.ReadFile(filepath.Join(p.dir, "enc.key"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		_, err := ParsePrivateKeyPEM(data, []byte("wrong"+string(rune('a'+i%26))+strings.Repeat("z", i/26)))
		if !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	if _, err := ParsePrivateKeyPEM(data, []byte(testPassword)); err != nil {
		t.Fatal(err)
	}
}

func TestBuildKeyMismatch(t *testing.T) {
	p := newPKI(t)
	_, err := Build(Options{CAPath: p.caPath, CertPath: p.clientCertPath, KeyPath: p.otherKeyPath})
	if !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("err = %v, want ErrKeyMismatch", err)
	}
	for _, e := range []error{ErrWrongPassword, ErrPasswordRequired, fs.ErrNotExist} {
		if errors.Is(err, e) {
			t.Fatalf("mismatch is also %v", e)
		}
	}
}

func TestBuildMissingFiles(t *testing.T) {
	p := newPKI(t)
	keyPath := p.write(t, "k.pem", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(p.clientRSA)))
	missing := filepath.Join(p.dir, "missing.pem")
	tests := []struct {
		name string
		opts Options
	}{
		{"explicit CA file", Options{CAPath: missing}},
		{"explicit CA directory", Options{CAPath: filepath.Join(p.dir, "nodir") + "/"}},
		{"certificate", Options{CAPath: p.caPath, CertPath: missing, KeyPath: keyPath}},
		{"key", Options{CAPath: p.caPath, CertPath: p.clientCertPath, KeyPath: missing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.opts)
			if !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("err = %v, want fs.ErrNotExist", err)
			}
			if errors.Is(err, ErrKeyMismatch) || errors.Is(err, ErrWrongPassword) {
				t.Fatalf("err %v is not distinct", err)
			}
		})
	}
	if _, err := Build(Options{CAPath: p.caPath, CertPath: p.clientCertPath}); err == nil {
		t.Fatal("certificate without key accepted")
	}
}

func TestBuildBadContents(t *testing.T) {
	p := newPKI(t)
	junk := p.write(t, "junk.pem", []byte("not PEM at all\n"))
	keyPath := p.write(t, "k.pem", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(p.clientRSA)))
	if _, err := Build(Options{CAPath: junk}); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("CA without certificates: %v", err)
	}
	if _, err := Build(Options{CAPath: p.caPath, CertPath: junk, KeyPath: keyPath}); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("certificate file without certificates: %v", err)
	}
	if _, err := Build(Options{CAPath: p.caPath, CertPath: p.clientCertPath, KeyPath: junk}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("key file without key: %v", err)
	}
	bad := p.write(t, "bad.key", pemOf("PRIVATE KEY", []byte("garbage")))
	if _, err := Build(Options{CAPath: p.caPath, CertPath: p.clientCertPath, KeyPath: bad}); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("garbage key: %v", err)
	}
}

func TestBuildCADirectory(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	ca, err := os.ReadFile(p.caPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"a-ca.pem": ca, "README": []byte("not a certificate")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "dangling.pem")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	keyPath := p.write(t, "k.pem", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(p.clientRSA)))
	cfg, err := Build(Options{CAPath: dir, CertPath: p.clientCertPath, KeyPath: keyPath, ServerName: "server.test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.handshake(t, cfg, nil); err != nil {
		t.Fatalf("handshake with a CA directory: %v", err)
	}
	empty := t.TempDir()
	if _, err := Build(Options{CAPath: empty}); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("empty CA directory: %v", err)
	}
}

func TestBuildDefaultCAPathFallsBackToSystemRoots(t *testing.T) {
	p := newPKI(t)
	missing := filepath.Join(p.dir, "default-cacert.pem")
	cfg, err := Build(Options{CAPath: missing, CAPathOptional: true})
	if err != nil || cfg.RootCAs != nil {
		t.Fatalf("optional missing CA path: %v, RootCAs %v; want the system roots (nil)", err, cfg)
	}
	cfg, err = Build(Options{CAPath: p.caPath, CAPathOptional: true})
	if err != nil || cfg.RootCAs == nil {
		t.Fatalf("optional existing CA path not used: %v", err)
	}
	cfg, err = Build(Options{})
	if _, statErr := os.Stat(DefaultCAPath); statErr != nil {
		if err != nil || cfg.RootCAs != nil {
			t.Fatalf("default path missing: %v; want system roots", err)
		}
	} else if err != nil || cfg.RootCAs == nil {
		t.Fatalf("default path present but not used: %v", err)
	}
	// An optional path that exists but holds no certificate is still an error.
	junk := p.write(t, "junk.pem", []byte("junk"))
	if _, err := Build(Options{CAPath: junk, CAPathOptional: true}); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("optional junk CA: %v", err)
	}
}

func TestBuildVerifiesServer(t *testing.T) {
	p := newPKI(t)
	keyPath := p.write(t, "k.pem", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(p.clientRSA)))
	base := Options{CAPath: p.caPath, CertPath: p.clientCertPath, KeyPath: keyPath}
	build := func(o Options) *tls.Config {
		t.Helper()
		cfg, err := Build(o)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.InsecureSkipVerify != o.InsecureSkipVerify {
			t.Fatal("InsecureSkipVerify not as asked")
		}
		return cfg
	}
	o := base
	o.ServerName = "127.0.0.1"
	if err := p.handshake(t, build(o), nil); err != nil {
		t.Fatalf("IP SAN: %v", err)
	}

	o.ServerName = "other.test"
	var hostErr x509.HostnameError
	if err := p.handshake(t, build(o), nil); !errors.As(err, &hostErr) {
		t.Fatalf("wrong host name: %v, want x509.HostnameError", err)
	}
	o.InsecureSkipVerify = true
	if err := p.handshake(t, build(o), nil); err != nil {
		t.Fatalf("wrong host name with InsecureSkipVerify: %v", err)
	}

	expiredKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	expired := p.leaf(t, expiredKey, false, time.Now().Add(-time.Hour))
	o = base
	o.ServerName = "server.test"
	var invErr x509.CertificateInvalidError
	if err := p.handshake(t, build(o), &expired); !errors.As(err, &invErr) || invErr.Reason != x509.Expired {
		t.Fatalf("expired certificate: %v, want x509.CertificateInvalidError Expired", err)
	}

	other := newPKI(t)
	o.CAPath = other.caPath
	var uaErr x509.UnknownAuthorityError
	if err := p.handshake(t, build(o), nil); !errors.As(err, &uaErr) {
		t.Fatalf("wrong CA: %v, want x509.UnknownAuthorityError", err)
	}
}

func TestBuildMinVersion(t *testing.T) {
	p := newPKI(t)
	cfg, err := Build(Options{CAPath: p.caPath})
	if err != nil || cfg.MinVersion != tls.VersionTLS12 {
		t.Fatalf("default MinVersion: %v %v", cfg, err)
	}
	cfg, err = Build(Options{CAPath: p.caPath, MinVersion: tls.VersionTLS13})
	if err != nil || cfg.MinVersion != tls.VersionTLS13 {
		t.Fatalf("TLS 1.3: %v %v", cfg, err)
	}
	for _, v := range []uint16{1, 0x0300 /* SSL 3.0 */, 0x0305} {
		if _, err := Build(Options{CAPath: p.caPath, MinVersion: v}); !errors.Is(err, ErrTLSVersion) {
			t.Fatalf("version 0x%04x: %v", v, err)
		}
	}
}

func TestCloneNeverModifiesTheCallersConfig(t *testing.T) {
	orig := &tls.Config{NextProtos: []string{"a"}}
	c := Clone(orig, "host.test")
	if c == orig || c.ServerName != "host.test" || c.MinVersion != tls.VersionTLS12 {
		t.Fatalf("clone %+v", c)
	}
	c.NextProtos[0] = "changed"
	c.ServerName = "x"
	if orig.ServerName != "" || orig.MinVersion != 0 {
		t.Fatalf("original modified: %+v", orig)
	}
	set := &tls.Config{ServerName: "set.test", MinVersion: tls.VersionTLS13}
	if c := Clone(set, "host.test"); c.ServerName != "set.test" || c.MinVersion != tls.VersionTLS13 {
		t.Fatalf("explicit fields overridden: %+v", c)
	}
	if c := Clone(nil, "h"); c == nil || c.ServerName != "h" || c.InsecureSkipVerify || c.RootCAs != nil {
		t.Fatalf("nil: %+v", c)
	}
}
