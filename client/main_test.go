package client

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(peerEnv) != "" {
		os.Exit(runPeer())
	}
	if paths := os.Getenv(plainH2Env); paths != "" {
		os.Exit(runPlainH2(paths))
	}
	// net/http's HTTP/2 server allows extended CONNECT (RFC 8441) only with this setting,
	// read when the program starts (see http2_test.go).
	if err := h2GodebugEnsure(); err != nil {
		os.Stderr.WriteString("GODEBUG=http2xconnect=1: " + err.Error() + "\n")
	}
	code := m.Run()
	if peerStop != nil {
		peerStop()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
