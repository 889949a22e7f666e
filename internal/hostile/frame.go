package hostile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcodes of RFC 6455 §5.2, written out here rather than taken from package frame so that the
// bytes this package builds do not depend on the engine under test.
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// RSV bits as they sit in the first header byte (§5.2).
const (
	Rsv1 byte = 0x40
	Rsv2 byte = 0x20
	Rsv3 byte = 0x10
)

// Length encodings of the payload length field (§5.2): LenAuto picks the minimal one, the
// others force a form, which for short payloads gives the non-minimal encodings §5.2 forbids.
const (
	LenAuto = iota // minimal: 7 bits up to 125, 16 bits up to 65535, 64 bits above
	Len7           // 7-bit length (payloads up to 125 bytes)
	Len16          // 126 followed by a 16-bit length
	Len64          // 127 followed by a 64-bit length
)

// Frame is a frame to build or a frame read from the client. The zero value is an unmasked,
// non-final continuation frame with no payload.
type Frame struct {
	Fin     bool
	Rsv     byte // any of Rsv1|Rsv2|Rsv3, in header-byte position
	Op      byte // 0x0-0xF, reserved opcodes included
	Masked  bool
	Key     [4]byte
	Payload []byte // unmasked
	// LenForm forces the encoding of the payload length (LenAuto, Len7, Len16, Len64).
	LenForm int
	// Length, when not nil, is written as the payload length instead of len(Payload): a frame
	// that announces more than it carries, or a 64-bit length with the top bit set.
	Length *uint64
}

// Bytes returns the frame on the wire: header, masking key when Masked, then the payload,
// masked when Masked (§5.2, §5.3). It is written independently of the engine's encoder.
func (f Frame) Bytes() []byte {
	n := uint64(len(f.Payload))
	if f.Length != nil {
		n = *f.Length
	}
	form := f.LenForm
	if form == LenAuto {
		switch {
		case n <= 125:
			form = Len7
		case n <= 0xFFFF:
			form = Len16
		default:
			form = Len64
		}
	}
	b0 := f.Op&0x0F | f.Rsv&0x70
	if f.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if f.Masked {
		b1 = 0x80
	}
	out := []byte{b0, 0}
	switch form {
	case Len7:
		out[1] = b1 | byte(n&0x7F)
	case Len16:
		out[1] = b1 | 126
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out[1] = b1 | 127
		out = binary.BigEndian.AppendUint64(out, n)
	}
	if f.Masked {
		out = append(out, f.Key[:]...)
	}
	start := len(out)
	out = append(out, f.Payload...)
	if f.Masked {
		for i := range out[start:] {
			out[start+i] ^= f.Key[i%4]
		}
	}
	return out
}

// Text returns a final, unmasked text frame.
func Text(s string) Frame { return Frame{Fin: true, Op: OpText, Payload: []byte(s)} }

// Binary returns a final, unmasked binary frame.
func Binary(p []byte) Frame { return Frame{Fin: true, Op: OpBinary, Payload: p} }

// Fragment returns an unmasked data frame with opcode op (OpText, OpBinary or OpContinuation)
// and the given FIN bit.
func Fragment(op byte, fin bool, p string) Frame {
	return Frame{Fin: fin, Op: op, Payload: []byte(p)}
}

// Ping returns an unmasked ping frame.
func Ping(p []byte) Frame { return Frame{Fin: true, Op: OpPing, Payload: p} }

// Pong returns an unmasked pong frame.
func Pong(p []byte) Frame { return Frame{Fin: true, Op: OpPong, Payload: p} }

// Close returns an unmasked close frame with a 2-byte code and a reason (§5.5.1).
func Close(code uint16, reason string) Frame {
	p := binary.BigEndian.AppendUint16(nil, code)
	return Frame{Fin: true, Op: OpClose, Payload: append(p, reason...)}
}

// CloseRaw returns an unmasked close frame with exactly payload: empty, 1 byte, a bad reason.
func CloseRaw(payload []byte) Frame { return Frame{Fin: true, Op: OpClose, Payload: payload} }

// Join concatenates the wire bytes of frames.
func Join(frames ...Frame) []byte {
	var out []byte
	for _, f := range frames {
		out = append(out, f.Bytes()...)
	}
	return out
}

// Errors of ReadFrame.
var (
	// ErrUnmasked means the client sent an unmasked frame, which §5.1 forbids.
	ErrUnmasked = errors.New("hostile: client frame is not masked")
	// ErrFrameTooLong means a client frame announced more than ReadFrame accepts.
	ErrFrameTooLong = errors.New("hostile: client frame longer than 16 MiB")
)

// maxClientFrame bounds the payload ReadFrame accepts from the client.
const maxClientFrame = 16 << 20

// ReadFrame reads one frame from the client: it must be masked (§5.1); the payload is returned
// unmasked. It decodes the header itself, independently of the engine.
func ReadFrame(r io.Reader) (Frame, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Frame{}, err
	}
	f := Frame{Fin: h[0]&0x80 != 0, Rsv: h[0] & 0x70, Op: h[0] & 0x0F, Masked: h[1]&0x80 != 0}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if !f.Masked {
		return f, ErrUnmasked
	}
	if n > maxClientFrame {
		return f, fmt.Errorf("%w: %d bytes", ErrFrameTooLong, n)
	}
	if _, err := io.ReadFull(r, f.Key[:]); err != nil {
		return f, err
	}
	f.Payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return f, err
	}
	for i := range f.Payload {
		f.Payload[i] ^= f.Key[i%4]
	}
	return f, nil
}

// CloseCode returns the code of a close frame's payload, 0 when it has none (§5.5.1).
func (f Frame) CloseCode() uint16 {
	if len(f.Payload) < 2 {
		return 0
	}
	return binary.BigEndian.Uint16(f.Payload)
}

// String describes the frame for test failures: "close 1002 "reason"", "pong 125 bytes".
func (f Frame) String() string {
	name := map[byte]string{OpContinuation: "continuation", OpText: "text", OpBinary: "binary",
		OpClose: "close", OpPing: "ping", OpPong: "pong"}[f.Op]
	if name == "" {
		name = fmt.Sprintf("opcode %#x", f.Op)
	}
	if f.Op == OpClose && len(f.Payload) >= 2 {
		return fmt.Sprintf("close %d %q", f.CloseCode(), f.Payload[2:])
	}
	return fmt.Sprintf("%s fin=%v %d bytes", name, f.Fin, len(f.Payload))
}
