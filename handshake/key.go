package handshake

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
)

// keyGUID is the fixed GUID of RFC 6455 §1.3 appended to the key before hashing.
const keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptLen is the length of a Sec-WebSocket-Accept value: base64 of a 20-byte SHA-1.
const acceptLen = 28

var strictBase64 = base64.StdEncoding.Strict()

// NewKey returns a new Sec-WebSocket-Key: the base64 encoding of 16 bytes from crypto/rand
// (RFC 6455 §4.1 item 7). It allocates the returned string only.
func NewKey() string {
	var buf [KeyLen]byte
	return string(AppendKey(buf[:0]))
}

// KeyLen is the length of a Sec-WebSocket-Key: base64 of 16 bytes.
const KeyLen = 24

// AppendKey appends a new Sec-WebSocket-Key (see NewKey) to dst. It allocates nothing when
// dst has room for KeyLen more bytes.
func AppendKey(dst []byte) []byte {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand.Read crashes the program instead
	return base64.StdEncoding.AppendEncode(dst, b[:])
}

// AcceptKey returns the Sec-WebSocket-Accept value for key: the base64 of the SHA-1 of key
// followed by the GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" (RFC 6455 §1.3, §4.2.2 item 5.4).
// For the §1.3 sample key "dGhlIHNhbXBsZSBub25jZQ==" it returns "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
func AcceptKey(key string) string {
	var buf [acceptLen]byte
	return string(appendAccept(buf[:0], key))
}

// appendAccept appends AcceptKey(key) to dst. It allocates nothing when dst has room and key
// is not longer than a valid key.
func appendAccept(dst []byte, key string) []byte {
	var in [64]byte
	sum := sha1.Sum(append(append(in[:0], key...), keyGUID...))
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// checkAccept reports whether got is the accept value for key, without allocating.
func checkAccept(got, key string) bool {
	var buf [acceptLen]byte
	return string(appendAccept(buf[:0], key)) == got
}

// validKey reports whether key is the base64 encoding of 16 bytes (24 characters, "==").
func validKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	var b [18]byte
	n, err := strictBase64.Decode(b[:], []byte(key))
	return err == nil && n == 16
}
