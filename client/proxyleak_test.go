package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit/websocket/internal/wstest"
	"github.com/netkit/websocket/proxy"
)

// The credentials of the hostile-proxy tests. The password is the one the issue saw leak.
const (
	leakUser = "alice-user"
	leakPass = "S3cr3t-P4ss"
)

// leakB64 is the Base64 of "user:pass", as Proxy-Authorization carries it.
var leakB64 = base64.StdEncoding.EncodeToString([]byte(leakUser + ":" + leakPass))

// forbidden lists what must never appear in an error, event or reason: the user name, the
// password, "user:pass", its Base64, every 8-character piece of that Base64, and the pieces
// of the Base64 of the same bytes at the two other offsets (a proxy may echo, or re-encode,
// the value with something in front of it).
func forbidden() []string {
	cred := leakUser + ":" + leakPass
	out := []string{leakUser, leakPass, cred, leakB64}
	for k := range 3 {
		e := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x00", k) + cred))
		core := e[4 : len(e)-4] // without the groups that mix in the prefix or the padding
		for i := 0; i+8 <= len(core); i++ {
			out = append(out, core[i:i+8])
		}
	}
	return out
}

// checkNoCredentials fails when s holds any forbidden string.
func checkNoCredentials(t *testing.T, what, s string) {
	t.Helper()
	for _, f := range forbidden() {
		if strings.Contains(s, f) {
			t.Errorf("%s holds %q: %s", what, f, s)
			return
		}
	}
}

// checkErrTree checks the message of err and of every error in its tree, and its %+v and
// %#v forms.
func checkErrTree(t *testing.T, what string, err error) {
	t.Helper()
	checkNoCredentials(t, what+" %+v", fmt.Sprintf("%+v", err))
	checkNoCredentials(t, what+" %#v", fmt.Sprintf("%#v", err))
	var walk func(e error, depth int)
	walk = func(e error, depth int) {
		if e == nil || depth > 20 {
			return
		}
		checkNoCredentials(t, what, e.Error())
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap(), depth+1)
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x, depth+1)
			}
		}
	}
	walk(err, 0)
}

// hostileProxy is a raw TCP listener on loopback that reads each CONNECT request (up to the
// blank line) and answers with reply, which gets the request's bytes to echo.
func hostileProxy(t *testing.T, reply func(c net.Conn, req []byte)) string {
	t.Helper()
	return hostileServer(t, func(c net.Conn) {
		var req []byte
		buf := make([]byte, 4096)
		for !bytes.Contains(req, []byte("\r\n\r\n")) && len(req) < 64<<10 {
			n, err := c.Read(buf)
			req = append(req, buf[:n]...)
			if err != nil {
				return
			}
		}
		if !bytes.Contains(req, []byte("Proxy-Authorization: Basic "+leakB64+"\r\n")) {
			t.Errorf("request without the expected credentials: %q", req)
			return
		}
		reply(c, req)
	})
}

// writeForever writes chunk until the client goes away: an endless reply.
func writeForever(c net.Conn, chunk string) {
	for {
		if _, err := io.WriteString(c, chunk); err != nil {
			return
		}
	}
}

func say(s string) func(net.Conn, []byte) {
	return func(c net.Conn, _ []byte) { _, _ = io.WriteString(c, s) }
}

// hostileReplies are CONNECT replies of a broken or hostile proxy that echo the request, or
// the credentials, in every place a parser could quote. want is a piece of the error message
// that says what went wrong.
var hostileReplies = []struct {
	name  string
	reply func(c net.Conn, req []byte)
	want  string
}{
	{"request echoed as the reply", func(c net.Conn, req []byte) { _, _ = c.Write(req) },
		"status line does not begin with HTTP/1.0 or HTTP/1.1"},
	{"password as the status code", say("HTTP/1.1 " + leakPass + " OK\r\n\r\n"),
		"status code is not three digits"},
	{"Base64 as the status code", say("HTTP/1.1 " + leakB64 + "\r\n\r\n"),
		"status code is not three digits"},
	{"credentials as the version", say(leakUser + "/" + leakPass + " 200 OK\r\n\r\n"),
		"status line does not begin"},
	{"HTTP/2 status line with the credentials", say("HTTP/2 200 " + leakB64 + "\r\n\r\n"),
		"status line does not begin"},
	{"request echoed after a good status line", func(c net.Conn, req []byte) {
		_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n")
		_, _ = c.Write(req)
	}, "header line 1 has an empty or invalid field name"},
	{"Proxy-Authorization echoed without its colon",
		say("HTTP/1.1 200 OK\r\nVia: x\r\nProxy-Authorization Basic " + leakB64 + "\r\n\r\n"),
		"header line 2 has no colon"},
	{"credentials in a field name", say("HTTP/1.1 200 OK\r\nBasic " + leakB64 + " " + leakUser + ": x\r\n\r\n"),
		"header line 1 has an empty or invalid field name"},
	{"control byte in an echoed value", say("HTTP/1.1 200 OK\r\nX-Echo: Basic " + leakB64 + "\x00" + leakPass + "\r\n\r\n"),
		"header line 1 holds a control character"},
	{"control byte in the status line", say("HTTP/1.1 200 " + leakB64 + "\x01\r\n\r\n"),
		"status line holds a control character"},
	{"folded first header line", say("HTTP/1.1 200 OK\r\n Basic " + leakB64 + "\r\n\r\n"),
		"header line 1 begins with white space"},
	{"bare LF lines echoing", say("HTTP/1.0 200\nProxy-Authorization Basic " + leakB64 + "\n\n"),
		"header line 1 has no colon"},
	{"binary garbage", say("\x16\x03\x01\x00\xff" + leakB64 + "\x00\x80\xfe" + leakPass + "\r\n\r\n"),
		"status line does not begin"},
	{"empty status line", say("\r\n" + leakB64 + "\r\n\r\n"), "empty status line"},
	{"407 echoing the credentials in its reason",
		say("HTTP/1.1 407 Basic " + leakB64 + " " + leakUser + ":" + leakPass + "\r\nProxy-Authenticate: Basic realm=\"" + leakUser + "\"\r\n\r\n"),
		"refused: 407 Proxy Authentication Required"},
	{"407 echoing the request as its body", func(c net.Conn, req []byte) {
		_, _ = io.WriteString(c, "HTTP/1.1 407 "+leakUser+"\r\nContent-Length: "+strconv.Itoa(len(req))+"\r\n\r\n")
		_, _ = c.Write(req)
	}, "refused: 407 Proxy Authentication Required"},
	{"403 with the Base64 at an offset in its reason", say("HTTP/1.1 403 xBasic" + leakB64[1:] + "\r\n\r\n"),
		"refused: 403 Forbidden"},
	{"unknown status with the credentials", say("HTTP/1.1 599 " + leakPass + "\r\n\r\n"), "refused: 599"},
	{"endless header", func(c net.Conn, _ []byte) {
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		writeForever(c, "X-Echo: Basic "+leakB64+"\r\n")
	}, "reply larger than 16384 bytes before the end of its header"},
	{"endless status line", func(c net.Conn, _ []byte) { writeForever(c, leakB64) },
		"reply larger than 16384 bytes"},
	{"endless header line", func(c net.Conn, _ []byte) {
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Echo: ")
		writeForever(c, leakB64)
	}, "reply larger than 16384 bytes"},
	{"cut in the status line", say("HTTP/1.1 20"), "connection closed before a complete reply"},
	{"cut in an echoed header", say("HTTP/1.1 200 OK\r\nX-Echo: Basic " + leakB64[:12]),
		"connection closed before a complete reply"},
	{"closed without a byte", say(""), "connection closed before a complete reply (0 bytes received)"},
}

// TestHostileProxyRepliesNeverShowCredentials sends each hostile CONNECT reply over real
// loopback sockets and checks every string that comes out, for both APIs: Dial's error (with
// an HTTP proxy as its NetDialContext), and the facade's ERROR event and CLOSE reason (with
// an HTTPProxy with a username and password).
func TestHostileProxyRepliesNeverShowCredentials(t *testing.T) {
	const target = "ws://127.0.0.1:9/chat"
	for _, tc := range hostileReplies {
		t.Run(tc.name, func(t *testing.T) {
			addr := hostileProxy(t, tc.reply)

			t.Run("Dial", func(t *testing.T) {
				pu := &url.URL{Scheme: "http", Host: addr, User: url.UserPassword(leakUser, leakPass)}
				d, err := proxy.HTTPConnect(pu, nil)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				start := time.Now()
				c, _, err := Dial(ctx, target, &DialOptions{NetDialContext: d, PingInterval: -1})
				if err == nil {
					_ = c.CloseNow()
					t.Fatal("Dial succeeded")
				}
				if el := time.Since(start); el > 5*time.Second {
					t.Fatalf("Dial took %v", el)
				}
				if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "websocket: proxy "+addr) {
					t.Errorf("Dial error %q, want it to say %q and name the proxy", err, tc.want)
				}
				checkErrTree(t, "Dial error", err)
			})

			t.Run("facade", func(t *testing.T) {
				host, portStr, _ := net.SplitHostPort(addr)
				p, _ := strconv.ParseUint(portStr, 10, 16)
				port := uint16(p)
				user, pass := leakUser, leakPass
				opts := NewWebSocketRequestOptions()
				opts.Proxy = HTTPProxy{Proxy: &WebSocketHttpProxy{Host: &host, Port: &port, Username: &user, Password: &pass}}
				ws := CreateWebSocket()
				var mu sync.Mutex
				var errs []*BusinessException
				var closes []CloseResult
				_ = ws.On(EventError, NewWebSocketErrorCallback(func(e *BusinessException) {
					mu.Lock()
					errs = append(errs, e)
					mu.Unlock()
				}))
				_ = ws.On(EventClose, NewWebSocketAsyncCallback(func(_ *AsyncError, r CloseResult) {
					mu.Lock()
					closes = append(closes, r)
					mu.Unlock()
				}))
				r := newRecorder(t, ws)
				if err := ws.Connect(target, opts, nil); err != nil {
					t.Fatal(err)
				}
				r.until("CLOSE")
				wait(t, ws)
				mu.Lock()
				defer mu.Unlock()
				if len(errs) != 1 || len(closes) != 1 {
					t.Fatalf("%d ERROR and %d CLOSE events, want 1 and 1", len(errs), len(closes))
				}
				e, cr := errs[0], closes[0]
				if e.Code != CodeOtherError || !strings.Contains(e.Error(), tc.want) {
					t.Errorf("ERROR %d %q, want 2302999 saying %q", e.Code, e.Error(), tc.want)
				}
				if cr.Code != 1006 || !strings.Contains(cr.Reason, tc.want) {
					t.Errorf("CLOSE %d %q, want 1006 saying %q", cr.Code, cr.Reason, tc.want)
				}
				checkErrTree(t, "ERROR event", e)
				checkNoCredentials(t, "ERROR message", e.Message)
				checkNoCredentials(t, "CLOSE reason", cr.Reason)
			})
		})
	}
}

// hostileSOCKS5 is a raw TCP listener on loopback that plays a SOCKS5 proxy (RFC 1928, RFC
// 1929) as serve scripts it, given the connection and a reader of what the client sends.
func hostileSOCKS5(t *testing.T, serve func(c net.Conn, read func(n int) []byte)) string {
	t.Helper()
	return hostileServer(t, func(c net.Conn) {
		read := func(n int) []byte {
			b := make([]byte, n)
			if _, err := io.ReadFull(c, b); err != nil {
				return nil
			}
			return b
		}
		serve(c, read)
	})
}

// hostileServer accepts connections on loopback and runs serve on each until the test ends.
func hostileServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	return wstest.NewRaw(t, func(c net.Conn) {
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		serve(c)
	}).Addr()
}

// socksAuth reads the greeting, selects username/password, and returns the client's
// username/password request (RFC 1929), which holds the credentials in plain text.
func socksAuth(c net.Conn, read func(int) []byte) []byte {
	g := read(2)
	if g == nil || read(int(g[1])) == nil {
		return nil
	}
	_, _ = c.Write([]byte{5, 2})
	h := read(2)
	if h == nil {
		return nil
	}
	u := read(int(h[1]))
	pl := read(1)
	if u == nil || pl == nil {
		return nil
	}
	p := read(int(pl[0]))
	return append(append(append(h, u...), pl...), p...)
}

// TestHostileSOCKS5RepliesNeverShowCredentials does for SOCKS5 with username/password
// authentication what TestHostileProxyRepliesNeverShowCredentials does for HTTP CONNECT:
// every reply echoes the credentials where a parser could quote them.
func TestHostileSOCKS5RepliesNeverShowCredentials(t *testing.T) {
	cred := []byte(leakUser + leakPass + leakB64)
	cases := []struct {
		name  string
		serve func(c net.Conn, read func(int) []byte)
		want  string
	}{
		{"greeting echoed", func(c net.Conn, read func(int) []byte) {
			g := read(3)
			_, _ = c.Write(g)
			_, _ = c.Write(cred)
		}, "SOCKS5"},
		{"auth request echoed as its reply", func(c net.Conn, read func(int) []byte) {
			a := socksAuth(c, read)
			_, _ = c.Write(a)
		}, "username/password authentication failed"},
		{"auth refused with the credentials after it", func(c net.Conn, read func(int) []byte) {
			socksAuth(c, read)
			_, _ = c.Write(append([]byte{1, 1}, cred...))
		}, "username/password authentication failed"},
		{"auth request echoed as the CONNECT reply", func(c net.Conn, read func(int) []byte) {
			a := socksAuth(c, read)
			_, _ = c.Write([]byte{1, 0})
			_, _ = c.Write(a)
		}, "unexpected protocol version"},
		{"failure with the credentials as the bound name", func(c net.Conn, read func(int) []byte) {
			socksAuth(c, read)
			_, _ = c.Write([]byte{1, 0})
			_, _ = c.Write(append([]byte{5, 1, 0, 3, byte(len(cred))}, append(cred, 0, 80)...))
		}, "general SOCKS server failure"},
		{"binary garbage", func(c net.Conn, read func(int) []byte) {
			read(3)
			_, _ = c.Write(append([]byte{0xff, 0x00}, cred...))
		}, "SOCKS5"},
		{"cut after the method", func(c net.Conn, read func(int) []byte) {
			read(3)
			_, _ = c.Write([]byte{5, 2})
		}, "SOCKS5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := hostileSOCKS5(t, tc.serve)
			pu := &url.URL{Scheme: "socks5", Host: addr, User: url.UserPassword(leakUser, leakPass)}
			d, err := proxy.SOCKS5(pu, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, _, err := Dial(ctx, "ws://127.0.0.1:9/chat", &DialOptions{NetDialContext: d, PingInterval: -1})
			if err == nil {
				_ = c.CloseNow()
				t.Fatal("Dial succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "websocket: proxy "+addr) {
				t.Errorf("Dial error %q, want it to say %q and name the proxy", err, tc.want)
			}
			checkErrTree(t, "Dial error", err)
		})
	}
}

// TestProxyURLErrorsNeverShowCredentials checks the errors of proxy URLs that carry user
// information and cannot be used.
func TestProxyURLErrorsNeverShowCredentials(t *testing.T) {
	ui := url.UserPassword(leakUser, leakPass)
	for _, u := range []*url.URL{
		{Scheme: "ftp", Host: "proxy.example:21", User: ui},
		{Scheme: "http", Host: "proxy.example:99999", User: ui},
		{Scheme: "socks5", Host: "proxy.example:0", User: ui},
		{Scheme: "https", Host: ":8080", User: ui},
	} {
		_, err := proxy.FromURL(u, nil)
		if err == nil {
			t.Fatalf("%s: no error", u.Redacted())
		}
		checkErrTree(t, "FromURL error", err)
	}
}
