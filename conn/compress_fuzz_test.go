package conn

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/netkit/websocket/deflate"
)

// FuzzCompressedRoundTrip sends the fuzzer's messages from our client to our server over
// loopback TCP with permessage-deflate at every window size and takeover mode the input
// picks, streamed in fragments of the size it picks, and reads them back whole and streamed:
// what comes out must be what went in.
func FuzzCompressedRoundTrip(f *testing.F) {
	f.Add([]byte("hello hello hello hello"), uint8(15), uint8(0), uint16(7), uint8(0))
	f.Add(compressible(3000, 1), uint8(8), uint8(3), uint16(100), uint8(1))
	f.Add(payloadOf(5000, false, 2), uint8(9), uint8(1), uint16(4096), uint8(2))
	f.Add([]byte{}, uint8(12), uint8(2), uint16(1), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, bits, mode uint8, chunk uint16, split uint8) {
		w := 8 + int(bits)%8
		p := deflate.Parameters{ClientNoContextTakeover: mode&1 != 0, ServerNoContextTakeover: mode&2 != 0,
			ClientMaxWindowBits: w, ServerMaxWindowBits: 8 + (w+int(split))%8}
		cli, srv := deflatePair(t, p, Config{WriteBufferSize: 256}, Config{})
		// Three messages: the data, its first part, the data again (takeover refers back).
		k := 0
		if len(data) > 0 {
			k = int(split) % len(data)
		}
		msgs := [][]byte{data, data[:k], data}
		n := max(1, int(chunk))
		errc := make(chan error, 1)
		go func() {
			ctx := context.Background()
			for i, m := range msgs {
				if i == 1 {
					if err := cli.WriteMessage(ctx, Binary, m); err != nil {
						errc <- err
						return
					}
					continue
				}
				mw, err := cli.NextWriter(ctx, Binary)
				if err != nil {
					errc <- err
					return
				}
				for q := m; len(q) > 0; {
					c := min(n, len(q))
					mw.Write(q[:c])
					q = q[c:]
				}
				if err := mw.Close(); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for i, m := range msgs {
			var got []byte
			var err error
			if i == 2 {
				var rd io.Reader
				if _, rd, err = srv.NextReader(ctx); err == nil {
					got, err = io.ReadAll(rd)
				}
			} else {
				_, got, err = srv.ReadMessage(ctx, nil)
			}
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if !bytes.Equal(got, m) {
				t.Fatalf("message %d: %d bytes back, want %d", i, len(got), len(m))
			}
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	})
}
