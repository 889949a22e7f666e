//go:build interop

package interop_test

// Proxy tests against real proxies started on loopback: tinyproxy (HTTP CONNECT with Basic
// authentication) and dante's danted (SOCKS5, without authentication and with username/password
// against a system account), both from Debian (install.sh). Each test starts
// its own instance with a configuration in a temporary folder and stops it at cleanup. A proxy
// that cannot be started fails the test; it is never skipped.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/echoserver"
	"github.com/netkit/websocket/internal/wstest"
	"github.com/netkit/websocket/proxy"
)

const (
	proxyUser = "wsuser"
	proxyPass = "S3cret-pr0xy-pw"
)

// proxyDaemon is a proxy process started for one test.
type proxyDaemon struct {
	name string
	addr string // "127.0.0.1:<port>"
	dir  string
	log  string // its log file
	out  lockedBuffer
}

// logText returns the proxyDaemon's log file and output.
func (d *proxyDaemon) logText() string {
	b, _ := os.ReadFile(d.log)
	return string(b) + d.out.String()
}

// startProxyDaemon runs argv (a foreground proxyDaemon listening on addr) until the end of the test,
// and waits until addr accepts connections. It fails the test when the program is missing,
// exits, or does not listen in time.
func startProxyDaemon(t *testing.T, d *proxyDaemon, argv ...string) {
	t.Helper()
	path, err := exec.LookPath(argv[0])
	if err != nil {
		t.Fatalf("%s: %v (run interop/install.sh)", d.name, err)
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Dir = d.dir
	cmd.Stdout, cmd.Stderr = &d.out, &d.out
	cmd.WaitDelay = peerStopTimeout
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", d.name, err)
	}
	exit := make(chan error, 1)
	go func() { exit <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exit:
		case <-time.After(peerStopTimeout):
			_ = cmd.Process.Kill()
			<-exit
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("--- log of %s:\n%s", d.name, d.logText())
		}
	})
	deadline := time.Now().Add(peerStartTimeout)
	for {
		c, err := net.DialTimeout("tcp", d.addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		select {
		case err := <-exit:
			exit <- err
			t.Fatalf("%s exited at start (%v): %s", d.name, err, d.logText())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %s after %v: %s", d.name, d.addr, peerStartTimeout, d.logText())
		}
	}
}

// proxyTempDir returns a temporary folder the daemons (which may drop root) can write in.
func proxyTempDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startTinyproxy starts tinyproxy with Basic authentication (proxyUser, proxyPass).
func startTinyproxy(t *testing.T) *proxyDaemon {
	t.Helper()
	dir := proxyTempDir(t)
	d := &proxyDaemon{name: "tinyproxy", dir: dir, log: filepath.Join(dir, "tinyproxy.log")}
	port := freePort(t)
	d.addr = fmt.Sprintf("127.0.0.1:%d", port)
	conf := fmt.Sprintf(`Port %d
Listen 127.0.0.1
Allow 127.0.0.1
BasicAuth %s %s
LogFile "%s"
PidFile "%s"
LogLevel Info
Timeout 60
MaxClients 50
`, port, proxyUser, proxyPass, d.log, filepath.Join(dir, "tinyproxy.pid"))
	file := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startProxyDaemon(t, d, "tinyproxy", "-d", "-c", file)
	return d
}

// startDante starts danted as a SOCKS5 proxy without authentication.
func startDante(t *testing.T) *proxyDaemon {
	t.Helper()
	return startDanteMethod(t, "none")
}

// startDanteMethod starts danted as a SOCKS5 proxy with the given socksmethod ("none", or
// "username": RFC 1929 username/password checked against the system's accounts).
func startDanteMethod(t *testing.T, socksmethod string) *proxyDaemon {
	t.Helper()
	dir := proxyTempDir(t)
	d := &proxyDaemon{name: "danted", dir: dir, log: filepath.Join(dir, "danted.log")}
	port := freePort(t)
	d.addr = fmt.Sprintf("127.0.0.1:%d", port)
	conf := fmt.Sprintf(`logoutput: %s
internal: 127.0.0.1 port = %d
external: 127.0.0.1
socksmethod: %s
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect error }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect error }
`, d.log, port, socksmethod)
	file := filepath.Join(dir, "danted.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startProxyDaemon(t, d, "danted", "-f", file)
	return d
}

// startProxyEcho starts the module's echo server for one test.
func startProxyEcho(t *testing.T) *peer {
	t.Helper()
	srv, err := echoserver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &peer{name: "echoserver", url: "ws://" + srv.Addr().String()}
}

// proxyEchoHandle echoes every message of a wstest connection.
func proxyEchoHandle(c *conn.Conn, _ *handshake.ServerRequest) {
	ctx := context.Background()
	for {
		typ, p, err := c.ReadMessage(ctx, nil)
		if err != nil {
			return
		}
		if err := c.WriteMessage(ctx, typ, p); err != nil {
			return
		}
	}
}

// httpProxyOptions returns facade options with the seed's HTTPPROXY for d.
func httpProxyOptions(t *testing.T, d *proxyDaemon, user, pass string, exclusions ...string) *client.WebSocketRequestOptions {
	t.Helper()
	host, portS, _ := net.SplitHostPort(d.addr)
	var port uint16
	if _, err := fmt.Sscan(portS, &port); err != nil {
		t.Fatal(err)
	}
	o := client.NewWebSocketRequestOptions()
	o.Proxy = client.HTTPProxy{Proxy: &client.WebSocketHttpProxy{
		Host: &host, Port: &port, Username: &user, Password: &pass, ExclusionList: exclusions,
	}}
	return o
}

func proxyEchoOnce(ctx context.Context, t *testing.T, f *facade, text string) {
	t.Helper()
	f.send(t, client.StringData(text))
	typ, p := f.message(ctx, t)
	if typ != conn.Text || string(p) != text {
		t.Fatalf("echo %v %q, want %q", typ, p, text)
	}
}

// countProxyConnects counts the CONNECT requests to target in tinyproxy's log.
func countProxyConnects(d *proxyDaemon, target string) int {
	n := 0
	for line := range strings.SplitSeq(d.logText(), "\n") {
		if strings.Contains(line, "CONNECT "+target+" ") {
			n++
		}
	}
	return n
}

func TestProxyTinyproxyBasicAuthEcho(t *testing.T) {
	ctx := testContext(t)
	tp := startTinyproxy(t)
	echo := startProxyEcho(t)
	f := newFacade(t)
	f.connect(ctx, t, echo, "/", httpProxyOptions(t, tp, proxyUser, proxyPass))
	proxyEchoOnce(ctx, t, f, "hello through tinyproxy")
	f.closeNormally(ctx, t, 1000, "")
	target := strings.TrimPrefix(echo.url, "ws://")
	if countProxyConnects(tp, target) == 0 {
		t.Fatalf("tinyproxy's log shows no CONNECT %s:\n%s", target, tp.logText())
	}
}

func TestProxyTinyproxyWrongPasswordFailsClearly(t *testing.T) {
	ctx := testContext(t)
	tp := startTinyproxy(t)
	echo := startProxyEcho(t)
	const wrong = "n0t-the-Passw0rd"
	for _, tc := range []struct {
		name, user, pass string
		status           string
	}{
		{"wrong password", proxyUser, wrong, "401"},
		{"no credentials", "", "", "407"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFacade(t)
			o := httpProxyOptions(t, tp, tc.user, tc.pass)
			if tc.user == "" {
				o.Proxy.(client.HTTPProxy).Proxy.Username = nil
				o.Proxy.(client.HTTPProxy).Proxy.Password = nil
			}
			start := time.Now()
			if err := f.ws.Connect(echo.url+"/", o, nil); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			e := f.expect(ctx, t, client.EventError)
			if time.Since(start) > 10*time.Second {
				t.Fatalf("error after %v", time.Since(start))
			}
			msg := e.err.Error()
			if e.err.Code != client.CodeOtherError || !strings.Contains(msg, tc.status) || !strings.Contains(msg, tp.addr) {
				t.Fatalf("ERROR %v, want code 2302999 with status %s and the proxy", msg, tc.status)
			}
			if !errors.Is(e.err, proxy.ErrProxyAuthRequired) {
				t.Fatalf("ERROR %v does not wrap proxy.ErrProxyAuthRequired", msg)
			}
			var ce *proxy.ConnectError
			if !errors.As(e.err, &ce) || fmt.Sprint(ce.StatusCode) != tc.status {
				t.Fatalf("ERROR %v: no *proxy.ConnectError with status %s", msg, tc.status)
			}
			if strings.Contains(msg, wrong) || strings.Contains(msg, proxyPass) || strings.Contains(msg, "Basic") {
				t.Fatalf("ERROR shows credentials: %q", msg)
			}
			f.expect(ctx, t, client.EventClose)
		})
	}
}

func TestProxyTargetNeverSeesCredentials(t *testing.T) {
	ctx := testContext(t)
	tp := startTinyproxy(t)
	srv := wstest.New(t, proxyEchoHandle)
	u, _ := url.Parse(srv.URL)
	f := newFacade(t)
	f.connect(ctx, t, &peer{name: "wstest", url: "ws://" + u.Host}, u.RequestURI(), httpProxyOptions(t, tp, proxyUser, proxyPass))
	proxyEchoOnce(ctx, t, f, "x")
	f.closeNormally(ctx, t, 1000, "")
	var req *handshake.ServerRequest
	select {
	case req = <-srv.Requests:
	case <-ctx.Done():
		t.Fatal("no request seen by the target")
	}
	for _, fl := range req.Fields {
		if strings.EqualFold(fl.Name, "Proxy-Authorization") || strings.Contains(fl.Value, proxyPass) {
			t.Fatalf("target saw %s: %s", fl.Name, fl.Value)
		}
	}
	if len(req.Header.Values("Proxy-Authorization")) != 0 {
		t.Fatal("target saw Proxy-Authorization")
	}
	if countProxyConnects(tp, u.Host) == 0 {
		t.Fatalf("no CONNECT %s in tinyproxy's log", u.Host)
	}
}

// TestProxyTinyproxyWSS runs wss through tinyproxy: TLS to the target inside the tunnel.
func TestProxyTinyproxyWSS(t *testing.T) {
	ctx := testContext(t)
	tp := startTinyproxy(t)
	hs := httptest.NewUnstartedServer(http.NotFoundHandler()) // for its certificate only
	hs.StartTLS()
	cert := hs.TLS.Certificates[0]
	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	hs.Close()
	srv := wstest.New(t, proxyEchoHandle, func(s *wstest.Server) {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	})
	d, err := proxy.HTTPConnect(&url.URL{Scheme: "http", Host: tp.addr, User: url.UserPassword(proxyUser, proxyPass)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := client.Dial(ctx, srv.URL, &client.DialOptions{
		NetDialContext: d,
		TLSConfig:      &tls.Config{RootCAs: pool, ServerName: "example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(ctx, t, c, conn.Text, []byte("wss through tinyproxy"))
	closeNormally(ctx, t, c, 1000, "")
	target := strings.TrimPrefix(srv.URL, "wss://")
	target = target[:strings.Index(target, "/")]
	if countProxyConnects(tp, target) == 0 {
		t.Fatalf("no CONNECT %s in tinyproxy's log", target)
	}
}

func TestProxyExclusionListGoesDirect(t *testing.T) {
	ctx := testContext(t)
	tp := startTinyproxy(t)
	echo := startProxyEcho(t)
	target := strings.TrimPrefix(echo.url, "ws://")
	for _, ex := range [][]string{{"127.0.0.1"}, {"127.0.0.0/8"}, {"*"}} {
		t.Run(strings.Join(ex, ","), func(t *testing.T) {
			f := newFacade(t)
			// A wrong password: through the proxy, the connection would fail.
			f.connect(ctx, t, echo, "/", httpProxyOptions(t, tp, proxyUser, "wrong", ex...))
			proxyEchoOnce(ctx, t, f, "direct")
			f.closeNormally(ctx, t, 1000, "")
		})
	}
	if n := countProxyConnects(tp, target); n != 0 {
		t.Fatalf("tinyproxy's log shows %d CONNECT %s for excluded hosts:\n%s", n, target, tp.logText())
	}
	// A list that does not match goes through the proxy.
	f := newFacade(t)
	f.connect(ctx, t, echo, "/", httpProxyOptions(t, tp, proxyUser, proxyPass, "*.example.com", "10.0.0.0/8"))
	proxyEchoOnce(ctx, t, f, "proxied")
	f.closeNormally(ctx, t, 1000, "")
	if countProxyConnects(tp, target) == 0 {
		t.Fatalf("no CONNECT %s in tinyproxy's log", target)
	}
}

func TestProxyDanteSOCKS5(t *testing.T) {
	ctx := testContext(t)
	dante := startDante(t)
	echo := startProxyEcho(t)
	for _, scheme := range []string{"socks5", "socks5h"} {
		t.Run(scheme, func(t *testing.T) {
			d, err := proxy.FromURL(&url.URL{Scheme: scheme, Host: dante.addr}, nil)
			if err != nil {
				t.Fatal(err)
			}
			c, _, err := client.Dial(ctx, echo.url+"/", &client.DialOptions{NetDialContext: d})
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(ctx, t, c, conn.Binary, []byte("socks through dante"))
			closeNormally(ctx, t, c, 1000, "")
		})
	}
	// The connection really went through dante: its log names the target.
	port := echo.url[strings.LastIndex(echo.url, ":")+1:]
	if !strings.Contains(dante.logText(), "127.0.0.1."+port) {
		t.Fatalf("dante's log does not show the target port %s:\n%s", port, dante.logText())
	}
	// A target dante cannot reach: a SOCKS error naming the proxy, no hang.
	d, err := proxy.FromURL(&url.URL{Scheme: "socks5", Host: dante.addr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = client.Dial(ctx, fmt.Sprintf("ws://127.0.0.1:%d/", freePort(t)), &client.DialOptions{NetDialContext: d, HandshakeTimeout: 10 * time.Second})
	var pe *proxy.Error
	if !errors.As(err, &pe) || pe.Proxy != dante.addr {
		t.Fatalf("error %v, want a *proxy.Error from %s", err, dante.addr)
	}
}

// The system account dante's "socksmethod: username" checks (it has no password file of its own).
const (
	socksUser = "netkitsocks"
	socksPass = "S0cks-Pr0xy-pw"
)

// ensureSocksUser creates the system account socksUser when it is missing and sets its
// password to socksPass. It needs root; without it the test fails.
func ensureSocksUser(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("dante's username method checks system accounts: creating user %s needs root (euid %d)", socksUser, os.Geteuid())
	}
	if err := exec.Command("id", "-u", socksUser).Run(); err != nil {
		out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", socksUser).CombinedOutput()
		if err != nil {
			t.Fatalf("useradd %s: %v: %s", socksUser, err, out)
		}
	}
	cmd := exec.Command("chpasswd")
	cmd.Stdin = strings.NewReader(socksUser + ":" + socksPass + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd %s: %v: %s", socksUser, err, out)
	}
}

func TestProxyDanteSOCKS5UsernamePassword(t *testing.T) {
	ctx := testContext(t)
	ensureSocksUser(t)
	dante := startDanteMethod(t, "username")
	echo := startProxyEcho(t)
	port := echo.url[strings.LastIndex(echo.url, ":")+1:]
	dial := func(user, pass string) (*client.Conn, error) {
		t.Helper()
		d, err := proxy.FromURL(&url.URL{Scheme: "socks5", Host: dante.addr, User: url.UserPassword(user, pass)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := client.Dial(ctx, echo.url+"/", &client.DialOptions{NetDialContext: d, HandshakeTimeout: 10 * time.Second})
		return c, err
	}

	t.Run("right password", func(t *testing.T) {
		c, err := dial(socksUser, socksPass)
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(ctx, t, c, conn.Text, []byte("socks with a password through dante"))
		closeNormally(ctx, t, c, 1000, "")
		if !strings.Contains(dante.logText(), "username%"+socksUser+"@") || !strings.Contains(dante.logText(), "127.0.0.1."+port) {
			t.Fatalf("dante's log does not show %s connecting to port %s:\n%s", socksUser, port, dante.logText())
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		d, err := proxy.FromURL(&url.URL{Scheme: "socks5", Host: dante.addr}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = client.Dial(ctx, echo.url+"/", &client.DialOptions{NetDialContext: d, HandshakeTimeout: 10 * time.Second})
		var pe *proxy.Error
		if !errors.As(err, &pe) || pe.Proxy != dante.addr || pe.Op != "SOCKS5" {
			t.Fatalf("error %v, want a SOCKS5 *proxy.Error from %s", err, dante.addr)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		const wrong = "n0t-the-S0cks-pw"
		start := time.Now()
		_, err := dial(socksUser, wrong)
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("error after %v", took)
		}
		var pe *proxy.Error
		if !errors.As(err, &pe) || pe.Proxy != dante.addr || pe.Op != "SOCKS5" {
			t.Fatalf("error %v, want a SOCKS5 *proxy.Error from %s", err, dante.addr)
		}
		if !strings.Contains(err.Error(), "authentication failed") {
			t.Fatalf("error %v does not say that authentication failed", err)
		}
		if msg := err.Error(); strings.Contains(msg, wrong) || strings.Contains(msg, socksPass) {
			t.Fatalf("error shows the password: %q", msg)
		}
	})
}

// loopbackName returns a host name that resolves to 127.0.0.1 only: httpproxy (like net/http)
// never proxies "localhost" or loopback addresses, so the environment's proxy is tested with
// a name. The machine's host name is used when /etc/hosts maps it to loopback; else, as root,
// a line for netkit-proxy-test.internal is added to /etc/hosts (once).
func loopbackName(t *testing.T) string {
	t.Helper()
	isLoopback := func(name string) bool {
		addrs, err := net.DefaultResolver.LookupHost(context.Background(), name)
		if err != nil || len(addrs) == 0 {
			return false
		}
		for _, a := range addrs {
			if a != "127.0.0.1" {
				return false
			}
		}
		return true
	}
	if h, err := os.Hostname(); err == nil && h != "localhost" && isLoopback(h) {
		return h
	}
	const name = "netkit-proxy-test.internal"
	if isLoopback(name) {
		return name
	}
	f, err := os.OpenFile("/etc/hosts", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("no host name resolves to 127.0.0.1 only, and /etc/hosts cannot be extended: %v", err)
	}
	_, err = fmt.Fprintf(f, "\n127.0.0.1 %s\n", name)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || !isLoopback(name) {
		t.Fatalf("adding %s to /etc/hosts: %v", name, err)
	}
	return name
}

// clearProxyEnv empties every proxy variable for the test.
func clearProxyEnv(t *testing.T) {
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
}

func TestProxySystemFromEnvironment(t *testing.T) {
	ctx := testContext(t)
	tp := startTinyproxy(t)
	dante := startDante(t)
	echo := startProxyEcho(t)
	name := loopbackName(t)
	port := echo.url[strings.LastIndex(echo.url, ":")+1:]
	target := &peer{name: "echoserver by name", url: "ws://" + name + ":" + port}
	system := func() *client.WebSocketRequestOptions {
		o := client.NewWebSocketRequestOptions() // the seed default: SYSTEM
		if _, ok := o.Proxy.(client.SystemProxy); !ok {
			t.Fatalf("default proxy %T, want SystemProxy", o.Proxy)
		}
		return o
	}
	connectEcho := func(t *testing.T) {
		f := newFacade(t)
		f.connect(ctx, t, target, "/", system())
		proxyEchoOnce(ctx, t, f, "system proxy")
		f.closeNormally(ctx, t, 1000, "")
	}

	t.Run("http_proxy", func(t *testing.T) {
		clearProxyEnv(t)
		t.Setenv("http_proxy", "http://"+proxyUser+":"+proxyPass+"@"+tp.addr)
		connectEcho(t)
		if countProxyConnects(tp, name+":"+port) != 1 {
			t.Fatalf("want one CONNECT %s:%s in tinyproxy's log:\n%s", name, port, tp.logText())
		}
	})
	t.Run("NO_PROXY", func(t *testing.T) {
		clearProxyEnv(t)
		t.Setenv("HTTP_PROXY", "http://"+proxyUser+":"+proxyPass+"@"+tp.addr)
		t.Setenv("NO_PROXY", name)
		connectEcho(t)
		if countProxyConnects(tp, name+":"+port) != 1 {
			t.Fatalf("NO_PROXY ignored: tinyproxy's log:\n%s", tp.logText())
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		clearProxyEnv(t)
		t.Setenv("HTTP_PROXY", "http://"+proxyUser+":wrong-env-pw@"+tp.addr)
		f := newFacade(t)
		if err := f.ws.Connect(target.url+"/", system(), nil); err != nil {
			t.Fatal(err)
		}
		e := f.expect(ctx, t, client.EventError)
		if !errors.Is(e.err, proxy.ErrProxyAuthRequired) || strings.Contains(e.err.Error(), "wrong-env-pw") {
			t.Fatalf("ERROR %v", e.err)
		}
		f.expect(ctx, t, client.EventClose)
	})
	t.Run("ALL_PROXY socks5h", func(t *testing.T) {
		clearProxyEnv(t)
		t.Setenv("ALL_PROXY", "socks5h://"+dante.addr)
		connectEcho(t)
		if !strings.Contains(dante.logText(), "tcp/connect") || !strings.Contains(dante.logText(), "127.0.0.1."+port) {
			t.Fatalf("dante's log shows no connection to port %s:\n%s", port, dante.logText())
		}
	})
	// The blocking API with nil options uses the same environment (issue 13: it used to go
	// direct), and honours NO_PROXY.
	t.Run("Dial nil options", func(t *testing.T) {
		clearProxyEnv(t)
		t.Setenv("HTTP_PROXY", "http://"+proxyUser+":"+proxyPass+"@"+tp.addr)
		before := countProxyConnects(tp, name+":"+port)
		c, _, err := client.Dial(ctx, target.url+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.CloseNow()
		if countProxyConnects(tp, name+":"+port) != before+1 {
			t.Fatalf("Dial did not go through tinyproxy: its log:\n%s", tp.logText())
		}
		t.Setenv("NO_PROXY", name)
		c, _, err = client.Dial(ctx, target.url+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.CloseNow()
		if countProxyConnects(tp, name+":"+port) != before+1 {
			t.Fatalf("NO_PROXY ignored by Dial: tinyproxy's log:\n%s", tp.logText())
		}
	})
}
