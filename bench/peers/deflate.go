package main

import (
	"bytes"
	stdflate "compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/deflate"
)

// The deflate section (-only deflate): permessage-deflate (RFC 7692) throughput of the
// clients that have it, sending and receiving the JSON messages of the fixed corpus in
// ../deflate/testdata (1 KiB and 64 KiB). Every client offers no context takeover both ways,
// the only mode gorilla has, and the fixed server answers
// "permessage-deflate; server_no_context_takeover; client_no_context_takeover".
//
//	/zsink    as /sink, for compressed messages: every data message is counted with its
//	          payload bytes as they came over the wire; the text message "done" (compressed
//	          or not) is answered with "ack <count> <wire bytes> <hash>", hash being the
//	          FNV-1a 64 of the last binary message inflated. Binary messages are inflated
//	          (compress/flate) only until the first "done", the warm-up: after it the sink
//	          only counts, so that the client's compression is what is timed.
//	/zsource  the first binary message (the client sends the corpus message, compressed or
//	          not) is kept, and compressed once with compress/flate's DefaultCompression
//	          (zlib's default level, what zlib-based peers such as Node's ws and Python's
//	          websockets send); each text message "N S" is answered with N copies of that
//	          compressed frame (RSV1 set), S being the message's size.

// deflateCorpus names the corpus messages of the section.
var deflateCorpus = []string{"msg-1k.json", "msg-64k.json"}

// corpusMessage reads a message of the corpus. The path is found from this source file's,
// so that `go run ./peers` in bench and `go test` in bench/peers both find it.
func corpusMessage(name string) ([]byte, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return nil, errors.New("peers: cannot locate the deflate corpus")
	}
	return os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "deflate", "testdata", name))
}

// deflateLibraries are the clients of the deflate section, in the order the interleaved runs
// use. gws, gorilla and coder compress at level 1 (their default; gorilla and coder with
// compress/flate, gws with github.com/klauspost/compress/flate), ours at its default level
// (the windowed encoder, about klauspost's level 5) and at level 1.
var deflateLibraries = []library{
	{"ours", "client.Dial with Deflate (no context takeover both ways, default level); WriteMessage / ReadMessage(ctx, reused buf)", dialOursDeflate(deflate.DefaultLevel)},
	{"ours-level1", "as ours, with deflate.ClientOptions.Level 1", dialOursDeflate(deflate.BestSpeed)},
	{"gorilla", "Dialer{EnableCompression: true}; WriteMessage / NextReader into a reused buffer (level 1)", dialGorillaDeflate},
	{"coder", "Dial with CompressionNoContextTakeover; Write(ctx) / Reader(ctx) into a reused buffer (level 1)", dialCoderDeflate},
	{"gws", "NewClient with PermessageDeflate (no context takeover both ways, level 1), ReadLoop, OnMessage; WriteMessage", dialGwsDeflate},
}

func dialOursDeflate(level int) func(ctx context.Context, a addrs, path string) (peerConn, error) {
	return func(ctx context.Context, a addrs, path string) (peerConn, error) {
		c, resp, err := client.Dial(ctx, "ws://"+a.ws+path, &client.DialOptions{
			Deflate: &deflate.ClientOptions{ClientNoContextTakeover: true, ServerNoContextTakeover: true, Level: level}})
		if err != nil {
			return nil, err
		}
		if resp.Deflate == nil {
			c.CloseNow()
			return nil, errNotCompressed
		}
		return &oursConn{c: c}, nil
	}
}

var errNotCompressed = errors.New("peers: permessage-deflate was not agreed")

func dialGorillaDeflate(ctx context.Context, a addrs, path string) (peerConn, error) {
	d := gorilla.Dialer{EnableCompression: true}
	c, resp, err := d.DialContext(ctx, "ws://"+a.ws+path, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	if !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		c.Close()
		return nil, errNotCompressed
	}
	return &gorillaConn{c: c}, nil
}

func dialCoderDeflate(ctx context.Context, a addrs, path string) (peerConn, error) {
	c, resp, err := coder.Dial(ctx, "ws://"+a.ws+path, &coder.DialOptions{CompressionMode: coder.CompressionNoContextTakeover})
	if err != nil {
		return nil, err
	}
	if !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		c.CloseNow()
		return nil, errNotCompressed
	}
	c.SetReadLimit(64 << 20)
	return &coderConn{c: c}, nil
}

func dialGwsDeflate(ctx context.Context, a addrs, path string) (peerConn, error) {
	g, h, err := startGws(ctx, &gws.ClientOption{Addr: "ws://" + a.ws + path,
		PermessageDeflate: gws.PermessageDeflate{Enabled: true, ServerContextTakeover: false, ClientContextTakeover: false}})
	if err != nil {
		return nil, err
	}
	if !strings.Contains(h.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		g.abort()
		<-g.loopDone
		return nil, errNotCompressed
	}
	return g, nil
}

// ---- server side ----

// isDeflateKey reports whether a benchmark key is one of the compression section's.
func isDeflateKey(key string) bool {
	return strings.HasPrefix(key, "zsend/") || strings.HasPrefix(key, "zrecv/")
}

// deflatePath reports whether path is one of the section's paths, whose handshake agrees
// permessage-deflate.
func deflatePath(path string) bool { return path == "/zsink" || path == "/zsource" }

// deflateNegotiator returns the Upgrader's Negotiate for one handshake: on a deflate path
// (path() is read when the header is negotiated, after the request line), the first
// permessage-deflate offer is answered with no context takeover both ways.
func deflateNegotiator(path func() string) func(httphead.Option) (httphead.Option, error) {
	accepted := false
	return func(opt httphead.Option) (httphead.Option, error) {
		if accepted || !deflatePath(path()) || !bytes.EqualFold(opt.Name, wsflate.ExtensionNameBytes) {
			return httphead.Option{}, nil
		}
		accepted = true
		return wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}.Option(), nil
	}
}

// inflater inflates whole messages without context takeover (RFC 7692 §7.2.2) with
// compress/flate.
type inflater struct {
	fr  io.ReadCloser
	src bytes.Reader
	in  []byte
	out bytes.Buffer
}

// inflate returns the message of payload, valid until the next call.
func (f *inflater) inflate(payload []byte) ([]byte, error) {
	f.in = append(append(f.in[:0], payload...), 0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff)
	f.src.Reset(f.in)
	if f.fr == nil {
		f.fr = stdflate.NewReader(&f.src)
	} else if err := f.fr.(stdflate.Resetter).Reset(&f.src, nil); err != nil {
		return nil, err
	}
	f.out.Reset()
	if _, err := f.out.ReadFrom(f.fr); err != nil {
		return nil, err
	}
	return f.out.Bytes(), nil
}

// zloop reads messages like loop, and hands fn each whole one with whether its first frame
// had RSV1 set (compressed).
func (s *wsConn) zloop(fn func(op ws.OpCode, compressed bool, p []byte) error) {
	var compressed bool
	var first = true
	s.loopHeaders(func(h ws.Header) {
		if first && !h.OpCode.IsControl() {
			compressed = h.Rsv1()
		}
		if !h.OpCode.IsControl() {
			first = h.Fin
		}
	}, func(op ws.OpCode, p []byte) error { return fn(op, compressed, p) })
}

// zsink serves /zsink.
func (s *wsConn) zsink() {
	var f inflater
	var count, wire int
	var warm = true
	var hash uint64
	s.zloop(func(op ws.OpCode, compressed bool, p []byte) error {
		if op == ws.OpText {
			text := p
			if compressed {
				var err error
				if text, err = f.inflate(p); err != nil {
					return err
				}
			}
			if string(text) == "done" {
				reply := fmt.Appendf(nil, "ack %d %d %d", count, wire, hash)
				count, wire, warm = 0, 0, false
				return s.write(ws.OpText, reply)
			}
		}
		count++
		wire += len(p)
		if warm {
			m := p
			if compressed {
				var err error
				if m, err = f.inflate(p); err != nil {
					return err
				}
			}
			h := fnv.New64a()
			h.Write(m)
			hash = h.Sum64()
		}
		return nil
	})
}

// zsource serves /zsource.
func (s *wsConn) zsource() {
	var f inflater
	var frame []byte // the compressed frame, header included
	var size int
	s.zloop(func(op ws.OpCode, compressed bool, p []byte) error {
		if op == ws.OpBinary && frame == nil {
			m := p
			if compressed {
				var err error
				if m, err = f.inflate(p); err != nil {
					return err
				}
			}
			var z bytes.Buffer
			fw, _ := stdflate.NewWriter(&z, stdflate.DefaultCompression)
			fw.Write(m)
			fw.Flush()
			payload := bytes.TrimSuffix(z.Bytes(), []byte{0x00, 0x00, 0xff, 0xff})
			var hb writeBuf
			_ = ws.WriteHeader(&hb, ws.Header{Fin: true, Rsv: ws.Rsv(true, false, false), OpCode: ws.OpBinary, Length: int64(len(payload))})
			frame = append(hb.b, payload...)
			size = len(m)
			return nil
		}
		if op != ws.OpText {
			return fmt.Errorf("unexpected %v message", op)
		}
		text := p
		if compressed {
			var err error
			if text, err = f.inflate(p); err != nil {
				return err
			}
		}
		n, sz, ok := parseRequest(text)
		if !ok || frame == nil || sz != size {
			return fmt.Errorf("bad zsource request %q (message of %d bytes)", text, size)
		}
		return writeFrames(s.c, frame, n)
	})
}

// writeFrames writes n copies of frame, batched into writes of about batchSize bytes.
func writeFrames(c io.Writer, frame []byte, n int) error {
	per := max(1, batchSize/len(frame))
	batch := bytes.Repeat(frame, min(per, n))
	for n > 0 {
		k := min(n, per)
		if _, err := c.Write(batch[:k*len(frame)]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// ---- driver ----

// deflateBenches lists the section's benchmarks: send and receive of each corpus message.
func (h *harness) deflateBenches(want func(kind string, size int) bool) []bench {
	if !want("deflate", 0) {
		return nil
	}
	var bs []bench
	for _, kind := range []string{"zsend", "zrecv"} {
		for _, name := range deflateCorpus {
			msg, err := corpusMessage(name)
			if err != nil {
				bs = append(bs, bench{kind: kind, size: 0, libs: deflateLibraries, run: func(library) (sample, error) { return nil, err }})
				continue
			}
			run := func(l library) (sample, error) { return h.zsend(l, msg) }
			if kind == "zrecv" {
				run = func(l library) (sample, error) { return h.zrecv(l, msg) }
			}
			bs = append(bs, bench{kind: kind, size: len(msg), libs: deflateLibraries, run: run})
		}
	}
	return bs
}

// zsinkAck sends "done" and checks the sink's count; it returns the wire bytes and hash.
func zsinkAck(c peerConn, want int) (wire int, hash uint64, err error) {
	if err := c.writeText([]byte("done")); err != nil {
		return 0, 0, err
	}
	p, err := c.read()
	if err != nil {
		return 0, 0, err
	}
	var got int
	if _, err := fmt.Sscanf(string(p), "ack %d %d %d", &got, &wire, &hash); err != nil || got != want {
		return 0, 0, fmt.Errorf("%w: zsink answered %q after %d messages", errMessage, p, want)
	}
	return wire, hash, nil
}

// zsend writes msg to /zsink for at least tpMinTime and tpMinBytes, after a warm-up whose
// last message the sink inflates and hashes (checked), then times until the sink
// acknowledges them all. "wire" is the compressed payload bytes in percent of the message
// bytes.
func (h *harness) zsend(lib library, msg []byte) (sample, error) {
	c, err := h.dial(lib, "/zsink")
	if err != nil {
		return nil, err
	}
	defer c.close()
	defer h.guard(c)()
	for i := 0; i < 4; i++ {
		if err := c.write(msg); err != nil {
			return nil, err
		}
	}
	wire, hash, err := zsinkAck(c, 4)
	if err != nil {
		return nil, err
	}
	hw := fnv.New64a()
	hw.Write(msg)
	if hash != hw.Sum64() {
		return nil, fmt.Errorf("%w: the sink inflated something else than the message", errMessage)
	}
	if wire >= 4*len(msg) {
		return nil, fmt.Errorf("%w: %d bytes on the wire for 4 messages of %d: not compressed", errMessage, wire, len(msg))
	}
	minMsgs := max(1, h.cfg.tpMinBytes/len(msg))
	u0 := takeUsage()
	n := 0
	for n < minMsgs || time.Since(u0.at) < h.cfg.tpMinTime {
		for j := 0; j < 8; j++ {
			if err := c.write(msg); err != nil {
				return nil, err
			}
		}
		n += 8
	}
	if wire, _, err = zsinkAck(c, n); err != nil {
		return nil, err
	}
	s := throughput(u0, takeUsage(), n, len(msg))
	s["wire"] = 100 * float64(wire) / float64(n) / float64(len(msg))
	return s, nil
}

// zrecv sends msg to /zsource, then receives its compressed copies, chunkBytes per request,
// for at least tpMinTime and tpMinBytes, checking each.
func (h *harness) zrecv(lib library, msg []byte) (sample, error) {
	c, err := h.dial(lib, "/zsource")
	if err != nil {
		return nil, err
	}
	defer c.close()
	defer h.guard(c)()
	if err := c.write(msg); err != nil {
		return nil, err
	}
	if err := zrecvCheck(c, request(4, len(msg)), 4, msg); err != nil { // warm-up
		return nil, err
	}
	chunk := max(1, h.cfg.chunkBytes/len(msg))
	req := request(chunk, len(msg))
	minMsgs := max(1, h.cfg.tpMinBytes/len(msg))
	u0 := takeUsage()
	n := 0
	for n < minMsgs || time.Since(u0.at) < h.cfg.tpMinTime {
		if err := zrecvCheck(c, req, chunk, msg); err != nil {
			return nil, err
		}
		n += chunk
	}
	return throughput(u0, takeUsage(), n, len(msg)), nil
}

// zrecvCheck sends req and receives n messages, each checked against want (its length and
// bytes at a few offsets).
func zrecvCheck(c peerConn, req []byte, n int, want []byte) error {
	if g, ok := c.(*gwsConn); ok {
		g.in.expect.Store(&want)
		defer g.in.expect.Store(nil)
		return g.in.count(n, len(want), func() error { return g.writeText(req) })
	}
	if err := c.writeText(req); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		p, err := c.read()
		if err != nil {
			return err
		}
		if err := sameMessage(p, want); err != nil {
			return err
		}
	}
	return nil
}

// sameMessage checks p against want: its length and the bytes at five offsets (a full
// comparison would add a pass over every message to what is timed).
func sameMessage(p, want []byte) error {
	if len(p) != len(want) {
		return fmt.Errorf("%w: %d bytes, want %d", errMessage, len(p), len(want))
	}
	for _, i := range []int{0, len(p) / 4, len(p) / 2, 3 * len(p) / 4, len(p) - 1} {
		if len(p) > 0 && p[i] != want[i] {
			return fmt.Errorf("%w: byte %d differs", errMessage, i)
		}
	}
	return nil
}

// ---- report ----

// oursLevel1Lib is ours compressing at level 1, the level of every peer's default.
const oursLevel1Lib = "ours-level1"

// deflateTargets checks issue 11's speed target on the compression section: at the same level
// (1, every peer's default) ours is at least as fast as the best peer with a compression
// ratio at least as good; at its default level its ratio is at least as good as the best
// peer's.
func (r *results) deflateTargets(line func(ok bool, format string, a ...any)) {
	for _, kind := range []string{"zsend", "zrecv"} {
		for _, name := range deflateCorpus {
			msg, err := corpusMessage(name)
			if err != nil {
				continue
			}
			k := kind + "/" + strconv.Itoa(len(msg))
			dir := map[string]string{"zsend": "send", "zrecv": "receive"}[kind]
			if v, ok := r.median(k, oursLevel1Lib, "mbs"); ok {
				if best, who, bok := r.bestPeer(k, "mbs", true); bok {
					line(v >= best, "compressed %s %s at level 1: %s MB/s%s = %.0f%% of best peer %s (%s MB/s); target ≥ 100%%",
						dir, name, num(v), r.span(k, oursLevel1Lib, "mbs"), 100*v/best, who, num(best))
				}
			}
			if kind != "zsend" {
				continue
			}
			for _, lib := range []string{oursLevel1Lib, oursLib} {
				if v, ok := r.median(k, lib, "wire"); ok {
					if best, who, bok := r.bestPeer(k, "wire", false); bok {
						line(v <= best, "compressed send %s: %s sends %s%% of the message bytes vs best peer %s %s%%; target ≤ best peer",
							name, lib, num(v), who, num(best))
					}
				}
			}
		}
	}
}

// deflateLibs returns the section's clients that have results (-libs may have left some out).
func (r *results) deflateLibs() []library {
	var out []library
	for _, l := range deflateLibraries {
		for _, k := range r.keys {
			if isDeflateKey(k) && len(r.data[k][l.name]) > 0 {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// deflateMarkdown writes the section's tables.
func (r *results) deflateMarkdown(b *strings.Builder) {
	var any bool
	for _, dir := range []struct{ kind, title, how string }{
		{"zsend", "Send", "client compresses and writes to the sink; timed until the sink acknowledges the last message"},
		{"zrecv", "Receive", "the source sends one message compressed by compress/flate at its default level again and again; the client inflates each"},
	} {
		for _, name := range deflateCorpus {
			msg, err := corpusMessage(name)
			if err != nil {
				continue
			}
			k := dir.kind + "/" + strconv.Itoa(len(msg))
			if !r.has(k) {
				continue
			}
			if !any {
				b.WriteString("### Compression (permessage-deflate, no context takeover both ways; JSON messages of deflate/testdata)\n\n")
				any = true
			}
			fmt.Fprintf(b, "%s %s (%s, %d bytes; %s):\n\n", dir.title, sizeName(len(msg)&^1023), name, len(msg), dir.how)
			cs := []column{
				{"msgs/s", "msgs", true, false, false},
				{"MB/s", "mbs", true, false, false},
				{"allocs/msg", "allocs", false, false, false},
				{"B/msg", "bytes", false, false, false},
				{"CPU s/GB", "cpu", false, false, false},
			}
			if dir.kind == "zsend" {
				cs = append(cs, column{"wire % of message", "wire", false, false, false})
			}
			var hs, ks []string
			for _, c := range cs {
				hs = append(hs, c.title)
				ks = append(ks, k)
			}
			r.tableOf(b, r.deflateLibs(), hs, ks, cs)
			b.WriteString("\n")
		}
	}
	if any {
		b.WriteString("MB/s counts message (uncompressed) bytes. wire %: compressed payload bytes as the sink " +
			"received them, in percent of the message bytes (lower is better; frame headers excluded). " +
			"Levels: gorilla, coder and gws compress at level 1 by default (gorilla and coder with compress/flate, " +
			"gws with github.com/klauspost/compress/flate); ours at its default level (klauspost's windowed encoder, " +
			"about its level 5) and, as ours-level1, at deflate.ClientOptions.Level 1.\n\n")
		b.WriteString("How each client is used here:\n\n")
		for _, l := range r.deflateLibs() {
			fmt.Fprintf(b, "- %s: %s\n", l.name, l.note)
		}
		b.WriteString("\n")
	}
}
