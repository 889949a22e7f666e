//go:build !unix

package conn

import (
	"io"
	"net"
)

// newSource returns the source of a Conn's frame reader on systems without the raw-read path
// of source_unix.go: nc itself, or a trackedSource around it when act is set.
func newSource(nc net.Conn, act *activity) io.Reader {
	if act == nil {
		return nc
	}
	return &trackedSource{Conn: nc, act: act}
}
