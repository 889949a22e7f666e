package client_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/frame"
	"github.com/netkit/websocket/handshake"
)

// A WebSocket over HTTP/2 (RFC 8441), both ends ours: net/http serves HTTP/2 over TLS and
// handshake.Upgrader.UpgradeHTTP2 accepts the extended CONNECT; Dial opens it with
// HTTP2Required. The answer is 200 OK, not 101. net/http's server allows extended CONNECT
// only in a process started with GODEBUG=http2xconnect=1 (this package's tests re-execute
// themselves with it).
func ExampleDial_http2() {
	var up handshake.Upgrader
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, _, proto, err := up.UpgradeHTTP2(w, r)
		if err != nil {
			return // refused: UpgradeHTTP2 answered already
		}
		// The handler serves the WebSocket: the stream ends when it returns.
		c := conn.New(nc, nil, &conn.Config{Role: frame.RoleServer, Subprotocol: proto})
		defer c.CloseNow()
		for {
			typ, p, err := c.ReadMessage(r.Context(), nil)
			if err != nil || c.WriteMessage(r.Context(), typ, p) != nil {
				return
			}
		}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	ctx := context.Background()
	c, resp, err := client.Dial(ctx, "wss://"+srv.Listener.Addr().String()+"/chat", &client.DialOptions{
		HTTP2:     client.HTTP2Required, // or HTTP2Auto: HTTP/1.1 when the server cannot
		TLSConfig: &tls.Config{RootCAs: roots},
		Proxy:     client.ProxyDirect,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode, resp.Status)
	_ = c.WriteMessage(ctx, conn.Text, []byte("hello over HTTP/2"))
	_, p, err := c.ReadMessage(ctx, nil)
	fmt.Println(string(p), err)
	fmt.Println(c.Close(frame.CloseNormal, "bye"))
	client.CloseIdleHTTP2Connections() // the HTTP/2 connection outlives its WebSockets
	// Output:
	// 200 OK
	// hello over HTTP/2 <nil>
	// <nil>
}
