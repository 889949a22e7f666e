package handshake

import (
	"encoding/base64"
	"testing"
)

func TestAcceptKeyRFC6455Sample(t *testing.T) {
	if got := AcceptKey(sampleKey); got != sampleAccept {
		t.Fatalf("AcceptKey(%q) = %q, want %q", sampleKey, got, sampleAccept)
	}
	if !checkAccept(sampleAccept, sampleKey) {
		t.Fatal("checkAccept rejects the RFC sample")
	}
	if checkAccept(sampleAccept[:27]+"x", sampleKey) || checkAccept("", sampleKey) {
		t.Fatal("checkAccept accepts a wrong value")
	}
}

func TestAcceptKeyLongKeyDoesNotPanic(t *testing.T) {
	long := string(make([]byte, 500))
	if len(AcceptKey(long)) != acceptLen {
		t.Fatal("bad length")
	}
}

func TestNewKeyIsBase64Of16RandomBytes(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k := NewKey()
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(b) != 16 || !validKey(k) {
			t.Fatalf("NewKey() = %q: %d bytes, %v", k, len(b), err)
		}
		if seen[k] {
			t.Fatalf("NewKey repeated %q", k)
		}
		seen[k] = true
	}
}

func TestValidKeyRejects(t *testing.T) {
	for _, k := range []string{
		"", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ===", "dGhlIHNhbXBsZSBub25jZ===",
		"dGhlIHNhbXBsZSBub25jZQ!=", "dGhlIHNhbXBsZSBub25jZ\r\n=", "dGhlIHNhbXBsZSBub25jZR==",
		"dGhlIHNhbXBsZSBub25jZQ==x", "YWJj", // "abc": 3 bytes
	} {
		if validKey(k) {
			t.Errorf("validKey(%q) = true", k)
		}
	}
}

func TestAppendKeyAppendsAValidKeyWithoutAllocating(t *testing.T) {
	dst := []byte("prefix ")
	got := AppendKey(dst)
	if string(got[:7]) != "prefix " || len(got) != 7+KeyLen || !validKey(string(got[7:])) {
		t.Fatalf("AppendKey(%q) = %q", dst, got)
	}
	want := 0.0
	if raceEnabled {
		want = 1 // the race build's crypto/rand.Read makes its buffer escape
	}
	var buf [KeyLen]byte
	if a := testing.AllocsPerRun(100, func() { AppendKey(buf[:0]) }); a != want {
		t.Errorf("AppendKey into a buffer with room: %v allocations, want %v", a, want)
	}
}
