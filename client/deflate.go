package client

import (
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/deflate"
)

// newCompression wires agreed permessage-deflate parameters into the engine: deflate's
// Compressor and Decompressor implement conn's MessageCompressor and MessageDecompressor; the
// compressor sends at level (deflate.ClientOptions.Level).
func newCompression(p *deflate.Parameters, server bool, level, threshold int) (*conn.Compression, error) {
	c, d, err := p.NewCodecsLevel(server, level)
	if err != nil {
		return nil, err
	}
	return &conn.Compression{Compressor: c, Decompressor: d, Threshold: threshold}, nil
}
