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
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/internal/wstest"
)

// selfSigned returns a server certificate for 127.0.0.1 and the path of its PEM file.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "server.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, path
}

func TestDialWssVerifiesServerWithGivenRoots(t *testing.T) {
	cert, _ := selfSigned(t)
	srv := wstest.New(t, echo, func(s *wstest.Server) { s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}} })
	pool := x509.NewCertPool()
	pool.AddCert(mustParse(t, cert.Certificate[0]))
	ctx := context.Background()

	c, _, err := Dial(ctx, srv.URL, &DialOptions{TLSConfig: &tls.Config{RootCAs: pool}, PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(ctx, conn.Text, []byte("secure")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.ReadMessage(ctx, nil); err != nil || string(p) != "secure" {
		t.Fatalf("%q %v", p, err)
	}
	if err := c.Close(frame.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}

	// Without the root the certificate is refused.
	if _, _, err := Dial(ctx, srv.URL, &DialOptions{TLSConfig: &tls.Config{RootCAs: x509.NewCertPool()}}); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Fatalf("unknown authority accepted: %v", err)
	}
}

func TestFacadeWssWithCAPathAndWithSkipVerification(t *testing.T) {
	cert, caFile := selfSigned(t)
	srv := wstest.New(t, echo, func(s *wstest.Server) { s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}} })
	ws := CreateWebSocket()
	r := newRecorder(t, ws)

	opts := realOptions()
	opts.CAPath = caFile
	_ = ws.Connect(srv.URL, opts, nil)
	r.until("OPEN")
	_ = ws.Send(StringData("over tls"), nil)
	r.expect("MESSAGE text over tls", "DATAEND")
	_ = ws.Close(nil, nil)
	r.until("CLOSE 1000")

	// Default roots: the self-signed certificate is refused...
	_ = ws.Connect(srv.URL, realOptions(), nil)
	ev := r.until("CLOSE")
	if len(ev) != 2 || ev[0] != "ERROR 2302999" || !strings.HasPrefix(ev[1], "CLOSE 1006 connect failed") {
		t.Fatalf("events %q", ev)
	}
	// ...unless verification is turned off explicitly.
	opts = realOptions()
	opts.SkipServerCertVerification = true
	_ = ws.Connect(srv.URL, opts, nil)
	r.until("OPEN")
	_ = ws.Close(nil, nil)
	r.until("CLOSE 1000")
	wait(t, ws)
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
