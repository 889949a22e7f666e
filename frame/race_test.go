//go:build race

package frame

// raceEnabled reports a -race build, in which crypto/rand's Read allocates (its argument
// escapes under the race detector's instrumentation).
const raceEnabled = true
