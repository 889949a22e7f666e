//go:build !race

package client

import "testing"

// Memory an idle connection may hold in the client process (see idleBlocking): the issue's
// target for the blocking API, and a bound for the facade, which adds its WebSocket, session
// and transport. Measured with 2000 connections: about 4.8 KiB and 5.8 KiB.
const (
	maxIdleBlocking = 5 << 10
	maxIdleFacade   = 6 << 10
)

// TestIdleConnectionMemory is the guard of the idle-memory target: N connections against the
// child-process server, each waiting in a read, hold at most maxIdleBlocking (blocking API) or
// maxIdleFacade (facade) bytes each. (Not under -race, which changes allocation and stacks.)
func TestIdleConnectionMemory(t *testing.T) {
	if per := idleBlocking(t, idleConns); per > maxIdleBlocking {
		t.Errorf("blocking API: %.0f B per idle connection, want at most %d", per, maxIdleBlocking)
	} else {
		t.Logf("blocking API: %.0f B per idle connection", per)
	}
	if per := idleFacade(t, idleConns); per > maxIdleFacade {
		t.Errorf("facade: %.0f B per idle connection, want at most %d", per, maxIdleFacade)
	} else {
		t.Logf("facade: %.0f B per idle connection", per)
	}
}
