package main

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/tlsconf"
)

// usage is the text of wscat -h. Every flag defined in parseArgs is listed here (a test checks).
const usage = `usage: wscat [flags] [URL]

Connects to URL (ws:// or wss://), sends each line of standard input as a text message, closes
at the end of the input and waits for the server's close. Prints one line per event on standard
output, starting with the event's name: HEADERRECEIVE, OPEN, MESSAGE, DATAEND, CLOSE, ERROR
(--raw: the message payloads only). When standard input is a terminal, a hint on standard
error says how to send (Enter) and close (Ctrl-D).

Without a URL, wscat starts an embedded echo server on 127.0.0.1 (a free port) and connects to
it; when standard input is then empty and not a terminal (wscat </dev/null), it sends a short
demo conversation.

Flags (-flag and --flag are the same):
  -c, --connect URL           the URL to connect to (the same as giving URL)
  -H, --header 'Name: value'  add a request header; repeatable (repeated names are joined by ", ")
  -s, --subprotocol LIST      subprotocols to offer in Sec-WebSocket-Protocol (comma-separated)
  -o, --origin ORIGIN         send Origin: ORIGIN
  --auth USER:PASSWORD        send Authorization: Basic with these credentials (never printed)
  -x, --execute MESSAGE       send MESSAGE instead of reading standard input, then wait (see -w)
                              and close; repeatable, sent in order
  -w, --wait SECONDS          after the end of the input (or the -x messages), wait this long
                              for replies, printing them, then close; decimals allowed. Without
                              -w: until every message was written and no message came for
                              250 ms (2 s at most after the last one), with -x until a reply
                              per message came first, with the embedded server until every echo
  --no-close                  do not close at the end of the input: print until the server
                              closes or an interrupt
  -r, --raw                   print the message payloads only, one per line: text as it is,
                              binary as hex, or with --binary as its bytes (no line ending);
                              no other lines (ERROR, PING/PONG and abnormal CLOSE go to standard
                              error)
  -P, --show-ping-pong        print the pings and pongs received: PING <hex>, PONG <hex>
  --binary                    send the lines of standard input as binary messages
  --echo                      send every received message back with its type; ignore standard
                              input; exit when the connection closes (needs a URL)
  --json                      print one JSON object per event instead of a line of text
  --close-code CODE           close code sent at the end of input (default 1000)
  --close-reason TEXT         close reason sent at the end of input (default none)
  --proxy system|none|URL     proxy: the environment's HTTP(S)_PROXY/ALL_PROXY/NO_PROXY
                              (system, the default), none, an HTTP proxy
                              http://[user:pass@]host[:port], or a SOCKS5 proxy
                              socks5://[user:pass@]host[:port] (names resolved by wscat) or
                              socks5h://... (resolved by the proxy); port 1080 by default
  --proxy-exclude HOSTS       comma-separated hosts that bypass the --proxy URL (names,
                              *.domain, IPs, CIDRs)
  --ca PATH                   CA certificates (PEM file or directory) that verify a wss server
                              (default /etc/ssl/certs/cacert.pem when it exists, else the
                              system roots)
  --cert PATH                 client certificate (PEM), with --key
  --key PATH                  client private key (PEM)
  --key-password-file PATH    file whose first line is the password of an encrypted --key
  -k, -n, --no-check, --insecure  do not verify the server's certificate (tests only)
  --tls-min 1.2|1.3           lowest TLS version offered for wss (default 1.2)
  --ping-interval SECONDS     ping after this long without traffic (default 30, 0 disables)
  --pong-timeout SECONDS      treat the connection as lost when no pong arrives within this
                              long of a ping (default 30, 0 waits forever)
  --max-message-size BYTES    limit on a received message; k, M, G suffixes (KiB, MiB, GiB);
                              0 is the default 32M; -1 means no limit (with --compress: the
                              inflated size)
  -L, --location              follow redirects (301, 302, 303, 307, 308; http(s) Location
                              mapped to ws(s); wss to ws refused; Authorization and Cookie
                              headers only to the URL's own origin)
  --max-redirects N           most redirects -L follows (default 10)
  --handshake-timeout TIME    bound on connecting: DNS, TCP, proxy, TLS, handshake and
                              redirects; 300ms, 5s, 1m or seconds (default 30s)
  --http2[=auto]              wss over HTTP/2 (RFC 8441 extended CONNECT): --http2 requires
                              it (error when the server cannot), --http2=auto falls back to
                              HTTP/1.1; OPEN shows 200 OK over HTTP/2, 101 over HTTP/1.1
  -l, --listen [HOST:]PORT    run a server instead (see Server mode below)
  --compress                  offer permessage-deflate (RFC 7692) with default parameters
                              (windows of 2^15, context takeover); messages of 128 bytes or
                              more then go out compressed, --echo included; the embedded echo
                              server accepts it
  --client-window-bits N      offer client_max_window_bits=N (8-15): the window wscat
                              compresses with (implies --compress)
  --server-window-bits N      offer server_max_window_bits=N (8-15): the window the server
                              may compress with (implies --compress)
  --client-no-context-takeover  offer client_no_context_takeover: wscat compresses each
                              message on its own (implies --compress)
  --server-no-context-takeover  ask the server to compress each message on its own
                              (implies --compress)
  --version                   print wscat's module version and exit
  --compress-level N          compression level of what wscat sends, and of the embedded
                              echo server's echoes: 1 (fastest) to 9 (smallest) with windows
                              of 2^15; 0, the default, is the windowed encoder (about level
                              5), which windows below 2^15 always use (implies --compress)
  -h, --help                  show this help

Output lines:
  HEADERRECEIVE Name: value; Name2: value2     (the 101 response's headers, sorted by name)
  OPEN 101 Switching Protocols
  MESSAGE <text>                               (control characters escaped as \n, \r, \t, \xNN,
                                               C1 and bidi controls as \uXXXX; also in
                                               header values, close reasons and errors)
  MESSAGE binary <length> bytes <hex of the first 16 bytes at most> [... (<N> more)]
  DATAEND
  PING <hex of the payload>, PONG <hex>          (with -P)
  CLOSE <code> <reason>
  ERROR <code> <message>
With --json: {"event":"HEADERRECEIVE","headers":{...}}, {"event":"OPEN","status":101,
"statusText":"..."}, {"event":"MESSAGE","type":"text","data":"..."}, {"event":"MESSAGE",
"type":"binary","length":N,"data":"<base64>"}, {"event":"DATAEND"}, {"event":"CLOSE",
"code":N,"reason":"..."}, {"event":"ERROR","code":N,"message":"..."}, with -P
{"event":"PING","data":"<base64>"} and PONG.

Server mode (--listen, -l): wscat serves WebSocket clients on HOST:PORT (HOST defaults to
127.0.0.1; PORT 0 picks a free one) with the server facade (package server), says
"wscat: listening on ws://HOST:PORT/" on standard error, and runs until SIGINT or SIGTERM, when
it stops the server (every client is closed with 1001) and exits 0. With --echo it sends every
message back with its type (printing only CONNECT, CLOSE and ERROR); without it, it prints each connection's events with a connection
id (CONNECT <id> <ip:port>, MESSAGE <id> <text>, MESSAGE <id> binary ..., CLOSE <id> <code>
<reason>, ERROR [<id>|<ip:port>] <code> <message>; with --json objects with an "id") and
sends each line of standard input to every connection. --cert and --key (and
--key-password-file) serve wss:// with that certificate; --subprotocol NAME is the subprotocol
every client must offer; --binary and --max-message-size apply too. --compress makes the
server accept permessage-deflate (a client that does not offer it is served uncompressed);
--client-window-bits, --server-window-bits and the no-context-takeover flags are then the
server's caps on each direction (each implies --compress), --compress-level the level of what
it sends.

Exit status: 0 after a normal close (code 1000 or 1001, the --close-code, or a close reply
without a code to our close); 1 after an ERROR event, any other close, or when a line of input
(or an -x message) was refused, such as a text line that is not UTF-8; 2 for a usage error
(a bad flag, argument or URL, a missing certificate file); 130 after an interrupt (SIGINT;
143 after SIGTERM), which closes normally first. A URL that is not ws:// or wss:// is refused
with the one to try: wscat 127.0.0.1:9001 suggests ws://127.0.0.1:9001.
`

// options is the parsed command line.
type options struct {
	url         string
	headers     map[string]string
	subprotocol string
	binary      bool
	echo        bool
	json        bool
	closeCode   uint32
	closeReason string
	proxy       client.ProxyConfiguration
	ca          string
	cert, key   string
	keyPassword *string
	insecure    bool
	tlsMin      uint16
	pingSec     uint32
	pongSec     uint32
	maxSize     int64
	listen      string                 // --listen [HOST:]PORT: server mode; "" for the client
	deflate     *deflate.ClientOptions // --compress and its parameters; nil: no compression
	wait        time.Duration          // -w/--wait: how long to wait after the input; < 0: not given
	noClose     bool                   // --no-close: stay open after the input until the server closes
	execute     []string               // -x/--execute: messages to send instead of standard input
	pingPong    bool                   // -P/--show-ping-pong: print pings and pongs received
	raw         bool                   // -r/--raw: payloads only
	version     bool                   // --version
	connect     connectFlags           // -L, --max-redirects, --handshake-timeout
}

// errHelp is returned by parseArgs for -h and --help.
var errHelp = errors.New("help requested")

// usageError is a problem with the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// parseArgs parses the flags and the URL. Flags may come before or after the URL; "--" ends
// the flags. Errors are *usageError, or errHelp.
func parseArgs(args []string) (*options, error) {
	o := &options{closeCode: 1000, pingSec: client.DefaultPingInterval, pongSec: client.DefaultPongTimeout, wait: -1}
	var raw rawFlags
	fs := newFlagSet(o, &raw)

	// The flag package stops at the first argument that is not a flag: parse again after
	// each one, so that "wscat URL --json" works too.
	var positional []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, &usageError{err.Error()}
		}
		left := fs.Args()
		if len(left) == 0 {
			break
		}
		if used := len(rest) - len(left); used > 0 && rest[used-1] == "--" {
			positional = append(positional, left...)
			break
		}
		positional = append(positional, left[0])
		rest = left[1:]
	}
	if raw.connect != "" {
		positional = append([]string{raw.connect}, positional...)
	}
	switch len(positional) {
	case 0:
	case 1:
		o.url = positional[0]
	default:
		return nil, usagef("one URL at most (-c URL or URL), got %d", len(positional))
	}
	if o.version {
		return o, nil
	}
	if o.url != "" {
		if err := checkURL(o.url); err != nil {
			return nil, err
		}
	}
	o.headers = raw.headers.m
	if raw.wait.set {
		o.wait = raw.wait.d
	}
	if raw.origin != "" {
		if err := o.setHeader("Origin", raw.origin, "-o/--origin"); err != nil {
			return nil, err
		}
	}
	if raw.auth != "" {
		user, pass, ok := strings.Cut(raw.auth, ":")
		if !ok || user == "" {
			// The value is not quoted: it holds a password.
			return nil, usagef("--auth wants user:password")
		}
		if err := o.setHeader("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)), "--auth"); err != nil {
			return nil, err
		}
	}
	if o.raw && o.json {
		return nil, usagef("--raw and --json do not go together: choose one output")
	}
	if o.noClose && (raw.wait.set || o.echo) {
		return nil, usagef("--no-close waits for the server's close: not with -w or --echo")
	}
	if raw.wait.set && o.echo {
		return nil, usagef("-w waits after the input, which --echo ignores")
	}
	if len(o.execute) > 0 && (o.echo || o.noClose) {
		return nil, usagef("-x/--execute sends its messages and closes: not with --echo or --no-close")
	}
	if o.listen != "" && (len(o.execute) > 0 || o.noClose || o.raw || raw.wait.set || o.pingPong) {
		return nil, usagef("-x, -w, --no-close, --raw and -P are client flags, not for --listen")
	}

	if !frame.CloseCode(o.closeCode).ValidOnWire() || o.closeCode > math.MaxUint16 {
		return nil, usagef("--close-code %d may not be sent (1000-1003, 1007-1014, 3000-4999)", o.closeCode)
	}
	if len(o.closeReason) > frame.MaxCloseReason || !utf8.ValidString(o.closeReason) {
		return nil, usagef("--close-reason must be at most %d bytes of UTF-8", frame.MaxCloseReason)
	}
	if err := o.connect.check(); err != nil {
		return nil, err
	}
	if o.listen != "" {
		if err := checkListen(o); err != nil {
			return nil, err
		}
	}
	if o.echo && o.url == "" && o.listen == "" {
		return nil, usagef("--echo needs a URL: the embedded echo server would only echo back")
	}

	if raw.compress || raw.clientBits != 0 || raw.serverBits != 0 || raw.clientNoCtx || raw.serverNoCtx || raw.levelSet {
		for _, b := range []struct {
			name string
			v    uint32Flag
		}{{"--client-window-bits", raw.clientBits}, {"--server-window-bits", raw.serverBits}} {
			if b.v != 0 && (b.v < deflate.MinWindowBits || b.v > deflate.MaxWindowBits) {
				return nil, usagef("%s %d: window bits must be 8 to 15", b.name, b.v)
			}
		}
		if raw.level < deflate.DefaultLevel || raw.level > deflate.BestCompression {
			return nil, usagef("--compress-level %d: the level must be 0 (default) to 9", raw.level)
		}
		o.deflate = &deflate.ClientOptions{ClientMaxWindowBits: int(raw.clientBits), ServerMaxWindowBits: int(raw.serverBits),
			ClientNoContextTakeover: raw.clientNoCtx, ServerNoContextTakeover: raw.serverNoCtx, Level: raw.level}
	}

	var err error
	if o.proxy, err = parseProxy(raw.proxy, raw.proxyExclude); err != nil {
		return nil, err
	}
	if (o.cert == "") != (o.key == "") {
		return nil, usagef("--cert and --key go together")
	}
	if raw.keyPasswordFile != "" {
		if o.key == "" {
			return nil, usagef("--key-password-file needs --key")
		}
		pw, err := readPassword(raw.keyPasswordFile)
		if err != nil {
			return nil, err
		}
		o.keyPassword = &pw
	}
	return o, nil
}

// setHeader adds the request header name, set by flag, unless -H gave it already.
func (o *options) setHeader(name, value, flag string) error {
	for k := range o.headers {
		if strings.EqualFold(k, name) {
			return usagef("%s and -H %s: give the %s header once", flag, name, name)
		}
	}
	if o.headers == nil {
		o.headers = make(map[string]string)
	}
	o.headers[name] = value
	return nil
}

// checkURL refuses a URL that is not ws:// or wss:// with an error that says what to type:
// "127.0.0.1:9001" suggests ws://127.0.0.1:9001, http:// suggests ws://, https:// wss://.
// User information in the URL is never shown (it is replaced by "xxxxx").
func checkURL(s string) error {
	scheme, rest, ok := strings.Cut(s, "://")
	if ok {
		switch strings.ToLower(scheme) {
		case "ws", "wss":
			return nil // the client checks the rest (error 2302001)
		case "http":
			return notWebSocket(s, "ws://"+rest)
		case "https":
			return notWebSocket(s, "wss://"+rest)
		}
		return notWebSocket(s, "ws://"+rest)
	}
	if rest, ok := strings.CutPrefix(s, "//"); ok {
		return notWebSocket(s, "ws://"+rest)
	}
	return notWebSocket(s, "ws://"+s)
}

// notWebSocket is the usage error of checkURL, with both URLs shown without user information.
func notWebSocket(given, suggest string) error {
	return usagef("%q is not a WebSocket URL; try %s", redactURL(given), redactURL(suggest))
}

// redactURL replaces the user information of s, if any, with "xxxxx": the text between the
// scheme's "//" (or the start) and the last "@" before the path.
func redactURL(s string) string {
	start := 0
	if i := strings.Index(s, "//"); i >= 0 {
		start = i + 2
	}
	end := len(s)
	if i := strings.IndexAny(s[start:], "/?#"); i >= 0 {
		end = start + i
	}
	at := strings.LastIndex(s[start:end], "@")
	if at < 0 {
		return s
	}
	return s[:start] + "xxxxx" + s[start+at:]
}

// rawFlags holds the flags that parseArgs turns into options after parsing.
type rawFlags struct {
	connect                  string
	wait                     waitFlag
	origin                   string
	auth                     string
	compress                 bool
	clientBits, serverBits   uint32Flag
	clientNoCtx, serverNoCtx bool
	level                    int  // --compress-level
	levelSet                 bool // --compress-level was given
	headers                  headerFlag
	proxy                    string
	proxyExclude             string
	keyPasswordFile          string
}

// newFlagSet defines the flags of wscat on o and raw. Help texts live in usage.
func newFlagSet(o *options, raw *rawFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("wscat", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.Var(&raw.headers, "H", "")
	fs.Var(&raw.headers, "header", "")
	fs.StringVar(&raw.connect, "c", "", "")
	fs.StringVar(&raw.connect, "connect", "", "")
	fs.StringVar(&o.subprotocol, "subprotocol", "", "")
	fs.StringVar(&o.subprotocol, "s", "", "")
	fs.BoolVar(&o.insecure, "n", false, "")
	fs.BoolVar(&o.insecure, "no-check", false, "")
	fs.BoolVar(&o.insecure, "k", false, "")
	fs.Var(&raw.wait, "w", "")
	fs.Var(&raw.wait, "wait", "")
	fs.BoolVar(&o.noClose, "no-close", false, "")
	fs.Var((*stringsFlag)(&o.execute), "x", "")
	fs.Var((*stringsFlag)(&o.execute), "execute", "")
	fs.BoolVar(&o.pingPong, "P", false, "")
	fs.BoolVar(&o.pingPong, "show-ping-pong", false, "")
	fs.StringVar(&raw.origin, "o", "", "")
	fs.StringVar(&raw.origin, "origin", "", "")
	fs.StringVar(&raw.auth, "auth", "", "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.BoolVar(&o.raw, "r", false, "")
	fs.BoolVar(&o.raw, "raw", false, "")
	fs.BoolVar(&o.binary, "binary", false, "")
	fs.BoolVar(&o.echo, "echo", false, "")
	fs.BoolVar(&o.json, "json", false, "")
	fs.Var((*uint32Flag)(&o.closeCode), "close-code", "")
	fs.StringVar(&o.closeReason, "close-reason", "", "")
	fs.StringVar(&raw.proxy, "proxy", "system", "")
	fs.StringVar(&raw.proxyExclude, "proxy-exclude", "", "")
	fs.StringVar(&o.ca, "ca", "", "")
	fs.StringVar(&o.cert, "cert", "", "")
	fs.StringVar(&o.key, "key", "", "")
	fs.StringVar(&raw.keyPasswordFile, "key-password-file", "", "")
	fs.BoolVar(&o.insecure, "insecure", false, "")
	fs.Var((*tlsVersionFlag)(&o.tlsMin), "tls-min", "")
	fs.Var((*uint32Flag)(&o.pingSec), "ping-interval", "")
	fs.Var((*uint32Flag)(&o.pongSec), "pong-timeout", "")
	fs.Var((*sizeFlag)(&o.maxSize), "max-message-size", "")
	fs.StringVar(&o.listen, "listen", "", "")
	fs.StringVar(&o.listen, "l", "", "")
	fs.BoolVar(&raw.compress, "compress", false, "")
	fs.Var(&raw.clientBits, "client-window-bits", "")
	fs.Var(&raw.serverBits, "server-window-bits", "")
	fs.BoolVar(&raw.clientNoCtx, "client-no-context-takeover", false, "")
	fs.BoolVar(&raw.serverNoCtx, "server-no-context-takeover", false, "")
	o.connect.define(fs)
	fs.Func("compress-level", "", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil {
			return errors.New("not an integer")
		}
		raw.level, raw.levelSet = n, true
		return nil
	})
	return fs
}

// parseProxy maps --proxy and --proxy-exclude to the seed's ProxyConfiguration.
func parseProxy(p, exclude string) (client.ProxyConfiguration, error) {
	var list []string
	for e := range strings.SplitSeq(exclude, ",") {
		if e = strings.TrimSpace(e); e != "" {
			list = append(list, e)
		}
	}
	switch strings.ToLower(p) {
	case "system", "":
		if len(list) > 0 {
			return nil, usagef("--proxy-exclude needs a --proxy URL (with --proxy system, NO_PROXY applies)")
		}
		return client.SystemProxy{}, nil
	case "none":
		if len(list) > 0 {
			return nil, usagef("--proxy-exclude needs a --proxy URL, not none")
		}
		return client.NoProxy{}, nil
	}
	raw := p
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		var ee url.EscapeError
		if errors.As(err, &ee) {
			// It quotes the bad escape, which may be in the password.
			err = errors.New("invalid percent-escape in the URL")
		}
		return nil, usagef("--proxy: %v", err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "socks5" && u.Scheme != "socks5h" {
		return nil, usagef("--proxy: scheme %q is not supported; want system, none, http://host:port, socks5://host:port or socks5h://host:port", u.Scheme)
	}
	host := u.Hostname()
	if host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, usagef("--proxy: want %s://[user:password@]host[:port]", u.Scheme)
	}
	port := uint16(80)
	if s := u.Port(); s != "" {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil || n == 0 {
			return nil, usagef("--proxy: port %q is not in 1-65535", s)
		}
		port = uint16(n)
	}
	if u.Scheme != "http" {
		// socks5:// resolves the target's name here, socks5h:// at the proxy.
		return client.SOCKS5Proxy{URL: u.String(), ExclusionList: list}, nil
	}
	hp := &client.WebSocketHttpProxy{Host: &host, Port: &port, ExclusionList: list}
	if u.User != nil {
		name := u.User.Username()
		hp.Username = &name
		if pw, ok := u.User.Password(); ok {
			hp.Password = &pw
		}
	}
	return client.HTTPProxy{Proxy: hp}, nil
}

// readPassword returns the first line of a password file, without its line ending.
func readPassword(path string) (string, error) {
	// Read as the key itself is: a FIFO or a device never blocks or fills memory here.
	b, err := tlsconf.ReadFile(context.Background(), path)
	if err != nil {
		return "", usagef("--key-password-file: %v", unwrapPath(err))
	}
	s := string(b)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s, nil
}

// unwrapPath turns "open x: no such file or directory" into a shorter message that still
// names the file.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// headerFlag collects -H 'Name: value' flags.
type headerFlag struct{ m map[string]string }

func (h *headerFlag) String() string { return "" }

func (h *headerFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("want 'Name: value'")
	}
	value = strings.TrimSpace(value)
	if h.m == nil {
		h.m = make(map[string]string)
	}
	for k, v := range h.m {
		if strings.EqualFold(k, name) {
			h.m[k] = v + ", " + value
			return nil
		}
	}
	h.m[name] = value
	return nil
}

// stringsFlag collects a repeatable flag's values (-x).
type stringsFlag []string

func (f *stringsFlag) String() string { return "" }

func (f *stringsFlag) Set(s string) error {
	*f = append(*f, s)
	return nil
}

// waitFlag is -w/--wait SECONDS: a decimal number of seconds, 0 to 86400, and whether it was
// given.
type waitFlag struct {
	d   time.Duration
	set bool
}

func (f *waitFlag) String() string { return f.d.String() }

func (f *waitFlag) Set(s string) error {
	sec, err := strconv.ParseFloat(s, 64)
	if err != nil || sec < 0 || sec > 86400 || sec != sec {
		return errors.New("want seconds from 0 to 86400, such as 2 or 0.5")
	}
	f.d, f.set = time.Duration(sec*float64(time.Second)), true
	return nil
}

// uint32Flag is a flag holding a uint32 (seconds, close codes).
type uint32Flag uint32

func (f *uint32Flag) String() string { return strconv.FormatUint(uint64(*f), 10) }

func (f *uint32Flag) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return errors.New("want a whole number from 0 to 4294967295")
	}
	*f = uint32Flag(n)
	return nil
}

// tlsVersionFlag is --tls-min: "1.2" or "1.3", stored as a crypto/tls version constant.
type tlsVersionFlag uint16

func (f *tlsVersionFlag) String() string {
	switch *f {
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	}
	return ""
}

func (f *tlsVersionFlag) Set(s string) error {
	switch s {
	case "1.2":
		*f = tls.VersionTLS12
	case "1.3":
		*f = tls.VersionTLS13
	default:
		return errors.New("want 1.2 or 1.3")
	}
	return nil
}

// sizeFlag is a byte count with an optional k, M or G suffix (powers of 1024); -1 and other
// negative values mean no limit.
type sizeFlag int64

func (f *sizeFlag) String() string { return strconv.FormatInt(int64(*f), 10) }

func (f *sizeFlag) Set(s string) error {
	mult := int64(1)
	num := s
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			num = s[:n-1]
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult || n < math.MinInt64/mult {
		return errors.New("want a byte count such as 1048576, 64k or 16M")
	}
	*f = sizeFlag(n * mult)
	return nil
}
