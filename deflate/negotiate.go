package deflate

import "strconv"

// ClientOptions say what a client offers (RFC 7692 §7.1). The zero value offers
// "permessage-deflate; client_max_window_bits": context takeover both ways, 32 KiB windows,
// and the server may limit our window.
type ClientOptions struct {
	// ClientNoContextTakeover: we promise not to use context takeover when compressing
	// (§7.1.1.2); saves the 2^bits dictionary of our sending direction.
	ClientNoContextTakeover bool
	// ServerNoContextTakeover: we ask the server not to use context takeover (§7.1.1.1);
	// saves the dictionary of our receiving direction. A server that cannot comply declines.
	ServerNoContextTakeover bool
	// ClientMaxWindowBits, 8 to 15, limits our own window and is sent as
	// client_max_window_bits=N. 0 sends client_max_window_bits without a value: we accept
	// any window the server asks for (§7.1.2.2).
	ClientMaxWindowBits int
	// ServerMaxWindowBits, 8 to 15, asks the server to use at most that window
	// (server_max_window_bits=N, §7.1.2.1); it bounds the dictionary we keep for the
	// receiving direction. 0 asks nothing (the server may still pick a smaller window).
	// Prefer 9 or more: zlib has no 2^8 window for raw deflate, and some zlib-based servers
	// fail on 8 (Python websockets 10.4 answers 500).
	ServerMaxWindowBits int
	// Level is the compression level of the messages we send; it is not negotiated (RFC 7692
	// leaves it to each end). 0 ([DefaultLevel]) is the windowed encoder, about level 5; 1
	// ([BestSpeed]) to 9 ([BestCompression]) apply when our window is 2^15 bytes, that is
	// when the server did not ask for client_max_window_bits below 15 (see
	// [NewCompressorLevel]).
	Level int
}

// Offer returns the parameters to offer, or a *[ParamError] naming a window-bits option
// outside 8..15, or [ErrInvalidLevel] for a Level outside 0..9.
func (o *ClientOptions) Offer() (Parameters, error) {
	p := Parameters{
		ClientNoContextTakeover: o.ClientNoContextTakeover,
		ServerNoContextTakeover: o.ServerNoContextTakeover,
		ServerMaxWindowBits:     o.ServerMaxWindowBits,
		ClientMaxWindowBits:     o.ClientMaxWindowBits,
	}
	if p.ClientMaxWindowBits == 0 {
		p.ClientMaxWindowBits = WindowBitsNoValue
	}
	if o.ClientMaxWindowBits != 0 && !validBits(o.ClientMaxWindowBits) {
		return p, &ParamError{Param: paramClientMaxWindowBits, Reason: "option must be 0 or 8 to 15, is " + strconv.Itoa(o.ClientMaxWindowBits), Err: ErrInvalidValue}
	}
	if o.ServerMaxWindowBits != 0 && !validBits(o.ServerMaxWindowBits) {
		return p, &ParamError{Param: paramServerMaxWindowBits, Reason: "option must be 0 or 8 to 15, is " + strconv.Itoa(o.ServerMaxWindowBits), Err: ErrInvalidValue}
	}
	if err := checkLevel(o.Level); err != nil {
		return p, err
	}
	return p, nil
}

// Accept checks the server's response element against the offer we sent (a value returned by
// [ClientOptions.Offer], or any valid offer) and returns the agreed parameters: what both
// sides must do on this connection. It implements the client's rules of RFC 7692 §7.1:
//
//   - the element must parse ([Parse]) and client_max_window_bits must carry a value;
//   - server_no_context_takeover is accepted whether offered or not (§7.1.1.1), and must be
//     present when we offered it;
//   - client_no_context_takeover is accepted whether offered or not (§7.1.1.2);
//   - server_max_window_bits may come without our asking (§7.1.2.1), but when we offered a
//     value the response must carry one no larger;
//   - client_max_window_bits is allowed only when we offered it (§7.1.2.2), and no larger than
//     our value when we offered one.
//
// Every refusal wraps [ErrUnacceptableResponse] or a parse error, and names the parameter;
// the caller must fail the WebSocket connection (§7.1: "_Fail the WebSocket Connection_").
//
// The agreed parameters differ from the response in one way: when we offered
// client_no_context_takeover we keep that promise, so it is set in the result whether or not
// the server repeated it, and ClientMaxWindowBits holds the window we must use (our own
// limit when the server named none).
func Accept(offer Parameters, response string) (Parameters, error) {
	r, err := Parse(response)
	if err != nil {
		return Parameters{}, err
	}
	if r.ClientMaxWindowBits == WindowBitsNoValue {
		return Parameters{}, &ParamError{Param: paramClientMaxWindowBits, Reason: "a response must give a value 8 to 15", Err: ErrInvalidValue}
	}
	if offer.ServerNoContextTakeover && !r.ServerNoContextTakeover {
		return Parameters{}, &ParamError{Param: paramServerNoContextTakeover, Reason: "offered but missing from the response", Err: ErrUnacceptableResponse}
	}
	if offer.ServerMaxWindowBits != 0 {
		if r.ServerMaxWindowBits == 0 {
			return Parameters{}, &ParamError{Param: paramServerMaxWindowBits, Reason: "offered but missing from the response", Err: ErrUnacceptableResponse}
		}
		if r.ServerMaxWindowBits > offer.ServerMaxWindowBits {
			return Parameters{}, &ParamError{Param: paramServerMaxWindowBits, Reason: "larger than offered", Err: ErrUnacceptableResponse}
		}
	}
	if r.ClientMaxWindowBits != 0 {
		if offer.ClientMaxWindowBits == 0 {
			return Parameters{}, &ParamError{Param: paramClientMaxWindowBits, Reason: "not offered", Err: ErrUnacceptableResponse}
		}
		if validBits(offer.ClientMaxWindowBits) && r.ClientMaxWindowBits > offer.ClientMaxWindowBits {
			return Parameters{}, &ParamError{Param: paramClientMaxWindowBits, Reason: "larger than offered", Err: ErrUnacceptableResponse}
		}
	} else if validBits(offer.ClientMaxWindowBits) {
		r.ClientMaxWindowBits = offer.ClientMaxWindowBits
	}
	r.ClientNoContextTakeover = r.ClientNoContextTakeover || offer.ClientNoContextTakeover
	return r, nil
}

// ServerOptions say what a server accepts and asks for (RFC 7692 §7.1). The zero value
// accepts any valid offer and takes every parameter the client asks for.
type ServerOptions struct {
	// ServerNoContextTakeover: we never use context takeover when compressing, and say so in
	// every response (§7.1.1.1); saves the dictionary of our sending direction.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: we ask every client not to use context takeover (§7.1.1.2);
	// saves the dictionary of our receiving direction.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits, 8 to 15, caps our own window; 0 means 15. We answer
	// server_max_window_bits with the smaller of this and the client's request, and send it
	// whenever our window is below 15.
	ServerMaxWindowBits int
	// ClientMaxWindowBits, 8 to 15, caps the client's window; 0 means 15. It bounds the
	// dictionary we keep for the receiving direction, so an offer that cannot honour it
	// (no client_max_window_bits in the offer) is declined unless ClientNoContextTakeover
	// makes the window irrelevant to our memory. Prefer 9 or more: zlib has no 2^8 window for
	// raw deflate, so zlib-based clients cannot honour 8 exactly.
	ClientMaxWindowBits int
	// Level is the compression level of the messages we send, as [ClientOptions.Level]: 0
	// ([DefaultLevel]) or 1 to 9, which apply when our window is 2^15 bytes. It is not
	// negotiated; the connection's codecs take it ([Parameters.NewCodecsLevel]).
	Level int
}

// Check reports window-bits options outside 0 and 8..15 as a *[ParamError], and a Level
// outside 0..9 as [ErrInvalidLevel].
func (o *ServerOptions) Check() error {
	if o.ServerMaxWindowBits != 0 && !validBits(o.ServerMaxWindowBits) {
		return &ParamError{Param: paramServerMaxWindowBits, Reason: "option must be 0 or 8 to 15, is " + strconv.Itoa(o.ServerMaxWindowBits), Err: ErrInvalidValue}
	}
	if o.ClientMaxWindowBits != 0 && !validBits(o.ClientMaxWindowBits) {
		return &ParamError{Param: paramClientMaxWindowBits, Reason: "option must be 0 or 8 to 15, is " + strconv.Itoa(o.ClientMaxWindowBits), Err: ErrInvalidValue}
	}
	return checkLevel(o.Level)
}

// Negotiate picks the first acceptable permessage-deflate offer among the client's extension
// elements (in the client's order, other extensions skipped) and returns the response
// parameters to send, which are also the agreed parameters; ok is false when no offer is
// acceptable, and the server then answers without the extension.
//
// An offer is declined, and the next one tried, when it does not parse (unknown or duplicate
// parameter, bad value: RFC 7692 §7 "MUST decline"), or when o.ClientMaxWindowBits is below 15,
// the offer lacks client_max_window_bits and o.ClientNoContextTakeover is not set. Invalid
// options (see [ServerOptions.Check]) accept nothing.
//
// The response follows §7.1: server_no_context_takeover when the client asked for it or o
// sets it; client_no_context_takeover when the client offered it (repeating the client's
// promise, which some clients require) or o asks for it; server_max_window_bits when the
// client asked for a limit or ours is below 15, with the smaller of the two;
// client_max_window_bits when the client offered it and the agreed limit (the smaller of the
// client's value and ours) is below 15.
func (o *ServerOptions) Negotiate(offers []string) (response Parameters, ok bool) {
	if o.Check() != nil {
		return Parameters{}, false
	}
	ourServer := orMax(o.ServerMaxWindowBits)
	ourClient := orMax(o.ClientMaxWindowBits)
	for _, e := range offers {
		offer, err := Parse(e)
		if err != nil {
			continue
		}
		var r Parameters
		r.ServerNoContextTakeover = offer.ServerNoContextTakeover || o.ServerNoContextTakeover
		r.ClientNoContextTakeover = offer.ClientNoContextTakeover || o.ClientNoContextTakeover
		sb := ourServer
		if offer.ServerMaxWindowBits != 0 {
			sb = min(sb, offer.ServerMaxWindowBits)
		}
		if offer.ServerMaxWindowBits != 0 || sb < MaxWindowBits {
			r.ServerMaxWindowBits = sb
		}
		switch {
		case offer.ClientMaxWindowBits == 0:
			if ourClient < MaxWindowBits && !r.ClientNoContextTakeover {
				continue
			}
		default:
			cb := ourClient
			if validBits(offer.ClientMaxWindowBits) {
				cb = min(cb, offer.ClientMaxWindowBits)
			}
			if cb < MaxWindowBits {
				r.ClientMaxWindowBits = cb
			}
		}
		return r, true
	}
	return Parameters{}, false
}

func orMax(bits int) int {
	if bits == 0 {
		return MaxWindowBits
	}
	return bits
}
