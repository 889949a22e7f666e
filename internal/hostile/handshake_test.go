package hostile_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/handshake"
	"github.com/netkit/websocket/internal/hostile"
)

// hsScenario is a broken opening handshake (§4.1): the server's response, and the check of the
// error both APIs must report. The facade reports ERROR 2302999 wrapping that error, then
// CLOSE 1006; the blocking API returns it from Dial. The server then checks that the client
// closes the TCP connection.
type hsScenario struct {
	name     string
	hs       hostile.Handshake
	protocol string // subprotocol offered; "" for none
	check    func(err error) error
}

func isErr(target error) func(error) error {
	return func(err error) error {
		if !errors.Is(err, target) {
			return fmt.Errorf("error %v, want %v", err, target)
		}
		return nil
	}
}

func statusErr(code int, check func(*handshake.StatusError) error) func(error) error {
	return func(err error) error {
		var se *handshake.StatusError
		if !errors.As(err, &se) {
			return fmt.Errorf("error %v, want a *handshake.StatusError", err)
		}
		if se.StatusCode != code {
			return fmt.Errorf("status %d, want %d", se.StatusCode, code)
		}
		return check(se)
	}
}

const upgradeOK = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"

// TestClientHandshakeConformance: what a client must refuse in the server's opening handshake
// response (§4.1 items 1-6, §4.2.2) and how both APIs report a non-101 status.
func TestClientHandshakeConformance(t *testing.T) {
	table := []hsScenario{
		{name: "§4.1 wrong Sec-WebSocket-Accept", check: isErr(handshake.ErrBadAccept),
			hs: hostile.Raw(upgradeOK + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")},
		{name: "§4.1 missing Sec-WebSocket-Accept", check: isErr(handshake.ErrBadAccept),
			hs: hostile.Raw(upgradeOK + "\r\n")},
		{name: "§4.1 Sec-WebSocket-Accept twice", check: isErr(handshake.ErrBadAccept),
			hs: hostile.Raw(upgradeOK + "Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")},
		{name: "§4.1 missing Upgrade", check: isErr(handshake.ErrNoUpgrade),
			hs: hostile.Raw("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")},
		{name: "§4.1 Upgrade that is not websocket", check: isErr(handshake.ErrNoUpgrade),
			hs: hostile.Raw("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")},
		{name: "§4.1 missing Connection", check: isErr(handshake.ErrNoConnection),
			hs: hostile.Raw("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")},
		{name: "§4.1 Connection without upgrade", check: isErr(handshake.ErrNoConnection),
			hs: hostile.Raw("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")},
		{name: "§4.1 101 with a subprotocol not offered", protocol: "chat", check: isErr(handshake.ErrUnofferedSubprotocol),
			hs: hostile.Accept("Sec-WebSocket-Protocol: superchat")},
		{name: "§4.1 101 with a subprotocol when none was offered", check: isErr(handshake.ErrUnofferedSubprotocol),
			hs: hostile.Accept("Sec-WebSocket-Protocol: chat")},
		{name: "§4.1 101 selecting two subprotocols", protocol: "chat", check: isErr(handshake.ErrUnofferedSubprotocol),
			hs: hostile.Accept("Sec-WebSocket-Protocol: chat, superchat")},
		{name: "§4.1 101 repeating Sec-WebSocket-Protocol", protocol: "chat", check: isErr(handshake.ErrUnofferedSubprotocol),
			hs: hostile.Accept("Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat")},
		{name: "§4.1 obsolete line folding", check: isErr(handshake.ErrMalformedResponse),
			hs: hostile.Raw(upgradeOK + "X-Fold: a\r\n b\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")},
		{name: "§4.1 NUL in a header value", check: isErr(handshake.ErrMalformedResponse),
			hs: hostile.Raw(upgradeOK + "X-Nul: a\x00b\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")},
		{name: "§4.1 non-101 body kept up to MaxErrorBody", check: statusErr(503, func(se *handshake.StatusError) error {
			if len(se.Body) != handshake.MaxErrorBody || se.Body[0] != 'x' {
				return fmt.Errorf("body of %d bytes, want %d", len(se.Body), handshake.MaxErrorBody)
			}
			return nil
		}), hs: hostile.Raw("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 10000\r\n\r\n" + strings.Repeat("x", 10000))},
		{name: "§4.1 101 with an extension not offered", check: isErr(handshake.ErrUnofferedExtension),
			hs: hostile.Accept("Sec-WebSocket-Extensions: permessage-deflate")},
		{name: "§4.1 101 over HTTP/1.0", check: isErr(handshake.ErrMalformedResponse),
			hs: hostile.Raw("HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")},
		{name: "§4.1 not HTTP at all", check: isErr(handshake.ErrMalformedResponse),
			hs: hostile.Raw("SSH-2.0-OpenSSH_9.6\r\n\r\n")},
		{name: "§4.1 header line over the 8 KiB limit", check: isErr(handshake.ErrHeaderTooLarge),
			hs: hostile.Raw(upgradeOK + "X-Big: " + strings.Repeat("b", 9000) + "\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")},
		{name: "§4.1 more header fields than the limit", check: isErr(handshake.ErrHeaderTooLarge),
			hs: hostile.Raw(upgradeOK + strings.Repeat("X-Many: m\r\n", 200) + "Sec-WebSocket-Accept: {accept}\r\n\r\n")},
		{name: "§4.1 non-101 status with a body", check: statusErr(403, func(se *handshake.StatusError) error {
			if string(se.Body) != "go away\n" || se.Status != "Forbidden" {
				return fmt.Errorf("status %q, body %q", se.Status, se.Body)
			}
			return nil
		}), hs: hostile.Raw("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\ngo away\n")},
		{name: "§4.1 redirect reported with its Location", check: statusErr(302, func(se *handshake.StatusError) error {
			if se.Location != "ws://127.0.0.1:1/elsewhere" || !strings.Contains(se.Error(), "redirect") {
				return fmt.Errorf("location %q, error %q", se.Location, se.Error())
			}
			return nil
		}), hs: hostile.Raw("HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n")},
		{name: "§4.1 connection closed inside the response", check: func(err error) error {
			if !strings.Contains(err.Error(), "EOF") {
				return fmt.Errorf("error %v, want an unexpected EOF", err)
			}
			return nil
		}, hs: hostile.Raw("HTTP/1.1 101 Switching Protocols\r\nUpgrade: webso")},
	}
	for _, sc := range table {
		t.Run(sc.name, func(t *testing.T) {
			for i, m := range allModes {
				t.Run(m.String(), func(t *testing.T) {
					t.Run("facade", func(t *testing.T) { runHandshakeFacade(t, sc, m, uint64(i+1)) })
					t.Run("blocking", func(t *testing.T) { runHandshakeBlocking(t, sc, m, uint64(i+1)) })
				})
			}
		})
	}
}

// hsScript: after its response the server waits for the client to close TCP. A response cut
// short is followed by the server closing TCP itself.
func hsScript(sc hsScenario) hostile.Script {
	if strings.HasSuffix(sc.name, "inside the response") {
		return hostile.Script{hostile.CloseTCP()}
	}
	return hostile.Script{hostile.Hang(hostile.StepTimeout)}
}

func runHandshakeFacade(t *testing.T, sc hsScenario, m hostile.Mode, seed uint64) {
	srv, err := hostile.Start(sc.hs, hsScript(sc), m, seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	ws := client.CreateWebSocket()
	r := newRecorder(t, ws, false)
	opts := &client.WebSocketRequestOptions{Proxy: client.NoProxy{}, Protocol: sc.protocol}
	if err := ws.Connect(srv.URL, opts, nil); err != nil {
		t.Fatal(err)
	}
	got := r.waitClose(t, runBound)
	if want := []string{fmt.Sprintf("ERROR %d", client.CodeOtherError), "CLOSE 1006"}; !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	if err := sc.check(r.errs[0]); err != nil {
		t.Error("ERROR event:", err)
	}
	if !strings.HasPrefix(r.closeRes.Reason, "connect failed: ") {
		t.Errorf("CLOSE reason %q, want it to say the connect failed", r.closeRes.Reason)
	}
	checkServer(t, srv)
}

func runHandshakeBlocking(t *testing.T, sc hsScenario, m hostile.Mode, seed uint64) {
	srv, err := hostile.Start(sc.hs, hsScript(sc), m, seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	o := &client.DialOptions{HandshakeTimeout: runBound, PingInterval: -1}
	if sc.protocol != "" {
		o.Subprotocols = []string{sc.protocol}
	}
	c, _, err := client.Dial(context.Background(), srv.URL, o)
	if err == nil {
		c.CloseNow()
		t.Fatal("Dial succeeded")
	}
	if err := sc.check(err); err != nil {
		t.Error("Dial:", err)
	}
	checkServer(t, srv)
}

// TestClientHandshakeServerNeverAnswers: a server that accepts TCP and never answers the
// opening handshake. The blocking API gives up after HandshakeTimeout with
// context.DeadlineExceeded; the facade, whose options have no handshake timeout (it uses
// client.DefaultHandshakeTimeout, 30 s), gives up when Close abandons the attempt: CLOSE 1006
// without ERROR. Either way the client closes the TCP connection.
func TestClientHandshakeServerNeverAnswers(t *testing.T) {
	const timeout = 300 * time.Millisecond
	t.Run("blocking", func(t *testing.T) {
		srv, err := hostile.Start(nil, hostile.Script{hostile.Hang(hostile.StepTimeout)}, hostile.Whole, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		begin := time.Now()
		c, _, err := client.Dial(context.Background(), srv.URL, &client.DialOptions{HandshakeTimeout: timeout, PingInterval: -1})
		took := time.Since(begin)
		if err == nil {
			c.CloseNow()
			t.Fatal("Dial succeeded")
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Dial error %v, want context.DeadlineExceeded", err)
		}
		if took < timeout || took > timeout+slack {
			t.Errorf("Dial returned after %v, want about %v", took, timeout)
		}
		checkServer(t, srv)
	})
	t.Run("facade", func(t *testing.T) {
		srv, err := hostile.Start(nil, hostile.Script{hostile.Hang(hostile.StepTimeout)}, hostile.Whole, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		ws := client.CreateWebSocket()
		r := newRecorder(t, ws, true)
		if err := ws.Connect(srv.URL, &client.WebSocketRequestOptions{Proxy: client.NoProxy{}}, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(timeout)
		if err := ws.Close(nil, nil); err != nil {
			t.Fatal(err)
		}
		got := r.waitClose(t, runBound)
		if want := []string{"CLOSE 1006 connection attempt abandoned by Close"}; !slices.Equal(got, want) {
			t.Fatalf("events %q, want %q", got, want)
		}
		checkServer(t, srv)
	})
}
