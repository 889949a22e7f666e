//go:build unix

package tlsconf

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// mkfifo makes a FIFO at path. At cleanup it opens the FIFO for writing once, so that a
// reader that blocked on it (the code before the fix) is released.
func mkfifo(t *testing.T, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			_ = f.Close()
		}
	})
	return path
}

// within runs f and fails the test when it does not return within d (it then leaves f
// running: that is the hang the test looks for).
func within[T any](t *testing.T, d time.Duration, what string, f func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
		panic("unreachable")
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

func symlink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// TestCADirectorySkipsAndReportsWhatItRefuses: a CA directory holding a symbolic link to
// /dev/zero, a FIFO, a file over MaxFileSize, a dangling link, a subdirectory and a file
// without a certificate is loaded from its good files, fast and in bounded memory, and every
// refused entry is reported with its reason. (Before the fix, the link to /dev/zero ran the
// process out of memory and the FIFO blocked forever.)
func TestCADirectorySkipsAndReportsWhatItRefuses(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	ca, err := os.ReadFile(p.caPath)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("a-ca.pem", ca)
	linked := symlink(t, p.caPath, filepath.Join(dir, "b-link-to-ca.pem")) // like /etc/ssl/certs
	zero := symlink(t, "/dev/zero", filepath.Join(dir, "c-zero.pem"))
	fifo := mkfifo(t, filepath.Join(dir, "d-fifo.pem"))
	big := write("e-big.pem", append(bytes.Repeat([]byte("#"), MaxFileSize-len(ca)+1), ca...))
	dangling := symlink(t, filepath.Join(dir, "gone"), filepath.Join(dir, "f-dangling.pem"))
	sub := filepath.Join(dir, "g-sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	readme := write("h-README", []byte("not a certificate"))

	var cas *CAs
	start := time.Now()
	alloc := allocated(func() {
		cas = within(t, 5*time.Second, "LoadCAsContext", func() *CAs {
			c, err := LoadCAsContext(context.Background(), dir)
			if err != nil {
				t.Errorf("LoadCAsContext: %v", err)
			}
			return c
		})
	})
	if cas == nil {
		t.FailNow()
	}
	t.Logf("loaded in %v, %d bytes allocated", time.Since(start), alloc)
	if alloc > 8<<20 {
		t.Errorf("loading allocated %d bytes, want a bound near MaxFileSize", alloc)
	}
	if strings.Join(cas.Files, ",") != good+","+linked {
		t.Errorf("files %q, want the CA file and the link to one", cas.Files)
	}
	want := []struct {
		path string
		err  error
		says string
	}{
		{zero, ErrNotRegular, "is a character device"},
		{fifo, ErrNotRegular, "is a named pipe (FIFO)"},
		{big, ErrFileTooLarge, "is over 1048576 bytes"},
		{dangling, fs.ErrNotExist, "no such file"},
		{sub, ErrNotRegular, "is a directory"},
		{readme, ErrNoCertificate, "no PEM certificate"},
	}
	if len(cas.Skipped) != len(want) {
		t.Fatalf("skipped %v, want %d entries", cas.Skipped, len(want))
	}
	for i, w := range want {
		s := cas.Skipped[i]
		if s.Path != w.path || !errors.Is(s.Err, w.err) || !strings.Contains(s.Err.Error(), w.says) ||
			!strings.Contains(s.Err.Error(), w.path) {
			t.Errorf("skipped[%d] = %s: %v; want %s: %v saying %q and naming the path", i, s.Path, s.Err, w.path, w.err, w.says)
		}
	}
	cfg, err := Build(Options{CAPath: dir, ServerName: "server.test", CertPath: p.clientCertPath,
		KeyPath: p.write(t, "k.pem", pemOf("RSA PRIVATE KEY", mustPKCS1(p)))})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.handshake(t, cfg, nil); err != nil {
		t.Fatalf("handshake with the usable part of the directory: %v", err)
	}

	// Without the good files, the error lists what was refused.
	_ = os.Remove(good)
	_ = os.Remove(linked)
	_, err = LoadCAsContext(context.Background(), dir)
	var de *CADirError
	if !errors.As(err, &de) || !errors.Is(err, ErrNoCertificate) || len(de.Skipped) != len(want) {
		t.Fatalf("err = %v, want a *CADirError with ErrNoCertificate and %d skipped entries", err, len(want))
	}
	msg := err.Error()
	for _, w := range want[:maxSkippedShown] {
		if !strings.Contains(msg, w.path) {
			t.Errorf("message %q does not name %s", msg, w.path)
		}
	}
	if !strings.Contains(msg, "and 1 more") {
		t.Errorf("message %q does not say how many more were skipped", msg)
	}
}

func mustPKCS1(p *pki) []byte { return x509.MarshalPKCS1PrivateKey(p.clientRSA) }

// TestNonRegularPathsAreClearErrorsWithoutBlocking: a CA path, certificate path or key path
// that is a FIFO, /dev/zero or a link to it fails at once with ErrNotRegular naming the
// path, in bounded memory. (Before the fix a FIFO blocked forever and /dev/zero ran the
// process out of memory.)
func TestNonRegularPathsAreClearErrorsWithoutBlocking(t *testing.T) {
	p := newPKI(t)
	keyPath := p.write(t, "k.pem", pemOf("RSA PRIVATE KEY", mustPKCS1(p)))
	dir := t.TempDir()
	fifo := mkfifo(t, filepath.Join(dir, "fifo"))
	zeroLink := symlink(t, "/dev/zero", filepath.Join(dir, "zero.pem"))
	fifoLink := symlink(t, fifo, filepath.Join(dir, "fifo-link.pem"))
	tests := []struct {
		name, path, says string
		opts             Options
	}{
		{"FIFO as caPath", fifo, "CA path", Options{CAPath: fifo}},
		{"link to a FIFO as caPath", fifoLink, "CA path", Options{CAPath: fifoLink}},
		{"/dev/zero as caPath", "/dev/zero", "CA path", Options{CAPath: "/dev/zero"}},
		{"link to /dev/zero as caPath", zeroLink, "CA path", Options{CAPath: zeroLink}},
		{"link to /dev/zero as default caPath", zeroLink, "CA path", Options{CAPath: zeroLink, CAPathOptional: true}},
		{"FIFO as certPath", fifo, "client certificate", Options{CAPath: p.caPath, CertPath: fifo, KeyPath: keyPath}},
		{"FIFO as keyPath", fifo, "client key", Options{CAPath: p.caPath, CertPath: p.clientCertPath, KeyPath: fifo}},
		{"/dev/zero as keyPath", zeroLink, "client key", Options{CAPath: p.caPath, CertPath: p.clientCertPath, KeyPath: zeroLink}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			start := time.Now()
			alloc := allocated(func() {
				err = within(t, 5*time.Second, "Build", func() error { _, err := Build(tt.opts); return err })
			})
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), strconv.Quote(tt.path)) ||
				!strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v, want ErrNotRegular naming the %s %q", err, tt.says, tt.path)
			}
			if el := time.Since(start); el > 2*time.Second || alloc > 1<<20 {
				t.Fatalf("took %v and %d bytes", el, alloc)
			}
		})
	}
}

// TestFilesOverTheSizeCapAreRefused: a CA file, certificate file or key file one byte over
// MaxFileSize is ErrFileTooLarge naming the path; a CA file of exactly MaxFileSize is read.
func TestFilesOverTheSizeCapAreRefused(t *testing.T) {
	p := newPKI(t)
	ca, err := os.ReadFile(p.caPath)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := os.ReadFile(p.clientCertPath)
	if err != nil {
		t.Fatal(err)
	}
	key := pemOf("RSA PRIVATE KEY", mustPKCS1(p))
	keyPath := p.write(t, "k.pem", key)
	pad := func(b []byte, size int) []byte {
		return append(append(bytes.Repeat([]byte("#"), size-len(b)-1), '\n'), b...)
	}
	exact := p.write(t, "exact.pem", pad(ca, MaxFileSize))
	if _, err := Build(Options{CAPath: exact}); err != nil {
		t.Fatalf("CA file of exactly MaxFileSize bytes: %v", err)
	}
	bigCA := p.write(t, "big-ca.pem", pad(ca, MaxFileSize+1))
	bigCert := p.write(t, "big-cert.pem", pad(cert, MaxFileSize+1))
	bigKey := p.write(t, "big-key.pem", pad(key, MaxFileSize+1))
	for _, tt := range []struct {
		path string
		opts Options
	}{
		{bigCA, Options{CAPath: bigCA}},
		{bigCert, Options{CAPath: p.caPath, CertPath: bigCert, KeyPath: keyPath}},
		{bigKey, Options{CAPath: p.caPath, CertPath: p.clientCertPath, KeyPath: bigKey}},
	} {
		_, err := Build(tt.opts)
		if !errors.Is(err, ErrFileTooLarge) || !strings.Contains(err.Error(), strconv.Quote(tt.path)) ||
			!strings.Contains(err.Error(), "over 1048576 bytes") {
			t.Errorf("%s: err = %v, want ErrFileTooLarge naming it", tt.path, err)
		}
	}
}

// TestCADirectoryLimits: a directory with more than MaxCADirEntries entries is refused, and
// the files past MaxCADirBytes are skipped and reported.
func TestCADirectoryLimits(t *testing.T) {
	p := newPKI(t)
	ca, err := os.ReadFile(p.caPath)
	if err != nil {
		t.Fatal(err)
	}
	many := t.TempDir()
	for i := range MaxCADirEntries + 1 {
		if err := os.WriteFile(filepath.Join(many, strconv.Itoa(i)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(many, "0"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCAsContext(context.Background(), many); !errors.Is(err, ErrCADirTooLarge) ||
		!strings.Contains(err.Error(), "more than 4096 entries") {
		t.Fatalf("%d entries: %v, want ErrCADirTooLarge", MaxCADirEntries+1, err)
	}

	heavy := t.TempDir()
	if err := os.WriteFile(filepath.Join(heavy, "00-ca.pem"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	filler := bytes.Repeat([]byte("#"), MaxFileSize)
	n := MaxCADirBytes/MaxFileSize + 1
	for i := 1; i <= n; i++ {
		if err := os.WriteFile(filepath.Join(heavy, "f"+strconv.Itoa(i+10)), filler, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cas, err := LoadCAsContext(context.Background(), heavy)
	if err != nil {
		t.Fatal(err)
	}
	var over int
	for _, s := range cas.Skipped {
		if errors.Is(s.Err, ErrCADirTooLarge) {
			over++
		} else if !errors.Is(s.Err, ErrNoCertificate) {
			t.Errorf("skipped %s: %v", s.Path, s.Err)
		}
	}
	if len(cas.Files) != 1 || len(cas.Skipped) != n || over != 2 {
		t.Fatalf("files %q, skipped %v; want the CA used, %d fillers skipped, the last 2 for the total bound", cas.Files, cas.Skipped, n)
	}
}

// countdownCtx is a context whose Err turns to context.Canceled after a number of calls:
// it ends a load at a chosen point, without timing.
type countdownCtx struct {
	context.Context
	left atomic.Int64
}

func (c *countdownCtx) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestLoadingEndsWithTheContext: BuildContext and LoadCAsContext stop when the context ends,
// before it, in the middle of a directory, or while Build waits for a large load.
func TestLoadingEndsWithTheContext(t *testing.T) {
	p := newPKI(t)
	ca, err := os.ReadFile(p.caPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := range 20 {
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(100+i)+".pem"), ca, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := BuildContext(ctx, Options{CAPath: dir}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before: %v", err)
	}
	for _, n := range []int64{1, 5, 20} {
		c := &countdownCtx{Context: context.Background()}
		c.left.Store(n)
		if _, err := LoadCAsContext(c, dir); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled after %d checks: %v", n, err)
		}
	}

	slow := slowCADir(t, ca, 4)
	var full time.Duration // the shorter of two loads, the first of which warms the cache
	for i := range 2 {
		start := time.Now()
		if _, err := Build(Options{CAPath: slow}); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); i == 0 || el < full {
			full = el
		}
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(full/10, cancel)
	start := time.Now()
	_, err = BuildContext(ctx, Options{CAPath: slow})
	el := time.Since(start)
	t.Logf("full load %v; cancelled at %v, returned after %v", full, full/10, el)
	if !errors.Is(err, context.Canceled) || el > full/3 {
		t.Fatalf("BuildContext cancelled at %v of a %v load: %v after %v", full/10, full, err, el)
	}
}

// slowCADir writes a CA directory of files full of copies of the certificate ca (each is
// parsed): it takes a while to load, within the bounds.
func slowCADir(t *testing.T, ca []byte, files int) string {
	t.Helper()
	dir := t.TempDir()
	data := bytes.Repeat(ca, (MaxFileSize-1)/len(ca))
	for i := range files {
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i)+".pem"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
