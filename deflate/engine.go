package deflate

import (
	"io"
	"weak"

	"github.com/klauspost/compress/flate"
)

// The methods of this file let a connection use a Compressor and a Decompressor through
// interfaces of its own (package conn's MessageCompressor and MessageDecompressor), whose
// signatures name only standard types, so that the connection layer needs no import of this
// package.

// NewCodecs returns the Compressor and the Decompressor of one end of a connection that
// agreed on p: for a client (server false) the compressor follows the client_* parameters and
// the decompressor the server_* ones, for a server the other way round (RFC 7692 §7.1.1,
// §7.1.2).
func (p Parameters) NewCodecs(server bool) (*Compressor, *Decompressor, error) {
	return p.NewCodecsLevel(server, DefaultLevel)
}

// NewCodecsLevel is [Parameters.NewCodecs] with the compressor's level (see
// [NewCompressorLevel]): [ClientOptions.Level] for a client, [ServerOptions.Level] for a
// server.
func (p Parameters) NewCodecsLevel(server bool, level int) (*Compressor, *Decompressor, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	cBits, cNo := p.ClientWindowBits(), p.ClientNoContextTakeover
	sBits, sNo := p.ServerWindowBits(), p.ServerNoContextTakeover
	if server {
		cBits, cNo, sBits, sNo = sBits, sNo, cBits, cNo
	}
	c, err := NewCompressorLevel(cBits, cNo, level)
	if err != nil {
		return nil, nil, err
	}
	d, err := NewDecompressor(sBits, sNo)
	if err != nil {
		return nil, nil, err
	}
	return c, d, nil
}

// StartMessage is [Compressor.NewWriter] returning an io.WriteCloser.
func (c *Compressor) StartMessage(dst io.Writer) (io.WriteCloser, error) {
	w, err := c.NewWriter(dst)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Reset forgets the takeover dictionary, so that the next message refers to nothing sent
// before it. A sender may always do this: the peer's dictionary still holds what it received,
// and a message that does not refer to it inflates the same. A connection calls it when a
// compressed message it had taken into the dictionary could not be sent.
func (c *Compressor) Reset() {
	c.dict.reset()
	c.hot = weak.Pointer[flate.Writer]{} // its history holds the messages to forget
}

// StartMessage is [Decompressor.NewReader] returning an io.ReadCloser.
func (d *Decompressor) StartMessage(payload io.Reader, limit int64) (io.ReadCloser, error) {
	r, err := d.NewReader(payload, limit)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// CloseCode is [CloseCode] as a method, for a connection that sees the Decompressor through an
// interface.
func (d *Decompressor) CloseCode(err error) int { return CloseCode(err) }
