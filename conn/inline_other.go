//go:build !unix

package conn

import "net"

// inlineWriter exists only on Unix systems (inline_unix.go): elsewhere Enqueue always hands
// messages to its writer goroutine.
type inlineWriter struct{ rest []byte }

func (w *inlineWriter) Write(b []byte) (int, error) { return len(b), nil }

func (w *inlineWriter) WriteVec(hdr, p []byte) int { return 0 }

func newInlineWriter(net.Conn) *inlineWriter { return nil }
