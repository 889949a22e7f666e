package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/netkit/websocket/client"
)

// The blocking API needs only package client for ordinary use: Dial, the message types, the
// close codes, CloseError and StatusError (besides the test server, this file imports nothing
// else of this module).
func TestBlockingAPIWithOneImport(t *testing.T) {
	url, stop := startEchoServer()
	defer stop()
	ctx := context.Background()
	c, resp, err := client.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	var _ *client.Response = resp
	if err := c.WriteMessage(ctx, client.Text, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	typ, p, err := c.ReadMessage(ctx, nil)
	if err != nil || typ != client.Text || string(p) != "hello" {
		t.Fatalf("ReadMessage = %v, %q, %v; want Text, hello", typ, p, err)
	}
	if err := c.Ping(ctx, []byte("p")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(client.CloseNormal, "bye"); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ReadMessage(ctx, nil)
	var ce *client.CloseError
	if !errors.As(err, &ce) || ce.Code != client.CloseNormal {
		t.Fatalf("ReadMessage after Close = %v, want a *client.CloseError with 1000", err)
	}

	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer refuse.Close()
	_, _, err = client.Dial(ctx, "ws"+strings.TrimPrefix(refuse.URL, "http"), nil)
	var se *client.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
		t.Fatalf("Dial to a server that answers 403 = %v, want a *client.StatusError with 403", err)
	}
}

// go doc lists every method of client.Conn, the engine's included (methods promoted from an
// embedded field are not listed by go doc).
func TestGoDocListsEveryConnMethod(t *testing.T) {
	out, err := exec.Command("go", "doc", "github.com/netkit/websocket/client", "Conn").CombinedOutput()
	if err != nil {
		t.Fatalf("go doc: %v\n%s", err, out)
	}
	for _, m := range []string{"ReadMessage", "NextReader", "WriteMessage", "NextWriter", "Ping", "Pong",
		"Close", "CloseNow", "Enqueue", "EnqueueCopy", "Buffered", "Subprotocol", "Response",
		"SetDeadline", "SetReadDeadline", "SetWriteDeadline", "LocalAddr", "RemoteAddr", "NetConn"} {
		if !strings.Contains(string(out), "func (c *Conn) "+m+"(") {
			t.Errorf("go doc client.Conn does not list %s", m)
		}
	}
}
