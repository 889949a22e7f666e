// Package conn is a message-level WebSocket connection over a net.Conn, for either end: RFC 6455
// data framing and fragmentation (§5.4), control frames (§5.5: ping answered with a pong of the
// same payload, pongs reported, close handled), and the closing handshake and the failing of a
// connection (§7, with the close codes of §7.4).
//
// The opening handshake is not done here: New takes a net.Conn on which it has already taken
// place (by package handshake or anything else), and the bytes read past it.
//
// Reading delivers whole messages into a caller's reusable buffer (ReadMessage) or streams one
// message at a time (NextReader). Text is checked to be UTF-8 as it arrives, across fragments,
// and the connection is failed with 1007 at the first byte that can never be valid; messages
// over Config.MaxMessageSize fail it with 1009, and any framing violation with 1002.
//
// Writing sends whole messages (WriteMessage), streams a message as fragments (NextWriter), and
// sends pings and pongs. Writes are safe from many goroutines at once: the frames of two
// messages never interleave, and control frames may go out between the fragments of a message.
// Enqueue sends without blocking through a bounded queue (Config.SendQueueBytes and
// SendQueueMessages, default 16 MiB and 4096 messages; ErrQueueFull past them; Buffered tells
// how much waits): a message goes out at once from the caller's goroutine when nothing is
// queued and the socket takes it without waiting, and otherwise is written in order by a
// goroutine that exists only while the queue holds messages. Close flushes the queue before its close frame for as long as the peer takes it
// (the bound is a stall of Config.CloseTimeout, not the total time), and a connection failed
// for a protocol violation writes what is queued before its close frame.
//
// Per-message compression (RFC 7692 §6, §7.2): with Config.Compression, the connection
// compresses the messages it sends of at least Compression.Threshold bytes (RSV1 on their first
// frame, never on control frames) and inflates those that arrive with RSV1, as they are read;
// MaxMessageSize then applies to the inflated size, UTF-8 is checked on the inflated text, and
// a bad compressed stream fails the connection with 1007. The extension is seen through
// conn's own interfaces, MessageCompressor and MessageDecompressor, which package deflate
// implements.
//
// Every blocking call takes a context.Context. A cancelled context ends that call, not the
// connection: the connection stays usable (see Conn for the one exception, a frame cut in the
// middle; and with compression, a read interrupted inside a compressed message, which fails
// the connection with 1011).
//
// From this module, conn imports only package frame (which brings package mask); it must not
// import handshake or anything above it.
package conn
