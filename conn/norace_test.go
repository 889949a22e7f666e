//go:build !race

package conn

// raceEnabled reports a -race build; see race_test.go.
const raceEnabled = false
