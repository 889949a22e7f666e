package frame

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// lastDataErrSource delivers its input chunk bytes per Read and returns the last bytes together
// with err, in one Read (n > 0 and err != nil, as io.Reader allows and crypto/tls does for the
// record in front of a close_notify). Every Read after that returns errAfterEnd, so a Reader
// that relies on the source repeating its error reports the wrong one. As a BufferSource
// (lazy) it does the same through ReadBuffer.
type lastDataErrSource struct {
	input []byte
	chunk int
	err   error
	ended bool
}

var errAfterEnd = errors.New("read after the source's final error")

func (s *lastDataErrSource) Read(p []byte) (int, error) {
	if s.ended {
		return 0, errAfterEnd
	}
	n := copy(p, s.input[:min(len(s.input), s.chunk)])
	s.input = s.input[n:]
	if len(s.input) == 0 {
		s.ended = true
		return n, s.err
	}
	return n, nil
}

type lazyDataErrSource struct{ lastDataErrSource }

func (s *lazyDataErrSource) ReadBuffer(size int) (*[]byte, int, error) {
	bp := GetBuffer(size)
	n, err := s.Read(*bp)
	if n == 0 {
		PutBuffer(bp)
		return nil, 0, err
	}
	return bp, n, err
}

// TestReaderDeliversFramesThatCameWithTheFinalError gives the Reader a stream whose last bytes
// come with the end of input (io.EOF) or another error in the same Read: every frame complete
// before the end is delivered whole, by Payload, by Read (direct reads into a large buffer
// included) and by Next, and then the source's error is reported once, as io.EOF at a frame
// boundary or io.ErrUnexpectedEOF inside a frame, or as the source's own error.
func TestReaderDeliversFramesThatCameWithTheFinalError(t *testing.T) {
	errBroken := errors.New("connection broken")
	sizes := []int{0, 125, 50_000, 100_000, 1 << 20}
	for _, size := range sizes {
		for _, final := range []error{io.EOF, errBroken} {
			for _, cut := range []bool{false, true} { // input ends at the frame's end, or inside a next one
				for _, how := range []string{"payload", "read", "next"} {
					for _, lazy := range []bool{false, true} {
						for _, chunk := range []int{7, 1000, 16 << 10, 2 << 20} {
							p := patternBytes(size)
							wire := append(rawTestFrame(OpBinary, []byte("first")), rawTestFrame(OpBinary, p)...)
							if cut {
								wire = append(wire, 0x82, 0x05, 'a')
							}
							base := lastDataErrSource{input: wire, chunk: chunk, err: final}
							var src io.Reader = &base
							if lazy {
								src = &lazyDataErrSource{base}
							}
							r := NewReader(src, RoleClient, 0)
							name := func() string {
								return rwSizeName(size) + "/" + final.Error() + "/" + how + "/" + rwItoa(chunk)
							}
							for i, want := range [][]byte{[]byte("first"), p} {
								got, err := readFrameHow(r, how)
								if err != nil || !bytes.Equal(got, want) {
									t.Fatalf("%s lazy=%v cut=%v: frame %d: %d bytes, %v; want %d bytes",
										name(), lazy, cut, i, len(got), err, len(want))
								}
							}
							wantErr := final
							if cut && final == io.EOF {
								wantErr = io.ErrUnexpectedEOF
							}
							_, err := readFrameHow(r, how)
							if err != wantErr {
								t.Fatalf("%s lazy=%v cut=%v: after the frames got %v, want %v", name(), lazy, cut, err, wantErr)
							}
							r.Drop()
						}
					}
				}
			}
		}
	}
}

// readFrameHow reads the next frame's payload whole with Payload (Read when it does not fit),
// Read into one buffer of the payload's size (direct reads), or Next.
func readFrameHow(r *Reader, how string) ([]byte, error) {
	h, err := r.NextFrame()
	if err != nil {
		return nil, err
	}
	var out []byte
	switch {
	case how == "payload" && h.Length <= int64(r.BufferSize()):
		p, err := r.Payload()
		return append(out, p...), err
	case how == "next":
		for {
			p, err := r.Next()
			out = append(out, p...)
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return out, err
			}
		}
	default:
		out = make([]byte, h.Length)
		n := 0
		for {
			k, err := r.Read(out[n:])
			n += k
			if err == io.EOF || n == len(out) && err == nil && r.Remaining() == 0 {
				return out[:n], nil
			}
			if err != nil {
				return out[:n], err
			}
		}
	}
}
