#!/usr/bin/env bash
# The whole test suite: installs the Debian packages the tests need, builds, runs every test,
# and ends with the plain line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

want=$(grep -v '^\s*#' tests/system-packages.txt | awk 'NF{print $1}')
missing=()
for p in $want; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "tests/run.sh: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || { echo "tests/run.sh: apt-get failed"; echo "0 passed, 1 failed"; exit 1; }
fi

[ -d node_modules ] || npm ci --no-audit --no-fund || { echo "0 passed, 1 failed"; exit 1; }
npx tsc -p tsconfig.build.json || { echo "tests/run.sh: build failed"; echo "0 passed, 1 failed"; exit 1; }
npx tsc -p tsconfig.json --noEmit || { echo "tests/run.sh: type check failed"; echo "0 passed, 1 failed"; exit 1; }

report=$(mktemp /tmp/omstack-vitest-XXXXXX.json)
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
rc=$?
node -e '
  const fs = require("fs");
  let r = {};
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
  const passed = r.numPassedTests ?? 0;
  const failed = (r.numFailedTests ?? 0) + ((r.numFailedTestSuites ?? 0) > 0 && (r.numFailedTests ?? 0) === 0 ? r.numFailedTestSuites : 0);
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report"
rm -f "$report"
exit $rc
