// Package handshake implements the WebSocket opening handshake of RFC 6455 §4 for both roles.
//
// Client side (§4.1): [NewKey] makes a Sec-WebSocket-Key from crypto/rand, [Request.Append]
// writes the HTTP/1.1 upgrade request (rejecting user headers that could inject lines or replace
// the handshake's own fields), and [ReadResponse] parses and validates the server's response:
// status 101, Upgrade, Connection, Sec-WebSocket-Accept (§4.2.2, computed by [AcceptKey] as in
// the §1.3 example), a subprotocol only from those offered and extensions only from those
// offered (§4.1, §9.1). Any other status comes back as a [*StatusError] with the status, the
// headers, a redirect Location and the start of the body.
//
// Server side (§4.2): [ReadRequest] parses and validates the client's request (§4.2.1),
// [Upgrader.Upgrade] selects a subprotocol and writes either the 101 response
// ([AppendResponse], §4.2.2) or a short 4xx rejection ([WriteReject]), with
// "Sec-WebSocket-Version: 13" when the client asked for another version (§4.4).
//
// The HTTP/1.1 message syntax follows RFC 7230 §3: header names are case-insensitive tokens,
// values are trimmed of optional whitespace, obsolete line folding is rejected and bare LF line
// endings are accepted. The parser is written by hand for few allocations: a whole response or
// request header becomes one string, and every name and value is a substring of it. Sizes are
// bounded by [Limits].
//
// On both sides the parser reads exactly the header: bytes the peer sent after the blank line
// (the first WebSocket frames) stay in the caller's bufio.Reader, to be handed to the
// connection.
//
// permessage-deflate (RFC 7692) is negotiated only when asked for: [Request.Deflate] makes the
// client offer it and check the answer by RFC 7692 §7.1 ([Response.Deflate] holds the agreed
// parameters, [ErrBadDeflateResponse] an invalid answer, on which the client must fail the
// connection); [Upgrader.Deflate] makes the server accept the first acceptable offer
// ([ServerRequest.Deflate]). Both are nil by default, and the behaviour is then the one above:
// extensions are opaque, checked by name, and the server accepts none. The connection layer
// does not compress yet.
//
// WebSocket over HTTP/2 (RFC 8441): [Request.HTTP2Header] gives the header fields of the
// extended CONNECT (§4-5: Sec-WebSocket-Version, -Protocol, -Extensions; no key, Upgrade or
// Connection), [CheckHTTP2Response] checks the 2xx answer, and, on the server side under
// net/http, [IsHTTP2Request] and [Upgrader.UpgradeHTTP2] accept the request and return the
// stream as a net.Conn (net/http needs GODEBUG=http2xconnect=1 for it).
//
// The package imports the standard library and, from this module, only package deflate (for
// the extension's parameters; it sits beside the frame layer, not on it) and the internal
// httplex (HTTP token rules) and h2stream (an HTTP/2 stream as a net.Conn); no other WebSocket
// or HTTP parsing library (no net/textproto, no http.ReadResponse). Errors are sentinel values and types usable with errors.Is and errors.As;
// their messages start with "websocket: handshake: ".
package handshake
