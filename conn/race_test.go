//go:build race

package conn

// raceEnabled reports a -race build, whose sync.Pool drops a random share of the buffers put
// back (to find code that relies on getting them again), so pooled buffers are reallocated now
// and then.
const raceEnabled = true
