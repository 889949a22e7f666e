package conn

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/frame"
)

// compression returns the Compression of one end for agreed parameters p.
func compression(t testing.TB, p deflate.Parameters, server bool, threshold int) *Compression {
	t.Helper()
	c, d, err := p.NewCodecs(server)
	if err != nil {
		t.Fatal(err)
	}
	return &Compression{Compressor: c, Decompressor: d, Threshold: threshold}
}

// deflatePair is connPair with permessage-deflate agreed on p at both ends.
func deflatePair(t testing.TB, p deflate.Parameters, ccfg, scfg Config) (client, server *Conn) {
	t.Helper()
	ccfg.Compression = compression(t, p, false, ccfg.Compression.thresholdOr(0))
	scfg.Compression = compression(t, p, true, scfg.Compression.thresholdOr(0))
	return connPair(t, &ccfg, &scfg)
}

func (z *Compression) thresholdOr(d int) int {
	if z == nil {
		return d
	}
	return z.Threshold
}

// takeoverModes are the four combinations of no_context_takeover.
var takeoverModes = []struct {
	name           string
	client, server bool // no_context_takeover of each direction
}{
	{"takeover", false, false},
	{"client_no_takeover", true, false},
	{"server_no_takeover", false, true},
	{"no_takeover", true, true},
}

// compressible returns n bytes of JSON-like text that deflate shrinks, varied by seed.
func compressible(n int, seed int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"name":"user-%d","tags":["a","é","%d"],"ok":true},`, i*7+seed, (i*31+seed)%1000, i%13)
	}
	out := b.Bytes()[:n]
	if n > 0 && out[n-1] == 0xc3 { // do not cut the é in two
		out[n-1] = 'e'
	}
	return out
}

// sendBoth sends msg from w to r as one message, whole or streamed in chunks of chunk bytes,
// and checks that r reads it back, whole or streamed.
func sendBoth(t *testing.T, w, r *Conn, typ MessageType, msg []byte, streamWrite, streamRead bool, chunk int) {
	t.Helper()
	ctx := context.Background()
	errc := make(chan error, 1)
	go func() {
		if !streamWrite {
			errc <- w.WriteMessage(ctx, typ, msg)
			return
		}
		mw, err := w.NextWriter(ctx, typ)
		if err != nil {
			errc <- err
			return
		}
		for p := msg; len(p) > 0; {
			k := min(chunk, len(p))
			if _, err := mw.Write(p[:k]); err != nil {
				errc <- err
				return
			}
			p = p[k:]
		}
		errc <- mw.Close()
	}()
	var got []byte
	var gotTyp MessageType
	var err error
	if streamRead {
		var rd io.Reader
		gotTyp, rd, err = r.NextReader(ctx)
		if err == nil {
			got, err = io.ReadAll(rd)
		}
	} else {
		gotTyp, got, err = r.ReadMessage(ctx, nil)
	}
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if werr := waitErr(t, errc, 30*time.Second); werr != nil {
		t.Fatalf("write: %v", werr)
	}
	if gotTyp != typ || !bytes.Equal(got, msg) {
		t.Fatalf("got %v of %d bytes, want %v of %d bytes (equal %v)", gotTyp, len(got), typ, len(msg), bytes.Equal(got, msg))
	}
}

// TestCompressedRoundTripAllModes sends messages both ways between our client and our server
// over loopback TCP with permessage-deflate, in every takeover mode and window size 8..15, text
// and binary, whole and fragmented, read whole and streamed.
func TestCompressedRoundTripAllModes(t *testing.T) {
	sizes := []int{0, 1, 127, 128, 1000, 5000, 70000}
	for _, m := range takeoverModes {
		for bits := 8; bits <= 15; bits++ {
			t.Run(fmt.Sprintf("%s/w%d", m.name, bits), func(t *testing.T) {
				p := deflate.Parameters{ClientNoContextTakeover: m.client, ServerNoContextTakeover: m.server,
					ClientMaxWindowBits: bits, ServerMaxWindowBits: bits}
				cli, srv := deflatePair(t, p, Config{WriteBufferSize: 512}, Config{WriteBufferSize: 512})
				i := 0
				for _, n := range sizes {
					for _, typ := range []MessageType{Text, Binary} {
						msg := compressible(n, i)
						i++
						sw, sr := i%2 == 0, i%3 == 0
						sendBoth(t, cli, srv, typ, msg, sw, sr, 333)
						sendBoth(t, srv, cli, typ, msg, !sw, !sr, 1000)
					}
				}
			})
		}
	}
}

// TestCompressedLargeMessages sends 4 MiB messages, compressible and not, with the smallest and
// the largest window, through every path.
func TestCompressedLargeMessages(t *testing.T) {
	big := compressible(4<<20, 1)
	random := payloadOf(4<<20, false, 3)
	for _, m := range takeoverModes {
		for _, bits := range []int{8, 15} {
			t.Run(fmt.Sprintf("%s/w%d", m.name, bits), func(t *testing.T) {
				p := deflate.Parameters{ClientNoContextTakeover: m.client, ServerNoContextTakeover: m.server,
					ClientMaxWindowBits: bits, ServerMaxWindowBits: bits}
				cli, srv := deflatePair(t, p, Config{}, Config{})
				sendBoth(t, cli, srv, Text, big, false, false, 0)
				sendBoth(t, srv, cli, Binary, random, true, true, 64<<10)
				sendBoth(t, cli, srv, Binary, random, true, false, 100<<10)
				sendBoth(t, srv, cli, Text, big, false, true, 0)
			})
		}
	}
}

// TestCompressedWireFormat reads what our client sends with a raw frame reader: RSV1 on the
// first frame of a compressed message only, never on control frames nor on messages under the
// threshold, and a payload that the standard library's inflater (an independent
// implementation) turns back into the message.
func TestCompressedWireFormat(t *testing.T) {
	cn, sn := tcpPair(t)
	p := deflate.Parameters{ClientNoContextTakeover: true}
	cli := New(cn, nil, &Config{WriteBufferSize: 256, Compression: compression(t, p, false, 0)})
	ctx := context.Background()
	msgs := [][]byte{compressible(5000, 1), compressible(50, 2), compressible(300, 3)}
	errc := make(chan error, 1)
	go func() {
		w, err := cli.NextWriter(ctx, Text)
		if err != nil {
			errc <- err
			return
		}
		w.Write(msgs[0][:2500])
		if err := cli.Ping(ctx, []byte("p")); err != nil {
			errc <- err
			return
		}
		w.Write(msgs[0][2500:])
		if err := w.Close(); err != nil {
			errc <- err
			return
		}
		if err := cli.WriteMessage(ctx, Text, msgs[1]); err != nil {
			errc <- err
			return
		}
		errc <- cli.WriteMessage(ctx, Binary, msgs[2])
	}()
	fr := frame.NewReader(sn, frame.RoleServer, 0)
	fr.SetAllowedRsv(frame.Rsv1)
	defer fr.Release()
	var payload []byte
	var frames, pings int
	for got := 0; got < len(msgs); {
		h, err := fr.NextFrame()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(fr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Op == frame.OpPing {
			pings++
			if h.Rsv != 0 {
				t.Fatalf("ping with RSV %b", h.Rsv)
			}
			continue
		}
		first := h.Op != frame.OpContinuation
		wantRsv := byte(0)
		if first && got != 1 {
			wantRsv = frame.Rsv1 // message 1 is under the threshold
		}
		if h.Rsv != wantRsv {
			t.Fatalf("message %d frame %d (first %v): RSV %03b, want %03b", got, frames, first, h.Rsv, wantRsv)
		}
		frames++
		payload = append(payload, data...)
		if !h.Fin {
			continue
		}
		var msg []byte
		if got == 1 {
			msg = payload
		} else {
			msg, err = io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(payload), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}))))
			if err != nil {
				t.Fatalf("message %d: stdlib inflate: %v", got, err)
			}
			if len(payload) >= len(msgs[got]) {
				t.Fatalf("message %d: %d bytes compressed to %d", got, len(msgs[got]), len(payload))
			}
		}
		if !bytes.Equal(msg, msgs[got]) {
			t.Fatalf("message %d differs after inflating", got)
		}
		payload = payload[:0]
		got++
	}
	if err := waitErr(t, errc, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if pings != 1 || frames < 4 {
		t.Fatalf("%d pings, %d data frames; want 1 ping and the first message in several frames", pings, frames)
	}
}

// rawServerPeer returns our client Conn with compression p and the raw server end, to which
// the test writes frames by hand.
func rawServerPeer(t *testing.T, p deflate.Parameters, cfg Config) (*Conn, net.Conn) {
	t.Helper()
	cn, sn := tcpPair(t)
	cfg.Compression = compression(t, p, false, 0)
	return New(cn, nil, &cfg), sn
}

// deflateRaw compresses msg with the standard library at window 2^15 and strips the tail, as a
// peer would send it.
func deflateRaw(t testing.TB, msg []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(msg)
	w.Flush()
	out := b.Bytes()
	if !bytes.HasSuffix(out, []byte{0, 0, 0xff, 0xff}) {
		t.Fatal("no sync flush tail")
	}
	return out[:len(out)-4]
}

// TestCompressedBadStreams checks that each malformed compressed message fails the connection
// with the close code RFC 6455 and RFC 7692 call for, on every read path, and that the peer
// gets the close frame.
func TestCompressedBadStreams(t *testing.T) {
	good := deflateRaw(t, []byte("hello, compressed world"))
	final := func() []byte { // one final block
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, 5)
		w.Write([]byte("final block"))
		w.Close()
		return b.Bytes()
	}()
	badUTF8 := deflateRaw(t, []byte("ok \xff\xfe not utf-8"))
	cases := []struct {
		name   string
		frames [][]byte
		code   frame.CloseCode
	}{
		{"corrupt", [][]byte{rawFrame(true, frame.Rsv1, frame.OpBinary, false, []byte{0xff, 0xff, 0xff, 0x00})}, frame.CloseInvalidPayload},
		{"ends mid-block", [][]byte{rawFrame(true, frame.Rsv1, frame.OpBinary, false, good[:len(good)/2])}, frame.CloseInvalidPayload},
		{"data after final block", [][]byte{rawFrame(true, frame.Rsv1, frame.OpBinary, false, append(final, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12))}, frame.CloseInvalidPayload},
		{"invalid UTF-8 after inflating", [][]byte{rawFrame(true, frame.Rsv1, frame.OpText, false, badUTF8)}, frame.CloseInvalidPayload},
		{"RSV1 on a continuation", [][]byte{rawFrame(false, frame.Rsv1, frame.OpText, false, good[:3]), rawFrame(true, frame.Rsv1, frame.OpContinuation, false, good[3:])}, frame.CloseProtocolError},
		{"RSV1 on a ping", [][]byte{rawFrame(true, frame.Rsv1, frame.OpPing, false, nil)}, frame.CloseProtocolError},
		{"RSV2", [][]byte{rawFrame(true, frame.Rsv2, frame.OpBinary, false, good)}, frame.CloseProtocolError},
	}
	for _, tc := range cases {
		for _, path := range []string{"ReadMessage", "NextReader"} {
			t.Run(tc.name+"/"+path, func(t *testing.T) {
				cli, sn := rawServerPeer(t, deflate.Parameters{}, Config{})
				go func() {
					for _, f := range tc.frames {
						sn.Write(f)
					}
				}()
				var err error
				if path == "ReadMessage" {
					_, _, err = cli.ReadMessage(context.Background(), nil)
				} else {
					var rd io.Reader
					_, rd, err = cli.NextReader(context.Background())
					if err == nil {
						_, err = io.ReadAll(rd)
					}
				}
				wantClose(t, err, tc.code, false)
				code, _, rerr := readCloseFrame(sn, frame.RoleServer)
				if rerr != nil || code != tc.code {
					t.Fatalf("peer got close %v (%v), want %v", code, rerr, tc.code)
				}
			})
		}
	}
}

// TestCompressedWithoutNegotiationFails1002: RSV1 without Compression is still a protocol
// error.
func TestCompressedWithoutNegotiationFails1002(t *testing.T) {
	cn, sn := tcpPair(t)
	cli := New(cn, nil, &Config{})
	go sn.Write(rawFrame(true, frame.Rsv1, frame.OpText, false, deflateRaw(t, []byte("x"))))
	_, _, err := cli.ReadMessage(context.Background(), nil)
	wantClose(t, err, frame.CloseProtocolError, false)
}

// TestCompressedUTF8FailFast: a text message whose first fragment inflates to invalid UTF-8
// fails at once, before its other fragments arrive.
func TestCompressedUTF8FailFast(t *testing.T) {
	cli, sn := rawServerPeer(t, deflate.Parameters{}, Config{})
	// Inflaters hand out data when their 32 KiB window fills or at the final block, so the
	// first fragment inflates to more than that.
	bad := deflateRaw(t, append([]byte("\xc3\x28 invalid from the start"), compressible(100000, 0)...))
	go sn.Write(rawFrame(false, frame.Rsv1, frame.OpText, false, bad)) // FIN clear: more would follow
	errc := make(chan error, 1)
	go func() {
		_, _, err := cli.ReadMessage(context.Background(), nil)
		errc <- err
	}()
	wantClose(t, waitErr(t, errc, 10*time.Second), frame.CloseInvalidPayload, false)
}

// bomb returns a compressed payload of n zero bytes (about n/1000 bytes).
func bomb(t testing.TB, n int) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(zeros))
		w.Write(zeros[:k])
		n -= k
	}
	w.Flush()
	return b.Bytes()[:b.Len()-4]
}

// TestCompressionBomb: a small message inflating to 256 MiB fails with 1009 once the inflated
// size passes MaxMessageSize, with memory bounded by the limit, not the inflated size, on
// every read path.
func TestCompressionBomb(t *testing.T) {
	payload := bomb(t, 256<<20) // about 256 KiB on the wire
	const limit = 1 << 20
	for _, path := range []string{"ReadMessage", "NextReader", "fragmented"} {
		t.Run(path, func(t *testing.T) {
			cli, sn := rawServerPeer(t, deflate.Parameters{}, Config{MaxMessageSize: limit})
			go func() {
				if path == "fragmented" {
					half := len(payload) / 2
					sn.Write(rawFrame(false, frame.Rsv1, frame.OpBinary, false, payload[:half]))
					sn.Write(rawFrame(true, 0, frame.OpContinuation, false, payload[half:]))
					return
				}
				sn.Write(rawFrame(true, frame.Rsv1, frame.OpBinary, false, payload))
			}()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var err error
			if path == "NextReader" {
				var rd io.Reader
				_, rd, err = cli.NextReader(context.Background())
				if err == nil {
					_, err = io.Copy(io.Discard, rd)
				}
			} else {
				_, _, err = cli.ReadMessage(context.Background(), nil)
			}
			runtime.ReadMemStats(&after)
			wantClose(t, err, frame.CloseMessageTooBig, false)
			// The test's own writer and the runtime allocate too; the inflated 256 MiB must
			// not have been.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*limit {
				t.Fatalf("reading the bomb allocated %d bytes; limit %d", alloc, limit)
			}
		})
	}
}

// TestCompressedMessageAtLimit: a message inflating to exactly MaxMessageSize is delivered;
// one byte more is 1009.
func TestCompressedMessageAtLimit(t *testing.T) {
	const limit = 100000
	for _, extra := range []int{0, 1} {
		cli, srv := deflatePair(t, deflate.Parameters{}, Config{MaxMessageSize: limit}, Config{})
		msg := compressible(limit+extra, 0)
		go srv.WriteMessage(context.Background(), Binary, msg)
		_, got, err := cli.ReadMessage(context.Background(), make([]byte, 0, 10))
		if extra == 0 {
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("at the limit: %v, %d bytes", err, len(got))
			}
			continue
		}
		wantClose(t, err, frame.CloseMessageTooBig, false)
	}
}

// TestCompressedEnqueue: messages queued with Enqueue go out compressed, in order, and the
// takeover context stays right.
func TestCompressedEnqueue(t *testing.T) {
	cli, srv := deflatePair(t, deflate.Parameters{}, Config{}, Config{})
	const n = 300
	msgs := make([][]byte, n)
	done := make(chan error, n)
	for i := range msgs {
		msgs[i] = compressible(50+i*97, i)
		if _, err := srv.Enqueue(Text, msgs[i], func(err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
	}
	for i := range msgs {
		_, got, err := cli.ReadMessage(context.Background(), nil)
		if err != nil || !bytes.Equal(got, msgs[i]) {
			t.Fatalf("message %d: %v, equal %v", i, err, bytes.Equal(got, msgs[i]))
		}
	}
	srv.Close(frame.CloseNormal, "")
	cli.Close(frame.CloseNormal, "")
}

// TestCompressedNextReaderAbandoned: a compressed message left half read by its NextReader is
// skipped by the next read, and the takeover context stays right for the message after it.
func TestCompressedNextReaderAbandoned(t *testing.T) {
	cli, srv := deflatePair(t, deflate.Parameters{}, Config{}, Config{})
	ctx := context.Background()
	a, b := compressible(200000, 1), compressible(200000, 1) // b refers back into a
	go func() {
		srv.WriteMessage(ctx, Text, a)
		srv.WriteMessage(ctx, Text, b)
	}()
	_, rd, err := cli.NextReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rd, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	_, got, err := cli.ReadMessage(ctx, nil)
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("after an abandoned reader: %v, equal %v", err, bytes.Equal(got, b))
	}
	if _, err := rd.Read(make([]byte, 10)); !errors.Is(err, ErrReaderDone) {
		t.Fatalf("old reader: %v, want ErrReaderDone", err)
	}
}

// TestCompressedReadInterruptedFails: a read of a compressed message cut by its context in the
// middle cannot resume (the inflater consumed part of the input): the connection is closed
// with 1011, and the read returns the context's error.
func TestCompressedReadInterruptedFails(t *testing.T) {
	cli, sn := rawServerPeer(t, deflate.Parameters{}, Config{})
	payload := deflateRaw(t, compressible(10000, 0))
	sn.Write(rawFrame(false, frame.Rsv1, frame.OpText, false, payload[:len(payload)/2]))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, _, err := cli.ReadMessage(ctx, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's deadline", err)
	}
	_, _, err = cli.ReadMessage(context.Background(), nil)
	wantClose(t, err, frame.CloseInternalError, false)
}

// TestCompressedMessageCutByConnectionEnd: a peer that hangs up between two frames of a
// compressed message has not ended the message. The read must fail as a lost connection
// (1006), on both read paths, and deliver nothing: the connection's end is not the end of the
// compressed stream. (Found by FuzzConnClientReadCompressed: the inflater took the end of the
// connection for the end of the message and delivered what it had inflated.)
func TestCompressedMessageCutByConnectionEnd(t *testing.T) {
	payload := deflateRaw(t, compressible(3000, 1))
	for _, path := range []string{"ReadMessage", "NextReader"} {
		t.Run(path, func(t *testing.T) {
			cli, sn := rawServerPeer(t, deflate.Parameters{}, Config{})
			go func() {
				sn.Write(rawFrame(false, frame.Rsv1, frame.OpText, false, payload)) // FIN clear
				sn.Close()
			}()
			var got []byte
			var err error
			if path == "ReadMessage" {
				_, got, err = cli.ReadMessage(context.Background(), nil)
			} else {
				var rd io.Reader
				if _, rd, err = cli.NextReader(context.Background()); err == nil {
					got, err = io.ReadAll(rd)
				}
			}
			if len(got) > 0 && path == "ReadMessage" {
				t.Fatalf("delivered %d bytes of a message the connection cut", len(got))
			}
			wantClose(t, err, frame.CloseAbnormal, false)
		})
	}
}
