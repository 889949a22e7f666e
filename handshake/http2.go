package handshake

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/internal/h2stream"
)

// Bootstrapping WebSockets with HTTP/2 (RFC 8441). The opening handshake is an extended
// CONNECT request (§4: :method CONNECT, :protocol websocket, :scheme, :path, :authority) on
// a new stream of an HTTP/2 connection whose server sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1
// (§3), answered by a 2xx response (§5). Sec-WebSocket-Version, -Protocol and -Extensions
// keep their RFC 6455 meaning; Sec-WebSocket-Key and -Accept, Upgrade and Connection are not
// used (§5). The stream's DATA frames then carry RFC 6455 frames, masked by the client as
// over HTTP/1.1 (§5: framing, masking and the closing handshake are unchanged).

// Protocol is the value of the :protocol pseudo-header that asks for a WebSocket (RFC 8441
// §4, registered in §9.1).
const Protocol = "websocket"

// ProtocolHeader is where net/http and golang.org/x/net/http2 put the :protocol
// pseudo-header of an extended CONNECT in http.Request.Header (the client's transport sends
// it from there; net/http's server reports it there).
const ProtocolHeader = ":protocol"

// HTTP2Header returns the regular header fields of r as an RFC 8441 extended CONNECT
// carries them: Sec-WebSocket-Version 13, Sec-WebSocket-Protocol with the subprotocols,
// Sec-WebSocket-Extensions with the permessage-deflate offer and the extensions, Origin, and
// r.Header. There is no Sec-WebSocket-Key, Upgrade or Connection (RFC 8441 §5); Host becomes
// the :authority pseudo-header, which the HTTP/2 transport writes from the request URL. The
// checks are those of Request.Check (the same *HeaderError for a bad header).
func (r *Request) HTTP2Header() (http.Header, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	h := make(http.Header, len(r.Header)+4)
	for k, v := range r.Header {
		h[http.CanonicalHeaderKey(k)] = slices.Clone(v)
	}
	h["Sec-Websocket-Version"] = []string{"13"}
	if len(r.Protocols) > 0 {
		h["Sec-Websocket-Protocol"] = []string{strings.Join(r.Protocols, ", ")}
	}
	if len(r.Extensions) > 0 || r.Deflate != nil {
		var b []byte
		if r.Deflate != nil {
			offer, _ := r.Deflate.Offer() // checked by Check
			b = offer.Append(b)
		}
		for _, e := range r.Extensions {
			if len(b) > 0 {
				b = append(b, ", "...)
			}
			b = append(b, strings.TrimSpace(e)...)
		}
		h["Sec-Websocket-Extensions"] = []string{string(b)}
	}
	if r.Origin != "" {
		h["Origin"] = []string{r.Origin}
	}
	return h, nil
}

// CheckHTTP2Response validates the server's answer to an extended CONNECT made from req (RFC
// 8441 §5): a status other than 2xx is a *[StatusError] (with the status, headers and
// Location; no body); a 2xx is checked as [ReadResponse] checks a 101 for the subprotocol
// and the extensions (ErrUnofferedSubprotocol, ErrUnofferedExtension,
// ErrBadDeflateResponse), without Upgrade, Connection or Sec-WebSocket-Accept, which HTTP/2
// does not use. status is the reason text shown in Response.Status ("OK" for 200). The
// returned Response has StatusCode 200 (not 101) and Fields built from h, sorted by name
// (HTTP/2 header order is not kept by net/http).
func CheckHTTP2Response(req *Request, code int, status string, h http.Header) (*Response, error) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	var fields []Field
	for _, k := range names {
		for _, v := range h[k] {
			fields = append(fields, Field{Name: k, Value: v})
		}
	}
	resp := &Response{StatusCode: code, Status: status, Header: h, Fields: fields}
	if code < 200 || code > 299 {
		e := &StatusError{StatusCode: code, Status: status, Header: h, Fields: fields}
		if loc := h["Location"]; len(loc) > 0 {
			e.Location = loc[0]
		}
		return resp, e
	}
	var agreed deflate.Parameters
	return resp, resp.validateNegotiated(req, &agreed)
}

// IsHTTP2Request reports whether r, as net/http's server gives it to a handler, is an RFC
// 8441 extended CONNECT asking for a WebSocket: HTTP/2, method CONNECT, :protocol
// "websocket". net/http accepts such requests only when the process runs with
// GODEBUG=http2xconnect=1 (read once, when the program starts; it cannot be set by a
// //go:debug line): without it the server does not send SETTINGS_ENABLE_CONNECT_PROTOCOL
// and refuses a :protocol with a stream error, and clients fall back to HTTP/1.1.
func IsHTTP2Request(r *http.Request) bool {
	return r.ProtoMajor == 2 && r.Method == http.MethodConnect && r.Header.Get(ProtocolHeader) == Protocol
}

// UpgradeHTTP2 is the server side of RFC 8441 inside a net/http handler: it validates the
// extended CONNECT r (see IsHTTP2Request; Sec-WebSocket-Version 13, a well-formed
// subprotocol and extension list, the origin check), answers 200 with the selected
// subprotocol and permessage-deflate response (when u.Deflate accepts an offer) and u.Header,
// and returns the stream as a net.Conn for conn.New in the server role (no prefix), with the
// request (Key empty: HTTP/2 has none) and the subprotocol.
//
// The handler must not return while the connection is in use: net/http ends the stream
// when the handler returns. Serve the connection in the handler's goroutine, or wait there
// until it is closed. Closing the net.Conn ends the stream's relays, not the HTTP/2
// connection.
//
// A request that must be refused is answered as Upgrade answers it (400, 403, 405 for a
// request that is not an extended CONNECT for "websocket", 426 with
// Sec-WebSocket-Version: 13) and the *RejectError returned.
func (u *Upgrader) UpgradeHTTP2(w http.ResponseWriter, r *http.Request) (net.Conn, *ServerRequest, string, error) {
	if err := checkHeader(u.Header, ownedByServer); err != nil {
		http.Error(w, "server misconfigured", http.StatusInternalServerError)
		return nil, nil, "", err
	}
	if u.Deflate != nil {
		if err := u.Deflate.Check(); err != nil {
			http.Error(w, "server misconfigured", http.StatusInternalServerError)
			return nil, nil, "", fmt.Errorf(errPrefix+"Upgrader.Deflate: %w", err)
		}
	}
	req := &ServerRequest{Method: r.Method, Target: r.URL.RequestURI(), Host: r.Host, Header: r.Header}
	req.Origin = r.Header.Get("Origin")
	if vs := r.Header["Sec-Websocket-Version"]; len(vs) > 0 {
		req.Version = vs[0]
	}
	err := func() error {
		if !IsHTTP2Request(r) {
			re := reject(http.StatusMethodNotAllowed, fmt.Errorf("%w: want an HTTP/2 CONNECT with :protocol websocket (RFC 8441 §4)", ErrBadMethod))
			re.Header = http.Header{"Allow": {"CONNECT"}}
			return re
		}
		if vs := r.Header["Sec-Websocket-Version"]; len(vs) != 1 || vs[0] != "13" {
			re := reject(http.StatusUpgradeRequired, ErrBadVersion)
			re.Header = http.Header{"Sec-Websocket-Version": {"13"}}
			return re
		}
		if err := req.parseLists(); err != nil {
			return reject(http.StatusBadRequest, err)
		}
		if !u.originOK(req) {
			return reject(http.StatusForbidden, ErrOriginDenied)
		}
		return nil
	}()
	if err != nil {
		re := err.(*RejectError)
		for k, v := range mergeHeader(re.Header, u.Header) {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(re.StatusCode)
		_, _ = w.Write([]byte(re.Reason + "\n"))
		return nil, req, "", err
	}
	protocol := selectProtocol(req.Protocols, u.Protocols)
	if u.Deflate != nil {
		if agreed, ok := u.Deflate.Negotiate(req.Extensions); ok {
			req.Deflate = &agreed
		}
	}
	wh := w.Header()
	for k, v := range u.Header {
		wh[k] = v
	}
	if protocol != "" {
		wh.Set("Sec-WebSocket-Protocol", protocol)
	}
	if req.Deflate != nil {
		wh.Set("Sec-WebSocket-Extensions", string(req.Deflate.Append(nil)))
	}
	rc := http.NewResponseController(w)
	// HTTP/2 is full duplex already; the call matters only to HTTP/1.1 and may fail there.
	_ = rc.EnableFullDuplex()
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, req, protocol, fmt.Errorf(errPrefix+"writing response: %w", err)
	}
	nc := h2stream.New(h2stream.Options{
		In:      r.Body,
		Out:     w,
		Flush:   rc.Flush,
		OnClose: func() { _ = r.Body.Close() },
	})
	// The relays use w and r.Body, which belong to the handler: they end when the stream
	// ends (the handler's context is cancelled when the client resets it, the connection is
	// lost or the handler returns). AfterFunc starts no goroutine until then.
	context.AfterFunc(r.Context(), func() { _ = nc.Close() })
	return &serverStream{nc}, req, protocol, nil
}

// serverStream is the server's stream: Close waits until the relays stopped using the
// handler's ResponseWriter and request body, so that the handler may return right after.
type serverStream struct {
	*h2stream.Conn
}

// Close ends the stream and waits for its relays.
func (s *serverStream) Close() error {
	err := s.Conn.Close()
	<-s.Done()
	return err
}
