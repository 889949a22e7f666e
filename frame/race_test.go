//go:build race

package frame

// raceEnabled reports a -race build, whose sync.Pool drops a random share of the buffers put
// back (to find code that relies on getting them again), so pooled buffers are reallocated now
// and then; with 1 MiB scratch buffers the garbage collector also runs often enough to empty
// the pools.
const raceEnabled = true
