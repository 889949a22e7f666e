package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeTestCA writes a self-signed CA certificate as PEM to path.
func writeTestCA(t *testing.T, path string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestBuildTLSConfigLoadsCAFileAndDirectory(t *testing.T) {
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	writeTestCA(t, caFile)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a cert"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, []byte("nothing"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantErr bool
		code    int32
	}{
		{"file", caFile, false, 0},
		{"directory with one PEM", dir, false, 0},
		{"file without PEM", empty, true, 0},
		{"missing", filepath.Join(dir, "missing.pem"), true, CodeFileNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := buildTLSConfig(context.Background(), &WebSocketRequestOptions{CAPath: tt.path}, "example.com")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if tt.code != 0 && CodeOf(err) != tt.code {
					t.Fatalf("code %d, want %d", CodeOf(err), tt.code)
				}
				return
			}
			if cfg.RootCAs == nil || cfg.ServerName != "example.com" || cfg.InsecureSkipVerify {
				t.Fatalf("cfg %+v", cfg)
			}
		})
	}
}

func TestBuildTLSConfigDefaultsVerifyHostUnlessSkipped(t *testing.T) {
	cfg, err := buildTLSConfig(context.Background(), &WebSocketRequestOptions{CAPath: DefaultCAPath}, "h")
	if err != nil && !fileExists(DefaultCAPath) {
		t.Fatal(err)
	}
	if err == nil && cfg.InsecureSkipVerify {
		t.Fatal("verification off by default")
	}
	cfg, err = buildTLSConfig(context.Background(), &WebSocketRequestOptions{SkipServerCertVerification: true, CAPath: "/nonexistent-default-override"}, "h")
	if err == nil || CodeOf(err) != CodeFileNotExist {
		t.Fatalf("explicit missing CA: %v %v", cfg, err)
	}
	cfg, err = buildTLSConfig(context.Background(), &WebSocketRequestOptions{SkipServerCertVerification: true}, "h")
	if err == nil && !cfg.InsecureSkipVerify {
		t.Fatal("skip not applied")
	}
}

func TestProxyFuncOfEachConfiguration(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://env-proxy:3128")
	t.Setenv("NO_PROXY", "")
	target, _ := url.Parse("ws://example.com/")
	excluded, _ := url.Parse("ws://a.example:81/")
	host := "proxy"
	tests := []struct {
		name   string
		p      ProxyConfiguration
		target *url.URL
		want   string // proxy URL, "" for direct
	}{
		{"nil is SYSTEM", nil, target, "http://env-proxy:3128"},
		{"SYSTEM", SystemProxy{}, target, "http://env-proxy:3128"},
		{"NO_PROXY", NoProxy{}, target, ""},
		{"HTTPPROXY", HTTPProxy{Proxy: &WebSocketHttpProxy{Host: &host, ExclusionList: []string{"*.example", "10.0.0.0/8"}}}, target, "http://proxy:80"},
		{"HTTPPROXY excluded", HTTPProxy{Proxy: &WebSocketHttpProxy{Host: &host, ExclusionList: []string{"*.example", "10.0.0.0/8"}}}, excluded, ""},
	}
	for _, tt := range tests {
		f, err := proxyFunc(tt.p)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, err := f(tt.target)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		s := ""
		if got != nil {
			s = got.String()
		}
		if s != tt.want {
			t.Errorf("%s: proxy %v, want %q", tt.name, got, tt.want)
		}
	}
	if _, err := proxyFunc(HTTPProxy{Proxy: &WebSocketHttpProxy{Host: &host, ExclusionList: []string{"10.0.0.0/99"}}}); CodeOf(err) != CodeParameterError {
		t.Fatalf("bad exclusion: %v", err)
	}
	if _, err := proxyFunc(HTTPProxy{}); CodeOf(err) != CodeParameterError {
		t.Fatalf("nil proxy: %v", err)
	}
}
