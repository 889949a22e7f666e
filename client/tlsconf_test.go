package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/internal/wstest"
	"github.com/netkit/websocket/tlsconf"
)

// writeClientCert writes a self-signed client certificate and its key, encrypted as PKCS#8
// by openssl with password, and returns their paths and the path of an unrelated key.
func writeClientCert(t *testing.T, password string) (certPath, keyPath, otherKeyPath string) {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certPath = write("client.pem", "CERTIFICATE", der)
	plain, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	plainPath := write("plain.key", "PRIVATE KEY", plain)
	keyPath = filepath.Join(dir, "enc.key")
	if out, err := exec.Command("openssl", "pkcs8", "-topk8", "-in", plainPath, "-out", keyPath, "-passout", "pass:"+password).CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherDER, err := x509.MarshalECPrivateKey(other)
	if err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, write("other.key", "EC PRIVATE KEY", otherDER)
}

func TestBuildTLSConfigClientCertificateErrors(t *testing.T) {
	certPath, keyPath, otherKey := writeClientCert(t, "s3cret-pass")
	pw, wrong := "s3cret-pass", "not-it"
	build := func(cc *WebSocketClientCert) (*tls.Config, error) {
		return buildTLSConfig(context.Background(), &WebSocketRequestOptions{ClientCert: cc, SkipServerCertVerification: true}, "h")
	}
	cfg, err := build(&WebSocketClientCert{CertPath: certPath, KeyPath: keyPath, KeyPassword: &pw})
	if err != nil || len(cfg.Certificates) != 1 {
		t.Fatalf("encrypted PKCS#8 key: %v", err)
	}
	tests := []struct {
		name string
		cc   *WebSocketClientCert
		want error
		code int32
	}{
		{"wrong password", &WebSocketClientCert{CertPath: certPath, KeyPath: keyPath, KeyPassword: &wrong}, tlsconf.ErrWrongPassword, CodeOtherError},
		{"no password", &WebSocketClientCert{CertPath: certPath, KeyPath: keyPath}, tlsconf.ErrPasswordRequired, CodeOtherError},
		{"key of another certificate", &WebSocketClientCert{CertPath: certPath, KeyPath: otherKey}, tlsconf.ErrKeyMismatch, CodeOtherError},
		{"missing key", &WebSocketClientCert{CertPath: certPath, KeyPath: keyPath + ".missing"}, os.ErrNotExist, CodeFileNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build(tt.cc)
			if !errors.Is(err, tt.want) || CodeOf(err) != tt.code {
				t.Fatalf("err = %v (code %d), want %v with code %d", err, CodeOf(err), tt.want, tt.code)
			}
		})
	}
}

func TestBuildTLSConfigMinSupportTlsProtocol(t *testing.T) {
	cfg, err := buildTLSConfig(context.Background(), &WebSocketRequestOptions{SkipServerCertVerification: true}, "h")
	if err != nil || cfg.MinVersion != tls.VersionTLS12 {
		t.Fatalf("default: %v %v", cfg, err)
	}
	cfg, err = buildTLSConfig(context.Background(), &WebSocketRequestOptions{MinSupportTlsProtocol: tls.VersionTLS13}, "h")
	if err != nil || cfg.MinVersion != tls.VersionTLS13 {
		t.Fatalf("TLS 1.3: %v %v", cfg, err)
	}
	if _, err := buildTLSConfig(context.Background(), &WebSocketRequestOptions{MinSupportTlsProtocol: 0x9999}, "h"); CodeOf(err) != CodeParameterError {
		t.Fatalf("bad version: %v, want code 401", err)
	}
}

func TestDialNeverModifiesTheCallersTLSConfig(t *testing.T) {
	cert, _ := selfSigned(t)
	srv := wstest.New(t, echo, func(s *wstest.Server) { s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}} })
	pool := x509.NewCertPool()
	pool.AddCert(mustParse(t, cert.Certificate[0]))
	cfg := &tls.Config{RootCAs: pool}
	c, _, err := Dial(context.Background(), srv.URL, &DialOptions{TLSConfig: cfg, PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(frame.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	if cfg.ServerName != "" || cfg.MinVersion != 0 {
		t.Fatalf("caller's config modified: ServerName %q MinVersion %x", cfg.ServerName, cfg.MinVersion)
	}
}
