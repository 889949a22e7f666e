package tlsconf

import (
	"encoding/pem"
	"errors"
	"testing"
)

// FuzzParsePrivateKeyPEM feeds arbitrary PEM key files to ParsePrivateKeyPEM: it must never
// panic and must fail with one of the package's errors (or succeed).
func FuzzParsePrivateKeyPEM(f *testing.F) {
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"), []byte("pw"))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{
		"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: make([]byte, 32)}), []byte("pw"))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x00}}), []byte(nil))
	f.Fuzz(func(t *testing.T, data, password []byte) {
		_, err := ParsePrivateKeyPEM(data, password)
		if err == nil {
			return
		}
		for _, known := range []error{ErrNoKey, ErrPasswordRequired, ErrWrongPassword, ErrUnsupportedKey} {
			if errors.Is(err, known) {
				return
			}
		}
		t.Fatalf("unexpected error kind: %v", err)
	})
}

// FuzzDecryptPKCS8 feeds arbitrary DER to the PBES2 decryption: it must never panic.
func FuzzDecryptPKCS8(f *testing.F) {
	f.Add([]byte{0x30, 0x00}, []byte("pw"))
	f.Fuzz(func(t *testing.T, der, password []byte) {
		_, _ = decryptPKCS8(der, password)
	})
}
