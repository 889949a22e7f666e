//go:build !race

package conn

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"testing"

	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/frame"
)

// idleMode is one configuration of idleCompressedPerConn.
type idleMode struct {
	name   string
	deflt  bool // permessage-deflate agreed
	noCtx  bool // no_context_takeover both ways
	bits   int  // window bits both ways
	budget int  // bytes over the uncompressed connection (the targets)
}

var idleModes = []idleMode{
	{"no_takeover", true, true, 15, 1 << 10},
	{"takeover_w9", true, false, 9, 2*(1<<9) + 1<<10},
	{"takeover_w12", true, false, 12, 2*(1<<12) + 1<<10},
	{"takeover_w15", true, false, 15, 2*(1<<15) + 1<<10},
}

// idleCompressedPerConn returns the heap that n idle client Conns hold each, after each
// received a 33 KiB message and sent one (compressed with mode.deflt: both windows full), over
// loopback TCP. The server ends are raw sockets, so that only the client Conn is counted; the
// count includes the Conn, its net.Conn and its compression state, and no goroutine (no read
// is waiting).
func idleCompressedPerConn(tb testing.TB, n int, mode idleMode) float64 {
	msg := compressible(33<<10, 5)
	var wire []byte // the server's message as a frame: compressed with mode.deflt
	if mode.deflt {
		zc, _ := deflate.NewCompressor(mode.bits, mode.noCtx)
		p, _ := zc.AppendMessage(nil, msg)
		wire = rawFrame(true, frame.Rsv1, frame.OpText, false, p)
	} else {
		wire = rawFrame(true, 0, frame.OpText, false, msg)
	}
	p := deflate.Parameters{ClientNoContextTakeover: mode.noCtx, ServerNoContextTakeover: mode.noCtx,
		ClientMaxWindowBits: mode.bits, ServerMaxWindowBits: mode.bits}
	ctx := context.Background()
	conns := make([]*Conn, 0, n)
	servers := make([]net.Conn, 0, n)
	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		cn, sn := tcpPair(tb)
		cfg := &Config{Role: frame.RoleClient}
		if mode.deflt {
			cfg.Compression = compression(tb, p, false, 0)
		}
		c := New(cn, nil, cfg)
		if _, err := sn.Write(wire); err != nil {
			tb.Fatal(err)
		}
		if _, _, err := c.ReadMessage(ctx, nil); err != nil {
			tb.Fatal(err)
		}
		if err := c.WriteMessage(ctx, Text, msg); err != nil { // the socket buffer takes it
			tb.Fatal(err)
		}
		conns = append(conns, c)
		servers = append(servers, sn)
	}
	runtime.GC()
	runtime.GC() // empties the pools of flate writers and readers (victim cache included)
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(conns)
	runtime.KeepAlive(servers)
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
}

// TestIdleCompressedConnMemory is the guard of the memory targets: an idle connection
// with permessage-deflate holds at most 1 KiB more than one without when context takeover is
// off, and at most 2 x 2^w + 1 KiB more with takeover at window bits w (its two dictionaries).
// (Not under -race, which changes allocation.)
func TestIdleCompressedConnMemory(t *testing.T) {
	const n = 200
	plain := idleCompressedPerConn(t, n, idleMode{name: "plain"})
	t.Logf("uncompressed: %.0f B per idle client Conn (with its socket)", plain)
	for _, m := range idleModes {
		per := idleCompressedPerConn(t, n, m)
		extra := per - plain
		t.Logf("%s: %.0f B, %+.0f B over uncompressed (budget %d)", m.name, per, extra, m.budget)
		if extra > float64(m.budget) {
			t.Errorf("%s: %.0f B over an uncompressed connection, budget %d", m.name, extra, m.budget)
		}
	}
}

// BenchmarkIdleCompressedConn reports the heap an idle client Conn holds (B/conn) without
// compression and with permessage-deflate in each mode, after a 33 KiB message each way. Run
// it with -benchtime=1x.
func BenchmarkIdleCompressedConn(b *testing.B) {
	for _, m := range append([]idleMode{{name: "plain"}}, idleModes...) {
		b.Run(fmt.Sprintf("mode=%s", m.name), func(b *testing.B) {
			var per float64
			for b.Loop() {
				per = idleCompressedPerConn(b, 200, m)
			}
			b.ReportMetric(per, "B/conn")
		})
	}
}
