//go:build interop

package interop_test

// TLS against a real server: nginx (Debian's 1.22) terminates TLS on loopback, requires a
// client certificate (ssl_verify_client on) and proxies the WebSocket to this module's
// internal/echoserver. The CA, the server certificates and the client keys are made by the
// openssl command line tool at test time, in a temporary folder: an unencrypted PKCS#8 key
// (genpkey), an encrypted PKCS#8 key (genpkey -aes256), and a legacy encrypted PEM key
// (rsa -aes256 -traditional, "Proc-Type: 4,ENCRYPTED"). The client connects with both APIs
// (client.Dial with a tlsconf config, and the seed facade with caPath and clientCert) and
// must echo; a wrong CA, a wrong host name, an expired server certificate and a missing
// client certificate must fail with the matching, clear error. nginx failing to start fails
// the tests; they are never skipped.

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/echoserver"
	"github.com/netkit/websocket/tlsconf"
)

// keyPassword encrypts the client keys written by openssl.
const keyPassword = "nginx interop pass"

// tlsFixture is a PKI made by openssl and an nginx serving three TLS ports in front of an
// echo server.
type tlsFixture struct {
	dir string
	// caPath is the CA that issued every certificate below; otherCAPath an unrelated CA.
	caPath, otherCAPath string
	// Client certificates and keys: one plain PKCS#8 key, one encrypted PKCS#8 key and one
	// legacy encrypted PEM key (each with its own certificate).
	plainCert, plainKey   string
	pkcs8Cert, pkcs8Key   string
	legacyCert, legacyKey string
	// nginx ports: good (certificate for 127.0.0.1 and nginx.test), wrongName (certificate
	// for other.test only), expired (certificate for 127.0.0.1 that has expired).
	good, wrongName, expired int
}

// openssl runs openssl in dir, failing the test on an error.
func openssl(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// makeCA writes name.key and name.pem, a self-signed CA.
func makeCA(t *testing.T, dir, name string) string {
	t.Helper()
	openssl(t, dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", name+".key", "-out", name+".pem", "-days", "2", "-subj", "/CN="+name,
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	return filepath.Join(dir, name+".pem")
}

// issue signs a certificate name.pem for the key at keyPath (opened with passArgs) by the CA
// "ca", with the extensions ext, valid for days (negative: already expired).
func issue(t *testing.T, dir, name, keyPath string, passArgs []string, ext string, days int) string {
	t.Helper()
	openssl(t, dir, append([]string{"req", "-new", "-key", keyPath, "-subj", "/CN=" + name, "-out", name + ".csr"}, passArgs...)...)
	extFile := filepath.Join(dir, name+".ext")
	if err := os.WriteFile(extFile, []byte(ext), 0o600); err != nil {
		t.Fatal(err)
	}
	openssl(t, dir, "x509", "-req", "-in", name+".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
		"-days", strconv.Itoa(days), "-extfile", extFile, "-out", name+".pem")
	return filepath.Join(dir, name+".pem")
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// newTLSFixture makes the certificates, starts an echo server and nginx, and stops both at
// cleanup.
func newTLSFixture(t *testing.T) *tlsFixture {
	t.Helper()
	dir := t.TempDir()
	f := &tlsFixture{dir: dir}
	passFile := filepath.Join(dir, "pass.txt")
	if err := os.WriteFile(passFile, []byte(keyPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pass := []string{"-passin", "file:" + passFile}

	f.caPath = makeCA(t, dir, "ca")
	f.otherCAPath = makeCA(t, dir, "otherca")

	const serverExt = "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n"
	openssl(t, dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "server.key")
	issue(t, dir, "server", "server.key", nil, serverExt+"subjectAltName=DNS:nginx.test,IP:127.0.0.1\n", 2)
	issue(t, dir, "wrongname", "server.key", nil, serverExt+"subjectAltName=DNS:other.test\n", 2)
	issue(t, dir, "expired", "server.key", nil, serverExt+"subjectAltName=DNS:nginx.test,IP:127.0.0.1\n", -1)

	const clientExt = "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
	// Unencrypted PKCS#8 (genpkey's default form).
	openssl(t, dir, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "client-plain.key")
	f.plainKey = filepath.Join(dir, "client-plain.key")
	f.plainCert = issue(t, dir, "client-plain", f.plainKey, nil, clientExt, 2)
	// Encrypted PKCS#8 (genpkey -aes256: PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC).
	openssl(t, dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256",
		"-pass", "file:"+passFile, "-out", "client-pkcs8.key")
	f.pkcs8Key = filepath.Join(dir, "client-pkcs8.key")
	f.pkcs8Cert = issue(t, dir, "client-pkcs8", f.pkcs8Key, pass, clientExt, 2)
	// Legacy encrypted PEM (Proc-Type: 4,ENCRYPTED) from an RSA key.
	openssl(t, dir, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "legacy-src.key")
	openssl(t, dir, "rsa", "-in", "legacy-src.key", "-aes256", "-traditional", "-passout", "file:"+passFile, "-out", "client-legacy.key")
	f.legacyKey = filepath.Join(dir, "client-legacy.key")
	f.legacyCert = issue(t, dir, "client-legacy", "legacy-src.key", nil, clientExt, 2)
	for path, want := range map[string]string{f.pkcs8Key: "BEGIN ENCRYPTED PRIVATE KEY", f.legacyKey: "Proc-Type: 4,ENCRYPTED", f.plainKey: "BEGIN PRIVATE KEY"} {
		if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), want) {
			t.Fatalf("%s does not hold %q (%v)", path, want, err)
		}
	}

	echo, err := echoserver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("echo server: %v", err)
	}
	t.Cleanup(func() { _ = echo.Close() })

	f.good, f.wrongName, f.expired = freePort(t), freePort(t), freePort(t)
	startNginx(t, dir, echo.Addr().String(), map[int]string{f.good: "server.pem", f.wrongName: "wrongname.pem", f.expired: "expired.pem"})
	return f
}

// nginxConf is the configuration: one server block per port, all requiring a client
// certificate issued by ca.pem and proxying WebSockets to the echo server.
const nginxConf = `daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    upstream echo { server %[2]s; }
%[3]s}
`

// nginxServer is one server block: port, certificate file.
const nginxServer = `    server {
        listen 127.0.0.1:%[2]d ssl;
        ssl_certificate %[1]s/%[3]s;
        ssl_certificate_key %[1]s/server.key;
        ssl_client_certificate %[1]s/ca.pem;
        ssl_verify_client on;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {
            proxy_pass http://echo;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_read_timeout 60s;
        }
    }
`

// startNginx runs nginx in the foreground with a configuration in dir serving the given
// ports (port -> certificate file), waits until every port accepts connections, and stops it
// at cleanup. Failing to start fails the test.
func startNginx(t *testing.T, dir, upstream string, ports map[int]string) {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/nginx"); statErr != nil {
			t.Fatalf("nginx is not installed (run interop/install.sh): %v", err)
		}
		bin = "/usr/sbin/nginx"
	}
	var servers strings.Builder
	for port, cert := range ports {
		fmt.Fprintf(&servers, nginxServer, dir, port, cert)
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, fmt.Appendf(nil, nginxConf, dir, upstream, servers.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confPath)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = peerStopTimeout
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting nginx: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	errorLog := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return out.String() + string(b)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT) // graceful shutdown
		select {
		case <-exited:
		case <-time.After(peerStopTimeout):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("nginx did not stop within %v; killed", peerStopTimeout)
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("nginx output and error log:\n%s", errorLog())
		}
	})

	deadline := time.Now().Add(peerStartTimeout)
	for port := range ports {
		for {
			c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
			if err == nil {
				_ = c.Close()
				break
			}
			select {
			case err := <-exited:
				exited <- err
				t.Fatalf("nginx exited at start (%v):\n%s", err, errorLog())
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("nginx does not listen on port %d after %v:\n%s", port, peerStartTimeout, errorLog())
			}
		}
	}
}

// url returns the wss URL of port on 127.0.0.1.
func (f *tlsFixture) url(port int) string {
	return "wss://127.0.0.1:" + strconv.Itoa(port) + "/"
}

// dialTLS dials port with the blocking API and a config built by tlsconf.
func (f *tlsFixture) dialTLS(ctx context.Context, t *testing.T, port int, o tlsconf.Options) (*client.Conn, error) {
	t.Helper()
	cfg, err := tlsconf.Build(o)
	if err != nil {
		t.Fatalf("tlsconf.Build: %v", err)
	}
	c, _, err := client.Dial(ctx, f.url(port), &client.DialOptions{TLSConfig: cfg})
	if err == nil {
		t.Cleanup(func() { _ = c.CloseNow() })
	}
	return c, err
}

// clientKeys are the three client key forms: name, certificate, key, password (nil: none).
func (f *tlsFixture) clientKeys() []struct {
	name, cert, key string
	password        *string
} {
	pw := keyPassword
	return []struct {
		name, cert, key string
		password        *string
	}{
		{"unencrypted PKCS#8", f.plainCert, f.plainKey, nil},
		{"encrypted PKCS#8", f.pkcs8Cert, f.pkcs8Key, &pw},
		{"legacy encrypted PEM", f.legacyCert, f.legacyKey, &pw},
	}
}

func TestTLSNginxClientCertificatesEcho(t *testing.T) {
	f := newTLSFixture(t)
	for _, k := range f.clientKeys() {
		t.Run("Dial/"+k.name, func(t *testing.T) {
			ctx := testContext(t)
			o := tlsconf.Options{CAPath: f.caPath, CertPath: k.cert, KeyPath: k.key}
			if k.password != nil {
				o.KeyPassword = []byte(*k.password)
			}
			c, err := f.dialTLS(ctx, t, f.good, o)
			if err != nil {
				t.Fatalf("Dial through nginx: %v", err)
			}
			roundTrip(ctx, t, c, conn.Text, []byte("hello over TLS with "+k.name))
			roundTrip(ctx, t, c, conn.Binary, payload(conn.Binary, 1<<20))
			closeNormally(ctx, t, c, 1000, "")
		})
		t.Run("facade/"+k.name, func(t *testing.T) {
			ctx := testContext(t)
			fc := newFacade(t)
			o := requestOptions()
			o.CAPath = f.caPath
			o.ClientCert = &client.WebSocketClientCert{CertPath: k.cert, KeyPath: k.key, KeyPassword: k.password}
			fc.connect(ctx, t, &peer{name: "nginx", url: strings.TrimSuffix(f.url(f.good), "/")}, "/", o)
			fc.send(t, client.StringData("seed API over TLS"))
			if typ, got := fc.message(ctx, t); typ != conn.Text || string(got) != "seed API over TLS" {
				t.Fatalf("echo %v %q", typ, got)
			}
			fc.closeNormally(ctx, t, 1000, "")
		})
	}
	t.Run("TLS 1.3 minimum", func(t *testing.T) {
		ctx := testContext(t)
		c, err := f.dialTLS(ctx, t, f.good, tlsconf.Options{CAPath: f.caPath, CertPath: f.plainCert, KeyPath: f.plainKey, MinVersion: 0x0304})
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		roundTrip(ctx, t, c, conn.Text, []byte("1.3"))
		closeNormally(ctx, t, c, 1000, "")
	})
}

func TestTLSNginxFailuresAreClear(t *testing.T) {
	f := newTLSFixture(t)
	withCert := tlsconf.Options{CAPath: f.caPath, CertPath: f.plainCert, KeyPath: f.plainKey}

	t.Run("wrong CA", func(t *testing.T) {
		o := withCert
		o.CAPath = f.otherCAPath
		_, err := f.dialTLS(testContext(t), t, f.good, o)
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) {
			t.Fatalf("err = %v, want x509.UnknownAuthorityError", err)
		}
		t.Logf("wrong CA: %v", err)
	})
	t.Run("wrong host name", func(t *testing.T) {
		_, err := f.dialTLS(testContext(t), t, f.wrongName, withCert)
		var he x509.HostnameError
		if !errors.As(err, &he) || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Fatalf("err = %v, want x509.HostnameError for 127.0.0.1", err)
		}
		t.Logf("wrong host name: %v", err)
	})
	t.Run("wrong host name accepted when verification is skipped", func(t *testing.T) {
		o := withCert
		o.InsecureSkipVerify = true
		ctx := testContext(t)
		c, err := f.dialTLS(ctx, t, f.wrongName, o)
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		roundTrip(ctx, t, c, conn.Text, []byte("unverified"))
		closeNormally(ctx, t, c, 1000, "")
	})
	t.Run("expired server certificate", func(t *testing.T) {
		_, err := f.dialTLS(testContext(t), t, f.expired, withCert)
		var ie x509.CertificateInvalidError
		if !errors.As(err, &ie) || ie.Reason != x509.Expired {
			t.Fatalf("err = %v, want x509.CertificateInvalidError (Expired)", err)
		}
		t.Logf("expired: %v", err)
	})
	t.Run("no client certificate", func(t *testing.T) {
		_, err := f.dialTLS(testContext(t), t, f.good, tlsconf.Options{CAPath: f.caPath})
		var se *handshake.StatusError
		if !errors.As(err, &se) || se.StatusCode != 400 {
			t.Fatalf("err = %v, want a handshake status error 400", err)
		}
		// nginx explains the 400 in its body.
		if !strings.Contains(string(se.Body), "No required SSL certificate") {
			t.Errorf("400 body %q does not say that the certificate is missing", se.Body)
		}
		t.Logf("no client certificate: %v", err)
	})
	t.Run("facade: wrong CA is error 2302999 with the cause", func(t *testing.T) {
		ctx := testContext(t)
		fc := newFacade(t)
		o := requestOptions()
		o.CAPath = f.otherCAPath
		o.ClientCert = &client.WebSocketClientCert{CertPath: f.plainCert, KeyPath: f.plainKey}
		if err := fc.ws.Connect(f.url(f.good), o, nil); err != nil {
			t.Fatalf("Connect: %v", err)
		}
		e := fc.expect(ctx, t, client.EventError)
		var ua x509.UnknownAuthorityError
		if e.err == nil || client.CodeOf(e.err) != client.CodeOtherError || !errors.As(e.err, &ua) {
			t.Fatalf("ERROR %v, want 2302999 wrapping x509.UnknownAuthorityError", e.err)
		}
	})
	t.Run("facade: wrong password and missing key", func(t *testing.T) {
		fc := newFacade(t)
		bad := "not the password"
		o := requestOptions()
		o.CAPath = f.caPath
		o.ClientCert = &client.WebSocketClientCert{CertPath: f.pkcs8Cert, KeyPath: f.pkcs8Key, KeyPassword: &bad}
		ctx := testContext(t)
		if err := fc.ws.Connect(f.url(f.good), o, nil); err != nil {
			if !errors.Is(err, tlsconf.ErrWrongPassword) {
				t.Fatalf("Connect: %v, want tlsconf.ErrWrongPassword", err)
			}
		} else {
			if e := fc.expect(ctx, t, client.EventError); !errors.Is(e.err, tlsconf.ErrWrongPassword) || client.CodeOf(e.err) != client.CodeOtherError {
				t.Fatalf("ERROR %v, want 2302999 wrapping tlsconf.ErrWrongPassword", e.err)
			}
			fc.expect(ctx, t, client.EventClose) // the attempt is over: Connect may be called again
			fc.closed = false
		}
		o.ClientCert = &client.WebSocketClientCert{CertPath: f.pkcs8Cert, KeyPath: filepath.Join(f.dir, "missing.key")}
		err := fc.ws.Connect(f.url(f.good), o, nil)
		if err == nil {
			e := fc.expect(ctx, t, client.EventError)
			err = e.err
		}
		if client.CodeOf(err) != client.CodeFileNotExist {
			t.Fatalf("missing key: %v, want code 2302002", err)
		}
	})
}
