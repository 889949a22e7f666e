package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/deflate"
)

// syncBuffer is a bytes.Buffer safe for the goroutines of run.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	// onLine, when set, is called with each complete line written.
	onLine func(string)
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	n, err := s.b.Write(p)
	f := s.onLine
	s.mu.Unlock()
	if f != nil {
		for line := range strings.Lines(string(p)) {
			f(strings.TrimSuffix(line, "\n"))
		}
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) lines() []string {
	return strings.Split(strings.TrimSuffix(s.String(), "\n"), "\n")
}

func TestRunDemoInProcess(t *testing.T) {
	var out, errb syncBuffer
	if code := run(nil, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	var msgs []string
	for _, m := range demoConversation {
		msgs = append(msgs, wantDemoLine(m))
	}
	checkConversation(t, out.lines(), msgs, "CLOSE 1000")
	if !strings.Contains(errb.String(), "demo conversation") {
		t.Fatalf("stderr does not announce the demo: %q", errb.String())
	}
}

// Regression: a refused line was skipped with a warning but the exit status was 0; it is now 1
// (the other lines are still sent and the close is normal).
func TestRunInvalidUTF8LineIsSkippedWithAWarningAndExit1(t *testing.T) {
	var out, errb syncBuffer
	if code := run(nil, strings.NewReader("\xff\xfe\nok\n"), &out, &errb); code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	checkConversation(t, out.lines(), []string{"MESSAGE ok"}, "CLOSE 1000")
	if !strings.Contains(errb.String(), "line 1 not sent") {
		t.Fatalf("no warning for line 1: %q", errb.String())
	}
}

func TestRunUsageErrorAndHelp(t *testing.T) {
	var out, errb syncBuffer
	if code := run([]string{"--no-such-flag"}, strings.NewReader(""), &out, &errb); code != 2 {
		t.Fatalf("bad flag: exit %d, want 2", code)
	}
	if out.String() != "" || !strings.HasPrefix(errb.String(), "wscat: flag provided but not defined") {
		t.Fatalf("stdout %q stderr %q", out.String(), errb.String())
	}
	out, errb = syncBuffer{}, syncBuffer{}
	if code := run([]string{"-help"}, strings.NewReader(""), &out, &errb); code != 0 || out.String() != usage {
		t.Fatalf("-help: exit %d, stdout %q", code, out.String())
	}
}

func TestRunContextCancelClosesLikeEndOfInput(t *testing.T) {
	srv := startEcho(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{onLine: func(line string) {
		if strings.HasPrefix(line, "MESSAGE still open") {
			cancel()
		}
	}}
	var errb syncBuffer
	// Standard input never ends while wscat runs; it is closed afterwards so that the
	// goroutine reading it ends.
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { _, _ = io.WriteString(pw, "still open\n") }()
	code := runContext(ctx, []string{srv.URL()}, pr, out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	checkConversation(t, out.lines(), []string{"MESSAGE still open"}, "CLOSE 1000")
}

func TestUsageListsEveryFlag(t *testing.T) {
	fs := newFlagSet(&options{}, &rawFlags{})
	fs.VisitAll(func(f *flagInfo) {
		dashes := "--"
		if len(f.Name) == 1 {
			dashes = "-"
		}
		if !strings.Contains(usage, " "+dashes+f.Name+" ") && !strings.Contains(usage, " "+dashes+f.Name+", ") {
			t.Errorf("usage does not list %s%s", dashes, f.Name)
		}
	})
}

func TestParseArgsMapsFlagsToOptions(t *testing.T) {
	o, err := parseArgs([]string{
		"ws://h/", "-H", "A: 1", "--header", "a: 2", "--subprotocol", "chat",
		"--proxy", "http://u:p@proxy.example:3128", "--proxy-exclude", "x.example, *.y.example,10.0.0.0/8",
		"--insecure", "--ping-interval", "0", "--pong-timeout=7", "--max-message-size", "64k",
		"--close-code", "4000", "--close-reason", "bye", "--json", "--binary",
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.url != "ws://h/" || o.headers["A"] != "1, 2" || len(o.headers) != 1 || o.subprotocol != "chat" ||
		!o.insecure || o.pingSec != 0 || o.pongSec != 7 || o.maxSize != 64<<10 || o.closeCode != 4000 ||
		o.closeReason != "bye" || !o.json || !o.binary {
		t.Fatalf("options %+v", o)
	}
	hp, ok := o.proxy.(client.HTTPProxy)
	if !ok || *hp.Proxy.Host != "proxy.example" || *hp.Proxy.Port != 3128 || *hp.Proxy.Username != "u" ||
		*hp.Proxy.Password != "p" || strings.Join(hp.Proxy.ExclusionList, " ") != "x.example *.y.example 10.0.0.0/8" {
		t.Fatalf("proxy %#v", o.proxy)
	}
	r := requestOptions(o)
	if r.PingInterval != 0 || r.PongTimeout != 7 || !r.SkipServerCertVerification || r.MaxMessageSize != 65536 ||
		r.Protocol != "chat" || r.CAPath != client.DefaultCAPath {
		t.Fatalf("request options %+v", r)
	}
}

func TestParseArgsDefaults(t *testing.T) {
	o, err := parseArgs(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.url != "" || o.closeCode != 1000 || o.pingSec != 30 || o.pongSec != 30 || o.maxSize != 0 {
		t.Fatalf("defaults %+v", o)
	}
	if _, ok := o.proxy.(client.SystemProxy); !ok {
		t.Fatalf("proxy %#v, want SystemProxy", o.proxy)
	}
	for _, tt := range []struct {
		arg  string
		want client.ProxyConfiguration
	}{{"none", client.NoProxy{}}, {"SYSTEM", client.SystemProxy{}}} {
		o, err := parseArgs([]string{"--proxy", tt.arg})
		if err != nil || o.proxy != tt.want {
			t.Fatalf("--proxy %s: %#v, %v", tt.arg, o, err)
		}
	}
	o, err = parseArgs([]string{"--proxy", "proxy.example"})
	if hp, ok := o.proxy.(client.HTTPProxy); err != nil || !ok || *hp.Proxy.Port != 80 || hp.Proxy.Username != nil {
		t.Fatalf("bare proxy host: %#v, %v", o.proxy, err)
	}
}

func TestParseArgsTLSMin(t *testing.T) {
	o, err := parseArgs(nil)
	if err != nil || o.tlsMin != 0 || requestOptions(o).MinSupportTlsProtocol != 0 {
		t.Fatalf("default: %+v, %v", o, err)
	}
	for _, tt := range []struct {
		arg  string
		want client.TlsProtocol
	}{{"1.2", tls.VersionTLS12}, {"1.3", client.TLSV13}} {
		o, err := parseArgs([]string{"wss://h/", "--tls-min", tt.arg})
		if err != nil {
			t.Fatalf("--tls-min %s: %v", tt.arg, err)
		}
		if got := requestOptions(o).MinSupportTlsProtocol; got != tt.want {
			t.Fatalf("--tls-min %s: MinSupportTlsProtocol %v, want %v", tt.arg, got, tt.want)
		}
	}
	for _, arg := range []string{"1.0", "1.1", "1.4", "tls1.3", ""} {
		_, err := parseArgs([]string{"--tls-min", arg})
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "want 1.2 or 1.3") {
			t.Fatalf("--tls-min %q: %v, want a usage error", arg, err)
		}
	}
}

// Regression: --proxy socks5://... was refused (SOCKS5 only through --proxy system and
// ALL_PROXY); it now maps to client.SOCKS5Proxy, and a bad one is refused without the password.
func TestParseArgsSOCKSProxy(t *testing.T) {
	for _, arg := range []string{"socks5://u:secret@h:1080", "SOCKS5H://h:1080"} {
		o, err := parseArgs([]string{"--proxy", arg, "--proxy-exclude", "a.example"})
		sp, ok := o.proxy.(client.SOCKS5Proxy)
		if err != nil || !ok || !strings.EqualFold(sp.URL, arg) || len(sp.ExclusionList) != 1 {
			t.Fatalf("--proxy %s: %#v, %v", arg, o, err)
		}
	}
	for _, arg := range []string{"socks5://u:secret@h:0", "socks5://u:secret@/", "socks5h://u:secret@h:1/p"} {
		_, err := parseArgs([]string{"--proxy", arg})
		var ue *usageError
		if !errors.As(err, &ue) || strings.Contains(err.Error(), "secret") {
			t.Fatalf("--proxy %s: %v", arg, err)
		}
	}
}

func TestParseArgsDoubleDashEndsFlags(t *testing.T) {
	// After --, "-H" is the URL (refused as one), not a flag.
	if _, err := parseArgs([]string{"--", "-H"}); err == nil || !strings.Contains(err.Error(), `"-H" is not a WebSocket URL`) {
		t.Fatalf("-- then one argument: %v", err)
	}
	o, err := parseArgs([]string{"--json", "--", "ws://h/"})
	if err != nil || o.url != "ws://h/" || !o.json {
		t.Fatalf("%+v %v", o, err)
	}
}

func TestKeyPasswordFileFirstLine(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ content, want string }{
		{"secret\n", "secret"}, {"secret\r\nmore\n", "secret"}, {"no newline", "no newline"}, {"", ""},
	} {
		f := dir + "/pw"
		if err := writeFile(f, tt.content); err != nil {
			t.Fatal(err)
		}
		o, err := parseArgs([]string{"--cert", f, "--key", f, "--key-password-file", f})
		if err != nil || o.keyPassword == nil || *o.keyPassword != tt.want {
			t.Fatalf("content %q: %v %v", tt.content, o, err)
		}
	}
}

func TestSizeFlag(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"-1", -1, true}, {"1024", 1024, true}, {"2k", 2048, true}, {"3M", 3 << 20, true},
		{"1g", 1 << 30, true}, {"", 0, false}, {"k", 0, false}, {"1.5M", 0, false}, {"9999999999G", 0, false},
	} {
		var f sizeFlag
		err := f.Set(tt.in)
		if (err == nil) != tt.ok || tt.ok && int64(f) != tt.want {
			t.Errorf("Set(%q) = %d, %v; want %d ok=%v", tt.in, f, err, tt.want, tt.ok)
		}
	}
}

func TestAppendEscapedKeepsOneLine(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"a\nb\r\nc", `a\nb\r\nc`},
		{"tab\tescaped, back\\slash kept", `tab\tescaped, back\slash kept`},
		{"\x00\x1b[31m\x7f", `\x00\x1b[31m\x7f`},
		{"ünïcode ✓", "ünïcode ✓"},
		{"line\u2028sep\u0085", `line\u2028sep\u0085`},
		{"bad \xff utf8", `bad \xff utf8`},
	} {
		if got := string(appendEscaped(nil, tt.in)); got != tt.want {
			t.Errorf("appendEscaped(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrinterLines(t *testing.T) {
	bin := client.ArrayData(bytes.Repeat([]byte{0xab}, 20))
	for _, tt := range []struct {
		name       string
		emit       func(p *printer)
		text, json string
	}{
		{"headers", func(p *printer) { p.headers(client.MapData{"B": "2", "A": "1; x"}) },
			"HEADERRECEIVE A: 1; x; B: 2", `{"event":"HEADERRECEIVE","headers":{"A":"1; x","B":"2"}}`},
		{"no headers", func(p *printer) { p.headers(client.UndefinedData{}) },
			"HEADERRECEIVE", `{"event":"HEADERRECEIVE","headers":{}}`},
		{"open", func(p *printer) { p.open(map[uint32]string{101: "Switching Protocols"}) },
			"OPEN 101 Switching Protocols", `{"event":"OPEN","status":101,"statusText":"Switching Protocols"}`},
		{"text", func(p *printer) { p.message(client.StringData("<hi> & \"you\"\n")) },
			`MESSAGE <hi> & "you"\n`, `{"event":"MESSAGE","type":"text","data":"<hi> & \"you\"\n"}`},
		{"binary", func(p *printer) { p.message(bin) },
			"MESSAGE binary 20 bytes " + strings.Repeat("ab", 16) + " ... (4 more)",
			`{"event":"MESSAGE","type":"binary","length":20,"data":"q6urq6urq6urq6urq6urq6urq6s="}`},
		{"empty binary", func(p *printer) { p.message(client.ArrayData(nil)) },
			"MESSAGE binary 0 bytes", `{"event":"MESSAGE","type":"binary","length":0,"data":""}`},
		{"dataend", func(p *printer) { p.dataEnd() }, "DATAEND", `{"event":"DATAEND"}`},
		{"close", func(p *printer) { p.close(client.CloseResult{Code: 1001, Reason: "bye"}) },
			"CLOSE 1001 bye", `{"event":"CLOSE","code":1001,"reason":"bye"}`},
		{"close without reason", func(p *printer) { p.close(client.CloseResult{Code: 1000}) },
			"CLOSE 1000", `{"event":"CLOSE","code":1000,"reason":""}`},
		{"error", func(p *printer) {
			p.error(&client.BusinessException{Code: 2302999, Message: "other error", Err: io.ErrUnexpectedEOF})
		}, "ERROR 2302999 other error: unexpected EOF",
			`{"event":"ERROR","code":2302999,"message":"other error: unexpected EOF"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var text, js bytes.Buffer
			tt.emit(&printer{w: &text})
			tt.emit(&printer{w: &js, json: true})
			if got := text.String(); got != tt.text+"\n" {
				t.Errorf("text %q, want %q", got, tt.text)
			}
			if got := js.String(); got != tt.json+"\n" {
				t.Errorf("json %q, want %q", got, tt.json)
			}
		})
	}
}

func TestExitStatus(t *testing.T) {
	for _, tt := range []struct {
		code     uint32
		asked    uint32
		weClosed bool
		failed   bool
		want     int
	}{
		{1000, 1000, false, false, 0},
		{1001, 1000, false, false, 0},
		{4000, 4000, false, false, 0},
		{4000, 1000, false, false, 1},
		{1005, 1000, true, false, 0},
		{1005, 1000, false, false, 1},
		{1006, 1000, true, false, 1},
		{1000, 1000, true, true, 1},
		{1011, 1000, false, false, 1},
	} {
		s := newSession(&options{closeCode: tt.asked}, &printer{w: io.Discard})
		s.result = client.CloseResult{Code: tt.code}
		s.weClosed.Store(tt.weClosed)
		s.failed.Store(tt.failed)
		if got := s.status(); got != tt.want {
			t.Errorf("%+v: status %d, want %d", tt, got, tt.want)
		}
	}
}

type flagInfo = flag.Flag

func writeFile(name, content string) error { return os.WriteFile(name, []byte(content), 0o600) }

// TestParseProxyErrorsNeverShowThePassword: a --proxy URL that cannot be parsed is refused
// without any part of its user information, a bad percent-escape in the password included.
func TestParseProxyErrorsNeverShowThePassword(t *testing.T) {
	for _, p := range []string{
		"http://alice:S3cr3t%zzP4ss@proxy.example:3128",
		"http://alice:S3cr3t%@proxy.example:3128",
		"http://alice:S3cr3t P4ss@proxy.example:3128",
		"http://alice:S3cr3t-P4ss@proxy.example:99999",
		"ftp://alice:S3cr3t-P4ss@proxy.example:21",
		"http://alice:S3cr3t-P4ss@proxy.example:3128/path",
	} {
		_, err := parseProxy(p, "")
		if err == nil {
			t.Fatalf("%s accepted", p)
		}
		for _, secret := range []string{"S3cr3t", "P4ss", "%zz", "zzP"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error %q shows %q", p, err, secret)
			}
		}
	}
}

func TestParseArgsCompress(t *testing.T) {
	o, err := parseArgs([]string{"ws://h/", "--compress"})
	if err != nil || o.deflate == nil || *o.deflate != (deflate.ClientOptions{}) {
		t.Fatalf("--compress: %v %+v", err, o)
	}
	o, err = parseArgs([]string{"ws://h/", "--server-window-bits", "10", "--client-no-context-takeover"})
	if err != nil || o.deflate == nil || *o.deflate != (deflate.ClientOptions{ServerMaxWindowBits: 10, ClientNoContextTakeover: true}) {
		t.Fatalf("implied --compress: %v %+v", err, o.deflate)
	}
	if o, err = parseArgs([]string{"ws://h/"}); err != nil || o.deflate != nil {
		t.Fatalf("compression must be off by default: %+v", o.deflate)
	}
	for _, bad := range []string{"7", "16"} {
		var ue *usageError
		if _, err := parseArgs([]string{"ws://h/", "--client-window-bits", bad}); !errors.As(err, &ue) {
			t.Fatalf("--client-window-bits %s: %v", bad, err)
		}
	}
	o, err = parseArgs([]string{"ws://h/", "--compress-level", "1"})
	if err != nil || o.deflate == nil || *o.deflate != (deflate.ClientOptions{Level: 1}) {
		t.Fatalf("--compress-level 1 (implies --compress): %v %+v", err, o.deflate)
	}
	for _, bad := range []string{"-1", "10", "fast"} {
		var ue *usageError
		if _, err := parseArgs([]string{"ws://h/", "--compress-level", bad}); !errors.As(err, &ue) {
			t.Fatalf("--compress-level %s: %v", bad, err)
		}
	}
}
