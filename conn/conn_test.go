package conn

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/netkit/websocket/frame"
)

// TestOurClientAgainstOurServerEchoesEverySize sends every size both ways, as text and binary,
// whole (WriteMessage/ReadMessage) and streamed (NextWriter/NextReader).
func TestOurClientAgainstOurServerEchoesEverySize(t *testing.T) {
	client, server := connPair(t, nil, nil)
	done := goEcho(server)
	ctx := context.Background()
	var buf []byte
	for _, n := range testSizes {
		for _, typ := range []MessageType{Binary, Text} {
			for _, streamed := range []bool{false, true} {
				if n >= 1<<20 && (typ == Text || streamed) {
					continue // the big ones once, to keep -race time down
				}
				msg := payloadOf(n, typ == Text, byte(n))
				if streamed {
					w, err := client.NextWriter(ctx, typ)
					if err != nil {
						t.Fatal(err)
					}
					for rest := msg; len(rest) > 0; {
						k := min(len(rest), 1000)
						if _, err := w.Write(rest[:k]); err != nil {
							t.Fatal(err)
						}
						rest = rest[k:]
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					gt, r, err := client.NextReader(ctx)
					if err != nil {
						t.Fatal(err)
					}
					got, err := io.ReadAll(r)
					if err != nil || gt != typ || !bytes.Equal(got, msg) {
						t.Fatalf("%s %v streamed: got %v %d bytes %v", sizeName(n), typ, gt, len(got), err)
					}
					continue
				}
				if err := client.WriteMessage(ctx, typ, msg); err != nil {
					t.Fatal(err)
				}
				gt, got, err := client.ReadMessage(ctx, buf)
				if err != nil || gt != typ || !bytes.Equal(got, msg) {
					t.Fatalf("%s %v: got %v %d bytes %v", sizeName(n), typ, gt, len(got), err)
				}
				buf = got
			}
		}
	}
	if err := client.Close(frame.CloseNormal, "done"); err != nil {
		t.Fatal(err)
	}
	wantClose(t, waitErr(t, done, 5*time.Second), frame.CloseNormal, true)
}

// TestOurClientAgainstGobwasServer echoes every size through a gobwas/ws server.
func TestOurClientAgainstGobwasServer(t *testing.T) {
	client, done := gobwasServer(t, nil, func(nc net.Conn) error {
		for {
			msg, op, err := wsutil.ReadClientData(nc)
			if err != nil {
				return err
			}
			if err := wsutil.WriteServerMessage(nc, op, msg); err != nil {
				return err
			}
		}
	})
	ctx := context.Background()
	var buf []byte
	for _, n := range testSizes {
		for _, typ := range []MessageType{Binary, Text} {
			msg := payloadOf(n, typ == Text, byte(n))
			if err := client.WriteMessage(ctx, typ, msg); err != nil {
				t.Fatal(err)
			}
			gt, got, err := client.ReadMessage(ctx, buf)
			if err != nil || gt != typ || !bytes.Equal(got, msg) {
				t.Fatalf("%s %v: got %v %d bytes, %v", sizeName(n), typ, gt, len(got), err)
			}
			buf = got
		}
	}
	if err := client.Close(frame.CloseGoingAway, "bye"); err != nil {
		t.Fatal(err)
	}
	// gobwas answers our close with its own, then wsutil reports the close to its loop.
	var ce wsutil.ClosedError
	if err := waitErr(t, done, 5*time.Second); !errors.As(err, &ce) || ce.Code != ws.StatusGoingAway {
		t.Fatalf("gobwas server ended with %v", err)
	}
	_, _, err := client.ReadMessage(ctx, nil)
	wantClose(t, err, frame.CloseGoingAway, true)
}

// TestGobwasClientAgainstOurServer echoes every size from a gobwas/ws client through our
// server.
func TestGobwasClientAgainstOurServer(t *testing.T) {
	nc, rd, server := gobwasClient(t, nil)
	done := goEcho(server)
	rw := struct {
		io.Reader
		io.Writer
	}{rd, nc}
	for _, n := range testSizes {
		for _, op := range []ws.OpCode{ws.OpBinary, ws.OpText} {
			msg := payloadOf(n, op == ws.OpText, byte(n))
			if err := wsutil.WriteClientMessage(nc, op, msg); err != nil {
				t.Fatal(err)
			}
			got, gop, err := wsutil.ReadServerData(rw)
			if err != nil || gop != op || !bytes.Equal(got, msg) {
				t.Fatalf("%s %v: got %v %d bytes, %v", sizeName(n), op, gop, len(got), err)
			}
		}
	}
	// gobwas closes; our server answers with the same code and ends its loop with it.
	if err := ws.WriteFrame(nc, ws.MaskFrameInPlace(ws.NewCloseFrame(ws.NewCloseFrameBody(4000, "app")))); err != nil {
		t.Fatal(err)
	}
	code, reason, err := readCloseFrame(rd, frame.RoleClient)
	if err != nil || code != 4000 || reason != "" {
		t.Fatalf("close reply %v %q %v", code, reason, err)
	}
	ce := wantClose(t, waitErr(t, done, 5*time.Second), 4000, true)
	if ce.Reason != "app" {
		t.Fatalf("reason %q", ce.Reason)
	}
	// Our server closed TCP after replying.
	if _, err := rd.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after close: %v, want EOF", err)
	}
}

// TestFragmentedMessagesWithPingsInsideFromGobwasServer has the gobwas server send fragmented
// messages with pings between the fragments, checks our reassembly (ReadMessage and
// NextReader) and that each ping was answered with a pong of the same payload, in order.
func TestFragmentedMessagesWithPingsInsideFromGobwasServer(t *testing.T) {
	pongs := make(chan string, 16)
	type msg struct {
		op    ws.OpCode
		parts []string
	}
	msgs := []msg{
		{ws.OpText, []string{"Hel", "lo, ", "wor", "ld"}},
		{ws.OpBinary, []string{"", "\x00\x01", "", "\x02"}},
		{ws.OpText, []string{"caf\xc3", "\xa9 ", "\xe2\x82", "\xac"}}, // runes split across fragments
	}
	client, done := gobwasServer(t, nil, func(nc net.Conn) error {
		for i, m := range msgs {
			for j, part := range m.parts {
				op := m.op
				if j > 0 {
					op = ws.OpContinuation
				}
				f := ws.NewFrame(op, j == len(m.parts)-1, []byte(part))
				if err := ws.WriteFrame(nc, f); err != nil {
					return err
				}
				if j < len(m.parts)-1 {
					ping := ws.NewPingFrame([]byte{byte('A' + i), byte('0' + j)})
					if err := ws.WriteFrame(nc, ping); err != nil {
						return err
					}
				}
			}
		}
		// Read the pongs, then the close.
		for {
			f, err := ws.ReadFrame(nc)
			if err != nil {
				return err
			}
			if f.Header.Masked {
				ws.Cipher(f.Payload, f.Header.Mask, 0)
			}
			switch f.Header.OpCode {
			case ws.OpPong:
				pongs <- string(f.Payload)
			case ws.OpClose:
				return ws.WriteFrame(nc, ws.NewCloseFrame(f.Payload))
			}
		}
	})
	ctx := context.Background()
	for i, m := range msgs {
		var want []byte
		for _, p := range m.parts {
			want = append(want, p...)
		}
		var got []byte
		var typ MessageType
		var err error
		if i%2 == 0 {
			typ, got, err = client.ReadMessage(ctx, nil)
		} else {
			var r io.Reader
			typ, r, err = client.NextReader(ctx)
			if err == nil {
				got, err = io.ReadAll(r)
			}
		}
		if err != nil || typ != MessageType(m.op) || !bytes.Equal(got, want) {
			t.Fatalf("message %d: %v %q %v", i, typ, got, err)
		}
	}
	if err := client.Close(frame.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, done, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	close(pongs)
	var got []string
	for p := range pongs {
		got = append(got, p)
	}
	want := []string{"A0", "A1", "A2", "B0", "B1", "B2", "C0", "C1", "C2"}
	if len(got) != len(want) {
		t.Fatalf("pongs %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("pongs %q, want %q", got, want)
		}
	}
}

// TestGobwasClientFragmentsWithPingsToOurServer sends masked fragments with pings between
// them from the gobwas side to our server, which must reassemble and answer the pings.
func TestGobwasClientFragmentsWithPingsToOurServer(t *testing.T) {
	var pinged []string
	nc, rd, server := gobwasClient(t, &Config{OnPing: func(p []byte) { pinged = append(pinged, string(p)) }})
	parts := []string{"frag", "mented ", "mess", "age"}
	for j, part := range parts {
		op := ws.OpText
		if j > 0 {
			op = ws.OpContinuation
		}
		f := ws.MaskFrameInPlace(ws.NewFrame(op, j == len(parts)-1, []byte(part)))
		if err := ws.WriteFrame(nc, f); err != nil {
			t.Fatal(err)
		}
		if err := ws.WriteFrame(nc, ws.MaskFrameInPlace(ws.NewPingFrame([]byte{byte('0' + j)}))); err != nil {
			t.Fatal(err)
		}
	}
	typ, got, err := server.ReadMessage(context.Background(), nil)
	if err != nil || typ != Text || string(got) != "fragmented message" {
		t.Fatalf("got %v %q %v", typ, got, err)
	}
	// The first three pings came before the last fragment and were answered; the fourth is
	// answered by the next read.
	readDone := make(chan error, 1)
	go func() {
		_, _, err := server.ReadMessage(context.Background(), nil)
		readDone <- err
	}()
	for j := range 4 {
		f, err := ws.ReadFrame(rd)
		if err != nil || f.Header.OpCode != ws.OpPong || f.Header.Masked || string(f.Payload) != string(rune('0'+j)) {
			t.Fatalf("pong %d: %+v %q %v", j, f.Header, f.Payload, err)
		}
	}
	ws.WriteFrame(nc, ws.MaskFrameInPlace(ws.NewCloseFrame(nil)))
	wantClose(t, waitErr(t, readDone, 5*time.Second), frame.CloseNoStatus, true)
	code, _, err := readCloseFrame(rd, frame.RoleClient)
	if err != nil || code != frame.CloseNormal {
		t.Fatalf("reply to an empty close: %v %v, want 1000", code, err)
	}
	if len(pinged) != 4 {
		t.Fatalf("OnPing saw %q", pinged)
	}
}

// TestStreamingWriterSendsFragments checks the frames NextWriter produces on the wire: the
// first with the message type, continuations after, FIN only on the last, a ping between.
func TestStreamingWriterSendsFragments(t *testing.T) {
	cn, sn := tcpPair(t)
	c := New(cn, nil, &Config{Role: frame.RoleClient, WriteBufferSize: 256})
	ctx := context.Background()
	w, err := c.NextWriter(ctx, Binary)
	if err != nil {
		t.Fatal(err)
	}
	msg := payloadOf(1000, false, 1)
	w.Write(msg[:100])                // buffered
	w.Write(msg[100:400])             // fills the buffer: a frame of 242
	c.Ping(ctx, []byte("between"))    // control frame between fragments
	w.Write(msg[400:1000])            // 158 buffered + ... frames
	if err := w.Close(); err != nil { // final frame
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err != ErrWriterClosed {
		t.Fatalf("write after close: %v", err)
	}
	c.CloseNow()
	fr := frame.NewReader(sn, frame.RoleServer, 0)
	var got []byte
	var ops []frame.Opcode
	var fins []bool
	for {
		h, err := fr.NextFrame()
		if err != nil {
			break
		}
		p, _ := io.ReadAll(fr)
		ops, fins = append(ops, h.Op), append(fins, h.Fin)
		if h.Op.IsData() {
			got = append(got, p...)
		} else if string(p) != "between" {
			t.Fatalf("ping payload %q", p)
		}
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("reassembled %d bytes", len(got))
	}
	if ops[0] != frame.OpBinary || ops[1] != frame.OpPing || fins[0] || !fins[len(fins)-1] {
		t.Fatalf("ops %v fins %v", ops, fins)
	}
	for i := 2; i < len(ops); i++ {
		if ops[i] != frame.OpContinuation || fins[i] != (i == len(ops)-1) {
			t.Fatalf("ops %v fins %v", ops, fins)
		}
	}
}

// TestCloseHandshakePaths covers each way a closing handshake can go, over loopback TCP.
func TestCloseHandshakePaths(t *testing.T) {
	t.Run("we close, peer is reading", func(t *testing.T) {
		client, server := connPair(t, nil, nil)
		done := goEcho(server)
		if err := client.Close(frame.CloseNormal, "bye"); err != nil {
			t.Fatal(err)
		}
		ce := wantClose(t, waitErr(t, done, 5*time.Second), frame.CloseNormal, true)
		if ce.Reason != "bye" {
			t.Fatalf("server saw reason %q", ce.Reason)
		}
		_, _, err := client.ReadMessage(context.Background(), nil)
		wantClose(t, err, frame.CloseNormal, true)
		if err := client.WriteMessage(context.Background(), Text, nil); err != ErrClosed {
			t.Fatalf("write after close: %v", err)
		}
		if err := client.Close(frame.CloseNormal, ""); err != ErrClosed {
			t.Fatalf("second Close: %v", err)
		}
	})
	t.Run("we close with our reader active, peer sends data first", func(t *testing.T) {
		client, server := connPair(t, nil, nil)
		got := make(chan error, 1)
		var msgs []string
		go func() {
			for {
				_, m, err := client.ReadMessage(context.Background(), nil)
				if err != nil {
					got <- err
					return
				}
				msgs = append(msgs, string(m))
			}
		}()
		serverDone := make(chan error, 1)
		go func() {
			// The server sends two messages, then reads our close and answers.
			server.WriteMessage(context.Background(), Text, []byte("one"))
			server.WriteMessage(context.Background(), Text, []byte("two"))
			_, _, err := server.ReadMessage(context.Background(), nil)
			serverDone <- err
		}()
		time.Sleep(20 * time.Millisecond) // let the reader block in its read
		if err := client.Close(4001, "done"); err != nil {
			t.Fatal(err)
		}
		wantClose(t, waitErr(t, got, 5*time.Second), 4001, true)
		wantClose(t, waitErr(t, serverDone, 5*time.Second), 4001, true)
		if len(msgs) != 2 {
			t.Fatalf("reader got %q before the close", msgs)
		}
	})
	t.Run("we close with no reader, Close reads and drops data", func(t *testing.T) {
		client, server := connPair(t, nil, nil)
		serverDone := make(chan error, 1)
		go func() {
			server.WriteMessage(context.Background(), Binary, make([]byte, 100000))
			_, _, err := server.ReadMessage(context.Background(), nil)
			serverDone <- err
		}()
		if err := client.Close(frame.CloseGoingAway, ""); err != nil {
			t.Fatal(err)
		}
		wantClose(t, waitErr(t, serverDone, 5*time.Second), frame.CloseGoingAway, true)
	})
	t.Run("peer closes", func(t *testing.T) {
		client, server := connPair(t, nil, nil)
		done := goEcho(client)
		if err := server.Close(3000, "registered"); err != nil {
			t.Fatal(err)
		}
		ce := wantClose(t, waitErr(t, done, 5*time.Second), 3000, true)
		if ce.Reason != "registered" {
			t.Fatalf("reason %q", ce.Reason)
		}
		if err := client.Ping(context.Background(), nil); err != ErrClosed {
			t.Fatalf("ping after peer close: %v", err)
		}
	})
	t.Run("peer never answers, Close is bounded", func(t *testing.T) {
		cn, sn := tcpPair(t)
		client := New(cn, nil, &Config{CloseTimeout: 200 * time.Millisecond})
		go io.Copy(io.Discard, sn) // reads everything, answers nothing
		start := time.Now()
		err := client.Close(frame.CloseNormal, "")
		if !errors.Is(err, ErrCloseTimeout) {
			t.Fatalf("Close: %v", err)
		}
		if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
			t.Fatalf("Close took %v", d)
		}
		_, _, err = client.ReadMessage(context.Background(), nil)
		wantClose(t, err, frame.CloseAbnormal, false)
	})
	t.Run("peer never answers while our reader is active", func(t *testing.T) {
		cn, sn := tcpPair(t)
		client := New(cn, nil, &Config{CloseTimeout: 200 * time.Millisecond})
		go io.Copy(io.Discard, sn)
		got := make(chan error, 1)
		go func() {
			_, _, err := client.ReadMessage(context.Background(), nil)
			got <- err
		}()
		time.Sleep(20 * time.Millisecond)
		if err := client.Close(frame.CloseNormal, ""); !errors.Is(err, ErrCloseTimeout) {
			t.Fatalf("Close: %v", err)
		}
		wantClose(t, waitErr(t, got, 5*time.Second), frame.CloseAbnormal, false)
	})
	t.Run("TCP drop is 1006", func(t *testing.T) {
		cn, sn := tcpPair(t)
		client := New(cn, nil, nil)
		sn.Write(rawFrame(false, 0, frame.OpText, false, []byte("half a mess")))
		sn.Close()
		_, _, err := client.ReadMessage(context.Background(), nil)
		ce := wantClose(t, err, frame.CloseAbnormal, false)
		if !errors.Is(ce, io.EOF) && !errors.Is(ce, io.ErrUnexpectedEOF) {
			t.Fatalf("cause %v", ce.Err)
		}
		if err := client.WriteMessage(context.Background(), Text, nil); err != ErrClosed {
			t.Fatalf("write after drop: %v", err)
		}
	})
	t.Run("CloseNow", func(t *testing.T) {
		client, server := connPair(t, nil, nil)
		done := goEcho(server)
		if err := client.CloseNow(); err != nil {
			t.Fatal(err)
		}
		wantClose(t, waitErr(t, done, 5*time.Second), frame.CloseAbnormal, false)
		if err := client.CloseNow(); err != ErrClosed {
			t.Fatalf("second CloseNow: %v", err)
		}
		if err := client.Close(frame.CloseNormal, ""); err != ErrClosed {
			t.Fatalf("Close after CloseNow: %v", err)
		}
	})
	t.Run("invalid code or reason leaves the connection open", func(t *testing.T) {
		client, server := connPair(t, nil, nil)
		done := goEcho(server)
		for _, tc := range []struct {
			code   frame.CloseCode
			reason string
			want   error
			msg    string // in the error's text: the offending value
		}{
			{1005, "x", frame.ErrCloseReasonWithoutCode, "close reason of 1 bytes without a close code"},
			{1006, "", frame.ErrCloseCodeNotSendable, "close code 1006 may not be sent"},
			{999, "", frame.ErrCloseCodeNotSendable, "close code 999 may not be sent"},
			{1000, string(make([]byte, 124)), frame.ErrCloseReasonTooLong, "close reason of 124 bytes is over 123"},
			{1000, "\xff", frame.ErrCloseReasonNotUTF8, "not valid UTF-8 at byte 0"},
		} {
			err := client.Close(tc.code, tc.reason)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Close(%v): %v, want %v", tc.code, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Close(%v): %q does not say %q", tc.code, err, tc.msg)
			}
		}
		if err := client.WriteMessage(context.Background(), Text, []byte("still open")); err != nil {
			t.Fatal(err)
		}
		if _, m, err := client.ReadMessage(context.Background(), nil); err != nil || string(m) != "still open" {
			t.Fatalf("%q %v", m, err)
		}
		if err := client.Close(frame.CloseNoStatus, ""); err != nil {
			t.Fatal(err)
		}
		wantClose(t, waitErr(t, done, 5*time.Second), frame.CloseNoStatus, true)
	})
	t.Run("Close cuts a streamed message", func(t *testing.T) {
		client, server := connPair(t, nil, nil)
		done := goEcho(server)
		w, err := client.NextWriter(context.Background(), Text)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(make([]byte, 10000)) // some frames sent
		if err := client.Close(frame.CloseNormal, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("more")); err != ErrClosed {
			t.Fatalf("Write after Close: %v", err)
		}
		if err := w.Close(); err != ErrClosed {
			t.Fatalf("writer Close after Close: %v", err)
		}
		wantClose(t, waitErr(t, done, 5*time.Second), frame.CloseNormal, true)
	})
}

// TestProtocolViolationsFailWithTheirCode sends each violation from a raw peer and checks the
// close frame our client sends (code), the error our read returns, and that TCP is closed.
func TestProtocolViolationsFailWithTheirCode(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		wire [][]byte // written in order, with a pause between
		code frame.CloseCode
	}{
		{"reserved bits", Config{}, [][]byte{rawFrame(true, frame.Rsv1, frame.OpText, false, []byte("x"))}, 1002},
		{"reserved opcode", Config{}, [][]byte{rawFrame(true, 0, 5, false, nil)}, 1002},
		{"masked frame from server", Config{}, [][]byte{rawFrame(true, 0, frame.OpText, true, []byte("x"))}, 1002},
		{"fragmented ping", Config{}, [][]byte{rawFrame(false, 0, frame.OpPing, false, nil)}, 1002},
		{"ping over 125", Config{}, [][]byte{rawFrame(true, 0, frame.OpPing, false, make([]byte, 126))}, 1002},
		{"continuation first", Config{}, [][]byte{rawFrame(true, 0, frame.OpContinuation, false, []byte("x"))}, 1002},
		{"text inside text", Config{}, [][]byte{rawFrame(false, 0, frame.OpText, false, []byte("a")),
			rawFrame(true, 0, frame.OpText, false, []byte("b"))}, 1002},
		{"close of 1 byte", Config{}, [][]byte{rawFrame(true, 0, frame.OpClose, false, []byte{3})}, 1002},
		{"close code 1005 on the wire", Config{}, [][]byte{rawFrame(true, 0, frame.OpClose, false, []byte{0x03, 0xED})}, 1002},
		{"close reason not UTF-8", Config{}, [][]byte{rawFrame(true, 0, frame.OpClose, false, []byte{0x03, 0xE8, 0xff})}, 1007},
		{"invalid UTF-8 text", Config{}, [][]byte{rawFrame(true, 0, frame.OpText, false, []byte("ab\xc0\xafcd"))}, 1007},
		{"text ending mid rune", Config{}, [][]byte{rawFrame(true, 0, frame.OpText, false, []byte("ab\xe2\x82"))}, 1007},
		// The first fragment holds a byte that can never be valid and the rest never comes:
		// the connection must fail on that fragment, not wait for the end of the message.
		{"invalid UTF-8 in the first fragment", Config{}, [][]byte{rawFrame(false, 0, frame.OpText, false, []byte("ok\xed\xa0\x80"))}, 1007},
		{"message over the limit", Config{MaxMessageSize: 1000}, [][]byte{rawFrame(true, 0, frame.OpBinary, false, make([]byte, 1001))}, 1009},
		{"fragments over the limit", Config{MaxMessageSize: 1000}, [][]byte{rawFrame(false, 0, frame.OpBinary, false, make([]byte, 600)),
			rawFrame(true, 0, frame.OpContinuation, false, make([]byte, 600))}, 1009},
		{"non-minimal length", Config{}, [][]byte{{0x82, 0x7e, 0x00, 0x05, 1, 2, 3, 4, 5}}, 1002},
		// Our server role: frames from a client must be masked.
		{"server: unmasked frame from client", Config{Role: frame.RoleServer}, [][]byte{rawFrame(true, 0, frame.OpText, false, []byte("x"))}, 1002},
		{"server: invalid UTF-8 across fragments", Config{Role: frame.RoleServer}, [][]byte{rawFrame(false, 0, frame.OpText, true, []byte("a\xf0\x90")),
			rawFrame(true, 0, frame.OpContinuation, true, []byte("\x28"))}, 1007},
		{"server: message over the limit", Config{Role: frame.RoleServer, MaxMessageSize: 10}, [][]byte{rawFrame(true, 0, frame.OpBinary, true, make([]byte, 11))}, 1009},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cn, sn := tcpPair(t)
			cfg := tt.cfg
			client := New(cn, nil, &cfg)
			go func() {
				for _, w := range tt.wire {
					sn.Write(w)
					time.Sleep(5 * time.Millisecond)
				}
			}()
			readErr := make(chan error, 1)
			go func() {
				var err error
				for err == nil {
					_, _, err = client.ReadMessage(context.Background(), nil)
				}
				readErr <- err
			}()
			sn.SetReadDeadline(time.Now().Add(5 * time.Second))
			peerRole := frame.RoleServer
			if cfg.Role == frame.RoleServer {
				peerRole = frame.RoleClient
			}
			code, _, err := readCloseFrame(sn, peerRole)
			if err != nil || code != tt.code {
				t.Fatalf("close frame from our client: %v %v, want %v", code, err, tt.code)
			}
			ce := wantClose(t, waitErr(t, readErr, 5*time.Second), tt.code, false)
			var pe *frame.ProtocolError
			if !errors.As(ce, &pe) || pe.Code != tt.code {
				t.Fatalf("cause %v", ce.Err)
			}
			if _, err := sn.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("TCP after failing: %v, want EOF", err)
			}
		})
	}
}

// TestConcurrentWritersKeepMessagesIntact has many goroutines write whole and streamed
// messages and pings at once; every message must arrive intact.
func TestConcurrentWritersKeepMessagesIntact(t *testing.T) {
	client, server := connPair(t, &Config{WriteBufferSize: 512}, nil)
	const writers, perWriter = 8, 40
	ctx := context.Background()
	errs := make(chan error, writers)
	for g := range writers {
		go func() {
			for i := range perWriter {
				n := 1 + (g*perWriter+i)*97%5000
				msg := payloadOf(n, false, byte(g))
				msg[0] = byte(g)
				var err error
				switch i % 3 {
				case 0:
					err = client.WriteMessage(ctx, Binary, msg)
				case 1:
					var w io.WriteCloser
					if w, err = client.NextWriter(ctx, Binary); err == nil {
						for rest := msg; len(rest) > 0 && err == nil; {
							k := min(len(rest), 300)
							_, err = w.Write(rest[:k])
							rest = rest[k:]
						}
						if cerr := w.Close(); err == nil {
							err = cerr
						}
					}
				case 2:
					if err = client.Ping(ctx, []byte{byte(g)}); err == nil {
						err = client.WriteMessage(ctx, Binary, msg)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var buf []byte
	for range writers * perWriter {
		_, m, err := server.ReadMessage(ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		want := payloadOf(len(m), false, m[0])
		want[0] = m[0]
		if !bytes.Equal(m, want) {
			t.Fatalf("message of %d bytes from writer %d is corrupt", len(m), m[0])
		}
		buf = m
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	done := goEcho(server)
	client.Close(frame.CloseNormal, "")
	waitErr(t, done, 5*time.Second)
}

// TestWriteMessageWaitsForStreamedMessage checks that a whole message written while another
// goroutine streams one (here, between its fragments) goes out after the streamed message's
// last fragment, never between its fragments.
func TestWriteMessageWaitsForStreamedMessage(t *testing.T) {
	client, server := connPair(t, &Config{WriteBufferSize: 512}, nil)
	defer client.CloseNow()
	defer server.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	streamed, whole := payloadOf(2000, false, 1), payloadOf(100, false, 2)
	w, err := client.NextWriter(ctx, Binary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(streamed[:1000]); err != nil { // sends the first fragments
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- client.WriteMessage(ctx, Binary, whole) }()
	select {
	case err := <-done:
		t.Fatalf("WriteMessage returned (%v) while a streamed message was unfinished", err)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := w.Write(streamed[1000:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, done, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]byte{streamed, whole} {
		_, m, err := server.ReadMessage(ctx, nil)
		if err != nil || !bytes.Equal(m, want) {
			t.Fatalf("message %d: %d bytes, %v", i, len(m), err)
		}
	}
}

// TestCancelledReadResumes cancels ReadMessage while it waits for a header, in the middle of
// a payload, and between fragments; the next ReadMessage returns the whole message.
func TestCancelledReadResumes(t *testing.T) {
	msg := payloadOf(200000, true, 3)
	frag1 := rawFrame(false, 0, frame.OpText, false, msg[:120000])
	frag2 := rawFrame(true, 0, frame.OpContinuation, false, msg[120000:])
	stream := append(append([]byte{}, frag1...), rawFrame(true, 0, frame.OpPing, false, []byte("p"))...)
	stream = append(stream, frag2...)
	cuts := []struct {
		name string
		at   int // bytes sent before the cancel
	}{
		{"before any byte", 0},
		{"inside the first header", 1},
		{"inside the first payload", 70000},
		{"between fragments", len(frag1)},
		{"inside the ping", len(frag1) + 2},
		{"inside the second header", len(frag1) + 3 + 2},
		{"inside the second payload", len(frag1) + 3 + 50000},
	}
	for _, cut := range cuts {
		t.Run(cut.name, func(t *testing.T) {
			cn, sn := tcpPair(t)
			client := New(cn, nil, nil)
			go io.Copy(io.Discard, sn) // drain the pong
			if _, err := sn.Write(stream[:cut.at]); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, _, err := client.ReadMessage(ctx, make([]byte, 0, 10))
			if err != context.DeadlineExceeded {
				t.Fatalf("first read: %v", err)
			}
			// A second interrupted read in the same state loses nothing either.
			ctx2, cancel2 := context.WithCancel(context.Background())
			cancel2()
			if _, _, err := client.ReadMessage(ctx2, nil); err != context.Canceled {
				t.Fatalf("read with cancelled ctx: %v", err)
			}
			if _, err := sn.Write(stream[cut.at:]); err != nil {
				t.Fatal(err)
			}
			typ, got, err := client.ReadMessage(context.Background(), nil)
			if err != nil || typ != Text || !bytes.Equal(got, msg) {
				t.Fatalf("resumed read: %v %d bytes %v", typ, len(got), err)
			}
			client.CloseNow()
		})
	}
}

// TestCancelledNextReaderResumes interrupts a message reader, then goes on reading it.
func TestCancelledNextReaderResumes(t *testing.T) {
	cn, sn := tcpPair(t)
	client := New(cn, nil, nil)
	msg := payloadOf(50000, false, 9)
	wire := rawFrame(true, 0, frame.OpBinary, false, msg)
	sn.Write(wire[:30000])
	ctx, cancel := context.WithCancel(context.Background())
	typ, r, err := client.NextReader(ctx)
	if err != nil || typ != Binary {
		t.Fatal(typ, err)
	}
	got := make([]byte, 0, len(msg))
	for len(got) < 30000-4 {
		n, err := r.Read(make([]byte, 1000))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msg[len(got):len(got)+n]...)
	}
	time.AfterFunc(30*time.Millisecond, cancel)
	if _, err := r.Read(make([]byte, 1000)); err != context.Canceled {
		t.Fatalf("read past what was sent: %v", err)
	}
	// The rest arrives; a new NextReader discards the rest of this message and reads the next.
	sn.Write(wire[30000:])
	sn.Write(rawFrame(true, 0, frame.OpText, false, []byte("next")))
	typ, r2, err := client.NextReader(context.Background())
	if err != nil || typ != Text {
		t.Fatal(typ, err)
	}
	if b, err := io.ReadAll(r2); err != nil || string(b) != "next" {
		t.Fatalf("%q %v", b, err)
	}
	if _, err := r.Read(make([]byte, 1)); err != ErrReaderDone {
		t.Fatalf("old reader: %v", err)
	}
	client.CloseNow()
}

// TestReadDeadlineLeavesConnectionUsable uses SetReadDeadline instead of a context.
func TestReadDeadlineLeavesConnectionUsable(t *testing.T) {
	client, server := connPair(t, nil, nil)
	client.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if _, _, err := client.ReadMessage(context.Background(), nil); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v", err)
	}
	client.SetReadDeadline(time.Time{})
	server.WriteMessage(context.Background(), Text, []byte("after"))
	if _, m, err := client.ReadMessage(context.Background(), nil); err != nil || string(m) != "after" {
		t.Fatalf("%q %v", m, err)
	}
	client.CloseNow()
	server.CloseNow()
}

// pipeConn is one end of net.Pipe: writes block until the other end reads, which makes the
// amount of a frame written before a deadline exact.
func pipeConn(t *testing.T) (client *Conn, peer net.Conn) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return New(a, nil, nil), b
}

// TestCancelledWriteBeforeAnyByteLeavesConnectionUsable cancels a write that no reader takes
// (net.Pipe: nothing is written until the peer reads), and a wait for the message lock.
func TestCancelledWriteBeforeAnyByteLeavesConnectionUsable(t *testing.T) {
	client, peer := pipeConn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := client.WriteMessage(ctx, Text, []byte("never sent")); err != context.DeadlineExceeded {
		t.Fatalf("write: %v", err)
	}
	// Waiting for the message lock respects the context too.
	w, _ := client.NextWriter(context.Background(), Text)
	w.Write([]byte("streamed"))
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if err := client.WriteMessage(ctx2, Text, nil); err != context.DeadlineExceeded {
		t.Fatalf("write waiting for the lock: %v", err)
	}
	got := make(chan string, 2)
	go func() {
		for range 2 {
			_, p, err := readOne(peer)
			if err != nil {
				p = err.Error()
			}
			got <- p
		}
	}()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.WriteMessage(context.Background(), Text, []byte("sent")); err != nil {
		t.Fatal(err)
	}
	if a, b := <-got, <-got; a != "streamed" || b != "sent" {
		t.Fatalf("peer got %q, %q", a, b)
	}
}

// readOne reads one frame from a client's stream; it reads no byte past the frame.
func readOne(r io.Reader) (frame.Opcode, string, error) {
	fr := frame.NewReader(iotest.OneByteReader(r), frame.RoleServer, frame.MinBufferSize)
	defer fr.Release()
	h, err := fr.NextFrame()
	if err != nil {
		return 0, "", err
	}
	p, err := io.ReadAll(fr)
	return h.Op, string(p), err
}

// TestWriteCutInsideAFrameClosesConnection lets the peer take part of a frame, then cancels.
func TestWriteCutInsideAFrameClosesConnection(t *testing.T) {
	client, peer := pipeConn(t)
	go func() {
		io.ReadFull(peer, make([]byte, 10)) // takes 10 bytes of the frame, then stops
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := client.WriteMessage(ctx, Binary, make([]byte, 100))
	if !errors.Is(err, frame.ErrIncompleteWrite) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write: %v", err)
	}
	if err := client.WriteMessage(context.Background(), Binary, nil); err != ErrClosed {
		t.Fatalf("next write: %v", err)
	}
	_, _, err = client.ReadMessage(context.Background(), nil)
	wantClose(t, err, frame.CloseAbnormal, false)
}

// TestAbandonedStreamedMessageFailsConnection cancels a message writer after a frame went out.
func TestAbandonedStreamedMessageFailsConnection(t *testing.T) {
	cn, sn := tcpPair(t)
	client := New(cn, nil, &Config{WriteBufferSize: 256})
	ctx, cancel := context.WithCancel(context.Background())
	w, _ := client.NextWriter(ctx, Binary)
	if _, err := w.Write(make([]byte, 1000)); err != nil { // frames sent
		t.Fatal(err)
	}
	cancel()
	if _, err := w.Write([]byte("x")); err != context.Canceled {
		t.Fatalf("write after cancel: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrMessageAbandoned) {
		t.Fatalf("Close: %v", err)
	}
	code, _, err := readCloseFrame(sn, frame.RoleServer)
	if err != nil || code != frame.CloseInternalError {
		t.Fatalf("close frame %v %v", code, err)
	}
	// A writer cancelled before sending anything leaves the connection usable.
	client2, server2 := connPair(t, nil, nil)
	ctx2, cancel2 := context.WithCancel(context.Background())
	w2, _ := client2.NextWriter(ctx2, Text)
	w2.Write([]byte("buffered only"))
	cancel2()
	if err := w2.Close(); err != context.Canceled {
		t.Fatalf("Close: %v", err)
	}
	client2.WriteMessage(context.Background(), Text, []byte("fine"))
	if _, m, err := server2.ReadMessage(context.Background(), nil); err != nil || string(m) != "fine" {
		t.Fatalf("%q %v", m, err)
	}
	client2.CloseNow()
	server2.CloseNow()
}

// TestMisuseReturnsErrors checks that wrong calls return errors rather than panicking.
func TestMisuseReturnsErrors(t *testing.T) {
	client, server := connPair(t, nil, nil)
	ctx := context.Background()
	if err := client.WriteMessage(ctx, frame.OpPing, nil); !errors.Is(err, ErrMessageType) || !strings.Contains(err.Error(), "not ping (9)") {
		t.Fatal(err)
	}
	if _, err := client.NextWriter(ctx, 0); !errors.Is(err, ErrMessageType) || !strings.Contains(err.Error(), "(0)") {
		t.Fatal(err)
	}
	if err := client.Ping(ctx, make([]byte, 126)); !errors.Is(err, ErrControlTooLong) || !strings.Contains(err.Error(), "126 bytes") {
		t.Fatal(err)
	}
	if err := client.Pong(ctx, make([]byte, 126)); !errors.Is(err, ErrControlTooLong) || !strings.Contains(err.Error(), "126 bytes") {
		t.Fatal(err)
	}
	w, _ := client.NextWriter(ctx, Text)
	w.Close()
	if err := w.Close(); err != ErrWriterClosed {
		t.Fatal(err)
	}
	// Two concurrent NextWriter: the second waits, bounded by its context.
	w1, _ := client.NextWriter(ctx, Text)
	ctx2, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := client.NextWriter(ctx2, Text); err != context.DeadlineExceeded {
		t.Fatal(err)
	}
	w1.Close()
	// Concurrent reads wait for each other.
	ctx3, cancel3 := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel3()
	errs := make(chan error, 2)
	for range 2 {
		go func() { _, _, err := server.ReadMessage(ctx3, nil); errs <- err }()
	}
	// The two empty text messages sent above arrive, one for each.
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if client.Subprotocol() != "" || client.LocalAddr() == nil || client.RemoteAddr() == nil || client.NetConn() == nil {
		t.Fatal("accessors")
	}
	client.CloseNow()
	server.CloseNow()
}

// TestPrefixBytesAreTheStartOfTheStream gives New bytes read past the handshake.
func TestPrefixBytesAreTheStartOfTheStream(t *testing.T) {
	cn, sn := tcpPair(t)
	wire := append(rawFrame(true, 0, frame.OpText, false, []byte("from prefix")), rawFrame(false, 0, frame.OpBinary, false, []byte("ab"))...)
	client := New(cn, wire[:len(wire)-1], nil)
	sn.Write(wire[len(wire)-1:])
	sn.Write(rawFrame(true, 0, frame.OpContinuation, false, []byte("cd")))
	if _, m, err := client.ReadMessage(context.Background(), nil); err != nil || string(m) != "from prefix" {
		t.Fatalf("%q %v", m, err)
	}
	if _, m, err := client.ReadMessage(context.Background(), nil); err != nil || string(m) != "abcd" {
		t.Fatalf("%q %v", m, err)
	}
	client.CloseNow()
}

// TestOnPongReportsPayload pings the server and sees the pong.
func TestOnPongReportsPayload(t *testing.T) {
	pong := make(chan string, 1)
	client, server := connPair(t, &Config{OnPong: func(p []byte) { pong <- string(p) }}, nil)
	done := goEcho(server)
	readDone := goEcho(client)
	if err := client.Ping(context.Background(), []byte("are you there")); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-pong:
		if p != "are you there" {
			t.Fatalf("pong %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
	server.Close(frame.CloseNormal, "")
	waitErr(t, done, 5*time.Second)
	waitErr(t, readDone, 5*time.Second)
}

// TestSteadyStateReadAndWriteAllocateNothing checks the allocation contract over loopback.
func TestSteadyStateReadAndWriteAllocateNothing(t *testing.T) {
	client, server := connPair(t, nil, nil)
	ctx := context.Background()
	msg := payloadOf(1024, true, 0)
	cbuf, sbuf := make([]byte, 0, 4096), make([]byte, 0, 4096)
	round := func() {
		client.WriteMessage(ctx, Text, msg)
		_, m, _ := server.ReadMessage(ctx, sbuf)
		server.WriteMessage(ctx, Binary, m)
		client.ReadMessage(ctx, cbuf)
	}
	round()
	// Under -race, sync.Pool drops buffers at random: the read and write buffers, borrowed
	// per frame, are then allocated again (at most four per round trip: each end reads and
	// writes once).
	want := 0.0
	if raceEnabled {
		want = 4
	}
	if a := testing.AllocsPerRun(100, round); a > want {
		t.Fatalf("%v allocs per round trip, want at most %v", a, want)
	}
	client.CloseNow()
	server.CloseNow()
}

// TestFullDuplexStreamingWithPingsDoesNotDeadlock has both ends write large messages and ping
// each other while reading: the readers must never wait behind a writer to answer a ping (the
// writer may wait for the peer, which waits for us).
func TestFullDuplexStreamingWithPingsDoesNotDeadlock(t *testing.T) {
	client, server := connPair(t, nil, nil)
	const msgs, size = 40, 256 << 10
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	errs := make(chan error, 6)
	for _, c := range []*Conn{client, server} {
		go func() { // writer
			msg := payloadOf(size, false, 5)
			for range msgs {
				if err := c.WriteMessage(ctx, Binary, msg); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
		go func() { // pinger
			for i := range 200 {
				if err := c.Ping(ctx, []byte{byte(i)}); err != nil {
					errs <- err
					return
				}
				time.Sleep(time.Millisecond)
			}
			errs <- nil
		}()
		go func() { // reader
			buf := make([]byte, 0, size)
			for range msgs {
				_, m, err := c.ReadMessage(ctx, buf)
				if err != nil || len(m) != size {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	client.CloseNow()
	server.CloseNow()
}

// TestPongQueuedWhileWritingIsSentWhenTheWriterStops checks that a pong the reader queues while
// a writer holds the frame lock goes out when the writer lets go, also when the writer then
// writes nothing more: the server pings while the client writes a burst of small messages,
// and each pong must arrive after the burst is over.
func TestPongQueuedWhileWritingIsSentWhenTheWriterStops(t *testing.T) {
	pongs := make(chan byte, 1)
	client, server := connPair(t, nil, &Config{OnPong: func(p []byte) {
		if len(p) == 1 {
			select {
			case pongs <- p[0]:
			default:
			}
		}
	}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	defer client.CloseNow()
	defer server.CloseNow()
	readers := make(chan error, 2)
	for _, c := range []*Conn{client, server} {
		go func() { // the client's reader answers the pings, the server's reports the pongs
			buf := make([]byte, 0, 64)
			for {
				if _, _, err := c.ReadMessage(ctx, buf); err != nil {
					readers <- err
					return
				}
			}
		}()
	}
	msg := payloadOf(16, false, 1)
	for i := range 300 {
		burst := make(chan error, 1)
		go func() {
			for range 20 {
				if err := client.WriteMessage(ctx, Binary, msg); err != nil {
					burst <- err
					return
				}
			}
			burst <- nil
		}()
		if err := server.Ping(ctx, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if err := waitErr(t, burst, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-pongs:
			if p != byte(i) {
				t.Fatalf("round %d: pong %d", i, p)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: no pong within 10 s after the writer stopped", i)
		}
	}
	client.CloseNow()
	server.CloseNow()
	for range 2 {
		if err := waitErr(t, readers, 10*time.Second); err == nil {
			t.Fatal("a reader ended without an error")
		}
	}
}

// TestReadMessageIntoNilBufferAllocatesOnce checks that a message of up to 1 MiB read without
// a buffer costs one allocation, sized to the frame, not a chain of growing ones.
func TestReadMessageIntoNilBufferAllocatesOnce(t *testing.T) {
	for _, n := range []int{100, 64 << 10, 1 << 20} {
		wire := rawFrame(true, 0, frame.OpBinary, false, payloadOf(n, false, 1))
		c := New(&memConn{wire: wire}, nil, &Config{Role: frame.RoleClient})
		want := 1.0
		if raceEnabled {
			want = 4 // sync.Pool drops buffers at random (each miss is two allocations)
		}
		a := testing.AllocsPerRun(20, func() {
			if _, p, err := c.ReadMessage(context.Background(), nil); err != nil || len(p) != n || cap(p) > n+n/8+64 {
				t.Fatalf("%d bytes (cap %d), %v", len(p), cap(p), err)
			}
		})
		if a > want {
			t.Fatalf("%d-byte message: %v allocations, want at most %v", n, a, want)
		}
	}
}

func TestReadAllocSuppliesTheBuffersReadMessageGrowsInto(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frames [][]byte // one message, in fragments
		calls  int      // at least this many ReadAlloc calls
	}{
		{"one small frame", [][]byte{payloadOf(100, false, 1)}, 1},
		{"fragments", [][]byte{payloadOf(100, false, 1), payloadOf(5000, false, 2), payloadOf(7, false, 3)}, 2},
		{"over the 1 MiB growth step", [][]byte{payloadOf(1<<20+5, false, 4)}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var wire, want []byte
			for i, f := range tc.frames {
				op := frame.OpContinuation
				if i == 0 {
					op = frame.OpBinary
				}
				wire = append(wire, rawFrame(i == len(tc.frames)-1, 0, op, false, f)...)
				want = append(want, f...)
			}
			var last []byte
			calls := 0
			alloc := func(n int) []byte {
				calls++
				last = make([]byte, n+3)[3:3] // a buffer ReadMessage could not have made
				return last
			}
			c := New(&memConn{wire: wire}, nil, &Config{Role: frame.RoleClient, ReadAlloc: alloc})
			_, p, err := c.ReadMessage(context.Background(), nil)
			if err != nil || !bytes.Equal(p, want) {
				t.Fatalf("read %d bytes, %v; want %d bytes", len(p), err, len(want))
			}
			if calls < tc.calls || &p[:1][0] != &last[:1][0] {
				t.Errorf("%d ReadAlloc calls, payload in the last one's buffer: %v", calls, &p[:1][0] == &last[:1][0])
			}
		})
	}
}

// TestReadAllocCallsGrowLogarithmicallyWithFragments: a message of many small fragments, over
// loopback TCP, is reassembled with O(log n) ReadAlloc calls of geometrically growing sizes
// (not one call, and a copy of everything so far, per fragment), and with MaxMessageSize set
// no buffer is asked for beyond it.
func TestReadAllocCallsGrowLogarithmicallyWithFragments(t *testing.T) {
	for _, tc := range []struct {
		name      string
		size, fr  int
		maxSize   int64
		maxCalls  int
		maxBuffer int // no ReadAlloc call asks for more
	}{
		{"4 MiB in 64 B fragments", 4 << 20, 64, 0, 25, 8 << 20},
		{"5 MB in 64 B fragments, MaxMessageSize 5 MB", 5_000_000, 64, 5_000_000, 25, 5_000_000},
		{"1 MiB in 1 B fragments", 1 << 20, 1, -1, 25, 2 << 20},
		{"100 KB in 1000 B fragments", 100_000, 1000, 0, 12, 200_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cn, sn := tcpPair(t)
			msg := payloadOf(tc.size, false, 7)
			var wire []byte
			for off := 0; off < len(msg); off += tc.fr {
				op := frame.OpContinuation
				if off == 0 {
					op = frame.OpBinary
				}
				wire = append(wire, rawFrame(off+tc.fr >= len(msg), 0, op, false, msg[off:min(off+tc.fr, len(msg))])...)
			}
			sent := make(chan error, 1)
			go func() { _, err := sn.Write(wire); sent <- err }()
			calls, total, largest := 0, 0, 0
			alloc := func(n int) []byte {
				calls++
				total += n
				largest = max(largest, n)
				return make([]byte, 0, n)
			}
			c := New(cn, nil, &Config{Role: frame.RoleClient, ReadAlloc: alloc, MaxMessageSize: tc.maxSize})
			_, p, err := c.ReadMessage(context.Background(), nil)
			if err != nil || !bytes.Equal(p, msg) {
				t.Fatalf("read %d bytes, %v; want %d bytes", len(p), err, len(msg))
			}
			if err := waitErr(t, sent, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d fragments: %d ReadAlloc calls, %d bytes asked for in all, largest %d", (len(msg)+tc.fr-1)/tc.fr, calls, total, largest)
			if calls > tc.maxCalls {
				t.Errorf("%d ReadAlloc calls for one message, want at most %d (O(log n))", calls, tc.maxCalls)
			}
			if total > 4*len(msg) {
				t.Errorf("%d bytes asked for in all, want at most 4x the message's %d", total, len(msg))
			}
			if largest > tc.maxBuffer {
				t.Errorf("largest ReadAlloc %d, want at most %d", largest, tc.maxBuffer)
			}
		})
	}
}
