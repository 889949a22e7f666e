package mask_test

import (
	"fmt"

	"github.com/netkit/websocket/mask"
)

// Masking a payload in two pieces gives the same bytes as one pass: the position returned by
// the first call is where the second one starts in the key (RFC 6455 §5.3).
func ExampleMask() {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d} // the key of RFC 6455 §5.7's masked "Hello"
	p := []byte("Hello")
	pos := mask.Mask(p[:2], key, 0)
	mask.Mask(p[2:], key, pos)
	fmt.Printf("% x\n", p)
	// Output: 7f 9f 4d 51 58
}

// Copy masks while it copies, leaving the source untouched: the client write path uses it to
// fill the frame buffer in one pass.
func ExampleCopy() {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	src := []byte("Hello")
	dst := make([]byte, len(src))
	mask.Copy(dst, src, key, 0)
	fmt.Printf("%s % x\n", src, dst)
	// Output: Hello 7f 9f 4d 51 58
}
