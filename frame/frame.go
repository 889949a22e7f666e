// Package frame is the wire layer of RFC 6455: frame headers (§5.2), opcodes (§5.2, §11.8),
// close codes (§7.4), masking rules by role (§5.1, §5.3), fragmentation rules (§5.4),
// control-frame limits (§5.5), UTF-8 validation of text (§5.6, §8.1), and a frame reader and
// writer over a byte stream.
//
// It imports only the mask package of this module. Header encoding and decoding, the
// validation functions and the UTF-8 validator allocate nothing.
package frame

import (
	"encoding/binary"
	"errors"
)

// Opcode is the 4-bit frame opcode of RFC 6455 §5.2.
type Opcode byte

// Opcodes defined by RFC 6455 §5.2 and §11.8.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

var opcodeNames = [16]string{
	OpContinuation: "continuation",
	OpText:         "text",
	OpBinary:       "binary",
	OpClose:        "close",
	OpPing:         "ping",
	OpPong:         "pong",
}

// String returns the opcode's name, "reserved(0xN)" for an opcode RFC 6455 reserves, or
// "invalid(0xNN)" for a value that does not fit in four bits.
func (o Opcode) String() string {
	if o < 16 && opcodeNames[o] != "" {
		return opcodeNames[o]
	}
	const hex = "0123456789ABCDEF"
	if o >= 16 {
		return "invalid(0x" + string(hex[o>>4]) + string(hex[o&0xF]) + ")"
	}
	return "reserved(0x" + string(hex[o]) + ")"
}

// IsControl reports whether o is a control opcode (most significant bit set, §5.5).
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// IsData reports whether o is text, binary or continuation.
func (o Opcode) IsData() bool { return o <= OpBinary }

// IsReserved reports whether o is one of the opcodes RFC 6455 leaves undefined
// (0x3-0x7 and 0xB-0xF); a receiver must fail the connection on them (§5.2).
func (o Opcode) IsReserved() bool {
	switch o {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// Role says which end of the connection this side is. A client masks every frame it sends and
// rejects masked frames; a server requires masked frames and sends unmasked ones (§5.1).
type Role uint8

// The two roles.
const (
	RoleClient Role = iota
	RoleServer
)

// String returns "client" or "server".
func (r Role) String() string {
	if r == RoleServer {
		return "server"
	}
	return "client"
}

// RSV bits as they sit in Header.Rsv (bit 2 = RSV1, bit 1 = RSV2, bit 0 = RSV3).
const (
	Rsv1 byte = 1 << 2 // RSV1, used by permessage-deflate (RFC 7692)
	Rsv2 byte = 1 << 1
	Rsv3 byte = 1 << 0
)

// Limits from RFC 6455.
const (
	// MaxHeaderSize is the longest frame header: 2 bytes, 8 bytes of extended length, 4 of key.
	MaxHeaderSize = 14
	// MaxControlPayload is the longest control-frame payload (§5.5).
	MaxControlPayload = 125
	// MaxCloseReason is the longest close reason that fits a control frame after the code.
	MaxCloseReason = MaxControlPayload - 2
)

// Header is a decoded frame header (§5.2).
type Header struct {
	Fin    bool
	Rsv    byte // RSV1..RSV3 in the low three bits; see Rsv1, Rsv2, Rsv3
	Op     Opcode
	Masked bool
	Key    [4]byte // masking key, meaningful when Masked
	Length int64   // payload length
}

// Size returns the number of bytes Encode writes for h: 2, 4 or 10, plus 4 when masked.
func (h *Header) Size() int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// Encode writes h into b with the minimal length encoding and returns the number of bytes
// written. b must hold at least h.Size() bytes (MaxHeaderSize always suffices). It allocates
// nothing. A negative Length is encoded as 0; callers validate lengths. Only the low three bits
// of Rsv and the low four bits of Op are encoded.
func (h *Header) Encode(b []byte) int {
	b0 := (h.Rsv&0x7)<<4 | byte(h.Op&0xF)
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	n := 2
	switch l := h.Length; {
	case l <= 125:
		if l < 0 {
			l = 0
		}
		b1 |= byte(l)
	case l <= 0xFFFF:
		b1 |= 126
		binary.BigEndian.PutUint16(b[2:4], uint16(l))
		n = 4
	default:
		b1 |= 127
		binary.BigEndian.PutUint64(b[2:10], uint64(l))
		n = 10
	}
	b[0], b[1] = b0, b1
	if h.Masked {
		copy(b[n:n+4], h.Key[:])
		n += 4
	}
	return n
}

// AppendHeader appends the encoding of h to dst.
func AppendHeader(dst []byte, h *Header) []byte {
	var buf [MaxHeaderSize]byte
	n := h.Encode(buf[:])
	return append(dst, buf[:n]...)
}

// ErrShortHeader is returned by DecodeHeader when b does not yet hold the whole header.
var ErrShortHeader = errors.New("frame: short header")

// DecodeHeader decodes the header at the start of b and returns it with its encoded size.
// When b is too short it returns ErrShortHeader and, in n, the number of bytes needed in total
// (a lower bound while the first two bytes are missing). It checks only what the encoding itself
// forbids (a 64-bit length with the top bit set, a non-minimal length encoding), returning a
// *ProtocolError; role- and state-dependent rules are in Check and Sequencer. It allocates
// nothing.
func DecodeHeader(b []byte) (h Header, n int, err error) {
	n, err = decodeHeader(&h, b)
	return h, n, err
}

// decodeHeader is DecodeHeader decoding into *h (which it zeroes first). Header holds an array,
// so it is returned in memory, not registers; decoding in place saves the copy, and the
// store-forwarding stall of reading the fields back as one wide value, on the read path.
func decodeHeader(h *Header, b []byte) (n int, err error) {
	*h = Header{}
	if len(b) < 2 {
		return 2, ErrShortHeader
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&0x80 != 0
	h.Rsv = (b0 >> 4) & 0x7
	h.Op = Opcode(b0 & 0xF)
	h.Masked = b1&0x80 != 0
	n = 2
	l := b1 & 0x7F
	switch l {
	case 126:
		n = 4
	case 127:
		n = 10
	}
	if h.Masked {
		n += 4
	}
	if len(b) < n {
		return n, ErrShortHeader
	}
	switch l {
	case 126:
		v := binary.BigEndian.Uint16(b[2:4])
		if v <= 125 {
			return n, ErrNonMinimalLength
		}
		h.Length = int64(v)
	case 127:
		v := binary.BigEndian.Uint64(b[2:10])
		if v>>63 != 0 {
			return n, ErrLengthTopBit
		}
		if v <= 0xFFFF {
			return n, ErrNonMinimalLength
		}
		h.Length = int64(v)
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Key[:], b[n-4:n])
	}
	return n, nil
}
