package frame

import (
	"encoding/binary"
	"math/bits"
)

// UTF-8 validation (RFC 6455 §5.6, §8.1; RFC 3629 §4). The reference is a deterministic finite
// automaton over bytes, used where a code point is split between two pieces of input; inside a
// piece whole code points are checked directly (see Write), with the same verdicts. The
// automaton accepts exactly the prefixes of valid UTF-8, so it rejects at the first byte that no
// continuation could make valid:
//
//	state   accepts next byte                      then
//	accept  00-7F                                  accept
//	        C2-DF                                  cont1
//	        E1-EC, EE-EF                           cont2
//	        E0 (overlong guard)                    e0
//	        ED (surrogate guard)                   ed
//	        F1-F3                                  cont3
//	        F0 (overlong guard)                    f0
//	        F4 (> U+10FFFF guard)                  f4
//	cont1   80-BF                                  accept
//	cont2   80-BF                                  cont1
//	cont3   80-BF                                  cont2
//	e0      A0-BF                                  cont1
//	ed      80-9F                                  cont1
//	f0      90-BF                                  cont2
//	f4      80-8F                                  cont2
//	reject  nothing                                reject
//
// Every byte not listed for a state leads to reject (so 80-C1 and F5-FF never start a code
// point). The automaton is stored as a "shift DFA": a state is a bit offset (a multiple of 6),
// and utf8Trans[b] packs, for every state s, the next state at bits s..s+5. One step is then a
// table load that does not depend on the state and one shift that does:
// next = utf8Trans[b] >> (state & 63), of which only the low 6 bits are meaningful.
const (
	utf8Accept = 0 * 6
	utf8Reject = 1 * 6
	utf8Cont1  = 2 * 6
	utf8Cont2  = 3 * 6
	utf8Cont3  = 4 * 6
	utf8E0     = 5 * 6
	utf8ED     = 6 * 6
	utf8F0     = 7 * 6
	utf8F4     = 8 * 6
)

var utf8Trans = buildUTF8Trans()

func buildUTF8Trans() (t [256]uint64) {
	set := func(from, lo, hi, to uint64) {
		for b := lo; b <= hi; b++ {
			t[b] &^= 63 << from
			t[b] |= to << from
		}
	}
	// Start from reject everywhere, then add the transitions of the table above.
	for _, s := range []uint64{utf8Accept, utf8Reject, utf8Cont1, utf8Cont2, utf8Cont3, utf8E0, utf8ED, utf8F0, utf8F4} {
		set(s, 0x00, 0xFF, utf8Reject)
	}
	set(utf8Accept, 0x00, 0x7F, utf8Accept)
	set(utf8Accept, 0xC2, 0xDF, utf8Cont1)
	set(utf8Accept, 0xE0, 0xE0, utf8E0)
	set(utf8Accept, 0xE1, 0xEC, utf8Cont2)
	set(utf8Accept, 0xED, 0xED, utf8ED)
	set(utf8Accept, 0xEE, 0xEF, utf8Cont2)
	set(utf8Accept, 0xF0, 0xF0, utf8F0)
	set(utf8Accept, 0xF1, 0xF3, utf8Cont3)
	set(utf8Accept, 0xF4, 0xF4, utf8F4)
	set(utf8Cont1, 0x80, 0xBF, utf8Accept)
	set(utf8Cont2, 0x80, 0xBF, utf8Cont1)
	set(utf8Cont3, 0x80, 0xBF, utf8Cont2)
	set(utf8E0, 0xA0, 0xBF, utf8Cont1)
	set(utf8ED, 0x80, 0x9F, utf8Cont1)
	set(utf8F0, 0x90, 0xBF, utf8Cont2)
	set(utf8F4, 0x80, 0x8F, utf8Cont2)
	return t
}

// utf8Lead describes a lead byte for the whole-code-point path: the length of its encoding
// (0 for a byte that never starts one) and the range its second byte must be in.
type utf8Lead struct{ size, lo, hi byte }

var utf8Leads = buildUTF8Leads()

func buildUTF8Leads() (t [256]utf8Lead) {
	for b := range 256 {
		switch {
		case b < 0x80:
			t[b] = utf8Lead{1, 0, 0}
		case b < 0xC2: // continuation bytes, and C0/C1 (overlong)
		case b < 0xE0:
			t[b] = utf8Lead{2, 0x80, 0xBF}
		case b == 0xE0: // overlong below U+0800
			t[b] = utf8Lead{3, 0xA0, 0xBF}
		case b == 0xED: // surrogates U+D800-U+DFFF
			t[b] = utf8Lead{3, 0x80, 0x9F}
		case b < 0xF0:
			t[b] = utf8Lead{3, 0x80, 0xBF}
		case b == 0xF0: // overlong below U+10000
			t[b] = utf8Lead{4, 0x90, 0xBF}
		case b < 0xF4:
			t[b] = utf8Lead{4, 0x80, 0xBF}
		case b == 0xF4: // above U+10FFFF
			t[b] = utf8Lead{4, 0x80, 0x8F}
		}
	}
	return t
}

const asciiMask = 0x8080808080808080

// word loads 8 bytes of p (len(p) >= 8) as one little-endian word.
func word(p []byte) uint64 { return binary.LittleEndian.Uint64(p) }

// UTF8Validator checks that a byte stream, written in pieces of any size (the fragments of a
// text message, or reads from a streaming payload), is valid UTF-8. Code points may be split
// across writes. The zero value is ready to use, at the start of a message.
//
// Validation fails at the first byte that can never be part of valid UTF-8, whatever follows:
// a byte that no code point uses (C0, C1, F5-FF), a continuation byte where none is expected, a
// missing continuation byte, an overlong form (E0 80-9F, F0 80-8F), a surrogate (ED A0-BF) or a
// code point above U+10FFFF (F4 90-BF). A receiver can therefore fail the connection (1007) on
// the fragment that holds the bad byte instead of waiting for the end of the message (§8.1).
//
// Inside a piece, runs of ASCII are checked up to 32 bytes at a time and whole code points are
// checked with independent range tests; the automaton above runs only on a code point split
// between two pieces. A UTF8Validator allocates nothing and is not safe for concurrent use.
type UTF8Validator struct{ state uint32 }

// Write feeds p to the validator. It returns false if the stream so far, p included, contains
// a byte that makes it invalid whatever follows, and true otherwise; true does not mean that the
// stream ends on a code point boundary (see Done). Once Write has returned false it keeps
// returning false until Reset. p is only read, and not retained.
func (v *UTF8Validator) Write(p []byte) bool {
	if v.state != utf8Accept {
		// Finish the code point left open by the previous piece (or stay rejected).
		s := uint64(v.state)
		i := 0
		for ; i < len(p) && s&63 > utf8Reject; i++ {
			s = utf8Trans[p[i]] >> (s & 63)
		}
		v.state = uint32(s & 63)
		if v.state != utf8Accept {
			return v.state != utf8Reject
		}
		p = p[i:]
	}
	p = p[:len(p):len(p)] // no capacity past the end: cheaper reslicing below
	// Leading ASCII, 32 and then 8 bytes at a time. The first comparison is strict (>) so that
	// the hot loop's reslicing never produces a pointer past the end.
	for len(p) > 32 && (word(p)|word(p[8:])|word(p[16:])|word(p[24:]))&asciiMask == 0 {
		p = p[32:]
	}
	for len(p) >= 8 && word(p)&asciiMask == 0 {
		p = p[8:]
	}
	for len(p) > 0 {
		if p[0] < 0x80 {
			if len(p) < 8 {
				p = p[1:]
				continue
			}
			// Skip the ASCII bytes of the next word; if it is all ASCII, more may follow.
			if m := word(p) & asciiMask; m != 0 {
				p = p[bits.TrailingZeros64(m)>>3:]
			} else {
				p = p[8:]
				for len(p) > 32 && (word(p)|word(p[8:])|word(p[16:])|word(p[24:]))&asciiMask == 0 {
					p = p[32:]
				}
				continue
			}
		}
		lead := utf8Leads[p[0]]
		if int(lead.size) > len(p) {
			// A code point cut by the end of p: let the automaton judge the bytes there are and
			// remember where it stands.
			s := uint64(utf8Accept)
			for _, b := range p {
				s = utf8Trans[b] >> (s & 63)
			}
			v.state = uint32(s & 63)
			return v.state != utf8Reject
		}
		// A continuation byte is 0x80-0xBF, that is, below -64 as an int8.
		switch lead.size {
		case 2:
			if int8(p[1]) >= -64 {
				return v.reject()
			}
			p = p[2:]
		case 3:
			if p[1] < lead.lo || p[1] > lead.hi || int8(p[2]) >= -64 {
				return v.reject()
			}
			p = p[3:]
		case 4:
			if p[1] < lead.lo || p[1] > lead.hi || int8(p[2]) >= -64 || int8(p[3]) >= -64 {
				return v.reject()
			}
			p = p[4:]
		default:
			return v.reject()
		}
	}
	return true
}

func (v *UTF8Validator) reject() bool {
	v.state = utf8Reject
	return false
}

// Done reports whether the stream written so far is complete, valid UTF-8: no invalid byte was
// seen and no code point is left open. Call it at the end of a message.
func (v *UTF8Validator) Done() bool { return v.state == utf8Accept }

// Reset returns v to its zero state, for the next message.
func (v *UTF8Validator) Reset() { v.state = utf8Accept }

// ValidUTF8 reports whether p is entirely valid UTF-8. It agrees with unicode/utf8.Valid and
// allocates nothing.
func ValidUTF8(p []byte) bool {
	var v UTF8Validator
	return v.Write(p) && v.Done()
}
