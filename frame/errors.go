package frame

// CloseCode is a status code carried by a close frame (RFC 6455 §7.4).
type CloseCode uint16

// Close codes of RFC 6455 §7.4.1 and the IANA registry (§11.7).
const (
	CloseNormal             CloseCode = 1000
	CloseGoingAway          CloseCode = 1001
	CloseProtocolError      CloseCode = 1002
	CloseUnsupportedData    CloseCode = 1003
	CloseNoStatus           CloseCode = 1005 // never on the wire: no code was present
	CloseAbnormal           CloseCode = 1006 // never on the wire: closed without a close frame
	CloseInvalidPayload     CloseCode = 1007
	ClosePolicyViolation    CloseCode = 1008
	CloseMessageTooBig      CloseCode = 1009
	CloseMandatoryExtension CloseCode = 1010
	CloseInternalError      CloseCode = 1011
	CloseServiceRestart     CloseCode = 1012
	CloseTryAgainLater      CloseCode = 1013
	CloseBadGateway         CloseCode = 1014
	CloseTLSHandshake       CloseCode = 1015 // never on the wire
)

// ProtocolError is a violation of RFC 6455 found while receiving. Code is the close code the
// receiver must send when it fails the connection (§7.1.7): 1002 for framing errors, 1007 for
// invalid UTF-8 or close payloads, 1009 for messages over the size limit.
type ProtocolError struct {
	Code   CloseCode
	Reason string // short text, also suitable as the close frame's reason (<= 123 bytes)
}

// Error returns "websocket: 1002 (protocol error): <reason>" and the like.
func (e *ProtocolError) Error() string {
	return "websocket: " + e.Code.String() + ": " + e.Reason
}

// Receive-side violations. Each is a *ProtocolError; compare with errors.Is.
var (
	ErrReservedBits           = &ProtocolError{CloseProtocolError, "reserved bits set without a negotiated extension"}
	ErrReservedOpcode         = &ProtocolError{CloseProtocolError, "reserved opcode"}
	ErrControlTooLong         = &ProtocolError{CloseProtocolError, "control frame payload over 125 bytes"}
	ErrControlFragmented      = &ProtocolError{CloseProtocolError, "fragmented control frame"}
	ErrLengthTopBit           = &ProtocolError{CloseProtocolError, "64-bit payload length with the most significant bit set"}
	ErrNonMinimalLength       = &ProtocolError{CloseProtocolError, "payload length not minimally encoded"}
	ErrMaskedFrame            = &ProtocolError{CloseProtocolError, "masked frame from a server"}
	ErrUnmaskedFrame          = &ProtocolError{CloseProtocolError, "unmasked frame from a client"}
	ErrUnexpectedContinuation = &ProtocolError{CloseProtocolError, "continuation frame with no message to continue"}
	ErrExpectedContinuation   = &ProtocolError{CloseProtocolError, "new data frame inside a fragmented message"}
	ErrCloseTooShort          = &ProtocolError{CloseProtocolError, "close payload of 1 byte"}
	ErrInvalidCloseCode       = &ProtocolError{CloseProtocolError, "invalid close code"}
	ErrInvalidUTF8            = &ProtocolError{CloseInvalidPayload, "invalid UTF-8 in text"}
	ErrInvalidCloseReason     = &ProtocolError{CloseInvalidPayload, "invalid UTF-8 in close reason"}
	ErrMessageTooBig          = &ProtocolError{CloseMessageTooBig, "message exceeds the size limit"}
)
