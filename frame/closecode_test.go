package frame

import "testing"

func TestCloseCodeValidOnWireAtEveryBoundary(t *testing.T) {
	tests := []struct {
		code CloseCode
		want bool
	}{
		{0, false},
		{1, false},
		{999, false},
		{1000, true},
		{1001, true},
		{1002, true},
		{1003, true},
		{1004, false}, // reserved
		{1005, false}, // no status: reporting only
		{1006, false}, // abnormal closure: reporting only
		{1007, true},
		{1008, true},
		{1009, true},
		{1010, true},
		{1011, true},
		{1012, true}, // IANA registry
		{1013, true},
		{1014, true},
		{1015, false}, // TLS handshake: reporting only
		{1016, false},
		{2000, false},
		{2999, false},
		{3000, true},
		{3999, true},
		{4000, true},
		{4999, true},
		{5000, false},
		{65535, false},
	}
	for _, tc := range tests {
		if got := tc.code.ValidOnWire(); got != tc.want {
			t.Errorf("CloseCode(%d).ValidOnWire() = %v, want %v", uint16(tc.code), got, tc.want)
		}
	}
}

func TestCloseCodeValidOnWireMatchesRangesForAllValues(t *testing.T) {
	for c := range 1 << 16 {
		want := c >= 1000 && c <= 1003 || c >= 1007 && c <= 1014 || c >= 3000 && c <= 4999
		if got := CloseCode(c).ValidOnWire(); got != want {
			t.Fatalf("CloseCode(%d).ValidOnWire() = %v, want %v", c, got, want)
		}
	}
}

func TestCloseCodeStringNamesEachCode(t *testing.T) {
	tests := []struct {
		code CloseCode
		want string
	}{
		{0, "0"},
		{999, "999"},
		{CloseNormal, "1000 (normal closure)"},
		{CloseGoingAway, "1001 (going away)"},
		{CloseProtocolError, "1002 (protocol error)"},
		{CloseUnsupportedData, "1003 (unsupported data)"},
		{1004, "1004 (reserved)"},
		{CloseNoStatus, "1005 (no status received)"},
		{CloseAbnormal, "1006 (abnormal closure)"},
		{CloseInvalidPayload, "1007 (invalid payload data)"},
		{ClosePolicyViolation, "1008 (policy violation)"},
		{CloseMessageTooBig, "1009 (message too big)"},
		{CloseMandatoryExtension, "1010 (mandatory extension)"},
		{CloseInternalError, "1011 (internal error)"},
		{CloseServiceRestart, "1012 (service restart)"},
		{CloseTryAgainLater, "1013 (try again later)"},
		{CloseBadGateway, "1014 (bad gateway)"},
		{CloseTLSHandshake, "1015 (TLS handshake)"},
		{1016, "1016"},
		{2999, "2999"},
		{3000, "3000 (registered)"},
		{3999, "3999 (registered)"},
		{4000, "4000 (private use)"},
		{4999, "4999 (private use)"},
		{5000, "5000"},
		{65535, "65535"},
	}
	for _, tc := range tests {
		if got := tc.code.String(); got != tc.want {
			t.Errorf("CloseCode(%d).String() = %q, want %q", uint16(tc.code), got, tc.want)
		}
	}
}

func TestProtocolErrorMessageNamesCodeAndReason(t *testing.T) {
	tests := []struct {
		err  *ProtocolError
		want string
	}{
		{ErrReservedBits, "websocket: 1002 (protocol error): reserved bits set without a negotiated extension"},
		{ErrInvalidUTF8, "websocket: 1007 (invalid payload data): invalid UTF-8 in text"},
		{ErrMessageTooBig, "websocket: 1009 (message too big): message exceeds the size limit"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	for _, e := range []*ProtocolError{ErrReservedBits, ErrReservedOpcode, ErrControlTooLong, ErrControlFragmented,
		ErrLengthTopBit, ErrNonMinimalLength, ErrMaskedFrame, ErrUnmaskedFrame, ErrUnexpectedContinuation,
		ErrExpectedContinuation, ErrCloseTooShort, ErrInvalidCloseCode, ErrInvalidUTF8, ErrInvalidCloseReason,
		ErrMessageTooBig} {
		if !e.Code.ValidOnWire() || len(e.Reason) > MaxCloseReason || !ValidUTF8([]byte(e.Reason)) {
			t.Errorf("%v: code must be sendable and reason must fit a close frame", e)
		}
	}
}
