//go:build unix

package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netkit/websocket/internal/wstest"
	"github.com/netkit/websocket/tlsconf"
)

// testFIFO makes a FIFO in a temporary directory. At cleanup it opens the FIFO for writing
// once, which releases a reader blocked on it (the code before the fix blocked there).
func testFIFO(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fifo.pem")
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

// TestFacadeRefusesTLSFilesThatAreNotRegular: a FIFO or a link to /dev/zero as caPath,
// certPath or keyPath ends the attempt at once with ERROR 2302999 naming the path and CLOSE
// 1006, and a CA directory holding both still verifies the server with its good files.
// (Before the fix the FIFO blocked the dial forever and /dev/zero exhausted memory.)
func TestFacadeRefusesTLSFilesThatAreNotRegular(t *testing.T) {
	cert, caFile := selfSigned(t)
	srv := wstest.New(t, echo, func(s *wstest.Server) { s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}} })
	fifo := testFIFO(t)
	zero := filepath.Join(t.TempDir(), "zero.pem")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		set        func(o *WebSocketRequestOptions)
	}{
		{"FIFO as caPath", fifo, func(o *WebSocketRequestOptions) { o.CAPath = fifo }},
		{"link to /dev/zero as caPath", zero, func(o *WebSocketRequestOptions) { o.CAPath = zero }},
		{"FIFO as certPath", fifo, func(o *WebSocketRequestOptions) {
			o.ClientCert = &WebSocketClientCert{CertPath: fifo, KeyPath: caFile}
		}},
		{"FIFO as keyPath", fifo, func(o *WebSocketRequestOptions) {
			o.ClientCert = &WebSocketClientCert{CertPath: caFile, KeyPath: fifo}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := CreateWebSocket()
			var got *BusinessException
			_ = ws.On(EventError, NewWebSocketErrorCallback(func(e *BusinessException) { got = e }))
			r := newRecorder(t, ws)
			opts := realOptions()
			opts.CAPath = caFile
			tc.set(opts)
			start := time.Now()
			if err := ws.Connect(srv.URL, opts, nil); err != nil {
				t.Fatal(err)
			}
			ev := r.until("CLOSE")
			el := time.Since(start)
			wait(t, ws)
			if len(ev) != 2 || ev[0] != "ERROR 2302999" || !strings.HasPrefix(ev[1], "CLOSE 1006 connect failed: ") {
				t.Fatalf("events %q", ev)
			}
			if got == nil || !errors.Is(got, tlsconf.ErrNotRegular) || !strings.Contains(got.Error(), strconv.Quote(tc.path)) {
				t.Fatalf("ERROR %v, want tlsconf.ErrNotRegular naming %s", got, tc.path)
			}
			if el > 3*time.Second {
				t.Fatalf("took %v", el)
			}
		})
	}

	t.Run("CA directory with a FIFO and a link to /dev/zero", func(t *testing.T) {
		dir := t.TempDir()
		for name, target := range map[string]string{"a-zero.pem": "/dev/zero", "b-fifo.pem": fifo, "c-ca.pem": caFile} {
			if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
		ws := CreateWebSocket()
		r := newRecorder(t, ws)
		opts := realOptions()
		opts.CAPath = dir
		_ = ws.Connect(srv.URL, opts, nil)
		r.until("OPEN")
		_ = ws.Close(nil, nil)
		r.until("CLOSE 1000")
		wait(t, ws)
	})
}

// slowCADir writes a CA directory whose files are full of copies of the certificate at
// caFile, within tlsconf's bounds: loading it parses some thousands of certificates.
func slowCADir(t *testing.T, caFile string, files int) string {
	t.Helper()
	ca, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data := bytes.Repeat(ca, (tlsconf.MaxFileSize-1)/len(ca))
	for i := range files {
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i)+".pem"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadTime is how long buildTLSConfig takes to load the CA path dir: the shorter of two
// loads, the first of which also warms the file cache.
func loadTime(t *testing.T, dir string) time.Duration {
	t.Helper()
	var best time.Duration
	for i := range 2 {
		start := time.Now()
		if _, err := buildTLSConfig(context.Background(), &WebSocketRequestOptions{CAPath: dir}, "h"); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); i == 0 || el < best {
			best = el
		}
	}
	return best
}

// TestFacadeCloseDuringTLSFileLoadingEndsTheAttempt: Close while the CA files are being read
// ends the attempt at once (CLOSE 1006 "abandoned by Close"), with a FIFO as caPath (which
// blocked forever before the fix) and with a CA directory that takes a while to load.
func TestFacadeCloseDuringTLSFileLoadingEndsTheAttempt(t *testing.T) {
	_, caFile := selfSigned(t)
	t.Run("FIFO", func(t *testing.T) {
		ws := CreateWebSocket()
		r := newRecorder(t, ws)
		opts := realOptions()
		opts.CAPath = testFIFO(t)
		_ = ws.Connect("wss://127.0.0.1:9/", opts, nil)
		_ = ws.Close(nil, nil)
		ev := r.until("CLOSE")
		if !strings.HasPrefix(ev[len(ev)-1], "CLOSE 1006") {
			t.Fatalf("events %q", ev)
		}
		wait(t, ws)
	})
	t.Run("slow CA directory", func(t *testing.T) {
		dir := slowCADir(t, caFile, 4)
		full := loadTime(t, dir)
		ws := CreateWebSocket()
		r := newRecorder(t, ws)
		opts := realOptions()
		opts.CAPath = dir
		_ = ws.Connect("wss://127.0.0.1:9/", opts, nil)
		time.Sleep(full / 10)
		start := time.Now()
		_ = ws.Close(nil, nil)
		ev := r.until("CLOSE")
		el := time.Since(start)
		wait(t, ws)
		t.Logf("full load %v; Close at %v, CLOSE after %v", full, full/10, el)
		if len(ev) != 1 || ev[0] != "CLOSE 1006 connection attempt abandoned by Close" {
			t.Fatalf("events %q", ev)
		}
		if el > full/3 {
			t.Fatalf("CLOSE %v after Close, the full load takes %v", el, full)
		}
	})
}

// TestDialContextEndsTLSFileLoading: the facade's dial returns soon after its context is
// cancelled while it loads the CA files.
func TestDialContextEndsTLSFileLoading(t *testing.T) {
	_, caFile := selfSigned(t)
	dir := slowCADir(t, caFile, 4)
	full := loadTime(t, dir)
	opts, _, err := resolveRequest(&WebSocketRequestOptions{CAPath: dir, Proxy: NoProxy{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(full/10, cancel)
	start := time.Now()
	_, _, err = dialEngine(ctx, &url.URL{Scheme: "wss", Host: "127.0.0.1:9", Path: "/"}, opts, nil, new(dialState))
	el := time.Since(start)
	t.Logf("full load %v; cancelled at %v, returned after %v", full, full/10, el)
	if !errors.Is(err, context.Canceled) || el > full/3 {
		t.Fatalf("dial cancelled at %v of a %v load: %v after %v", full/10, full, err, el)
	}
}
