//go:build race

package handshake

// raceEnabled reports a -race build, in which crypto/rand.Read makes its buffer escape.
const raceEnabled = true
