//go:build unix

package tlsconf

import (
	"os"
	"syscall"
)

// openFile opens path for reading without blocking: O_NONBLOCK keeps the open of a FIFO with
// no writer (or of a device that waits, such as a serial line) from blocking, and O_NOCTTY
// keeps a terminal from becoming the process's controlling terminal. readFile then refuses
// anything that is not a regular file, for which O_NONBLOCK changes nothing.
func openFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}
