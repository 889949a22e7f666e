//go:build !unix

package conn

import (
	"io"
	"net"
)

// newSource returns the source of a Conn's frame reader: nc itself on systems without the
// raw-read path of source_unix.go.
func newSource(nc net.Conn) io.Reader { return nc }
