package wstest

import (
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
)

// SOCKS5 is a SOCKS5 proxy on 127.0.0.1 for tests (RFC 1928, CONNECT only, with RFC 1929
// username/password authentication when User is set). It records each CONNECT target as the
// client sent it, so that a test can tell a name resolved by the client (an IP address) from
// one left to the proxy (a domain name). Names it resolves are looked up in Hosts first.
type SOCKS5 struct {
	Addr string // "127.0.0.1:port"

	// Set by NewSOCKS5's setup functions, read only afterwards.
	User, Password string            // required credentials; "" User: no authentication
	Hosts          map[string]string // name -> IP for domain-name targets, before DNS

	ln net.Listener
	wg sync.WaitGroup

	mu      sync.Mutex
	targets []string
	conns   map[net.Conn]bool
}

// NewSOCKS5 starts a SOCKS5 proxy for t; t's cleanup stops it, closing every tunnel.
func NewSOCKS5(t testing.TB, setup ...func(*SOCKS5)) *SOCKS5 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SOCKS5{Addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]bool{}}
	for _, f := range setup {
		f(s)
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// Targets returns the CONNECT targets received so far, "host:port" as the client sent them.
func (s *SOCKS5) Targets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.targets...)
}

func (s *SOCKS5) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		return false
	}
	s.conns[c] = true
	return true
}

func (s *SOCKS5) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			for c := range s.conns {
				_ = c.Close()
			}
			s.conns = nil
			s.mu.Unlock()
			return
		}
		if !s.track(c) {
			_ = c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.handle(c)
		}()
	}
}

func (s *SOCKS5) handle(c net.Conn) {
	read := func(n int) []byte {
		b := make([]byte, n)
		if _, err := io.ReadFull(c, b); err != nil {
			return nil
		}
		return b
	}
	// Greeting: VER NMETHODS METHODS.
	h := read(2)
	if h == nil || h[0] != 5 {
		return
	}
	methods := read(int(h[1]))
	want := byte(0) // no authentication
	if s.User != "" {
		want = 2 // username/password
	}
	ok := false
	for _, m := range methods {
		ok = ok || m == want
	}
	if !ok {
		_, _ = c.Write([]byte{5, 0xff})
		return
	}
	_, _ = c.Write([]byte{5, want})
	if want == 2 {
		v := read(2)
		if v == nil {
			return
		}
		user := read(int(v[1]))
		pl := read(1)
		if pl == nil {
			return
		}
		pass := read(int(pl[0]))
		if string(user) != s.User || string(pass) != s.Password {
			_, _ = c.Write([]byte{1, 1})
			return
		}
		_, _ = c.Write([]byte{1, 0})
	}
	// Request: VER CMD RSV ATYP DST.ADDR DST.PORT.
	req := read(4)
	if req == nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1:
		host = net.IP(read(4)).String()
	case 4:
		host = net.IP(read(16)).String()
	case 3:
		n := read(1)
		if n == nil {
			return
		}
		host = string(read(int(n[0])))
	default:
		return
	}
	pb := read(2)
	if pb == nil {
		return
	}
	port := strconv.Itoa(int(binary.BigEndian.Uint16(pb)))
	s.mu.Lock()
	s.targets = append(s.targets, net.JoinHostPort(host, port))
	s.mu.Unlock()
	dialHost := host
	if ip, ok := s.Hosts[host]; ok {
		dialHost = ip
	}
	up, err := net.Dial("tcp", net.JoinHostPort(dialHost, port))
	if err != nil {
		_, _ = c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0}) // connection refused
		return
	}
	if !s.track(up) {
		_ = up.Close()
		return
	}
	defer up.Close()
	_, _ = c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, c)
		if tc, ok := up.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		close(done)
	}()
	_, _ = io.Copy(c, up)
	_ = c.Close()
	<-done
}
