package conn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/netkit/websocket/frame"
)

// tcpPair returns the two ends of a loopback TCP connection; both are closed at the end of
// the test.
func tcpPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { client.Close(); r.c.Close() })
	return client, r.c
}

// connPair returns our client and our server over loopback TCP (no opening handshake: New
// does not need one).
func connPair(t testing.TB, ccfg, scfg *Config) (client, server *Conn) {
	t.Helper()
	cn, sn := tcpPair(t)
	if ccfg == nil {
		ccfg = &Config{}
	}
	if scfg == nil {
		scfg = &Config{}
	}
	cc, sc := *ccfg, *scfg
	cc.Role, sc.Role = frame.RoleClient, frame.RoleServer
	return New(cn, nil, &cc), New(sn, nil, &sc)
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// clientHandshake performs a minimal opening handshake (§4.1) on nc and returns the bytes read
// past the response.
func clientHandshake(nc net.Conn) ([]byte, error) {
	var kb [16]byte
	rand.Read(kb[:])
	key := base64.StdEncoding.EncodeToString(kb[:])
	req := "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		return nil, err
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != acceptKey(key) {
		return nil, fmt.Errorf("accept %q", got)
	}
	prefix, _ := br.Peek(br.Buffered())
	return bytes.Clone(prefix), nil
}

// serverHandshake performs a minimal opening handshake (§4.2) on nc and returns the bytes read
// past the request.
func serverHandshake(nc net.Conn) ([]byte, error) {
	br := bufio.NewReader(nc)
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	if key == "" {
		return nil, errors.New("no key")
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
	if _, err := io.WriteString(nc, resp); err != nil {
		return nil, err
	}
	prefix, _ := br.Peek(br.Buffered())
	return bytes.Clone(prefix), nil
}

// gobwasServer accepts one connection on a loopback listener, upgrades it with gobwas/ws and
// runs serve on it in a goroutine. It returns our client Conn, after our manual handshake,
// and a channel that receives serve's error when it returns.
func gobwasServer(t *testing.T, cfg *Config, serve func(nc net.Conn) error) (*Conn, chan error) {
	t.Helper()
	cn, sn := tcpPair(t)
	done := make(chan error, 1)
	go func() {
		if _, err := ws.Upgrade(sn); err != nil {
			done <- err
			return
		}
		done <- serve(sn)
	}()
	prefix, err := clientHandshake(cn)
	if err != nil {
		t.Fatal(err)
	}
	c := Config{}
	if cfg != nil {
		c = *cfg
	}
	c.Role = frame.RoleClient
	return New(cn, prefix, &c), done
}

// gobwasClient dials our server, upgraded by the manual server handshake, with gobwas/ws's
// Dialer. It returns the gobwas side (reads go through rd, which holds bytes gobwas buffered)
// and our server Conn.
func gobwasClient(t *testing.T, cfg *Config) (nc net.Conn, rd io.Reader, server *Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   *Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		sn, err := ln.Accept()
		if err != nil {
			ch <- res{nil, err}
			return
		}
		prefix, err := serverHandshake(sn)
		if err != nil {
			sn.Close()
			ch <- res{nil, err}
			return
		}
		c := Config{}
		if cfg != nil {
			c = *cfg
		}
		c.Role = frame.RoleServer
		ch <- res{New(sn, prefix, &c), nil}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, "ws://"+ln.Addr().String()+"/echo")
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { conn.Close(); r.c.CloseNow() })
	rd = conn
	if br != nil {
		rd = io.MultiReader(br, conn)
	}
	return conn, rd, r.c
}

// echo serves messages back on c until a read fails, and returns that error.
func echo(c *Conn) error {
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(context.Background(), buf)
		if err != nil {
			return err
		}
		if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
			return err
		}
		buf = msg
	}
}

// goEcho runs echo on c in a goroutine and returns a channel with its result.
func goEcho(c *Conn) chan error {
	ch := make(chan error, 1)
	go func() { ch <- echo(c) }()
	return ch
}

// payloadOf returns n deterministic bytes; for text they are ASCII with some multi-byte
// runes, valid UTF-8.
func payloadOf(n int, text bool, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i+int(seed))%26
	}
	if text {
		for i := 0; i+2 < n; i += 97 {
			copy(b[i:], "é") // 2 bytes
		}
	} else {
		for i := range b {
			b[i] ^= byte(i >> 8)
		}
	}
	return b
}

var testSizes = []int{0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%1024 == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// rawFrame encodes a frame with any header fields; a masked frame gets the key 1 2 3 4.
func rawFrame(fin bool, rsv byte, op frame.Opcode, masked bool, payload []byte) []byte {
	h := frame.Header{Fin: fin, Rsv: rsv, Op: op, Masked: masked, Length: int64(len(payload))}
	if masked {
		h.Key = [4]byte{1, 2, 3, 4}
	}
	b := frame.AppendHeader(nil, &h)
	off := len(b)
	b = append(b, payload...)
	if masked {
		for i := range payload {
			b[off+i] ^= h.Key[i&3]
		}
	}
	return b
}

// readCloseFrame reads frames from r (a peer of role peerRole) until a close frame, and
// returns its code and reason. It skips other frames.
func readCloseFrame(r io.Reader, peerRole frame.Role) (frame.CloseCode, string, error) {
	fr := frame.NewReader(r, peerRole, 0)
	defer fr.Release()
	for {
		h, err := fr.NextFrame()
		if err != nil {
			return 0, "", err
		}
		if h.Op != frame.OpClose {
			continue
		}
		p, err := fr.Payload()
		if err != nil {
			return 0, "", err
		}
		code, reason, err := frame.ParseClose(p)
		return code, string(reason), err
	}
}

// waitErr receives from ch or fails after d.
func waitErr(t *testing.T, ch <-chan error, d time.Duration) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(d):
		t.Fatalf("timed out after %v", d)
		return nil
	}
}

// wantClose checks that err is a *CloseError with the code and remote flag.
func wantClose(t *testing.T, err error, code frame.CloseCode, remote bool) *CloseError {
	t.Helper()
	var ce *CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v (%T), want *CloseError %v", err, err, code)
	}
	if ce.Code != code || ce.Remote != remote {
		t.Fatalf("got %v (remote %v), want %v (remote %v)", ce, ce.Remote, code, remote)
	}
	return ce
}

var _ sync.Mutex

// wrappedConn is a net.Conn wrapping another, as a proxy tunnel or a metering layer would.
type wrappedConn struct{ net.Conn }
