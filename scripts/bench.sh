#!/usr/bin/env bash
# Engine benchmarks side by side with gobwas/ws, then benchstat tables:
#   1. ours vs the peers in this run (columns by /impl),
#   2. this run vs the last committed run (bench/results/engine.txt), so a regression shows in review.
# BENCHTIME, BENCHCOUNT and BENCH (a -bench pattern) tune it. UPDATE=1 replaces the committed results.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCHTIME=${BENCHTIME:-500ms}
BENCHCOUNT=${BENCHCOUNT:-6}
BENCH=${BENCH:-.}
BENCHSTAT="$(go env GOPATH)/bin/benchstat"
out=bench/results/engine.new.txt
{
  echo "# $(go version) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
  # Interleaved: every repetition runs ours and the peers once each, so drift in machine load
  # hits all implementations alike.
  (cd bench && go test -c -o /tmp/netkit-bench.test . && for _ in $(seq "$BENCHCOUNT"); do
    /tmp/netkit-bench.test -test.run '^$' -test.bench "$BENCH" -test.benchmem -test.benchtime "$BENCHTIME" | grep -E '^(Benchmark|goos|goarch|pkg|cpu)'
  done)
} | tee "$out"
echo
echo "## ours vs peers (this run)"
"$BENCHSTAT" -col /impl "$out"
if [ -f bench/results/engine.txt ]; then
  echo
  echo "## this run vs last committed (bench/results/engine.txt)"
  "$BENCHSTAT" bench/results/engine.txt "$out" || true
fi
if [ "${UPDATE:-0}" = 1 ]; then mv "$out" bench/results/engine.txt; fi
