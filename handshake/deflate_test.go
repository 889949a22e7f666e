package handshake

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/netkit/websocket/deflate"
)

func TestRequestOffersDeflateFirst(t *testing.T) {
	r := Request{Host: "example.com", Deflate: &deflate.ClientOptions{ServerNoContextTakeover: true, ServerMaxWindowBits: 10}, Extensions: []string{"x-foo"}}
	b, err := r.Append(nil, sampleKey)
	if err != nil {
		t.Fatal(err)
	}
	want := "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits, x-foo\r\n"
	if !strings.Contains(string(b), want) {
		t.Errorf("request:\n%s\nwant the line %q", b, want)
	}
	r = Request{Host: "example.com", Deflate: &deflate.ClientOptions{}}
	if b, _ = r.Append(nil, sampleKey); !strings.Contains(string(b), "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n") {
		t.Errorf("default offer:\n%s", b)
	}
}

func TestRequestCheckRefusesBadDeflateOptions(t *testing.T) {
	r := Request{Host: "example.com", Deflate: &deflate.ClientOptions{ClientMaxWindowBits: 16}}
	if err := r.Check(); !errors.Is(err, ErrInvalidRequest) || !errors.Is(err, deflate.ErrInvalidValue) || !strings.Contains(err.Error(), "client_max_window_bits") {
		t.Errorf("bad window bits: %v", err)
	}
	r = Request{Host: "example.com", Deflate: &deflate.ClientOptions{}, Extensions: []string{"x-foo", "permessage-deflate; client_no_context_takeover"}}
	if err := r.Check(); !errors.Is(err, ErrInvalidHeader) {
		t.Errorf("permessage-deflate offered twice: %v", err)
	}
}

// TestReadResponseChecksDeflateAnswer runs the client's RFC 7692 §7.1 checks through
// ReadResponse (the table of every case is in package deflate).
func TestReadResponseChecksDeflateAnswer(t *testing.T) {
	req := &Request{Host: "example.com", Deflate: &deflate.ClientOptions{ServerMaxWindowBits: 12}, Extensions: []string{"x-foo"}}
	tests := []struct {
		name    string
		ext     string // Sec-WebSocket-Extensions lines, "" for none
		want    *deflate.Parameters
		wantErr error
	}{
		{"declined", "", nil, nil},
		{"accepted", "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10; client_max_window_bits=9\r\n",
			&deflate.Parameters{ServerMaxWindowBits: 10, ClientMaxWindowBits: 9}, nil},
		{"accepted beside another extension, quoted", "Sec-WebSocket-Extensions: x-foo\r\nSec-WebSocket-Extensions: PERMESSAGE-DEFLATE; server_max_window_bits=\"12\"\r\n",
			&deflate.Parameters{ServerMaxWindowBits: 12}, nil},
		{"unknown parameter", "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10; foo\r\n", nil, deflate.ErrUnknownParameter},
		{"window larger than asked", "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=13\r\n", nil, deflate.ErrUnacceptableResponse},
		{"server_max_window_bits missing", "Sec-WebSocket-Extensions: permessage-deflate\r\n", nil, deflate.ErrUnacceptableResponse},
		{"two elements", "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, permessage-deflate; server_max_window_bits=10\r\n", nil, ErrBadDeflateResponse},
		{"extension not offered", "Sec-WebSocket-Extensions: x-bar\r\n", nil, ErrUnofferedExtension},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := ReadResponse(bufio.NewReader(strings.NewReader(ok101+tt.ext+"\r\n")), req, sampleKey, nil)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr != ErrUnofferedExtension && !errors.Is(err, ErrBadDeflateResponse) {
					t.Errorf("error %v does not wrap ErrBadDeflateResponse", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (resp.Deflate == nil) != (tt.want == nil) || tt.want != nil && *resp.Deflate != *tt.want {
				t.Fatalf("Deflate = %+v, want %+v", resp.Deflate, tt.want)
			}
		})
	}
}

// TestWithoutDeflateNothingChanges: with Request.Deflate and Upgrader.Deflate nil, a
// permessage-deflate element is the opaque extension it always was: accepted by name when
// offered through Extensions, refused when not offered, never answered by the server.
func TestWithoutDeflateNothingChanges(t *testing.T) {
	req := &Request{Host: "example.com", Extensions: []string{"permessage-deflate"}}
	resp, err := ReadResponse(bufio.NewReader(strings.NewReader(ok101+"Sec-WebSocket-Extensions: permessage-deflate; foo=1\r\n\r\n")), req, sampleKey, nil)
	if err != nil || resp.Deflate != nil || len(resp.Extensions) != 1 {
		t.Errorf("opaque extension: %v, %+v", err, resp)
	}
	_, err = ReadResponse(bufio.NewReader(strings.NewReader(ok101+"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")), &Request{Host: "example.com"}, sampleKey, nil)
	if !errors.Is(err, ErrUnofferedExtension) {
		t.Errorf("unoffered: %v", err)
	}
	var out strings.Builder
	in := "GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + sampleKey +
		"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
	sreq, _, err := (&Upgrader{}).Upgrade(bufio.NewReader(strings.NewReader(in)), &out)
	if err != nil || sreq.Deflate != nil || strings.Contains(out.String(), "Extensions") {
		t.Errorf("server without Deflate: %v\n%s", err, out.String())
	}
}

func TestUpgraderRefusesBadDeflateOptions(t *testing.T) {
	var out strings.Builder
	_, _, err := (&Upgrader{Deflate: &deflate.ServerOptions{ClientMaxWindowBits: 7}}).Upgrade(bufio.NewReader(strings.NewReader("")), &out)
	if !errors.Is(err, deflate.ErrInvalidValue) || !strings.HasPrefix(out.String(), "HTTP/1.1 500 ") {
		t.Errorf("error %v, response %q", err, out.String())
	}
}

func TestAppendResponseDeflate(t *testing.T) {
	got := string(AppendResponseDeflate(nil, sampleKey, "chat", &deflate.Parameters{ServerNoContextTakeover: true, ClientMaxWindowBits: 10}, http.Header{"X-A": {"b"}}))
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + sampleAccept +
		"\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=10\r\nX-A: b\r\n\r\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if AppendResponseDeflate(nil, sampleKey, "", nil, nil) == nil || string(AppendResponseDeflate(nil, sampleKey, "", nil, nil)) != string(AppendResponse(nil, sampleKey, "", nil)) {
		t.Error("nil parameters must give AppendResponse's bytes")
	}
}

// TestDeflateNegotiationOurClientOurServer: both roles of ours over loopback TCP agree on the
// same parameters.
func TestDeflateNegotiationOurClientOurServer(t *testing.T) {
	got := make(chan *deflate.Parameters, 1)
	addr, wait := serveOnce(t, func(conn net.Conn) {
		up := Upgrader{Deflate: &deflate.ServerOptions{ServerMaxWindowBits: 11, ClientNoContextTakeover: true}}
		req, _, err := up.Upgrade(bufio.NewReader(conn), conn)
		if err != nil {
			t.Error(err)
		}
		got <- req.Deflate
	})
	defer wait()
	conn, _, resp, err := ourClient(t, addr, &Request{Deflate: &deflate.ClientOptions{ServerNoContextTakeover: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	server := <-got
	want := deflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 11}
	if resp.Deflate == nil || server == nil || *resp.Deflate != want || *server != want {
		t.Fatalf("client agreed %+v, server %+v, want %+v", resp.Deflate, server, want)
	}
}

// TestDeflateInteropGobwasServer: our client negotiates with gobwas/ws's wsflate extension
// (an independent implementation) over loopback TCP, then one compressed message goes each
// way: ours compressed by package deflate and inflated by gobwas, gobwas's inflated by ours.
func TestDeflateInteropGobwasServer(t *testing.T) {
	echoed := make(chan error, 1)
	addr, wait := serveOnce(t, func(conn net.Conn) {
		ext := wsflate.Extension{Parameters: wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}}
		u := ws.Upgrader{Negotiate: ext.Negotiate}
		if _, err := u.Upgrade(conn); err != nil {
			echoed <- err
			return
		}
		f, err := ws.ReadFrame(conn)
		if err == nil {
			f = ws.UnmaskFrameInPlace(f)
			if f, err = wsflate.DecompressFrame(f); err == nil {
				if f, err = wsflate.CompressFrame(ws.NewTextFrame(append([]byte("echo: "), f.Payload...))); err == nil {
					err = ws.WriteFrame(conn, f)
				}
			}
		}
		echoed <- err
	})
	defer wait()
	conn, br, resp, err := ourClient(t, addr, &Request{Deflate: &deflate.ClientOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	want := deflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	if resp.Deflate == nil || *resp.Deflate != want {
		t.Fatalf("agreed %+v, want %+v", resp.Deflate, want)
	}
	c, _ := deflate.NewCompressor(resp.Deflate.ClientWindowBits(), resp.Deflate.ClientNoContextTakeover)
	d, _ := deflate.NewDecompressor(resp.Deflate.ServerWindowBits(), resp.Deflate.ServerNoContextTakeover)
	msg := strings.Repeat("compressed over the wire ", 40)
	payload, _ := c.AppendMessage(nil, []byte(msg))
	f := ws.NewTextFrame(payload)
	f.Header.Rsv = ws.Rsv(true, false, false)
	f = ws.MaskFrameInPlace(f)
	if err := ws.WriteFrame(conn, f); err != nil {
		t.Fatal(err)
	}
	reply, err := ws.ReadFrame(br)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-echoed; err != nil {
		t.Fatalf("gobwas server: %v", err)
	}
	if !reply.Header.Rsv1() {
		t.Fatal("reply not compressed")
	}
	got, err := d.AppendMessage(nil, reply.Payload, 1<<20)
	if err != nil || string(got) != "echo: "+msg {
		t.Fatalf("reply %q, %v", got, err)
	}
}

// TestDeflateInteropGobwasClient: gobwas/ws's dialer offers permessage-deflate (as its wsflate
// extension writes it) to our Upgrader over loopback TCP and accepts our answer.
func TestDeflateInteropGobwasClient(t *testing.T) {
	tests := []struct {
		name  string
		offer wsflate.Parameters
		opts  deflate.ServerOptions
		want  deflate.Parameters
	}{
		{"defaults", wsflate.Parameters{}, deflate.ServerOptions{}, deflate.Parameters{}},
		{"client limits", wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 12},
			deflate.ServerOptions{}, deflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 12}},
		{"server limits", wsflate.Parameters{ClientMaxWindowBits: 15}, deflate.ServerOptions{ServerMaxWindowBits: 9, ClientMaxWindowBits: 11},
			deflate.Parameters{ServerMaxWindowBits: 9, ClientMaxWindowBits: 11}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan *deflate.Parameters, 1)
			addr, wait := serveOnce(t, func(conn net.Conn) {
				req, _, err := (&Upgrader{Deflate: &tt.opts}).Upgrade(bufio.NewReader(conn), conn)
				if err != nil {
					t.Error(err)
				}
				got <- req.Deflate
			})
			defer wait()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d := ws.Dialer{Extensions: []httphead.Option{tt.offer.Option()}}
			conn, br, hs, err := d.Dial(ctx, "ws://"+addr+"/")
			if err != nil {
				t.Fatalf("gobwas dial: %v", err)
			}
			defer conn.Close()
			if br != nil {
				ws.PutReader(br)
			}
			server := <-got
			if server == nil || *server != tt.want {
				t.Fatalf("server agreed %+v, want %+v", server, tt.want)
			}
			var p wsflate.Parameters
			if len(hs.Extensions) != 1 || p.Parse(hs.Extensions[0]) != nil {
				t.Fatalf("gobwas got extensions %v", hs.Extensions)
			}
			if p.ServerNoContextTakeover != tt.want.ServerNoContextTakeover || p.ClientNoContextTakeover != tt.want.ClientNoContextTakeover ||
				int(p.ServerMaxWindowBits) != tt.want.ServerMaxWindowBits || int(p.ClientMaxWindowBits) != tt.want.ClientMaxWindowBits {
				t.Errorf("gobwas parsed %+v, want %+v", p, tt.want)
			}
		})
	}
}
