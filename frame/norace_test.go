//go:build !race

package frame

// raceEnabled reports a -race build; see race_test.go.
const raceEnabled = false
