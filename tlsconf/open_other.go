//go:build !unix

package tlsconf

import "os"

// openFile opens path for reading; readFile then refuses anything that is not a regular file.
func openFile(path string) (*os.File, error) {
	return os.Open(path)
}
