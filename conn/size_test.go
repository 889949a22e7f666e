package conn

import (
	"testing"
	"unsafe"
)

// TestConnSizeClass keeps a Conn in the 1152-byte size class: an object of more than 512 bytes
// that holds pointers carries an 8-byte allocation header, so a Conn of 1144 bytes takes 1152
// and one of 1152 bytes takes 1280, 128 bytes more per connection (the client's idle-memory
// budget noticed). Fields added to Conn must fit in its padding or come with savings.
func TestConnSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Conn{}); n > 1144 {
		t.Fatalf("Conn is %d bytes: over 1144, it is allocated in the 1280-byte size class", n)
	}
	if a := testing.AllocsPerRun(10, func() { _ = New(&memConn{}, nil, nil) }); a > 2 {
		t.Fatalf("New allocates %v objects", a)
	}
}
