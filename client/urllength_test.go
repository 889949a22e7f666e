package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/internal/wstest"
)

// The platform's URL limit (issue 12): up to 2048 bytes; longer is 2302001.

// longURL returns base followed by a query that makes the URL exactly n bytes long.
func longURL(t *testing.T, base string, n int) string {
	t.Helper()
	u := base + "?q="
	if len(u) > n {
		t.Fatalf("base URL of %d bytes is longer than %d", len(u), n)
	}
	return u + strings.Repeat("x", n-len(u))
}

func TestRealURLOf2048BytesIsAcceptedAnd2049Refused(t *testing.T) {
	srv := wstest.New(t, echo)
	ws := CreateWebSocket()
	r := newRecorder(t, ws)

	// 2048 bytes: a real connection, and the server sees the whole request target.
	u := longURL(t, srv.URL, 2048)
	if len(u) != 2048 {
		t.Fatalf("URL of %d bytes", len(u))
	}
	if err := ws.Connect(u, realOptions(), r.asyncCB("CONNECT")); err != nil {
		t.Fatalf("URL of 2048 bytes: %v", err)
	}
	r.expect("CONNECT true", "HEADERRECEIVE ", "OPEN 1 Switching Protocols")
	if req := <-srv.Requests; !strings.HasSuffix(u, req.Target) || len(req.Target) < 2000 {
		t.Fatalf("server saw target of %d bytes", len(req.Target))
	}
	_ = ws.Send(StringData("long url"), nil)
	r.expect("MESSAGE text long url", "DATAEND")
	_ = ws.Close(nil, nil)
	r.until("CLOSE 1000")

	// 2049 bytes: Connect returns 2302001, the callback reports it, nothing else happens.
	u = longURL(t, srv.URL, 2049)
	err := ws.Connect(u, realOptions(), r.asyncCB("CONNECT"))
	if CodeOf(err) != CodeURLError || !strings.Contains(err.Error(), "2049") {
		t.Fatalf("URL of 2049 bytes: %v, want 2302001", err)
	}
	r.expect("CONNECT 2302001 URL of 2049 bytes is longer than 2048")
	wait(t, ws)
	select {
	case e := <-r.events:
		t.Fatalf("event after a refused Connect: %q", e)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestRealDialURLOf2048BytesIsAcceptedAnd2049Refused(t *testing.T) {
	srv := wstest.New(t, echo)
	ctx := context.Background()
	c, _, err := Dial(ctx, longURL(t, srv.URL, 2048), &DialOptions{PingInterval: -1})
	if err != nil {
		t.Fatalf("URL of 2048 bytes: %v", err)
	}
	if err := c.WriteMessage(ctx, conn.Text, []byte("long")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.ReadMessage(ctx, nil); err != nil || string(p) != "long" {
		t.Fatalf("%q %v", p, err)
	}
	if err := c.Close(frame.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	if req := <-srv.Requests; len(req.Target) < 2000 {
		t.Fatalf("server saw target of %d bytes", len(req.Target))
	}

	_, _, err = Dial(ctx, longURL(t, srv.URL, 2049), nil)
	var ae *AsyncError
	if !errors.As(err, &ae) || ae.Code != CodeURLError {
		t.Fatalf("URL of 2049 bytes: %v, want an *AsyncError 2302001", err)
	}
	select {
	case req := <-srv.Requests:
		t.Fatalf("a handshake was made for a refused URL: %q", req.Target[:20])
	default:
	}
}
