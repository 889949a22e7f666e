package frame

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseCloseAcceptsValidPayloads(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		code    CloseCode
		reason  string
	}{
		{"empty payload means no status", nil, CloseNoStatus, ""},
		{"empty non-nil payload", []byte{}, CloseNoStatus, ""},
		{"1000 without reason", []byte{0x03, 0xE8}, CloseNormal, ""},
		{"1000 with reason", []byte{0x03, 0xE8, 'b', 'y', 'e'}, CloseNormal, "bye"},
		{"1003 lowest range top", []byte{0x03, 0xEB}, CloseUnsupportedData, ""},
		{"1007 after the gap", []byte{0x03, 0xEF}, CloseInvalidPayload, ""},
		{"1014 registered top", []byte{0x03, 0xF6}, CloseBadGateway, ""},
		{"3000 registered range start", []byte{0x0B, 0xB8}, 3000, ""},
		{"4999 private range end", []byte{0x13, 0x87}, 4999, ""},
		{"UTF-8 reason", append([]byte{0x03, 0xE9}, "gehe weg: ä€😀"...), CloseGoingAway, "gehe weg: ä€😀"},
		{"123-byte reason, 125-byte payload", append([]byte{0x03, 0xE8}, strings.Repeat("x", 123)...), CloseNormal, strings.Repeat("x", 123)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, err := ParseClose(tc.payload)
			if err != nil || code != tc.code || string(reason) != tc.reason {
				t.Fatalf("ParseClose = %v, %q, %v; want %v, %q, nil", code, reason, err, tc.code, tc.reason)
			}
			if len(reason) > 0 && &reason[0] != &tc.payload[2] {
				t.Fatalf("reason does not alias the payload")
			}
			if cap(reason) != len(reason) {
				t.Fatalf("reason has capacity %d past its length %d", cap(reason), len(reason))
			}
		})
	}
}

func TestParseCloseRejectsBadPayloadsWithSentinelAndCode(t *testing.T) {
	tests := []struct {
		name     string
		payload  []byte
		want     error
		wantCode CloseCode // close code to send
		code     CloseCode // status code ParseClose reports
	}{
		{"1-byte payload", []byte{0x03}, ErrCloseTooShort, CloseProtocolError, 0},
		{"126-byte payload", append([]byte{0x03, 0xE8}, strings.Repeat("x", 124)...), ErrControlTooLong, CloseProtocolError, 0},
		{"code 0", []byte{0x00, 0x00}, ErrInvalidCloseCode, CloseProtocolError, 0},
		{"code 999", []byte{0x03, 0xE7}, ErrInvalidCloseCode, CloseProtocolError, 999},
		{"code 1004 reserved", []byte{0x03, 0xEC}, ErrInvalidCloseCode, CloseProtocolError, 1004},
		{"code 1005 no status", []byte{0x03, 0xED}, ErrInvalidCloseCode, CloseProtocolError, 1005},
		{"code 1006 abnormal", []byte{0x03, 0xEE}, ErrInvalidCloseCode, CloseProtocolError, 1006},
		{"code 1015 TLS", []byte{0x03, 0xF7}, ErrInvalidCloseCode, CloseProtocolError, 1015},
		{"code 1016", []byte{0x03, 0xF8}, ErrInvalidCloseCode, CloseProtocolError, 1016},
		{"code 2999", []byte{0x0B, 0xB7}, ErrInvalidCloseCode, CloseProtocolError, 2999},
		{"code 5000", []byte{0x13, 0x88}, ErrInvalidCloseCode, CloseProtocolError, 5000},
		{"code 65535 with reason", []byte{0xFF, 0xFF, 'x'}, ErrInvalidCloseCode, CloseProtocolError, 65535},
		{"reason with 0xFF", []byte{0x03, 0xE8, 'o', 0xFF}, ErrInvalidCloseReason, CloseInvalidPayload, 1000},
		{"reason with surrogate ED A0 80", []byte{0x03, 0xE8, 0xED, 0xA0, 0x80}, ErrInvalidCloseReason, CloseInvalidPayload, 1000},
		{"reason ending mid code point", []byte{0x03, 0xE8, 0xE2, 0x82}, ErrInvalidCloseReason, CloseInvalidPayload, 1000},
		{"reason with overlong NUL C0 80", []byte{0x0F, 0xA0, 0xC0, 0x80}, ErrInvalidCloseReason, CloseInvalidPayload, 4000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, err := ParseClose(tc.payload)
			wantProtocolError(t, err, tc.want, tc.wantCode)
			if code != tc.code || reason != nil {
				t.Fatalf("code %d reason %q; want %d, nil", code, reason, tc.code)
			}
		})
	}
}

func TestAppendCloseEncodesCodeAndReason(t *testing.T) {
	tests := []struct {
		name   string
		code   CloseCode
		reason string
		want   []byte
	}{
		{"no status gives empty payload", CloseNoStatus, "", nil},
		{"1000 alone", CloseNormal, "", []byte{0x03, 0xE8}},
		{"1001 with reason", CloseGoingAway, "bye", []byte{0x03, 0xE9, 'b', 'y', 'e'}},
		{"1003", CloseUnsupportedData, "", []byte{0x03, 0xEB}},
		{"1007", CloseInvalidPayload, "", []byte{0x03, 0xEF}},
		{"1014", CloseBadGateway, "", []byte{0x03, 0xF6}},
		{"3000", 3000, "", []byte{0x0B, 0xB8}},
		{"4999 with UTF-8 reason", 4999, "ä", []byte{0x13, 0x87, 0xC3, 0xA4}},
		{"123-byte reason", CloseNormal, strings.Repeat("r", 123), append([]byte{0x03, 0xE8}, strings.Repeat("r", 123)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte{0xAA}
			got, err := AppendClose(prefix, tc.code, tc.reason)
			if err != nil {
				t.Fatalf("AppendClose: %v", err)
			}
			if !bytes.Equal(got[:1], prefix) || !bytes.Equal(got[1:], tc.want) {
				t.Fatalf("got % x, want aa % x", got, tc.want)
			}
			// What we send, we accept.
			code, reason, err := ParseClose(got[1:])
			if err != nil || code != tc.code || string(reason) != tc.reason {
				t.Fatalf("ParseClose of own payload = %v %q %v", code, reason, err)
			}
		})
	}
}

func TestAppendCloseRejectsUnsendableArguments(t *testing.T) {
	tests := []struct {
		name   string
		code   CloseCode
		reason string
		want   error
		msg    string // the error's text
	}{
		{"code 0", 0, "", ErrCloseCodeNotSendable, "frame: close code 0 may not be sent"},
		{"code 999", 999, "", ErrCloseCodeNotSendable, "frame: close code 999 may not be sent"},
		{"code 1004", 1004, "", ErrCloseCodeNotSendable, "frame: close code 1004 may not be sent"},
		{"code 1006", CloseAbnormal, "", ErrCloseCodeNotSendable, "frame: close code 1006 may not be sent"},
		{"code 1015", CloseTLSHandshake, "", ErrCloseCodeNotSendable, "frame: close code 1015 may not be sent"},
		{"code 1016", 1016, "", ErrCloseCodeNotSendable, "frame: close code 1016 may not be sent"},
		{"code 2999", 2999, "", ErrCloseCodeNotSendable, "frame: close code 2999 may not be sent"},
		{"code 5000", 5000, "", ErrCloseCodeNotSendable, "frame: close code 5000 may not be sent"},
		{"reason without code", CloseNoStatus, "why", ErrCloseReasonWithoutCode, "frame: close reason of 3 bytes without a close code"},
		{"124-byte reason", CloseNormal, strings.Repeat("r", 124), ErrCloseReasonTooLong, "frame: close reason of 124 bytes is over 123"},
		{"123 bytes as 41 three-byte runes plus one", CloseNormal, strings.Repeat("€", 41) + "x", ErrCloseReasonTooLong, "frame: close reason of 124 bytes is over 123"},
		{"reason with 0xFF", CloseNormal, "a\xffb", ErrCloseReasonNotUTF8, "frame: close reason is not valid UTF-8 at byte 1"},
		{"reason cut mid code point", CloseNormal, "\xe2\x82", ErrCloseReasonNotUTF8, "frame: close reason is not valid UTF-8 at byte 0"},
		{"reason with surrogate", CloseNormal, "ok\xed\xa0\x80", ErrCloseReasonNotUTF8, "frame: close reason is not valid UTF-8 at byte 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte{1, 2}
			got, err := AppendClose(dst, tc.code, tc.reason)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.msg) {
				t.Fatalf("err %q, want it to start with %q", err, tc.msg)
			}
			var pe *ProtocolError
			if errors.As(err, &pe) {
				t.Fatalf("a caller's mistake must not be a *ProtocolError")
			}
			if !bytes.Equal(got, dst) {
				t.Fatalf("dst changed to % x on error", got)
			}
		})
	}
}

func BenchmarkParseClose(b *testing.B) {
	b.ReportAllocs()
	p := append([]byte{0x03, 0xE9}, "server shutting down for maintenance"...)
	for b.Loop() {
		if _, _, err := ParseClose(p); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseClose checks that ParseClose never panics, that its results are consistent with its
// rules, and that whatever it accepts AppendClose reproduces byte for byte.
func FuzzParseClose(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x03})
	f.Add([]byte{0x03, 0xE8})
	f.Add([]byte{0x03, 0xE8, 'o', 'k'})
	f.Add([]byte{0x03, 0xED})
	f.Add([]byte{0x13, 0x87, 0xC3, 0xA4})
	f.Add([]byte{0x03, 0xE8, 0xED, 0xA0, 0x80})
	f.Add(append([]byte{0x03, 0xE8}, strings.Repeat("x", 124)...))
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClose(p)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) || reason != nil {
				t.Fatalf("error %v with reason %q", err, reason)
			}
			return
		}
		if len(p) == 0 {
			if code != CloseNoStatus || reason != nil {
				t.Fatalf("empty payload gave %v %q", code, reason)
			}
			return
		}
		if !code.ValidOnWire() || len(p) > MaxControlPayload || !ValidUTF8(reason) {
			t.Fatalf("accepted %v %q from % x", code, reason, p)
		}
		out, err := AppendClose(nil, code, string(reason))
		if err != nil || !bytes.Equal(out, p) {
			t.Fatalf("AppendClose(%v, %q) = % x, %v; want % x", code, reason, out, err, p)
		}
	})
}
