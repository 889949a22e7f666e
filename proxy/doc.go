// Package proxy opens the byte stream of a WebSocket connection, directly or through a proxy.
// Each way is a Dialer, the shape of client.DialOptions.NetDialContext; TLS (wss) and the
// opening handshake run on top of the connection a Dialer returns.
//
//   - Direct dials the target itself.
//   - HTTPConnect tunnels through an HTTP proxy with the CONNECT method (RFC 7231 §4.3.6,
//     now RFC 9110 §9.3.6): "CONNECT host:port HTTP/1.1" with a Host header and, when the proxy
//     URL carries user information, "Proxy-Authorization: Basic" (RFC 7617). Any 2xx reply
//     opens the tunnel; any other reply is a *ConnectError carrying the status. An https://
//     proxy URL means TLS to the proxy itself, and the tunnel runs inside that TLS session.
//   - SOCKS5 goes through a SOCKS5 proxy (RFC 1928, with RFC 1929 username/password
//     authentication) by golang.org/x/net/proxy. socks5:// resolves the target's name locally,
//     socks5h:// lets the proxy resolve it.
//   - FromEnvironment follows HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY (and their lower
//     case forms) with the meaning golang.org/x/net/http/httpproxy (and net/http) gives them: a
//     ws:// target uses the http proxy, a wss:// target the https one, ALL_PROXY being the
//     fallback of both. URLFromEnvironment gives the same choice as a proxy URL (nil for a
//     direct connection): the default of both client APIs (client.DialOptions.Proxy and the
//     facade's SystemProxy), which the client turns into a Dialer with FromURL for each
//     connection it opens, redirects included.
//   - Exclusions is a list of hosts that bypass a proxy: exact names, "*", "*.domain" (or
//     ".domain"), IP addresses and CIDR ranges. WithExclusions dials those directly.
//
// Every Dialer honours its context: cancellation and deadlines interrupt the dial and the
// proxy exchange, which never hangs past them. Errors say which proxy failed ("websocket:
// proxy host:port: ...") and wrap their cause; they never contain the user name, the password
// or the Proxy-Authorization value, whatever the proxy answers: a CONNECT reply is checked by
// a parser whose errors (ErrMalformedReply) describe the defect without quoting the proxy's
// bytes, and a refusal shows the status code with its standard text, not the proxy's reason
// phrase. Credentials are sent to the proxy only.
//
// The package imports no engine package of this module.
package proxy
