package deflate

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAcceptsEveryValidForm(t *testing.T) {
	tests := []struct {
		in   string
		want Parameters
	}{
		{"permessage-deflate", Parameters{}},
		{"  Permessage-Deflate  ", Parameters{}},
		{"permessage-deflate; client_max_window_bits", Parameters{ClientMaxWindowBits: WindowBitsNoValue}},
		{"permessage-deflate;client_max_window_bits=8", Parameters{ClientMaxWindowBits: 8}},
		{"permessage-deflate; client_max_window_bits = \"10\"", Parameters{ClientMaxWindowBits: 10}},
		{"permessage-deflate; server_max_window_bits=\"1\\5\"", Parameters{ServerMaxWindowBits: 15}},
		{"permessage-deflate; SERVER_NO_CONTEXT_TAKEOVER; client_no_context_takeover", Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"permessage-deflate;\tserver_max_window_bits=9 ;client_max_window_bits=12", Parameters{ServerMaxWindowBits: 9, ClientMaxWindowBits: 12}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseRejectsWithAnErrorNamingTheParameter(t *testing.T) {
	tests := []struct {
		in      string
		want    error
		mention string
	}{
		{"x-foo; a=1", ErrNotDeflate, ""},
		{"", ErrSyntax, ""},
		{"permessage-deflate; ", ErrSyntax, ""},
		{"permessage-deflate;; server_no_context_takeover", ErrSyntax, ""},
		{"permessage-deflate server_no_context_takeover", ErrSyntax, ""},
		{"permessage-deflate; client_max_window_bits=", ErrSyntax, "client_max_window_bits"},
		{"permessage-deflate; client_max_window_bits=\"10", ErrSyntax, "client_max_window_bits"},
		{"permessage-deflate; client_max_window_bits=\"1 0\"", ErrSyntax, "client_max_window_bits"},
		{"permessage-deflate; x_unknown", ErrUnknownParameter, "x_unknown"},
		{"permessage-deflate; x_unknown=15", ErrUnknownParameter, "x_unknown"},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", ErrDuplicateParameter, "server_no_context_takeover"},
		{"permessage-deflate; client_max_window_bits; Client_Max_Window_Bits=10", ErrDuplicateParameter, "Client_Max_Window_Bits"},
		{"permessage-deflate; server_no_context_takeover=1", ErrInvalidValue, "server_no_context_takeover"},
		{"permessage-deflate; client_no_context_takeover=\"x\"", ErrInvalidValue, "client_no_context_takeover"},
		{"permessage-deflate; server_max_window_bits", ErrInvalidValue, "server_max_window_bits"},
		{"permessage-deflate; server_max_window_bits=7", ErrInvalidValue, "server_max_window_bits"},
		{"permessage-deflate; server_max_window_bits=16", ErrInvalidValue, "server_max_window_bits"},
		{"permessage-deflate; client_max_window_bits=08", ErrInvalidValue, "client_max_window_bits"},
		{"permessage-deflate; client_max_window_bits=0", ErrInvalidValue, "client_max_window_bits"},
		{"permessage-deflate; client_max_window_bits=-9", ErrInvalidValue, "client_max_window_bits"},
		{"permessage-deflate; client_max_window_bits=\"\"", ErrSyntax, "client_max_window_bits"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("Parse(%q) error %v, want %v", tt.in, err, tt.want)
			continue
		}
		if tt.mention != "" && !strings.Contains(err.Error(), `"`+tt.mention+`"`) {
			t.Errorf("Parse(%q) error %q does not name %q", tt.in, err, tt.mention)
		}
	}
}

func TestParseErrorNeverShowsTheValue(t *testing.T) {
	_, err := Parse("permessage-deflate; server_max_window_bits=secret-token")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("error %v", err)
	}
}

func TestStringRoundTripsThroughParse(t *testing.T) {
	for _, p := range []Parameters{
		{},
		{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 15},
		{ClientMaxWindowBits: WindowBitsNoValue, ServerMaxWindowBits: 12},
	} {
		s := p.String()
		got, err := Parse(s)
		if err != nil || got != p {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", s, got, err, p)
		}
	}
	if s := (Parameters{ServerNoContextTakeover: true, ClientMaxWindowBits: WindowBitsNoValue}).String(); s != "permessage-deflate; server_no_context_takeover; client_max_window_bits" {
		t.Errorf("String() = %q", s)
	}
}

func TestValidateRejectsBitsStringCannotWrite(t *testing.T) {
	for _, p := range []Parameters{{ServerMaxWindowBits: 7}, {ServerMaxWindowBits: WindowBitsNoValue}, {ClientMaxWindowBits: 16}} {
		if err := p.Validate(); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%+v: Validate() = %v", p, err)
		}
	}
	if err := (Parameters{ClientMaxWindowBits: WindowBitsNoValue, ServerMaxWindowBits: 8}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestElementsSplitsOutsideQuotes(t *testing.T) {
	got := Elements([]string{`permessage-deflate; client_max_window_bits, x-foo; a="b,c" ,, `, ` permessage-deflate;server_max_window_bits="1\"0"`, ""})
	want := []string{"permessage-deflate; client_max_window_bits", `x-foo; a="b,c"`, `permessage-deflate;server_max_window_bits="1\"0"`}
	if len(got) != len(want) {
		t.Fatalf("Elements = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Elements = %q, want %q", got, want)
		}
	}
	// The quoted value with an escaped quote is not a token: that offer is declined, and
	// Negotiate takes the next one.
	opts := ServerOptions{}
	if p, ok := opts.Negotiate(append(got[2:], got[:2]...)); !ok || p.String() != "permessage-deflate" {
		t.Errorf("Negotiate = %q, %v", p, ok)
	}
}
