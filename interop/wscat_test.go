//go:build interop

package interop_test

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/netkit/websocket/internal/wscattest"
)

// wscatLines is how many lines TestWscatDeliversEveryLineInOrder sends to each peer: the
// issue's 3,000,000 where the peer echoes them in well under a minute on the shared 2-core
// machine (Node: about 50 s), 1,000,000 where it does not (Python websockets: about 32 s for
// 1,000,000).
var wscatLines = map[string]int{"node": 3_000_000, "python": 1_000_000}

// wscatMaxRSS bounds wscat's memory (measured: about 14 MB with either peer).
const wscatMaxRSS = 100 << 20

// Regression: `seq 1 N | wscat URL` read all of stdin at once, queued it without limit and
// cut what was not written 5 s after the end of input: against Python websockets 100,000
// lines already lost some, and memory grew with the input (788 MB for 3,000,000 lines). wscat
// now reads stdin only as fast as the server takes it: every line comes back, in order, wscat
// exits 0 and stays small.
func TestWscatDeliversEveryLineInOrder(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "wscat")
	build := exec.Command("go", "build", "-o", bin, "../cmd/wscat")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build wscat: %v\n%s", err, out)
	}
	for _, p := range peers { // one after the other: each keeps both cores busy
		t.Run(p.name, func(t *testing.T) {
			p.require(t)
			wscattest.EchoLines(t, bin, []string{p.url + "/echo"}, wscatLines[p.name], wscatMaxRSS, 180*time.Second)
		})
	}
}
