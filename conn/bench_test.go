package conn

import (
	"context"
	"testing"
)

// BenchmarkRoundTrip sends a message from our client to our server over loopback TCP, which
// echoes it back: WriteMessage and ReadMessage on both ends. Steady state: 0 allocs/op.
func BenchmarkRoundTrip(b *testing.B) {
	for _, n := range []int{64, 1 << 10, 64 << 10, 1 << 20} {
		b.Run(sizeName(n), func(b *testing.B) {
			client, server := connPair(b, nil, nil)
			done := goEcho(server)
			ctx := context.Background()
			msg := payloadOf(n, false, 1)
			buf := make([]byte, 0, n)
			for range 3 { // warm up: the echo's buffer grows to the message size
				client.WriteMessage(ctx, Binary, msg)
				client.ReadMessage(ctx, buf)
			}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if err := client.WriteMessage(ctx, Binary, msg); err != nil {
					b.Fatal(err)
				}
				_, m, err := client.ReadMessage(ctx, buf)
				if err != nil || len(m) != n {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			client.CloseNow()
			<-done
		})
	}
}
