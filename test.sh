#!/usr/bin/env bash
# Runs Flock's test suite (the README's test command). Tests need only the .NET 10 SDK: the data
# they use is committed under tests/Flock.Tests/TestData.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Flock.slnx -c Release -warnaserror -nologo -v q
out=$(mktemp -d)
set +e
dotnet test Flock.slnx -c Release --no-build --nologo --logger "trx;LogFileName=results.trx" --results-directory "$out" 2>&1 | tee "$out/console.txt"
rc=${PIPESTATUS[0]}
set -e
# One plain summary line that any CI reader understands.
python_free_summary() {
  local f="$out/results.trx"
  [ -f "$f" ] || { echo "tests: 0 passed, 1 failed"; return; }
  local c; c=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  local passed failed skipped
  passed=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$c")
  failed=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$c")
  local total executed
  total=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$c")
  executed=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$c")
  skipped=$(( ${total:-0} - ${executed:-0} ))
  echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
}
python_free_summary
exit "$rc"
