// Package mask implements the client-to-server masking of RFC 6455 §5.3: every payload byte i
// of a masked frame is XORed with byte (i mod 4) of the frame's 4-byte masking key. Masking and
// unmasking are the same operation.
//
// Both functions take the key position at which the slice starts and return the position after
// it, so a payload masked in pieces (as a stream reader or a fragmenting writer does) equals one
// pass over the whole payload. [Copy] fuses the copy into a frame buffer with the masking, so the
// write path touches the user's bytes once and never modifies them.
//
// The work is done a machine word at a time in portable Go, and with SSE2 or AVX2 vector
// instructions on amd64, chosen at run time from the CPU's features. The build tag purego
// forces the portable Go code on every architecture.
//
// This package imports nothing from the rest of the module; it is a leaf that the frame layer
// builds on. Neither function allocates.
package mask

// Mask XORs b in place with key, starting at byte pos of the key, and returns the key position
// after b, (pos+len(b))&3, so that a message masked in pieces equals one pass: masking b[:i] at
// position p and then b[i:] at the returned position gives the same bytes as masking b at p.
//
// Only the low two bits of pos are used. Mask does not allocate and does not retain b.
func Mask(b []byte, key [4]byte, pos int) int {
	return maskBytes(b, key, pos)
}

// Copy writes src XOR key, starting at byte pos of the key, into dst[:len(src)] and returns the
// key position after src, (pos+len(src))&3. It is Mask fused with a copy: one pass over memory,
// and src is never modified.
//
// dst and src may be the same slice (dst[0] and src[0] at the same address); otherwise they must
// not overlap. len(dst) must be at least len(src); Copy panics with an index error if it is
// not, before writing anything. Only the low two bits of pos are used. Copy does not allocate
// and retains neither slice.
func Copy(dst, src []byte, key [4]byte, pos int) int {
	return copyBytes(dst, src, key, pos)
}
