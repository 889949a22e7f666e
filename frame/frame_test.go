package frame

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// naiveMask is the reference masking of RFC 6455 §5.3, a byte loop: octet i of the payload is
// XORed with octet i mod 4 of the key. It stands in for the mask package here, so that these
// tests do not depend on it.
func naiveMask(b []byte, key [4]byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[i] = b[i] ^ key[i%4]
	}
	return out
}

// rfcExample is one frame of the examples in RFC 6455 §5.7, with its exact wire bytes.
type rfcExample struct {
	name    string
	wire    []byte // header and (masked) payload as on the wire
	header  Header
	payload []byte // unmasked application data
}

func rfcExamples() []rfcExample {
	hello := []byte("Hello")
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	bin256 := bytes.Repeat([]byte{0xAB}, 256)
	bin64k := make([]byte, 65536)
	for i := range bin64k {
		bin64k[i] = byte(i)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	return []rfcExample{
		{
			name:    "single-frame unmasked text Hello",
			wire:    []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
			header:  Header{Fin: true, Op: OpText, Length: 5},
			payload: hello,
		},
		{
			name:    "single-frame masked text Hello",
			wire:    []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
			header:  Header{Fin: true, Op: OpText, Masked: true, Key: key, Length: 5},
			payload: hello,
		},
		{
			name:    "fragmented unmasked text first fragment Hel",
			wire:    []byte{0x01, 0x03, 0x48, 0x65, 0x6c},
			header:  Header{Fin: false, Op: OpText, Length: 3},
			payload: []byte("Hel"),
		},
		{
			name:    "fragmented unmasked text final continuation lo",
			wire:    []byte{0x80, 0x02, 0x6c, 0x6f},
			header:  Header{Fin: true, Op: OpContinuation, Length: 2},
			payload: []byte("lo"),
		},
		{
			name:    "unmasked ping Hello",
			wire:    []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
			header:  Header{Fin: true, Op: OpPing, Length: 5},
			payload: hello,
		},
		{
			name:    "masked pong Hello",
			wire:    []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
			header:  Header{Fin: true, Op: OpPong, Masked: true, Key: key, Length: 5},
			payload: hello,
		},
		{
			name:    "256-byte unmasked binary with 16-bit length",
			wire:    cat([]byte{0x82, 0x7E, 0x01, 0x00}, bin256),
			header:  Header{Fin: true, Op: OpBinary, Length: 256},
			payload: bin256,
		},
		{
			name:    "64KiB unmasked binary with 64-bit length",
			wire:    cat([]byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}, bin64k),
			header:  Header{Fin: true, Op: OpBinary, Length: 65536},
			payload: bin64k,
		},
	}
}

func TestRFC6455Section57ExamplesEncodeToExactWireBytes(t *testing.T) {
	for _, tc := range rfcExamples() {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			got := AppendHeader(nil, &h)
			if len(got) != h.Size() {
				t.Fatalf("AppendHeader wrote %d bytes, Size says %d", len(got), h.Size())
			}
			payload := tc.payload
			if h.Masked {
				payload = naiveMask(payload, h.Key)
			}
			got = append(got, payload...)
			if !bytes.Equal(got, tc.wire) {
				t.Fatalf("wire bytes\n got % x\nwant % x", head(got), head(tc.wire))
			}
		})
	}
}

func TestRFC6455Section57ExamplesDecodeFromExactWireBytes(t *testing.T) {
	for _, tc := range rfcExamples() {
		t.Run(tc.name, func(t *testing.T) {
			h, n, err := DecodeHeader(tc.wire)
			if err != nil {
				t.Fatalf("DecodeHeader: %v", err)
			}
			if h != tc.header {
				t.Fatalf("header %+v, want %+v", h, tc.header)
			}
			if int64(len(tc.wire)-n) != h.Length {
				t.Fatalf("header size %d leaves %d payload bytes, Length %d", n, len(tc.wire)-n, h.Length)
			}
			payload := tc.wire[n:]
			if h.Masked {
				payload = naiveMask(payload, h.Key)
			}
			if !bytes.Equal(payload, tc.payload) {
				t.Fatalf("payload % x, want % x", head(payload), head(tc.payload))
			}
			// The examples are legal frames for the receiving role the masking implies.
			role := RoleClient
			if h.Masked {
				role = RoleServer
			}
			if err := Check(&h, role, 0); err != nil {
				t.Fatalf("Check(%v): %v", role, err)
			}
		})
	}
}

func TestRFC6455Section57FragmentedHelloPassesSequencer(t *testing.T) {
	stream := []byte{0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}
	var seq Sequencer
	var msg []byte
	for len(stream) > 0 {
		h, n, err := DecodeHeader(stream)
		if err != nil {
			t.Fatalf("DecodeHeader: %v", err)
		}
		if err := Check(&h, RoleClient, 0); err != nil {
			t.Fatalf("Check: %v", err)
		}
		if err := seq.Next(&h); err != nil {
			t.Fatalf("Sequencer.Next: %v", err)
		}
		msg = append(msg, stream[n:n+int(h.Length)]...)
		stream = stream[n+int(h.Length):]
	}
	if string(msg) != "Hello" || seq.InMessage() || seq.MessageOp() != OpText {
		t.Fatalf("message %q, InMessage %v, MessageOp %v; want \"Hello\", false, text", msg, seq.InMessage(), seq.MessageOp())
	}
}

// head shortens long byte slices in failure messages.
func head(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

func TestHeaderEncodeDecodeRoundTripAtLengthBoundaries(t *testing.T) {
	lengths := []struct {
		length  int64
		size    int // header size unmasked
		lenByte byte
	}{
		{0, 2, 0},
		{1, 2, 1},
		{125, 2, 125},
		{126, 4, 126},
		{127, 4, 126},
		{65535, 4, 126},
		{65536, 10, 127},
		{1 << 62, 10, 127},
		{1<<63 - 1, 10, 127},
	}
	for _, l := range lengths {
		for _, masked := range []bool{false, true} {
			t.Run(fmt.Sprintf("len=%d/masked=%v", l.length, masked), func(t *testing.T) {
				h := Header{Fin: true, Rsv: Rsv1 | Rsv3, Op: OpBinary, Masked: masked, Length: l.length}
				want := l.size
				if masked {
					h.Key = [4]byte{0xde, 0xad, 0xbe, 0xef}
					want += 4
				}
				var buf [MaxHeaderSize]byte
				n := h.Encode(buf[:])
				if n != want || h.Size() != want {
					t.Fatalf("Encode wrote %d bytes, Size %d; want %d", n, h.Size(), want)
				}
				if got := buf[1] & 0x7F; got != l.lenByte {
					t.Fatalf("7-bit length field %d, want %d", got, l.lenByte)
				}
				if got := buf[1]&0x80 != 0; got != masked {
					t.Fatalf("MASK bit %v, want %v", got, masked)
				}
				d, dn, err := DecodeHeader(buf[:n])
				if err != nil || dn != n || d != h {
					t.Fatalf("DecodeHeader = %+v, %d, %v; want %+v, %d, nil", d, dn, err, h, n)
				}
				// Any trailing payload bytes are left alone.
				d, dn, err = DecodeHeader(append(buf[:n:n], 1, 2, 3))
				if err != nil || dn != n || d != h {
					t.Fatalf("DecodeHeader with payload after = %+v, %d, %v", d, dn, err)
				}
			})
		}
	}
}

func TestHeaderEncodeFirstByteBitsForEveryFinRsvOpcode(t *testing.T) {
	for fin := range 2 {
		for rsv := range byte(8) {
			for op := range Opcode(16) {
				h := Header{Fin: fin == 1, Rsv: rsv, Op: op, Length: 3}
				var buf [MaxHeaderSize]byte
				h.Encode(buf[:])
				want := byte(fin)<<7 | rsv<<4 | byte(op)
				if buf[0] != want || buf[1] != 3 {
					t.Fatalf("%+v: bytes %#x %#x, want %#x 0x03", h, buf[0], buf[1], want)
				}
				d, _, err := DecodeHeader(buf[:2])
				if err != nil || d != h {
					t.Fatalf("DecodeHeader = %+v, %v; want %+v", d, err, h)
				}
			}
		}
	}
}

func TestHeaderEncodeKeepsOutOfRangeFieldsOutOfOtherBits(t *testing.T) {
	tests := []struct {
		name string
		h    Header
		want []byte
	}{
		{"rsv above 3 bits does not set FIN", Header{Rsv: 0xF8 | Rsv1, Op: OpText}, []byte{0x41, 0x00}},
		{"opcode above 4 bits does not set RSV", Header{Fin: true, Op: 0x12}, []byte{0x82, 0x00}},
		{"negative length encodes as 0", Header{Fin: true, Op: OpBinary, Length: -5}, []byte{0x82, 0x00}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := AppendHeader(nil, &tc.h); !bytes.Equal(got, tc.want) {
				t.Fatalf("got % x, want % x", got, tc.want)
			}
		})
	}
}

func TestDecodeHeaderShortInputReportsBytesNeeded(t *testing.T) {
	tests := []struct {
		name string
		full []byte
	}{
		{"7-bit length unmasked", []byte{0x81, 0x05}},
		{"7-bit length masked", []byte{0x81, 0x85, 1, 2, 3, 4}},
		{"16-bit length unmasked", []byte{0x82, 0x7E, 0x01, 0x00}},
		{"16-bit length masked", []byte{0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4}},
		{"64-bit length unmasked", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}},
		{"64-bit length masked", []byte{0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range len(tc.full) {
				_, n, err := DecodeHeader(tc.full[:i])
				if err != ErrShortHeader {
					t.Fatalf("prefix of %d bytes: err %v, want ErrShortHeader", i, err)
				}
				wantN := len(tc.full)
				if i < 2 {
					wantN = 2
				}
				if n != wantN {
					t.Fatalf("prefix of %d bytes: need %d, want %d", i, n, wantN)
				}
			}
			if _, n, err := DecodeHeader(tc.full); err != nil || n != len(tc.full) {
				t.Fatalf("full header: n %d, err %v", n, err)
			}
		})
	}
}

// wantProtocolError checks that err is the sentinel want, is a *ProtocolError, and carries code.
func wantProtocolError(t *testing.T, err, want error, code CloseCode) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err %v, want %v", err, want)
	}
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("err %v (%T) is not a *ProtocolError", err, err)
	}
	if pe.Code != code {
		t.Fatalf("close code %v, want %v", pe.Code, code)
	}
	// Wrapping keeps both properties.
	wrapped := fmt.Errorf("read frame: %w", err)
	if !errors.Is(wrapped, want) || !errors.As(wrapped, &pe) || pe.Code != code {
		t.Fatalf("wrapped error lost its identity or code")
	}
	if !strings.Contains(err.Error(), code.String()) || len(pe.Reason) > MaxCloseReason {
		t.Fatalf("Error() %q should name %v; reason must fit a close frame", err.Error(), code)
	}
}

func TestDecodeHeaderRejectsNonMinimalLengthAndTopBit(t *testing.T) {
	tests := []struct {
		name string
		wire []byte
		want error
	}{
		{"16-bit form holding 0", []byte{0x82, 0x7E, 0x00, 0x00}, ErrNonMinimalLength},
		{"16-bit form holding 125", []byte{0x82, 0x7E, 0x00, 0x7D}, ErrNonMinimalLength},
		{"16-bit form holding 125 masked", []byte{0x82, 0xFE, 0x00, 0x7D, 1, 2, 3, 4}, ErrNonMinimalLength},
		{"64-bit form holding 0", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0}, ErrNonMinimalLength},
		{"64-bit form holding 125", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x7D}, ErrNonMinimalLength},
		{"64-bit form holding 126", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x7E}, ErrNonMinimalLength},
		{"64-bit form holding 65535", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, ErrNonMinimalLength},
		{"64-bit form holding 65535 masked", []byte{0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4}, ErrNonMinimalLength},
		{"64-bit length with top bit", []byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 1, 0, 0}, ErrLengthTopBit},
		{"64-bit length all ones", []byte{0x82, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, ErrLengthTopBit},
		{"64-bit length top bit only, also non-minimal", []byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}, ErrLengthTopBit},
		{"64-bit length top bit masked", []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4}, ErrLengthTopBit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, n, err := DecodeHeader(tc.wire)
			wantProtocolError(t, err, tc.want, CloseProtocolError)
			if n != len(tc.wire) {
				t.Fatalf("n %d, want %d (the whole header is read before the length is judged)", n, len(tc.wire))
			}
		})
	}
}

func TestDecodeHeaderAcceptsSmallestLengthOfEachForm(t *testing.T) {
	tests := []struct {
		wire []byte
		want int64
	}{
		{[]byte{0x82, 0x7E, 0x00, 0x7E}, 126},
		{[]byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, 65536},
		{[]byte{0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, 1<<63 - 1},
	}
	for _, tc := range tests {
		h, _, err := DecodeHeader(tc.wire)
		if err != nil || h.Length != tc.want {
			t.Fatalf("% x: Length %d, err %v; want %d", tc.wire, h.Length, err, tc.want)
		}
	}
}

func TestOpcodeStringAndClassesForAllSixteenValues(t *testing.T) {
	tests := []struct {
		op                          Opcode
		name                        string
		control, data, reservedCode bool
	}{
		{0x0, "continuation", false, true, false},
		{0x1, "text", false, true, false},
		{0x2, "binary", false, true, false},
		{0x3, "reserved(0x3)", false, false, true},
		{0x4, "reserved(0x4)", false, false, true},
		{0x5, "reserved(0x5)", false, false, true},
		{0x6, "reserved(0x6)", false, false, true},
		{0x7, "reserved(0x7)", false, false, true},
		{0x8, "close", true, false, false},
		{0x9, "ping", true, false, false},
		{0xA, "pong", true, false, false},
		{0xB, "reserved(0xB)", true, false, true},
		{0xC, "reserved(0xC)", true, false, true},
		{0xD, "reserved(0xD)", true, false, true},
		{0xE, "reserved(0xE)", true, false, true},
		{0xF, "reserved(0xF)", true, false, true},
	}
	for _, tc := range tests {
		if tc.op.String() != tc.name || tc.op.IsControl() != tc.control || tc.op.IsData() != tc.data || tc.op.IsReserved() != tc.reservedCode {
			t.Errorf("%#x: String %q IsControl %v IsData %v IsReserved %v; want %q %v %v %v", byte(tc.op),
				tc.op.String(), tc.op.IsControl(), tc.op.IsData(), tc.op.IsReserved(),
				tc.name, tc.control, tc.data, tc.reservedCode)
		}
	}
	if got := Opcode(0x1F).String(); got != "invalid(0x1F)" {
		t.Errorf("Opcode(0x1F).String() = %q", got)
	}
	if RoleClient.String() != "client" || RoleServer.String() != "server" {
		t.Errorf("Role names %q %q", RoleClient, RoleServer)
	}
}

var sinkHeader Header
var sinkInt int

func BenchmarkHeaderEncode(b *testing.B) {
	for _, h := range []Header{
		{Fin: true, Op: OpText, Length: 100},
		{Fin: true, Op: OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: 1 << 20},
	} {
		b.Run(fmt.Sprintf("len=%d/masked=%v", h.Length, h.Masked), func(b *testing.B) {
			b.ReportAllocs()
			var buf [MaxHeaderSize]byte
			for b.Loop() {
				sinkInt += h.Encode(buf[:])
			}
		})
	}
}

func BenchmarkDecodeHeader(b *testing.B) {
	for _, wire := range [][]byte{
		{0x81, 0x05},
		{0x82, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4},
	} {
		b.Run(fmt.Sprintf("size=%d", len(wire)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h, n, err := DecodeHeader(wire)
				if err != nil {
					b.Fatal(err)
				}
				sinkHeader, sinkInt = h, n
			}
		})
	}
}

func TestHotPathsAllocateNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counting is slow under -short")
	}
	wire := []byte{0x82, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4}
	text := []byte(strings.Repeat("héllo wörld ", 20))
	closeBuf := make([]byte, 0, MaxControlPayload)
	funcs := map[string]func(){
		"DecodeHeader": func() { sinkHeader, sinkInt, _ = DecodeHeader(wire) },
		"Encode":       func() { var b [MaxHeaderSize]byte; sinkInt = sinkHeader.Encode(b[:]) },
		"Check": func() {
			h := Header{Fin: true, Op: OpBinary, Masked: true}
			_ = Check(&h, RoleServer, 0)
		},
		"Sequencer": func() {
			var s Sequencer
			h := Header{Op: OpText}
			_ = s.Next(&h)
		},
		"UTF8Validator": func() {
			var v UTF8Validator
			_ = v.Write(text[:7]) && v.Write(text[7:]) && v.Done()
		},
		"ParseClose":  func() { _, _, _ = ParseClose([]byte{0x03, 0xE8, 'o', 'k'}) },
		"AppendClose": func() { _, _ = AppendClose(closeBuf[:0], CloseGoingAway, "bye, héllo") },
	}
	for name, f := range funcs {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", name, n)
		}
	}
}

// FuzzDecodeHeader checks that DecodeHeader never panics, that n is sane, and that a header it
// accepts re-encodes to exactly the bytes it came from (it enforces minimal length encoding, so
// the encoding of a valid header is unique).
func FuzzDecodeHeader(f *testing.F) {
	for _, tc := range rfcExamples() {
		f.Add(tc.wire[:min(len(tc.wire), MaxHeaderSize)])
	}
	f.Add([]byte{})
	f.Add([]byte{0x82})
	f.Add([]byte{0x82, 0x7E, 0x00, 0x7D})
	f.Add([]byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 1, 0, 0})
	f.Add([]byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF})
	f.Add([]byte{0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := DecodeHeader(b)
		if n < 2 || n > MaxHeaderSize {
			t.Fatalf("n = %d outside 2..%d", n, MaxHeaderSize)
		}
		switch {
		case err == ErrShortHeader:
			if n <= len(b) {
				t.Fatalf("ErrShortHeader with n %d <= len %d", n, len(b))
			}
			return
		case err != nil:
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code != CloseProtocolError {
				t.Fatalf("error %v is not a 1002 *ProtocolError", err)
			}
			if n > len(b) {
				t.Fatalf("rejected after reading past the input: n %d, len %d", n, len(b))
			}
			return
		}
		if n > len(b) || n != h.Size() || h.Length < 0 || h.Rsv > 7 || h.Op > 15 {
			t.Fatalf("accepted %+v with n %d, Size %d, len %d", h, n, h.Size(), len(b))
		}
		var buf [MaxHeaderSize]byte
		if m := h.Encode(buf[:]); !bytes.Equal(buf[:m], b[:n]) {
			t.Fatalf("re-encoded % x, decoded from % x", buf[:m], b[:n])
		}
		// Check and Sequencer must not panic on any decoded header either.
		var s Sequencer
		for _, role := range []Role{RoleClient, RoleServer} {
			for _, rsv := range []byte{0, Rsv1, 7} {
				if Check(&h, role, rsv) == nil {
					_ = s.Next(&h)
				}
			}
		}
	})
}
