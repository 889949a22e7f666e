#!/usr/bin/env bash
# Runs every native Go fuzzer of the module (func FuzzXxx in *_test.go) for $FUZZTIME each.
# Fails on the first fuzzer that finds a crash; the failing input is kept in testdata/fuzz/.
#
# Go 1.26's fuzz coordinator can end a run that found nothing with a bare
# "context deadline exceeded" at the -fuzztime boundary (golang/go#75804, fixed in Go 1.27).
# Such a run, with no failing input written and no other failure line, is run once more; a
# second failure, or any real finding, fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
count=0
retried=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# boundary_flake reports whether the log of a failed run is only the coordinator's deadline race.
boundary_flake() {
  grep -q 'context deadline exceeded' "$log" &&
    ! grep -qE 'Failing input written|panic:|fuzzing process hung|_test\.go:[0-9]+:' "$log"
}

while IFS= read -r file; do
  dir=$(dirname "$file")
  for name in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
    for attempt in 1 2; do
      echo "=== fuzz $dir $name ($FUZZTIME)"
      if go test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime=5s "./$dir" 2>&1 | tee "$log"; then
        break
      fi
      if [ "$attempt" = 1 ] && boundary_flake; then
        echo "fuzz: $name ended with the Go 1.26 fuzztime deadline race and no finding; running it again"
        retried=$((retried + 1))
        continue
      fi
      echo "fuzz: $name failed" >&2
      exit 1
    done
    count=$((count + 1))
  done
done < <(git ls-files --cached --others --exclude-standard '*_test.go' ':!bench/*')
if [ "$count" -eq 0 ]; then echo "no fuzz targets found" >&2; exit 1; fi
echo "fuzz: $count passed, 0 failed ($retried rerun after the fuzztime deadline race)"
