package frame

import (
	"fmt"
	"testing"
)

// decodeWire decodes a header from wire bytes and fails the test if that is not possible.
func decodeWire(t *testing.T, wire []byte) Header {
	t.Helper()
	h, _, err := DecodeHeader(wire)
	if err != nil {
		t.Fatalf("DecodeHeader(% x): %v", wire, err)
	}
	return h
}

func TestCheckRejectsEachViolationWithItsSentinelAnd1002(t *testing.T) {
	key := []byte{1, 2, 3, 4}
	masked := func(b0, lenByte byte) []byte { return append([]byte{b0, 0x80 | lenByte}, key...) }
	tests := []struct {
		name       string
		wire       []byte
		role       Role
		allowedRsv byte
		want       error
	}{
		// §5.2 RSV bits without a negotiated extension.
		{"RSV1 on text, no extension", []byte{0xC1, 0x00}, RoleClient, 0, ErrReservedBits},
		{"RSV2 on text, no extension", []byte{0xA1, 0x00}, RoleClient, 0, ErrReservedBits},
		{"RSV3 on binary, no extension", []byte{0x92, 0x00}, RoleClient, 0, ErrReservedBits},
		{"RSV2 with only RSV1 negotiated", []byte{0xE1, 0x00}, RoleClient, Rsv1, ErrReservedBits},
		{"RSV1 on text at server, no extension", masked(0xC1, 0), RoleServer, 0, ErrReservedBits},
		// RFC 7692 §6.1: the per-message bit is never on control or continuation frames.
		{"RSV1 on ping although negotiated", []byte{0xC9, 0x00}, RoleClient, Rsv1, ErrReservedBits},
		{"RSV1 on close although negotiated", []byte{0xC8, 0x00}, RoleClient, Rsv1, ErrReservedBits},
		{"RSV1 on pong although negotiated", []byte{0xCA, 0x00}, RoleClient, Rsv1, ErrReservedBits},
		{"RSV1 on continuation although negotiated", []byte{0xC0, 0x00}, RoleClient, Rsv1, ErrReservedBits},
		// §5.2 reserved opcodes.
		{"opcode 0x3", []byte{0x83, 0x00}, RoleClient, 0, ErrReservedOpcode},
		{"opcode 0x7", []byte{0x87, 0x00}, RoleClient, 0, ErrReservedOpcode},
		{"opcode 0xB", []byte{0x8B, 0x00}, RoleClient, 0, ErrReservedOpcode},
		{"opcode 0xF", []byte{0x8F, 0x00}, RoleServer, 0, ErrReservedOpcode},
		{"opcode 0xB with RSV1 negotiated", []byte{0xCB, 0x00}, RoleClient, Rsv1, ErrReservedOpcode},
		// §5.5 control frames.
		{"ping of 126 bytes", []byte{0x89, 0x7E, 0x00, 0x7E}, RoleClient, 0, ErrControlTooLong},
		{"close of 126 bytes", []byte{0x88, 0x7E, 0x00, 0x7E}, RoleClient, 0, ErrControlTooLong},
		{"pong of 64 KiB", []byte{0x8A, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, RoleClient, 0, ErrControlTooLong},
		{"ping without FIN", []byte{0x09, 0x00}, RoleClient, 0, ErrControlFragmented},
		{"close without FIN", []byte{0x08, 0x02}, RoleClient, 0, ErrControlFragmented},
		{"pong without FIN masked at server", masked(0x0A, 0), RoleServer, 0, ErrControlFragmented},
		// §5.1 masking by role.
		{"masked text at client", masked(0x81, 5), RoleClient, 0, ErrMaskedFrame},
		{"masked ping at client", masked(0x89, 0), RoleClient, 0, ErrMaskedFrame},
		{"unmasked text at server", []byte{0x81, 0x05}, RoleServer, 0, ErrUnmaskedFrame},
		{"unmasked close at server", []byte{0x88, 0x00}, RoleServer, 0, ErrUnmaskedFrame},
		{"unmasked continuation at server", []byte{0x80, 0x00}, RoleServer, 0, ErrUnmaskedFrame},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := decodeWire(t, tc.wire)
			wantProtocolError(t, Check(&h, tc.role, tc.allowedRsv), tc.want, CloseProtocolError)
		})
	}
}

func TestCheckAcceptsLegalFramesAtTheirLimits(t *testing.T) {
	key := []byte{1, 2, 3, 4}
	masked := func(b ...byte) []byte { b[1] |= 0x80; return append(b, key...) }
	tests := []struct {
		name       string
		wire       []byte
		role       Role
		allowedRsv byte
	}{
		{"unmasked text at client", []byte{0x81, 0x05}, RoleClient, 0},
		{"masked text at server", masked(0x81, 0x05), RoleServer, 0},
		{"ping of exactly 125 bytes", []byte{0x89, 0x7D}, RoleClient, 0},
		{"masked close of 125 bytes at server", masked(0x88, 0x7D), RoleServer, 0},
		{"empty pong", []byte{0x8A, 0x00}, RoleClient, 0},
		{"text without FIN (first fragment)", []byte{0x01, 0x03}, RoleClient, 0},
		{"continuation without FIN", []byte{0x00, 0x03}, RoleClient, 0},
		{"binary of 2^63-1 bytes", []byte{0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, RoleClient, 0},
		{"RSV1 on first text frame with RSV1 negotiated", []byte{0xC1, 0x05}, RoleClient, Rsv1},
		{"RSV1 on first binary fragment with RSV1 negotiated", masked(0x42, 0x05), RoleServer, Rsv1},
		{"all RSV bits on text when all allowed", []byte{0xF1, 0x00}, RoleClient, Rsv1 | Rsv2 | Rsv3},
		{"allowedRsv above three bits is ignored", []byte{0x81, 0x00}, RoleClient, 0xF8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := decodeWire(t, tc.wire)
			if err := Check(&h, tc.role, tc.allowedRsv); err != nil {
				t.Fatalf("Check: %v", err)
			}
		})
	}
}

func TestCheckRejectsRsvBitsAboveThreeEvenIfAllowed(t *testing.T) {
	h := Header{Fin: true, Op: OpText, Rsv: 0x08}
	wantProtocolError(t, Check(&h, RoleClient, 0xFF), ErrReservedBits, CloseProtocolError)
}

func TestSequencerFragmentationRules(t *testing.T) {
	const (
		text        = 0x81 // text, FIN
		textStart   = 0x01 // text, no FIN
		binStart    = 0x02
		bin         = 0x82
		cont        = 0x00 // continuation, no FIN
		contFin     = 0x80
		ping        = 0x89
		pong        = 0x8A
		closeFrame  = 0x88
		reservedOp  = 0x83
		reservedCtl = 0x8B
	)
	tests := []struct {
		name    string
		frames  []byte // first header byte of each frame
		failAt  int    // index of the frame Next rejects, -1 if none
		want    error
		inMsg   bool   // InMessage after the frames (or before the failing one)
		lastOp  Opcode // MessageOp after the frames
		lastRsv byte
	}{
		{"single text", []byte{text}, -1, nil, false, OpText, 0},
		{"two single binaries", []byte{bin, bin}, -1, nil, false, OpBinary, 0},
		{"text in three fragments", []byte{textStart, cont, contFin}, -1, nil, false, OpText, 0},
		{"open binary fragment", []byte{binStart, cont}, -1, nil, true, OpBinary, 0},
		{"ping pong close between fragments", []byte{textStart, ping, cont, pong, closeFrame, contFin}, -1, nil, false, OpText, 0},
		{"control frames with no message", []byte{ping, pong, closeFrame}, -1, nil, false, 0, 0},
		{"messages after a fragmented one", []byte{binStart, contFin, text, textStart, contFin}, -1, nil, false, OpText, 0},
		{"continuation as first frame", []byte{contFin}, 0, ErrUnexpectedContinuation, false, 0, 0},
		{"non-final continuation as first frame", []byte{cont}, 0, ErrUnexpectedContinuation, false, 0, 0},
		{"continuation after a complete message", []byte{text, cont}, 1, ErrUnexpectedContinuation, false, OpText, 0},
		{"continuation after a completed fragmented message", []byte{textStart, contFin, contFin}, 2, ErrUnexpectedContinuation, false, OpText, 0},
		{"text inside a fragmented text", []byte{textStart, text}, 1, ErrExpectedContinuation, true, OpText, 0},
		{"binary start inside a fragmented text", []byte{textStart, cont, binStart}, 2, ErrExpectedContinuation, true, OpText, 0},
		{"binary inside a fragmented binary after a ping", []byte{binStart, ping, bin}, 2, ErrExpectedContinuation, true, OpBinary, 0},
		{"reserved data opcode", []byte{reservedOp}, 0, ErrReservedOpcode, false, 0, 0},
		{"reserved control opcode in a message", []byte{textStart, reservedCtl}, 1, ErrReservedOpcode, true, OpText, 0},
		{"compressed message keeps its RSV1", []byte{0x41, cont, contFin}, -1, nil, false, OpText, Rsv1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s Sequencer
			for i, b0 := range tc.frames {
				h := decodeWire(t, []byte{b0, 0x00})
				err := s.Next(&h)
				if i == tc.failAt {
					wantProtocolError(t, err, tc.want, CloseProtocolError)
					break
				}
				if err != nil {
					t.Fatalf("frame %d (%#x): %v", i, b0, err)
				}
			}
			if s.InMessage() != tc.inMsg || s.MessageOp() != tc.lastOp || s.MessageRsv() != tc.lastRsv {
				t.Fatalf("InMessage %v MessageOp %v MessageRsv %d; want %v %v %d",
					s.InMessage(), s.MessageOp(), s.MessageRsv(), tc.inMsg, tc.lastOp, tc.lastRsv)
			}
		})
	}
}

func TestSequencerStateAfterEachFrameOfAFragmentedMessage(t *testing.T) {
	var s Sequencer
	steps := []struct {
		b0     byte
		inMsg  bool
		lastOp Opcode
	}{
		{0x02, true, OpBinary},  // binary, no FIN
		{0x89, true, OpBinary},  // ping in between
		{0x00, true, OpBinary},  // continuation
		{0x80, false, OpBinary}, // final continuation
		{0x81, false, OpText},   // single text
	}
	for i, st := range steps {
		h := decodeWire(t, []byte{st.b0, 0})
		if err := s.Next(&h); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if s.InMessage() != st.inMsg || s.MessageOp() != st.lastOp {
			t.Fatalf("step %d: InMessage %v MessageOp %v; want %v %v", i, s.InMessage(), s.MessageOp(), st.inMsg, st.lastOp)
		}
	}
	s.Reset()
	if s != (Sequencer{}) {
		t.Fatalf("Reset left %+v", s)
	}
}

func BenchmarkCheckAndSequencer(b *testing.B) {
	b.ReportAllocs()
	hs := []Header{
		{Fin: false, Op: OpText, Masked: true, Length: 1000},
		{Fin: true, Op: OpPing, Masked: true, Length: 4},
		{Fin: true, Op: OpContinuation, Masked: true, Length: 1000},
	}
	var s Sequencer
	for b.Loop() {
		for i := range hs {
			if err := Check(&hs[i], RoleServer, 0); err != nil {
				b.Fatal(err)
			}
			if err := s.Next(&hs[i]); err != nil {
				b.Fatal(fmt.Sprint(err))
			}
		}
	}
}
