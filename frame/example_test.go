package frame_test

import (
	"fmt"

	"github.com/netkit/websocket/frame"
)

// Encoding and decoding the header of RFC 6455 §5.7's masked "Hello" frame.
func ExampleHeader_Encode() {
	h := frame.Header{Fin: true, Op: frame.OpText, Masked: true, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5}
	var b [frame.MaxHeaderSize]byte
	n := h.Encode(b[:])
	fmt.Printf("% x\n", b[:n])

	got, size, err := frame.DecodeHeader(b[:n])
	fmt.Println(got.Op, got.Length, size, err)
	// Output:
	// 81 85 37 fa 21 3d
	// text 5 6 <nil>
}

// Check applies the receive-side rules of RFC 6455 §5: a client must fail the connection on a
// masked frame from the server, with close code 1002.
func ExampleCheck() {
	h := frame.Header{Fin: true, Op: frame.OpText, Masked: true, Length: 5}
	err := frame.Check(&h, frame.RoleClient, 0)
	fmt.Println(err)
	// Output: websocket: 1002 (protocol error): masked frame from a server
}

// UTF8Validator checks text incrementally across fragments and fails at the first byte that
// can never be valid.
func ExampleUTF8Validator() {
	var v frame.UTF8Validator
	fmt.Println(v.Write([]byte("caf\xc3")), v.Done()) // a code point left open
	fmt.Println(v.Write([]byte("\xa9")), v.Done())    // and completed
	fmt.Println(v.Write([]byte{0xc0}))                // 0xC0 never starts valid UTF-8
	// Output:
	// true false
	// true true
	// false
}
