package tlsconf

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Bounds on what the loaders read, so that a hostile or mistaken path (a symbolic link to
// /dev/zero, a FIFO, a huge file or directory) ends in a clear error instead of exhausting
// memory or blocking the dial.
const (
	// MaxFileSize bounds each file read: a CA file, each file of a CA directory, the client
	// certificate file and the key file (1 MiB; a system bundle of every public root is
	// about 220 KiB). A larger file is ErrFileTooLarge.
	MaxFileSize = 1 << 20
	// MaxCADirEntries bounds the entries of a CA directory; a directory with more is
	// ErrCADirTooLarge (a system certificate directory holds a few hundred).
	MaxCADirEntries = 4096
	// MaxCADirBytes bounds the bytes read from the files of one CA directory together
	// (8 MiB, about ten times a system certificate directory). Files past the bound are
	// skipped and reported.
	MaxCADirBytes = 8 << 20
)

// Errors of the file loaders; test them with errors.Is.
var (
	// ErrNotRegular: a path (after symbolic links) is not a regular file: a FIFO, a device
	// such as /dev/zero, a socket, or a directory where a file is expected.
	ErrNotRegular = errors.New("tlsconf: not a regular file")
	// ErrFileTooLarge: a file is over MaxFileSize bytes.
	ErrFileTooLarge = errors.New("tlsconf: file over the size limit")
	// ErrCADirTooLarge: a CA directory has more than MaxCADirEntries entries, or its files
	// together are over MaxCADirBytes bytes (the files past the bound are skipped).
	ErrCADirTooLarge = errors.New("tlsconf: CA directory over its limits")
)

// SkippedFile is an entry of a CA directory that LoadCAsContext did not use, and why: not a
// regular file (ErrNotRegular), too large (ErrFileTooLarge, ErrCADirTooLarge), unreadable (a
// dangling symbolic link: fs.ErrNotExist), or without a PEM certificate (ErrNoCertificate).
type SkippedFile struct {
	Path string
	Err  error // the reason; its message names the path
}

// CAs is what LoadCAsContext read: the pool, the files whose certificates are in it, and the
// entries of a CA directory it skipped.
type CAs struct {
	Pool    *x509.CertPool
	Files   []string      // the files that gave at least one certificate
	Skipped []SkippedFile // in name order; empty for a CA file
}

// CADirError is the error of a CA directory that gave no certificate: Err is ErrNoCertificate
// and Skipped lists every entry that was refused, and why. Its message lists the first
// entries; errors.As gives the whole list.
type CADirError struct {
	Path    string
	Skipped []SkippedFile
	Err     error
}

// maxSkippedShown bounds the skipped entries CADirError's message lists.
const maxSkippedShown = 5

// Error names the directory and the first skipped entries with their reasons.
func (e *CADirError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	b.WriteString(" in CA directory " + strconv.Quote(e.Path))
	if len(e.Skipped) > 0 {
		b.WriteString("; skipped: ")
		for i, s := range e.Skipped {
			if i == maxSkippedShown {
				b.WriteString("; and " + strconv.Itoa(len(e.Skipped)-i) + " more")
				break
			}
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(s.Err.Error())
		}
	}
	return b.String()
}

// Unwrap returns Err.
func (e *CADirError) Unwrap() error { return e.Err }

// describeMode says what a file that is not regular is.
func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "not a regular file (mode " + m.String() + ")"
}

// ctxReader checks ctx before each read, so that a cancelled load stops between chunks.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// readFile reads the regular file at path (symbolic links followed), at most limit bytes.
// what names the file in errors ("CA file", "client key"). The open never blocks (see
// openFile); a FIFO, device, socket or directory is ErrNotRegular, a larger file
// ErrFileTooLarge, a missing one an error wrapping fs.ErrNotExist.
func readFile(ctx context.Context, path, what string, limit int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := openFile(path)
	if err != nil {
		return nil, fmt.Errorf("tlsconf: %s: %w", what, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("tlsconf: %s: %w", what, err)
	}
	return readOpened(ctx, f, st, path, what, limit)
}

// ReadFile reads the regular file at path under the rules of the CA, certificate and key
// files, for other secrets a program keeps beside them (a key's password file, say):
// symbolic links are followed, the open never blocks, a FIFO, device, socket or directory is
// ErrNotRegular, a file over MaxFileSize bytes is ErrFileTooLarge, and a missing one an error
// wrapping fs.ErrNotExist. It returns when ctx ends.
func ReadFile(ctx context.Context, path string) ([]byte, error) {
	return readFile(ctx, path, "file", MaxFileSize)
}

// readOpened is readFile after the open and the stat.
func readOpened(ctx context.Context, f io.Reader, st fs.FileInfo, path, what string, limit int64) ([]byte, error) {
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s %q is %s", ErrNotRegular, what, path, describeMode(st.Mode()))
	}
	if st.Size() > limit {
		return nil, tooLarge(what, path, limit)
	}
	b, err := io.ReadAll(io.LimitReader(ctxReader{ctx, f}, limit+1))
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("tlsconf: reading %s %q: %w", what, path, err)
	}
	if int64(len(b)) > limit { // the file grew after the stat
		return nil, tooLarge(what, path, limit)
	}
	return b, nil
}

func tooLarge(what, path string, limit int64) error {
	return fmt.Errorf("%w: %s %q is over %d bytes", ErrFileTooLarge, what, path, limit)
}

// appendCerts adds the PEM certificates of data to pool, checking ctx every few blocks, and
// reports whether it added any.
func appendCerts(ctx context.Context, pool *x509.CertPool, data []byte) (bool, error) {
	ok := false
	for n := 0; ; n++ {
		if n%64 == 0 {
			if err := ctx.Err(); err != nil {
				return ok, err
			}
		}
		b, rest := pem.Decode(data)
		if b == nil {
			return ok, nil
		}
		if b.Type == "CERTIFICATE" && len(b.Headers) == 0 && pool.AppendCertsFromPEM(data[:len(data)-len(rest)]) {
			ok = true
		}
		data = rest
	}
}

// LoadCAsContext reads the PEM certificates of a CA file, or of the files of a CA directory,
// into a new pool. Only regular files are read (symbolic links to them are fine), each up to
// MaxFileSize bytes; a directory may have up to MaxCADirEntries entries and MaxCADirBytes
// bytes in all.
//
// For a file, anything wrong is the error: missing (wrapping fs.ErrNotExist), ErrNotRegular,
// ErrFileTooLarge, or ErrNoCertificate. A directory skips the entries it cannot use, in name
// order, and lists them in CAs.Skipped: entries that are not regular files (subdirectories,
// FIFOs, symbolic links to devices such as /dev/zero), dangling links, files over
// MaxFileSize or past MaxCADirBytes, and files without a certificate. When no certificate
// remains the error is a *CADirError listing them (errors.Is(err, ErrNoCertificate)).
//
// ctx ends the load: it is checked before each file and as files are read and parsed, and
// its error is returned.
func LoadCAsContext(ctx context.Context, path string) (*CAs, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := openFile(path)
	if err != nil {
		return nil, fmt.Errorf("tlsconf: CA path: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("tlsconf: CA path: %w", err)
	}
	cas := &CAs{Pool: x509.NewCertPool()}
	if !st.IsDir() {
		b, err := readOpened(ctx, f, st, path, "CA path", MaxFileSize)
		if err != nil {
			return nil, err
		}
		ok, err := appendCerts(ctx, cas.Pool, b)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w in CA path %q", ErrNoCertificate, path)
		}
		cas.Files = []string{path}
		return cas, nil
	}

	entries, err := f.ReadDir(MaxCADirEntries + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("tlsconf: reading CA directory %q: %w", path, err)
	}
	if len(entries) > MaxCADirEntries {
		return nil, fmt.Errorf("%w: CA directory %q has more than %d entries", ErrCADirTooLarge, path, MaxCADirEntries)
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	budget := int64(MaxCADirBytes)
	skip := func(p string, err error) { cas.Skipped = append(cas.Skipped, SkippedFile{Path: p, Err: err}) }
	for _, e := range entries {
		p := filepath.Join(path, e.Name())
		b, err := readDirEntry(ctx, p, &budget)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, cerr
			}
			skip(p, err)
			continue
		}
		ok, err := appendCerts(ctx, cas.Pool, b)
		if err != nil {
			return nil, err
		}
		if !ok {
			skip(p, fmt.Errorf("%w in %q", ErrNoCertificate, p))
			continue
		}
		cas.Files = append(cas.Files, p)
	}
	if len(cas.Files) == 0 {
		return nil, &CADirError{Path: path, Skipped: cas.Skipped, Err: ErrNoCertificate}
	}
	return cas, nil
}

// readDirEntry reads one file of a CA directory within what is left of the directory's byte
// budget, and takes what it read from the budget.
func readDirEntry(ctx context.Context, p string, budget *int64) ([]byte, error) {
	f, err := openFile(p)
	if err != nil {
		return nil, fmt.Errorf("tlsconf: CA file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("tlsconf: CA file: %w", err)
	}
	if st.Mode().IsRegular() && st.Size() <= MaxFileSize && st.Size() > *budget {
		return nil, fmt.Errorf("%w: CA file %q skipped: the directory's files are over %d bytes in all",
			ErrCADirTooLarge, p, MaxCADirBytes)
	}
	b, err := readOpened(ctx, f, st, p, "CA file", min(MaxFileSize, *budget))
	*budget -= int64(len(b))
	return b, err
}

// LoadCAs is LoadCAsContext without a context, returning the pool only: the entries a CA
// directory skipped are not reported unless no certificate remains.
func LoadCAs(path string) (*x509.CertPool, error) {
	cas, err := LoadCAsContext(context.Background(), path)
	if err != nil {
		return nil, err
	}
	return cas.Pool, nil
}
