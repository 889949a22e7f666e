package frame

import "strconv"

// closeCodeNames names the codes of RFC 6455 §7.4.1 and the IANA "WebSocket Close Code Number
// Registry" (§11.7) in the 1000-1015 range.
var closeCodeNames = [...]string{
	CloseNormal - 1000:             "normal closure",
	CloseGoingAway - 1000:          "going away",
	CloseProtocolError - 1000:      "protocol error",
	CloseUnsupportedData - 1000:    "unsupported data",
	1004 - 1000:                    "reserved",
	CloseNoStatus - 1000:           "no status received",
	CloseAbnormal - 1000:           "abnormal closure",
	CloseInvalidPayload - 1000:     "invalid payload data",
	ClosePolicyViolation - 1000:    "policy violation",
	CloseMessageTooBig - 1000:      "message too big",
	CloseMandatoryExtension - 1000: "mandatory extension",
	CloseInternalError - 1000:      "internal error",
	CloseServiceRestart - 1000:     "service restart",
	CloseTryAgainLater - 1000:      "try again later",
	CloseBadGateway - 1000:         "bad gateway",
	CloseTLSHandshake - 1000:       "TLS handshake",
}

// String returns the code with its name, such as "1000 (normal closure)". Codes without a name
// are shown as "3001 (registered)" (3000-3999, IANA-registered), "4001 (private use)"
// (4000-4999) or just the number.
func (c CloseCode) String() string {
	var name string
	switch {
	case c >= 1000 && int(c-1000) < len(closeCodeNames):
		name = closeCodeNames[c-1000]
	case c >= 3000 && c <= 3999:
		name = "registered"
	case c >= 4000 && c <= 4999:
		name = "private use"
	}
	s := strconv.Itoa(int(c))
	if name == "" {
		return s
	}
	return s + " (" + name + ")"
}

// ValidOnWire reports whether c may appear in the payload of a close frame (RFC 6455 §7.4.1,
// §7.4.2): 1000-1003, 1007-1014 (the defined codes and the IANA-registered 1012-1014), and
// 3000-4999 (registered and private use). 0-999 are unused; 1004 is reserved; 1005, 1006 and
// 1015 are designated for reporting only and must never be sent; 1016-2999 are reserved for
// future revisions of the protocol; 5000 and above are undefined.
//
// A receiver fails the connection with 1002 on a close frame whose code is not valid on the
// wire, and a sender must not send one.
func (c CloseCode) ValidOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}
