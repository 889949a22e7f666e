// Package fuzz holds fuzz targets that span packages or compare this module with another
// implementation; fuzzers that exercise one package alone live beside its code (for example
// frame.FuzzDecodeHeader).
//
// The differential fuzzers here feed the same bytes to our frame package and to
// github.com/gobwas/ws, an independent RFC 6455 implementation, and require the same answer
// wherever both follow RFC 6455 §5.2 (header format) and §5.1-§5.5 (receive-side rules). Known,
// deliberate differences are listed on each fuzzer and skipped, never papered over.
//
// The package has no non-test code; gobwas/ws is imported by its tests only and is never a
// dependency of the engine. Run a target with, for example:
//
//	go test -run='^$' -fuzz='^FuzzHeaderVsGobwas$' -fuzztime=30s ./fuzz/
package fuzz
