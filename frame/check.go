package frame

// Check applies the receive-side rules of RFC 6455 that depend on one frame header alone and on
// this end's role, and returns the first violation as one of the sentinel *ProtocolError values
// (all with close code 1002). It does not repeat what DecodeHeader already rejects (the top bit
// of a 64-bit length, non-minimal length encodings), and the rules that span frames are in
// Sequencer. The checks, in order:
//
//   - RSV bits (§5.2): a bit set in h.Rsv that is not in allowedRsv is ErrReservedBits.
//     allowedRsv holds the bits that a negotiated extension defines (Rsv1 for permessage-deflate);
//     it is 0 when no extension was negotiated, so every RSV bit is then an error.
//   - Opcode (§5.2): an opcode RFC 6455 reserves (0x3-0x7, 0xB-0xF) is ErrReservedOpcode.
//   - Per-message RSV bits (RFC 7692 §6.1): an allowed RSV bit is still ErrReservedBits on a
//     control frame or a continuation frame. The bits an extension may define are treated as
//     per-message bits that only the first frame of a text or binary message can carry, as
//     permessage-deflate's RSV1 ("Per-Message Compressed") is; whether the message is then
//     compressed is Sequencer.MessageRsv.
//   - Control frames (§5.5): a payload over 125 bytes is ErrControlTooLong, and a control frame
//     without FIN is ErrControlFragmented.
//   - Masking (§5.1): role is this end. A client (RoleClient) receiving a masked frame returns
//     ErrMaskedFrame; a server (RoleServer) receiving an unmasked frame returns ErrUnmaskedFrame.
//
// Check allocates nothing.
func Check(h *Header, role Role, allowedRsv byte) error {
	if h.Rsv&^(allowedRsv&0x7) != 0 {
		return ErrReservedBits
	}
	if h.Op.IsReserved() {
		return ErrReservedOpcode
	}
	if h.Rsv != 0 && h.Op != OpText && h.Op != OpBinary {
		return ErrReservedBits
	}
	if h.Op.IsControl() {
		if h.Length > MaxControlPayload {
			return ErrControlTooLong
		}
		if !h.Fin {
			return ErrControlFragmented
		}
	}
	if role == RoleServer {
		if !h.Masked {
			return ErrUnmaskedFrame
		}
	} else if h.Masked {
		return ErrMaskedFrame
	}
	return nil
}

// Sequencer enforces the fragmentation rules of RFC 6455 §5.4 on the sequence of received frame
// headers: a message is a text or binary frame followed, while FIN is clear, by continuation
// frames; control frames may be injected between the fragments and do not change the state.
// The zero value is ready to use, at the start of a connection's frame stream.
//
// A Sequencer is not safe for concurrent use; it belongs to the connection's reading goroutine.
// It allocates nothing.
type Sequencer struct {
	op    Opcode // text or binary of the current (or last) message; 0 before the first
	rsv   byte   // RSV bits of the current (or last) message's first frame
	inMsg bool   // a fragmented message is open: its next data frame must be a continuation
}

// Next accounts for the frame with header h, which Check has accepted, and reports a violation
// of §5.4 as a sentinel *ProtocolError (close code 1002):
//
//   - a continuation frame when no fragmented message is open is ErrUnexpectedContinuation;
//   - a text or binary frame while a fragmented message is open is ErrExpectedContinuation;
//   - a reserved opcode is ErrReservedOpcode (Check reports it first in normal use).
//
// Control frames are accepted in any state and leave it unchanged. On error the state is left
// unchanged too; the connection is to be failed anyway.
func (s *Sequencer) Next(h *Header) error {
	switch h.Op {
	case OpContinuation:
		if !s.inMsg {
			return ErrUnexpectedContinuation
		}
		if h.Fin {
			s.inMsg = false
		}
	case OpText, OpBinary:
		if s.inMsg {
			return ErrExpectedContinuation
		}
		s.op, s.rsv, s.inMsg = h.Op, h.Rsv, !h.Fin
	case OpClose, OpPing, OpPong:
	default:
		return ErrReservedOpcode
	}
	return nil
}

// InMessage reports whether a fragmented message is open, that is, whether the last data frame
// had FIN clear, so that the next data frame must be a continuation.
func (s *Sequencer) InMessage() bool { return s.inMsg }

// MessageOp returns OpText or OpBinary for the message the last data frame belongs to: the open
// message while InMessage is true, otherwise the message that frame completed. It lets a reader
// that sees the final continuation frame know whether to finish UTF-8 validation. It returns
// OpContinuation (0) before any data frame.
func (s *Sequencer) MessageOp() Opcode { return s.op }

// MessageRsv returns the RSV bits of the first frame of the message MessageOp describes. With
// permessage-deflate (RFC 7692 §6) negotiated, Rsv1 set here means the message is compressed;
// the continuation frames themselves never carry it (Check rejects them if they do).
func (s *Sequencer) MessageRsv() byte { return s.rsv }

// Reset returns s to its zero state, as at the start of a connection.
func (s *Sequencer) Reset() { *s = Sequencer{} }
