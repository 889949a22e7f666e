#!/usr/bin/env bash
# Runs every native Go fuzzer of the module (func FuzzXxx in *_test.go) for $FUZZTIME each.
# Fails on the first fuzzer that finds a crash; the failing input is kept in testdata/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
count=0
while IFS= read -r file; do
  dir=$(dirname "$file")
  for name in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
    echo "=== fuzz $dir $name ($FUZZTIME)"
    go test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime=5s "./$dir"
    count=$((count + 1))
  done
done < <(git ls-files --cached --others --exclude-standard '*_test.go' ':!bench/*')
if [ "$count" -eq 0 ]; then echo "no fuzz targets found" >&2; exit 1; fi
echo "fuzz: $count passed, 0 failed"
