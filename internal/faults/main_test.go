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
	if os.Getenv(helperEnv) != "" {
		os.Exit(runLoadServer())
	}
	goleak.VerifyTestMain(m)
}

// helperEnv, when set in the environment, makes the test binary the server of the load test.
const helperEnv = "FAULTS_LOAD_SERVER"
