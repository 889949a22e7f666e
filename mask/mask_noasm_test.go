//go:build purego || !amd64

package mask

// archImpls returns no vector kernels: this build runs the portable code only.
func archImpls() []impl { return nil }
