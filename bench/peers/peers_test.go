package main

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs the server when the driver under test re-executes this test binary as its
// server child; otherwise it runs the tests and checks that no goroutine is left behind.
func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) != "" {
		if err := runServer(); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// TestQuickRunMeasuresEveryLibrary runs the -quick mode end to end (server child process,
// every benchmark, every library) and checks that every table has a sane row for every
// library. The harness itself verifies every echo byte for byte, every received message's
// size and pattern, and the sink's count of sent messages; any mismatch is an error here.
func TestQuickRunMeasuresEveryLibrary(t *testing.T) {
	res, err := run(options{quick: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.errs {
		t.Error(e)
	}
	cfg := quickConfig()
	var keys []string
	for _, s := range cfg.rtSizes {
		keys = append(keys, "rt/"+itoa(s))
	}
	for _, s := range cfg.tpSizes {
		keys = append(keys, "send/"+itoa(s), "recv/"+itoa(s))
	}
	keys = append(keys, "handshake", "idle")
	metrics := map[string][]string{
		"rt":        {"p50", "p99", "p999"},
		"send":      {"msgs", "mbs", "allocs", "bytes", "cpu"},
		"recv":      {"msgs", "mbs", "allocs", "bytes", "cpu"},
		"handshake": {"p50", "p99", "allocs", "bytes"},
		"idle":      {"bytes"},
	}
	for _, key := range keys {
		kind, _, _ := strings.Cut(key, "/")
		for _, lib := range libraries {
			got := map[string]float64{}
			for _, m := range metrics[kind] {
				v, ok := res.median(key, lib.name, m)
				if !ok {
					t.Errorf("%s %s: no %s", key, lib.name, m)
					continue
				}
				got[m] = v
			}
			switch kind {
			case "rt", "handshake":
				if !(got["p50"] > 0 && got["p50"] <= got["p99"]) {
					t.Errorf("%s %s: p50 %v, p99 %v", key, lib.name, got["p50"], got["p99"])
				}
			case "send", "recv":
				if !(got["msgs"] > 0 && got["mbs"] > 0 && got["allocs"] >= 0 && got["cpu"] >= 0) {
					t.Errorf("%s %s: %v", key, lib.name, got)
				}
			case "idle":
				if !(got["bytes"] > 0) {
					t.Errorf("%s %s: %v bytes per idle connection", key, lib.name, got["bytes"])
				}
			}
		}
	}
	md := res.markdown()
	for _, want := range []string{"### Round trip", "### Send throughput", "### Receive throughput",
		"### Handshake", "### Memory per idle connection", "### Compression", "### Targets", "Machine: "} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	for _, lib := range libraries {
		if !strings.Contains(md, "| "+lib.name+" |") {
			t.Errorf("markdown lacks a row for %s", lib.name)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDeflateSectionMeasuresEveryClient runs the compression section alone in -quick mode:
// every client negotiates permessage-deflate (a dial without it is an error), the sink
// inflates the warm-up messages and checks them by hash, every received message is checked,
// and every table has a row per client with a wire ratio on the send side that shows
// compression (JSON: under 50%, over 10%).
func TestDeflateSectionMeasuresEveryClient(t *testing.T) {
	res, err := run(options{quick: true, only: map[string]bool{"deflate": true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.errs {
		t.Error(e)
	}
	if len(res.keys) != 2*len(deflateCorpus) {
		t.Fatalf("keys %v, want send and receive of each corpus message", res.keys)
	}
	for _, key := range res.keys {
		kind, _, _ := strings.Cut(key, "/")
		for _, lib := range deflateLibraries {
			msgs, ok1 := res.median(key, lib.name, "msgs")
			cpu, ok2 := res.median(key, lib.name, "cpu")
			if !ok1 || !ok2 || msgs <= 0 || cpu < 0 {
				t.Errorf("%s %s: msgs %v cpu %v", key, lib.name, msgs, cpu)
			}
			wire, ok := res.median(key, lib.name, "wire")
			if kind == "zsend" && (!ok || wire <= 10 || wire >= 50) {
				t.Errorf("%s %s: wire %v%% of the message bytes", key, lib.name, wire)
			}
		}
	}
	md := res.markdown()
	if !strings.Contains(md, "### Compression") || !strings.Contains(md, "wire % of message") {
		t.Errorf("markdown lacks the compression tables:\n%s", md)
	}
	for _, lib := range deflateLibraries {
		if !strings.Contains(md, "| "+lib.name+" |") {
			t.Errorf("markdown lacks a row for %s", lib.name)
		}
	}
}

// TestSameMessage checks the check the compressed receive benchmark relies on.
func TestSameMessage(t *testing.T) {
	want := []byte(`{"id":1,"name":"abcdefgh","tags":["x","y"]}`)
	bad := func(i int) []byte { p := append([]byte(nil), want...); p[i] ^= 1; return p }
	for _, tt := range []struct {
		name string
		p    []byte
		ok   bool
	}{
		{"same", append([]byte(nil), want...), true},
		{"short", want[:len(want)-1], false},
		{"first", bad(0), false},
		{"middle", bad(len(want) / 2), false},
		{"last", bad(len(want) - 1), false},
	} {
		if err := sameMessage(tt.p, want); (err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// TestCheckPayloadRejectsWrongMessages checks the check the receive benchmarks rely on.
func TestCheckPayloadRejectsWrongMessages(t *testing.T) {
	good := payload(100)
	tests := []struct {
		name string
		p    []byte
		size int
		ok   bool
	}{
		{"exact", good, 100, true},
		{"empty", nil, 0, true},
		{"short", good[:99], 100, false},
		{"long", append(payload(100), 0), 100, false},
		{"first byte", append([]byte{^good[0]}, good[1:]...), 100, false},
		{"last byte", append(append([]byte(nil), good[:99]...), ^good[99]), 100, false},
	}
	for _, tt := range tests {
		if err := checkPayload(tt.p, tt.size); (err == nil) != tt.ok {
			t.Errorf("%s: err %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// TestParseRequest checks the source's request syntax "N S".
func TestParseRequest(t *testing.T) {
	tests := []struct {
		in      string
		n, size int
		ok      bool
	}{
		{"10 64", 10, 64, true},
		{"0 0", 0, 0, true},
		{"10", 0, 0, false},
		{"a 1", 0, 0, false},
		{"-1 5", 0, 0, false},
	}
	for _, tt := range tests {
		n, size, ok := parseRequest([]byte(tt.in))
		if ok != tt.ok || (ok && (n != tt.n || size != tt.size)) {
			t.Errorf("%q: %d %d %v, want %d %d %v", tt.in, n, size, ok, tt.n, tt.size, tt.ok)
		}
	}
}
