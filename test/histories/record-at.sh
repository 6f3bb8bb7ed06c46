#!/usr/bin/env bash
# Records scenarios of record.ts with the workflow code of an older commit, so a patch's old branch
# has a history that proves it still replays (the current code can only take the new branch).
#
#   test/histories/record-at.sh <commit> <label> <scenario>...
#   test/histories/record-at.sh 3dff6c7^ before-store-steps-local optout-sms-stop-ends-journey
#
# writes test/histories/<file>.<label>.json. The commit's tree is exported (git archive) to a temporary
# directory with this checkout's node_modules and .tools; the current record.ts drives it, so
# scenarios stay the same and only the code under test is old.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 <commit> <label> <scenario>..." >&2
  exit 2
fi
commit=$1 label=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
old=$(mktemp -d "${TMPDIR:-/tmp}/record-at.XXXXXX")
trap 'rm -rf "$old"' EXIT

git -C "$repo" archive "$(git -C "$repo" rev-parse --verify "$commit^{commit}")" | tar -x -C "$old"
ln -s "$(readlink -f "$repo/node_modules")" "$old/node_modules"
ln -s "$(readlink -f "$repo/.tools")" "$old/.tools"
cp "$here/record.ts" "$here/scenario.ts" "$here/journey-scenarios.ts" "$here/other-scenarios.ts" "$here/campaign-scenarios.ts" "$here/history-json.ts" "$old/test/histories/"
# Scenarios may name a fixture the old tree does not have yet (it only sets limits, no code).
for f in "$repo"/test/fixtures/businesses.*.json; do
  [ -e "$old/test/fixtures/$(basename "$f")" ] || cp "$f" "$old/test/fixtures/"
done
cd "$old" && npx tsx test/histories/record.ts --out "$here" --label "$label" "$@"
