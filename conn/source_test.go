//go:build unix

package conn

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// TestRawSourceReadsOnlyWhenReady checks the raw-read path a TCP connection uses: a wait that
// passes the read deadline returns the deadline error and no buffer, ready input comes back in
// a pooled buffer of the size asked for, and the peer's close is io.EOF.
func TestRawSourceReadsOnlyWhenReady(t *testing.T) {
	cn, sn := tcpPair(t)
	src, ok := newSource(cn, nil).(*rawSource)
	if !ok {
		t.Fatalf("a TCP connection got %T, want *rawSource", newSource(cn, nil))
	}
	cn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	bp, n, err := src.ReadBuffer(1024)
	if bp != nil || n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("wait past the deadline: buffer %v, %d bytes, %v", bp != nil, n, err)
	}
	cn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := sn.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	bp, n, err = src.ReadBuffer(1024)
	if err != nil || bp == nil || len(*bp) != 1024 || string((*bp)[:n]) != "hello" {
		t.Fatalf("ready read: %d bytes %q, %v", n, bp, err)
	}
	sn.Close()
	if bp, _, err := src.ReadBuffer(1024); bp != nil || err != io.EOF {
		t.Fatalf("after the peer closed: buffer %v, %v", bp != nil, err)
	}
}

// TestOtherConnsKeepTheirOwnRead checks that a net.Conn that is not a bare TCP or Unix
// connection (a wrapper, TLS) is read through its own Read.
func TestOtherConnsKeepTheirOwnRead(t *testing.T) {
	cn, _ := tcpPair(t)
	w := wrappedConn{cn}
	if src := newSource(w, nil); src != io.Reader(w) {
		t.Fatalf("a wrapper got %T, want the wrapper itself", src)
	}
}
