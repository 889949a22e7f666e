package mask

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzMask compares every implementation with the byte loop on arbitrary data, key, starting
// position, split point and start offset: Mask in place in two pieces, Copy into a separate
// buffer in two pieces (src must not change), and Copy in place.
func FuzzMask(f *testing.F) {
	f.Add([]byte("Hello"), uint32(0x3d21fa37), uint8(0), uint16(2), uint8(0))
	f.Add([]byte{}, uint32(1), uint8(3), uint16(0), uint8(1))
	f.Add(bytes.Repeat([]byte{0xff}, 15), uint32(0xdeadbeef), uint8(1), uint16(7), uint8(3))
	f.Add(bytes.Repeat([]byte{0xa5}, 16), uint32(0x01020408), uint8(2), uint16(16), uint8(5))
	f.Add(bytes.Repeat([]byte("websocket"), 30), uint32(0x80402010), uint8(3), uint16(129), uint8(17))
	f.Add(bytes.Repeat([]byte{0, 1, 2, 3, 4, 5, 6}, 300), uint32(0xffffffff), uint8(1), uint16(1000), uint8(31))
	f.Fuzz(func(t *testing.T, data []byte, k uint32, pos uint8, split uint16, off uint8) {
		var key [4]byte
		binary.LittleEndian.PutUint32(key[:], k)
		p := int(pos)
		at := int(split) % (len(data) + 1)
		o := int(off % 64)

		want := bytes.Clone(data)
		wantPos := naiveMask(want, key, p)

		for _, im := range impls() {
			// Mask in place at an unaligned start, in two pieces.
			buf := make([]byte, o+len(data)+guard)
			b := buf[o : o+len(data)]
			copy(b, data)
			q := im.mask(b[:at], key, p)
			q = im.mask(b[at:], key, q)
			if q != wantPos || !bytes.Equal(b, want) {
				t.Fatalf("%s: Mask = % x, pos %d; want % x, pos %d", im.name, b, q, want, wantPos)
			}
			if !bytes.Equal(buf[:o], make([]byte, o)) || !bytes.Equal(buf[o+len(data):], make([]byte, guard)) {
				t.Fatalf("%s: Mask wrote outside its slice", im.name)
			}

			// Copy into a separate buffer, in two pieces; src untouched.
			src := bytes.Clone(data)
			dbuf := make([]byte, o+len(data)+guard)
			dst := dbuf[o:]
			q = im.copy(dst[:at], src[:at], key, p)
			q = im.copy(dst[at:], src[at:], key, q)
			if q != wantPos || !bytes.Equal(dst[:len(data)], want) {
				t.Fatalf("%s: Copy = % x, pos %d; want % x, pos %d", im.name, dst[:len(data)], q, want, wantPos)
			}
			if !bytes.Equal(src, data) {
				t.Fatalf("%s: Copy modified src", im.name)
			}
			if !bytes.Equal(dbuf[:o], make([]byte, o)) || !bytes.Equal(dbuf[o+len(data):], make([]byte, guard)) {
				t.Fatalf("%s: Copy wrote outside dst[:len(src)]", im.name)
			}

			// Copy in place.
			copy(b, data)
			if q = im.copy(b, b, key, p); q != wantPos || !bytes.Equal(b, want) {
				t.Fatalf("%s: Copy in place = % x, pos %d; want % x, pos %d", im.name, b, q, want, wantPos)
			}
		}
	})
}
