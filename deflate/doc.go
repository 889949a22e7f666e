// Package deflate implements the permessage-deflate extension of RFC 7692: its parameters and
// their negotiation (§5, §7.1), and message compression and decompression with context
// takeover and window sizes of 2^8 to 2^15 bytes (§7.2).
//
// Negotiation: [Elements] splits Sec-WebSocket-Extensions header values into elements, [Parse]
// reads one element and [Parameters.String] writes one. A client builds its offer with [ClientOptions.Offer] and
// checks the server's answer with [Accept]; a server picks an offer with
// [ServerOptions.Negotiate]. The result, the agreed [Parameters], says for each direction
// whether context is taken over and how large the window is.
//
// Messages: a [Compressor] and a [Decompressor] serve one direction of one connection each.
// The compressor strips the 0x00 0x00 0xff 0xff that ends every message (§7.2.1); the
// decompressor appends it again (§7.2.2), inflates as the caller reads, enforces a maximum
// inflated size as the bytes come out, and tells a message that ends inside a deflate block
// ([ErrTruncated]) or goes on after a final block ([ErrTrailingData]) from plain bad data
// ([ErrCorrupt]). [CloseCode] maps them to RFC 6455 close codes.
//
// # Memory
//
// Flate writers and readers come from pools and are held only while a message is being
// compressed or inflated. Between messages (after a garbage collection) a connection keeps,
// per direction:
//
//   - without context takeover: the Compressor (160 bytes) or Decompressor (264 bytes);
//   - with context takeover: that plus the window's worth of dictionary, 2^bits bytes,
//     allocated with the first compressed message. TestIdleMemoryPerConnection measures
//     both.
//
// While a message is in flight it also holds a pooled flate writer (about 1 MiB for
// github.com/klauspost/compress/flate's windowed encoder, mostly hash tables) or a pooled
// inflater (about 37 KiB) and a 4 KiB read buffer. The pools hold as many of these as
// messages were in flight at once, until the garbage collector empties them. With context
// takeover the last message's writer is also kept, weakly, for the next message, until the next
// collection (see below).
//
// # Why github.com/klauspost/compress/flate
//
// The standard library's compress/flate writer always uses a 32 KiB window: it cannot honour
// server_max_window_bits or client_max_window_bits below 15, which the peer may impose.
// klauspost's NewWriterWindow takes any window from 32 bytes to 32 KiB and never emits a
// distance beyond it, so a writer made with 2^bits never refers back further than the peer
// allows; ResetDict primes it with the takeover dictionary. It is also faster at the same
// ratio. BenchmarkLibraries compresses and inflates one message of testdata/ (JSON, 1182 and
// 65639 bytes), writer and reader reused; go test -bench -benchmem, 2 shared cores:
//
//	                    1 KiB JSON               64 KiB JSON
//	                    ns/op   ratio  allocs    ns/op     ratio  allocs
//	stdlib level 1      19 820  2.11   1         684 485   3.82   8
//	stdlib level 6      26 209  2.45   1         2 286 411 4.87   10
//	klauspost level 5   11 126  2.42   1         423 033   4.53   1
//	this package, 2^15  12 223  2.42   0         466 999   4.53   0
//
// The windowed encoder compresses like klauspost's level 5. Context takeover would cost time
// on small messages if each message's pooled writer had to be primed by encoding up to 2^bits
// bytes of dictionary (1 KiB JSON: 49 µs with takeover at window 2^15 against 13 µs without).
// So a Compressor with takeover keeps the last message's writer through a weak pointer: the
// next message continues it (22 µs in BenchmarkCompressor), until a garbage collection frees it
// and the next message primes a pooled writer again. An idle connection therefore keeps no
// writer once the collector has run, instead of the 1 MiB writer per connection of a library
// that holds one.
//
// # Levels
//
// RFC 7692 does not negotiate a compression level: each end picks its own. [DefaultLevel] is
// klauspost's windowed encoder at every window size (about its level 5). Levels 1
// ([BestSpeed]) to 9 ([BestCompression]), set by [ClientOptions.Level], [ServerOptions.Level]
// or [NewCompressorLevel], use klauspost's flate.NewWriter(level) when the sending window is
// 2^15 bytes; below 15 bits that library has only the windowed encoder, which is then used
// whatever the level. Level 1 is what gws, gorilla and coder compress with by default; on the
// JSON corpus it sends about 15% more bytes than the default at 64 KiB (25.5% of the message
// against 22.1%) for about two thirds of the CPU time without context takeover
// (BenchmarkCompressedEcho in the bench module: 665 against 981 µs of CPU per 64 KiB echo);
// with takeover the two took the same time in that run (962 and 963 µs). The default stays the windowed encoder, the
// same at every window size and the best ratio of the Go libraries; a service that would
// rather spend less CPU than fewer bytes sets level 1.
//
// # Dictionary copies
//
// A pooled inflater (flate.Resetter) starts every message of a takeover direction by copying
// the 2^bits dictionary into its history; neither klauspost's nor the standard library's
// reader can continue a stream across messages (an input that stops is a sticky error, and
// Reset is the only way on). Keeping one reader per connection instead would also keep its
// 37 KiB between messages, over the memory budget of an idle connection. Laying the ring out
// and copying it cost 1-4 µs per message at 2^15 and nothing measurable at 2^9 and 2^12
// (BenchmarkInflateDictionary: 4.4-4.6 µs to inflate a 1 KiB JSON message without takeover,
// 5.4-8.4 µs with a full 2^15 window), a few percent of inflating 64 KiB.
//
// The package imports nothing from the rest of this module; the connection layer sees it
// through an interface of its own.
package deflate
