//go:build wsdebug

package frame

// debugPoison is true in builds with the tag wsdebug: Reader overwrites the payload slice it
// handed out as soon as the next call on it starts, so code that keeps using the slice reads
// garbage (0xDB bytes) in tests instead of silently reading the next frame.
const debugPoison = true
