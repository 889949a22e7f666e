package tlsconf_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/server"
	"github.com/netkit/websocket/tlsconf"
)

// Build reads a CA file, and a client certificate whose key is encrypted with a password, into
// the *tls.Config of client.DialOptions.TLSConfig (the facade's WebSocketRequestOptions.CaPath
// and ClientCert go through Build too). Verification of the server's certificate and host name
// stays on.
//
// To run on its own, the example first writes a self-signed certificate for 127.0.0.1 (the
// server's, which is also the CA file) and a client certificate with an encrypted PKCS#8 key,
// the form "openssl genpkey -aes256" writes, to a temporary directory, then talks to a wss://
// echo server (package server) that uses the first.
func ExampleBuild() {
	dir, err := os.MkdirTemp("", "tlsconf-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	serverCert, serverKey := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	clientCert, clientKey := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	password := []byte("key password")
	if err := writeCert(serverCert, serverKey, x509.ExtKeyUsageServerAuth, nil); err != nil {
		fmt.Println(err)
		return
	}
	if err := writeCert(clientCert, clientKey, x509.ExtKeyUsageClientAuth, password); err != nil {
		fmt.Println(err)
		return
	}

	cfg, err := tlsconf.Build(tlsconf.Options{
		CAPath:      serverCert, // a PEM file, or a directory of them
		CertPath:    clientCert,
		KeyPath:     clientKey,
		KeyPassword: password,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("client certificates:", len(cfg.Certificates), "TLS 1.2 or later:", cfg.MinVersion == tls.VersionTLS12)

	// What goes wrong is told apart with errors.Is; errors name files, never the password.
	_, err = tlsconf.Build(tlsconf.Options{CAPath: serverCert, CertPath: clientCert, KeyPath: clientKey})
	fmt.Println("no password:", errors.Is(err, tlsconf.ErrPasswordRequired))
	_, err = tlsconf.Build(tlsconf.Options{CAPath: filepath.Join(dir, "missing.pem")})
	fmt.Println("missing CA file:", errors.Is(err, fs.ErrNotExist))

	// A wss:// echo server on 127.0.0.1 with the server certificate.
	srv := server.CreateWebSocketServer()
	srv.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
		srv.Send(m.Data, m.ClientConnection, nil)
	}))
	err = srv.Start(&server.WebSocketServerConfig{
		ServerIP:   "127.0.0.1",
		ServerCert: &server.ServerCert{CertPath: serverCert, KeyPath: serverKey},
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		stopped := make(chan struct{})
		srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
		<-stopped
	}()

	ctx := context.Background()
	c, _, err := client.Dial(ctx, "wss://"+srv.Addr().String()+"/", &client.DialOptions{TLSConfig: cfg})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.WriteMessage(ctx, client.Text, []byte("over TLS"))
	_, p, err := c.ReadMessage(ctx, nil)
	fmt.Printf("echo: %s %v\n", p, err)
	c.Close(client.CloseNormal, "")

	// Without the CA file the system roots do not know the server: the dial fails.
	_, _, err = client.Dial(ctx, "wss://"+srv.Addr().String()+"/", nil)
	var unknown x509.UnknownAuthorityError
	fmt.Println("system roots:", errors.As(err, &unknown))

	// Output:
	// client certificates: 1 TLS 1.2 or later: true
	// no password: true
	// missing CA file: true
	// echo: over TLS <nil>
	// system roots: true
}

// writeCert writes a self-signed ECDSA certificate for 127.0.0.1 to certPath and its key to
// keyPath: plain PKCS#8 ("PRIVATE KEY"), or encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY": PBES2
// with PBKDF2-HMAC-SHA256 and AES-256-CBC, RFC 8018) when password is not nil.
func writeCert(certPath, keyPath string, usage x509.ExtKeyUsage, password []byte) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "tlsconf example"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	block := &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}
	if password != nil {
		if block, err = encryptPKCS8(keyDER, password); err != nil {
			return err
		}
	}
	return os.WriteFile(keyPath, pem.EncodeToMemory(block), 0o600)
}

// encryptPKCS8 encrypts a PKCS#8 key as "openssl pkcs8 -topk8 -v2 aes-256-cbc" does.
func encryptPKCS8(keyDER, password []byte) (*pem.Block, error) {
	type algorithm struct {
		OID    asn1.ObjectIdentifier
		Params asn1.RawValue `asn1:"optional"`
	}
	param := func(v any) asn1.RawValue {
		b, _ := asn1.Marshal(v)
		return asn1.RawValue{FullBytes: b}
	}
	salt, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	rand.Read(salt)
	rand.Read(iv)
	const iterations = 2048 // what openssl uses
	aesKey, err := pbkdf2.Key(sha256.New, string(password), salt, iterations, 32)
	if err != nil {
		return nil, err
	}
	pad := aes.BlockSize - len(keyDER)%aes.BlockSize // PKCS#7 padding
	data := append(append([]byte(nil), keyDER...), make([]byte, pad)...)
	for i := len(keyDER); i < len(data); i++ {
		data[i] = byte(pad)
	}
	block, err := aes.NewCipher(aesKey)
	if err != nil {
		return nil, err
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(data, data)

	kdf := algorithm{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}, param(struct { // PBKDF2
		Salt       []byte
		Iterations int
		PRF        algorithm
	}{salt, iterations, algorithm{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}, asn1.NullRawValue}})} // HMAC-SHA256
	enc := algorithm{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, param(iv)} // AES-256-CBC
	der, err := asn1.Marshal(struct {
		Algorithm algorithm
		Data      []byte
	}{algorithm{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}, param(struct{ KDF, Enc algorithm }{kdf, enc})}, data}) // PBES2
	if err != nil {
		return nil, err
	}
	return &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}, nil
}
