package wstest

import (
	"context"
	"net"
	"sync/atomic"
)

// CountingConn is a net.Conn that adds the bytes read from it to Count: compression tests
// check with it what came over the wire.
type CountingConn struct {
	net.Conn
	Count *atomic.Int64
}

// Read reads from the connection and counts what it read.
func (c *CountingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.Count.Add(int64(n))
	return n, err
}

// CountingDial returns a dial function (the NetDialContext of a client) that dials with a
// net.Dialer and counts into count what is read from each connection.
func CountingDial(count *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &CountingConn{Conn: nc, Count: count}, nil
	}
}
