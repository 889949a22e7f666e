package deflate

import (
	"errors"
	"strings"
	"testing"
)

// TestClientAcceptsEveryValidResponse covers the client's side of RFC 7692 §7.1.1 and §7.1.2:
// each response a server may send to an offer, and what the connection must then do.
func TestClientAcceptsEveryValidResponse(t *testing.T) {
	tests := []struct {
		name     string
		opts     ClientOptions
		response string
		want     Parameters
	}{
		{"bare response to the default offer", ClientOptions{}, "permessage-deflate", Parameters{}},
		{"§7.1.1.1 server_no_context_takeover offered and granted", ClientOptions{ServerNoContextTakeover: true},
			"permessage-deflate; server_no_context_takeover", Parameters{ServerNoContextTakeover: true}},
		{"§7.1.1.1 server_no_context_takeover not offered, server declares it anyway", ClientOptions{},
			"permessage-deflate; server_no_context_takeover", Parameters{ServerNoContextTakeover: true}},
		{"§7.1.1.2 client_no_context_takeover offered, server repeats it", ClientOptions{ClientNoContextTakeover: true},
			"permessage-deflate; client_no_context_takeover", Parameters{ClientNoContextTakeover: true}},
		{"§7.1.1.2 client_no_context_takeover offered, server omits it: our promise holds", ClientOptions{ClientNoContextTakeover: true},
			"permessage-deflate", Parameters{ClientNoContextTakeover: true}},
		{"§7.1.1.2 client_no_context_takeover not offered, server asks for it", ClientOptions{},
			"permessage-deflate; client_no_context_takeover", Parameters{ClientNoContextTakeover: true}},
		{"§7.1.2.1 server_max_window_bits offered, same value back", ClientOptions{ServerMaxWindowBits: 10},
			"permessage-deflate; server_max_window_bits=10", Parameters{ServerMaxWindowBits: 10}},
		{"§7.1.2.1 server_max_window_bits offered, smaller value back", ClientOptions{ServerMaxWindowBits: 10},
			"permessage-deflate; server_max_window_bits=8", Parameters{ServerMaxWindowBits: 8}},
		{"§7.1.2.1 server_max_window_bits not offered, server limits itself", ClientOptions{},
			"permessage-deflate; server_max_window_bits=11", Parameters{ServerMaxWindowBits: 11}},
		{"§7.1.2.2 client_max_window_bits offered without value, server limits us", ClientOptions{},
			"permessage-deflate; client_max_window_bits=9", Parameters{ClientMaxWindowBits: 9}},
		{"§7.1.2.2 client_max_window_bits offered without value, server ignores it", ClientOptions{},
			"permessage-deflate", Parameters{}},
		{"§7.1.2.2 client_max_window_bits=12 offered, server ignores it: we keep our limit", ClientOptions{ClientMaxWindowBits: 12},
			"permessage-deflate", Parameters{ClientMaxWindowBits: 12}},
		{"§7.1.2.2 client_max_window_bits=12 offered, server asks for less", ClientOptions{ClientMaxWindowBits: 12},
			"permessage-deflate; client_max_window_bits=10", Parameters{ClientMaxWindowBits: 10}},
		{"everything at once, quoted values", ClientOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
			`permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits="15"; client_max_window_bits="8"`,
			Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer, err := tt.opts.Offer()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Accept(offer, tt.response)
			if err != nil || got != tt.want {
				t.Fatalf("Accept(%q, %q) = %+v, %v; want %+v", offer, tt.response, got, err, tt.want)
			}
		})
	}
}

// TestClientRejectsEveryInvalidResponse: the responses a client must fail the connection on
// (RFC 7692 §7, §7.1.1.1, §7.1.2.1, §7.1.2.2), each with an error naming the parameter.
func TestClientRejectsEveryInvalidResponse(t *testing.T) {
	tests := []struct {
		name     string
		opts     ClientOptions
		response string
		want     error
		param    string
	}{
		{"unknown parameter", ClientOptions{}, "permessage-deflate; foo", ErrUnknownParameter, "foo"},
		{"duplicate parameter", ClientOptions{}, "permessage-deflate; server_no_context_takeover; server_no_context_takeover", ErrDuplicateParameter, "server_no_context_takeover"},
		{"server_max_window_bits out of range", ClientOptions{}, "permessage-deflate; server_max_window_bits=16", ErrInvalidValue, "server_max_window_bits"},
		{"server_max_window_bits without value", ClientOptions{}, "permessage-deflate; server_max_window_bits", ErrInvalidValue, "server_max_window_bits"},
		{"client_max_window_bits out of range", ClientOptions{}, "permessage-deflate; client_max_window_bits=7", ErrInvalidValue, "client_max_window_bits"},
		{"§7.1.2.2 client_max_window_bits without value in a response", ClientOptions{}, "permessage-deflate; client_max_window_bits", ErrInvalidValue, "client_max_window_bits"},
		{"§7.1.1.1 server_no_context_takeover offered but not granted", ClientOptions{ServerNoContextTakeover: true}, "permessage-deflate", ErrUnacceptableResponse, "server_no_context_takeover"},
		{"§7.1.2.1 server_max_window_bits offered, missing in response", ClientOptions{ServerMaxWindowBits: 10}, "permessage-deflate", ErrUnacceptableResponse, "server_max_window_bits"},
		{"§7.1.2.1 server_max_window_bits larger than offered", ClientOptions{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=11", ErrUnacceptableResponse, "server_max_window_bits"},
		{"§7.1.2.2 client_max_window_bits larger than offered", ClientOptions{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits=12", ErrUnacceptableResponse, "client_max_window_bits"},
		{"no_context_takeover with a value", ClientOptions{}, "permessage-deflate; client_no_context_takeover=1", ErrInvalidValue, "client_no_context_takeover"},
		{"another extension", ClientOptions{}, "x-webkit-deflate-frame", ErrNotDeflate, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer, _ := tt.opts.Offer()
			_, err := Accept(offer, tt.response)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Accept error %v, want %v", err, tt.want)
			}
			if tt.param != "" && !strings.Contains(err.Error(), `"`+tt.param+`"`) {
				t.Errorf("error %q does not name %s", err, tt.param)
			}
		})
	}
	// An offer without client_max_window_bits (built by hand: ClientOptions always sends it)
	// must refuse a response that sets it (§7.1.2.2).
	if _, err := Accept(Parameters{}, "permessage-deflate; client_max_window_bits=10"); !errors.Is(err, ErrUnacceptableResponse) {
		t.Errorf("client_max_window_bits not offered: %v", err)
	}
}

func TestClientOfferFromOptions(t *testing.T) {
	tests := []struct {
		opts ClientOptions
		want string
	}{
		{ClientOptions{}, "permessage-deflate; client_max_window_bits"},
		{ClientOptions{ClientNoContextTakeover: true, ServerNoContextTakeover: true, ClientMaxWindowBits: 9, ServerMaxWindowBits: 10},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9"},
	}
	for _, tt := range tests {
		p, err := tt.opts.Offer()
		if err != nil || p.String() != tt.want {
			t.Errorf("%+v: offer %q, %v; want %q", tt.opts, p, err, tt.want)
		}
	}
	for _, o := range []ClientOptions{{ClientMaxWindowBits: 7}, {ServerMaxWindowBits: 16}, {ClientMaxWindowBits: -1}} {
		if _, err := o.Offer(); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%+v: Offer() error %v", o, err)
		}
	}
}

// TestServerNegotiatesFirstAcceptableOffer covers the server's side of §7.1.1 and §7.1.2, and
// the first-acceptable-offer rule of RFC 6455 §9.1 with RFC 7692 §7's "decline" rules.
func TestServerNegotiatesFirstAcceptableOffer(t *testing.T) {
	tests := []struct {
		name   string
		opts   ServerOptions
		offers []string
		want   string // "" when nothing is accepted
	}{
		{"bare offer", ServerOptions{}, []string{"permessage-deflate"}, "permessage-deflate"},
		{"other extensions skipped", ServerOptions{}, []string{"x-foo", "permessage-deflate; client_max_window_bits"}, "permessage-deflate"},
		{"no offer", ServerOptions{}, []string{"x-foo"}, ""},
		{"invalid offers declined, next one taken", ServerOptions{},
			[]string{"permessage-deflate; foo", "permessage-deflate; server_max_window_bits=16", "permessage-deflate; server_max_window_bits=10"},
			"permessage-deflate; server_max_window_bits=10"},
		{"all offers invalid", ServerOptions{}, []string{"permessage-deflate; client_max_window_bits=7", "permessage-deflate; server_no_context_takeover; server_no_context_takeover"}, ""},
		{"§7.1.1.1 server_no_context_takeover requested", ServerOptions{}, []string{"permessage-deflate; server_no_context_takeover"}, "permessage-deflate; server_no_context_takeover"},
		{"§7.1.1.1 ours declared unasked", ServerOptions{ServerNoContextTakeover: true}, []string{"permessage-deflate"}, "permessage-deflate; server_no_context_takeover"},
		{"§7.1.1.2 client's promise repeated", ServerOptions{}, []string{"permessage-deflate; client_no_context_takeover"}, "permessage-deflate; client_no_context_takeover"},
		{"§7.1.1.2 asked of the client", ServerOptions{ClientNoContextTakeover: true}, []string{"permessage-deflate"}, "permessage-deflate; client_no_context_takeover"},
		{"§7.1.2.1 client's limit granted", ServerOptions{}, []string{"permessage-deflate; server_max_window_bits=9"}, "permessage-deflate; server_max_window_bits=9"},
		{"§7.1.2.1 our smaller limit wins", ServerOptions{ServerMaxWindowBits: 10}, []string{"permessage-deflate; server_max_window_bits=12"}, "permessage-deflate; server_max_window_bits=10"},
		{"§7.1.2.1 our limit declared unasked", ServerOptions{ServerMaxWindowBits: 11}, []string{"permessage-deflate"}, "permessage-deflate; server_max_window_bits=11"},
		{"§7.1.2.2 we limit the client", ServerOptions{ClientMaxWindowBits: 10}, []string{"permessage-deflate; client_max_window_bits"}, "permessage-deflate; client_max_window_bits=10"},
		{"§7.1.2.2 client's own smaller limit", ServerOptions{ClientMaxWindowBits: 12}, []string{"permessage-deflate; client_max_window_bits=9"}, "permessage-deflate; client_max_window_bits=9"},
		{"§7.1.2.2 no limit on either side", ServerOptions{}, []string{"permessage-deflate; client_max_window_bits"}, "permessage-deflate"},
		{"§7.1.2.2 client cannot be limited: declined", ServerOptions{ClientMaxWindowBits: 10}, []string{"permessage-deflate"}, ""},
		{"§7.1.2.2 client cannot be limited, second offer can", ServerOptions{ClientMaxWindowBits: 10},
			[]string{"permessage-deflate", "permessage-deflate; client_max_window_bits"}, "permessage-deflate; client_max_window_bits=10"},
		{"§7.1.2.2 limit irrelevant without client takeover", ServerOptions{ClientMaxWindowBits: 10, ClientNoContextTakeover: true},
			[]string{"permessage-deflate"}, "permessage-deflate; client_no_context_takeover"},
		{"invalid options accept nothing", ServerOptions{ServerMaxWindowBits: 20}, []string{"permessage-deflate"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.opts.Negotiate(tt.offers)
			if tt.want == "" {
				if ok {
					t.Fatalf("accepted %q", got)
				}
				return
			}
			if !ok || got.String() != tt.want {
				t.Fatalf("Negotiate = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

// TestNegotiationBothWays: every response our server gives to an offer our client makes is
// one our client accepts, with the same agreed parameters on both sides.
func TestNegotiationBothWays(t *testing.T) {
	bitsChoices := []int{0, 8, 12, 15}
	for _, cnt := range []bool{false, true} {
		for _, snt := range []bool{false, true} {
			for _, cb := range bitsChoices {
				for _, sb := range bitsChoices {
					copts := ClientOptions{ClientNoContextTakeover: cnt, ServerNoContextTakeover: snt, ClientMaxWindowBits: cb, ServerMaxWindowBits: sb}
					offer, err := copts.Offer()
					if err != nil {
						t.Fatal(err)
					}
					for _, sopts := range []ServerOptions{{}, {ServerNoContextTakeover: true, ClientNoContextTakeover: true}, {ServerMaxWindowBits: 9, ClientMaxWindowBits: 10}} {
						resp, ok := sopts.Negotiate([]string{offer.String()})
						if !ok {
							t.Fatalf("server %+v declined %q", sopts, offer)
						}
						agreed, err := Accept(offer, resp.String())
						if err != nil {
							t.Fatalf("client refused %q for %q: %v", resp, offer, err)
						}
						if agreed.ClientWindowBits() != resp.ClientWindowBits() || agreed.ServerWindowBits() != resp.ServerWindowBits() ||
							agreed.ServerNoContextTakeover != resp.ServerNoContextTakeover || agreed.ClientNoContextTakeover != resp.ClientNoContextTakeover {
							t.Fatalf("offer %q response %q: client agreed %+v", offer, resp, agreed)
						}
						if sopts.ServerMaxWindowBits != 0 && agreed.ServerWindowBits() > sopts.ServerMaxWindowBits ||
							sopts.ClientMaxWindowBits != 0 && agreed.ClientWindowBits() > sopts.ClientMaxWindowBits {
							t.Fatalf("server limits %+v not honoured: %+v", sopts, agreed)
						}
					}
				}
			}
		}
	}
}
