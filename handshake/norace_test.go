//go:build !race

package handshake

// raceEnabled reports a -race build; see race_test.go.
const raceEnabled = false
