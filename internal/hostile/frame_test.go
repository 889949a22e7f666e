package hostile_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/netkit/websocket/internal/hostile"
)

func u64(n uint64) *uint64 { return &n }

// TestFrameBytesMatchRFCExamplesAndForcedEncodings checks the builder against the examples of
// RFC 6455 §5.7 and the deliberately broken encodings the scenarios need.
func TestFrameBytesMatchRFCExamplesAndForcedEncodings(t *testing.T) {
	tests := []struct {
		name string
		f    hostile.Frame
		want string // hex
	}{
		{"§5.7 unmasked text Hello", hostile.Text("Hello"), "810548656c6c6f"},
		{"§5.7 masked text Hello", hostile.Frame{Fin: true, Op: hostile.OpText, Masked: true,
			Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Payload: []byte("Hello")}, "818537fa213d7f9f4d5158"},
		{"§5.7 fragmented text first", hostile.Fragment(hostile.OpText, false, "Hel"), "010348656c"},
		{"§5.7 fragmented text last", hostile.Fragment(hostile.OpContinuation, true, "lo"), "80026c6f"},
		{"§5.7 unmasked ping", hostile.Ping([]byte("Hello")), "890548656c6c6f"},
		{"§5.7 256-byte binary 16-bit length", hostile.Binary(make([]byte, 256)), "827e0100" + hex.EncodeToString(make([]byte, 256))},
		{"non-minimal 16-bit length of 5", hostile.Frame{Fin: true, Op: hostile.OpText, LenForm: hostile.Len16, Payload: []byte("Hello")}, "817e000548656c6c6f"},
		{"non-minimal 64-bit length of 5", hostile.Frame{Fin: true, Op: hostile.OpText, LenForm: hostile.Len64, Payload: []byte("Hello")}, "817f000000000000000548656c6c6f"},
		{"64-bit length with the top bit set", hostile.Frame{Fin: true, Op: hostile.OpBinary, Length: u64(1 << 63)}, "827f8000000000000000"},
		{"all RSV bits, reserved opcode", hostile.Frame{Fin: true, Rsv: hostile.Rsv1 | hostile.Rsv2 | hostile.Rsv3, Op: 0xB}, "fb00"},
		{"close 1000 bye", hostile.Close(1000, "bye"), "880503e8627965"},
		{"close with 1-byte payload", hostile.CloseRaw([]byte{3}), "880103"},
		{"announces 1000, carries 2", hostile.Frame{Fin: true, Op: hostile.OpText, Length: u64(1000), Payload: []byte("ab")}, "817e03e86162"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hex.EncodeToString(tt.f.Bytes()); got != tt.want {
				t.Fatalf("Bytes() = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestReadFrameUnmasksAndRejectsUnmaskedFrames checks the decoder of client frames (§5.1, §5.3).
func TestReadFrameUnmasksAndRejectsUnmaskedFrames(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	for _, n := range []int{0, 1, 125, 126, 65535, 65536} {
		p := bytes.Repeat([]byte{'x'}, n)
		f := hostile.Frame{Fin: true, Op: hostile.OpBinary, Masked: true, Key: key, Payload: p}
		got, err := hostile.ReadFrame(bytes.NewReader(f.Bytes()))
		if err != nil || !got.Fin || got.Op != hostile.OpBinary || !bytes.Equal(got.Payload, p) {
			t.Fatalf("%d bytes: got %v, %v", n, got, err)
		}
	}
	if _, err := hostile.ReadFrame(bytes.NewReader(hostile.Text("x").Bytes())); !errors.Is(err, hostile.ErrUnmasked) {
		t.Fatalf("unmasked frame: err = %v, want ErrUnmasked", err)
	}
	big := hostile.Frame{Fin: true, Op: hostile.OpBinary, Masked: true, Length: u64(1 << 40)}
	if _, err := hostile.ReadFrame(bytes.NewReader(big.Bytes())); !errors.Is(err, hostile.ErrFrameTooLong) {
		t.Fatalf("huge frame: err = %v, want ErrFrameTooLong", err)
	}
}

// TestAcceptKeyMatchesRFCExample checks the §1.3 example key.
func TestAcceptKeyMatchesRFCExample(t *testing.T) {
	if got := hostile.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey = %s", got)
	}
}
