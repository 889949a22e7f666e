package frame

import (
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf8"
)

// Errors of AppendClose: a close frame this end was asked to send but may not. They are plain
// errors, not *ProtocolError, because nothing was received; they describe a caller's mistake.
var (
	// ErrCloseCodeNotSendable is returned for a code that is not ValidOnWire (such as 1005,
	// 1006, 1015, or one outside 1000-4999).
	ErrCloseCodeNotSendable = errors.New("frame: close code may not be sent")
	// ErrCloseReasonTooLong is returned for a reason over MaxCloseReason (123) bytes.
	ErrCloseReasonTooLong = errors.New("frame: close reason over 123 bytes")
	// ErrCloseReasonNotUTF8 is returned for a reason that is not valid UTF-8.
	ErrCloseReasonNotUTF8 = errors.New("frame: close reason is not valid UTF-8")
	// ErrCloseReasonWithoutCode is returned for a non-empty reason with CloseNoStatus: a close
	// payload that carries a reason must start with a code (§5.5.1).
	ErrCloseReasonWithoutCode = errors.New("frame: close reason without a close code")
)

// CloseArgError is the error AppendClose returns: it wraps one of the errors above (compare
// with errors.Is) and names the offending value, the code or the length of the reason (never
// the reason's text), as in "frame: close code 1006 may not be sent".
type CloseArgError struct {
	Err       error     // ErrCloseCodeNotSendable, ErrCloseReasonTooLong, ...
	Code      CloseCode // the code asked for
	ReasonLen int       // the length of the reason asked for, in bytes
	// UTF8At, for ErrCloseReasonNotUTF8, is the offset of the first byte that is not UTF-8.
	UTF8At int
}

// Error describes the argument and why it cannot be sent.
func (e *CloseArgError) Error() string {
	code := strconv.Itoa(int(e.Code))
	switch e.Err {
	case ErrCloseCodeNotSendable:
		return "frame: close code " + code + " may not be sent (RFC 6455 §7.4: 1000-1003, 1007-1014 and 3000-4999 may)"
	case ErrCloseReasonTooLong:
		return "frame: close reason of " + strconv.Itoa(e.ReasonLen) + " bytes is over " + strconv.Itoa(MaxCloseReason)
	case ErrCloseReasonNotUTF8:
		return "frame: close reason is not valid UTF-8 at byte " + strconv.Itoa(e.UTF8At)
	case ErrCloseReasonWithoutCode:
		return "frame: close reason of " + strconv.Itoa(e.ReasonLen) + " bytes without a close code (code " + code + ")"
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e *CloseArgError) Unwrap() error { return e.Err }

// ParseClose parses the payload of a received close frame (RFC 6455 §5.5.1): empty, or a 2-byte
// big-endian status code followed by a UTF-8 reason.
//
//   - An empty payload returns CloseNoStatus (1005) and a nil reason (§7.1.5).
//   - A 1-byte payload is ErrCloseTooShort (1002).
//   - A payload over 125 bytes is ErrControlTooLong (1002); Check normally reports it first.
//   - A code that is not ValidOnWire is ErrInvalidCloseCode (1002); the code is still returned,
//     for logging.
//   - A reason that is not valid UTF-8 is ErrInvalidCloseReason (1007); the code is returned.
//
// The reason aliases p (with its capacity cut to its length), so it is valid as long as p is.
// ParseClose allocates nothing.
func ParseClose(p []byte) (code CloseCode, reason []byte, err error) {
	switch {
	case len(p) == 0:
		return CloseNoStatus, nil, nil
	case len(p) == 1:
		return 0, nil, ErrCloseTooShort
	case len(p) > MaxControlPayload:
		return 0, nil, ErrControlTooLong
	}
	code = CloseCode(binary.BigEndian.Uint16(p))
	if !code.ValidOnWire() {
		return code, nil, ErrInvalidCloseCode
	}
	reason = p[2:len(p):len(p)]
	if !ValidUTF8(reason) {
		return code, nil, ErrInvalidCloseReason
	}
	return code, reason, nil
}

// AppendClose appends the payload of a close frame with code and reason to dst and returns the
// extended slice (§5.5.1). CloseNoStatus means "no code": the payload is then empty, and reason
// must be empty too (ErrCloseReasonWithoutCode). Any other code must be ValidOnWire
// (ErrCloseCodeNotSendable); reason must be at most MaxCloseReason (123) bytes
// (ErrCloseReasonTooLong) of valid UTF-8 (ErrCloseReasonNotUTF8). Errors are a
// *CloseArgError wrapping one of these and naming the code or the reason's length. On error
// dst is returned unchanged. AppendClose allocates only when dst lacks the capacity (or to
// return an error).
func AppendClose(dst []byte, code CloseCode, reason string) ([]byte, error) {
	if code == CloseNoStatus {
		if reason != "" {
			return dst, &CloseArgError{Err: ErrCloseReasonWithoutCode, Code: code, ReasonLen: len(reason)}
		}
		return dst, nil
	}
	if !code.ValidOnWire() {
		return dst, &CloseArgError{Err: ErrCloseCodeNotSendable, Code: code, ReasonLen: len(reason)}
	}
	if len(reason) > MaxCloseReason {
		return dst, &CloseArgError{Err: ErrCloseReasonTooLong, Code: code, ReasonLen: len(reason)}
	}
	if !utf8.ValidString(reason) {
		at := 0
		for at < len(reason) {
			r, n := utf8.DecodeRuneInString(reason[at:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			at += n
		}
		return dst, &CloseArgError{Err: ErrCloseReasonNotUTF8, Code: code, ReasonLen: len(reason), UTF8At: at}
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...), nil
}
