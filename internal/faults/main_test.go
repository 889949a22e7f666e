package faults

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running after them. A test
// binary re-executed as the load test's server process (helperEnv set) serves instead of
// running tests.
func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
	case "facade":
		os.Exit(runLoadServerFacade())
	default:
		os.Exit(runLoadServer())
	}
	goleak.VerifyTestMain(m)
}

// helperEnv, when set in the environment, makes the test binary the server of the load test:
// the server facade (package server) when it is "facade", the conn-level server otherwise.
const helperEnv = "FAULTS_LOAD_SERVER"
