package deflate

import (
	"bytes"
	stdflate "compress/flate"
	"io"
	"os"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

func corpus(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkLibraries compresses then inflates one JSON message, with the writer and reader
// reused as a pool would (Reset between messages), and reports the compression ratio. It is
// the measurement behind the choice of github.com/klauspost/compress/flate (see doc.go).
func BenchmarkLibraries(b *testing.B) {
	type codec struct {
		name  string
		write func(dst *bytes.Buffer, msg []byte)
		read  func(src []byte, dst []byte) int
	}
	var out bytes.Buffer
	stdW1, _ := stdflate.NewWriter(&out, stdflate.BestSpeed)
	stdW6, _ := stdflate.NewWriter(&out, stdflate.DefaultCompression)
	kW1, _ := kflate.NewWriter(&out, 1)
	kW5, _ := kflate.NewWriter(&out, 5)
	kWin, _ := kflate.NewWriterWindow(&out, 1<<15)
	stdR := stdflate.NewReader(bytes.NewReader(nil))
	kR := kflate.NewReader(bytes.NewReader(nil))
	inflate := func(r io.ReadCloser, reset func(io.Reader) error) func([]byte, []byte) int {
		return func(src, dst []byte) int {
			src = append(src, 0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff)
			_ = reset(bytes.NewReader(src))
			n, _ := io.ReadFull(r, dst)
			return n
		}
	}
	stdRead := inflate(stdR, func(r io.Reader) error { return stdR.(stdflate.Resetter).Reset(r, nil) })
	kRead := inflate(kR, func(r io.Reader) error { return kR.(kflate.Resetter).Reset(r, nil) })
	with := func(w interface {
		Write([]byte) (int, error)
		Flush() error
		Reset(io.Writer)
	}) func(*bytes.Buffer, []byte) {
		return func(dst *bytes.Buffer, msg []byte) {
			w.Reset(dst)
			_, _ = w.Write(msg)
			_ = w.Flush()
			dst.Truncate(dst.Len() - 4)
		}
	}
	ours := func(level int) (func(*bytes.Buffer, []byte), func([]byte, []byte) int) {
		comp, _ := NewCompressorLevel(15, true, level)
		dec, _ := NewDecompressor(15, true)
		return func(dst *bytes.Buffer, msg []byte) {
				b, _ := comp.AppendMessage(dst.Bytes(), msg)
				*dst = *bytes.NewBuffer(b)
			}, func(src, dst []byte) int {
				b, _ := dec.AppendMessage(dst[:0], src, 0)
				return len(b)
			}
	}
	oursW, oursR := ours(DefaultLevel)
	ours1W, ours1R := ours(BestSpeed)
	codecs := []codec{
		{"stdlib-level1", with(stdW1), stdRead},
		{"stdlib-level6", with(stdW6), stdRead},
		{"klauspost-level1", with(kW1), kRead},
		{"klauspost-level5", with(kW5), kRead},
		{"klauspost-window15", with(kWin), kRead},
		{"ours-window15", oursW, oursR},
		{"ours-window15-level1", ours1W, ours1R},
	}
	for _, file := range []string{"msg-1k.json", "msg-64k.json"} {
		msg := corpus(b, file)
		for _, c := range codecs {
			b.Run(file+"/"+c.name, func(b *testing.B) {
				var buf bytes.Buffer
				dst := make([]byte, len(msg)+1)
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for b.Loop() {
					buf.Reset()
					c.write(&buf, msg)
					if n := c.read(buf.Bytes(), dst); n != len(msg) {
						b.Fatalf("inflated %d bytes, want %d", n, len(msg))
					}
				}
				b.ReportMetric(float64(len(msg))/float64(buf.Len()), "ratio")
			})
		}
	}
}

// BenchmarkCompressor measures the package's message API with and without context takeover
// at the smallest and largest windows; takeover primes each message's pooled writer with the
// window's worth of dictionary.
func BenchmarkCompressor(b *testing.B) {
	for _, file := range []string{"msg-1k.json", "msg-64k.json"} {
		msg := corpus(b, file)
		for _, bits := range []int{9, 15} {
			for _, noTakeover := range []bool{true, false} {
				name := file + "/bits" + itoa(bits) + map[bool]string{true: "/no-takeover", false: "/takeover"}[noTakeover]
				b.Run(name, func(b *testing.B) {
					c, _ := NewCompressor(bits, noTakeover)
					d, _ := NewDecompressor(bits, noTakeover)
					var payload, out []byte
					b.SetBytes(int64(len(msg)))
					b.ReportAllocs()
					for b.Loop() {
						payload, _ = c.AppendMessage(payload[:0], msg)
						var err error
						if out, err = d.AppendMessage(out[:0], payload, 0); err != nil || len(out) != len(msg) {
							b.Fatal(err, len(out))
						}
					}
					b.ReportMetric(float64(len(msg))/float64(len(payload)), "ratio")
				})
			}
		}
	}
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

// BenchmarkInflateDictionary inflates the same 1 KiB JSON message (compressed on its own) with
// and without context takeover at each window: with takeover the Decompressor's window is
// full, and every message starts by laying it out in order and copying it into the pooled
// inflater's history (flate.Resetter.Reset with the dictionary). The difference between the
// two is that per-message cost.
func BenchmarkInflateDictionary(b *testing.B) {
	msg := corpus(b, "msg-1k.json")
	c, _ := NewCompressor(15, true)
	payload, _ := c.AppendMessage(nil, msg)
	for _, bits := range []int{9, 12, 15} {
		for _, noTakeover := range []bool{true, false} {
			name := "bits" + itoa(bits) + map[bool]string{true: "/no-takeover", false: "/takeover"}[noTakeover]
			b.Run(name, func(b *testing.B) {
				d, _ := NewDecompressor(bits, noTakeover)
				var out []byte
				// Fill the window (and wrap it) before timing.
				for range 1 + (1<<bits)/len(msg) {
					out, _ = d.AppendMessage(out[:0], payload, 0)
				}
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if out, err = d.AppendMessage(out[:0], payload, 0); err != nil || len(out) != len(msg) {
						b.Fatal(err, len(out))
					}
				}
			})
		}
	}
}
