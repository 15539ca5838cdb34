#!/usr/bin/env bash
# Runs gremlins over the packages where a silent bug costs a learner most, one
# package at a time, then tools/mutate/report: a score line per package, and a
# failure for any mutant that lived with neither a test nor a line in
# mk/mutate-explained.txt. Called by `make mutate` (mk/mutate.mk).
set -euo pipefail
gremlins=$1
out=$2
root=$(pwd)
# Uncached test runs: gremlins times each mutant against its coverage run,
# and a coverage run served from the test cache makes every timeout too short.
export GOFLAGS="${GOFLAGS:-} -count=1"

# package, then gremlins flags of its own (-E excludes files by regexp).
PACKAGES=(
	"internal/state"
	"internal/workspace"
	"internal/ui -E markdown\.go$ -E styles\.go$" # the colour rules and the progress owner
	"internal/app -E app\.go$ -E producer\.go$"                      # the consumer
)

rm -rf "$out" && mkdir -p "$out"
start=$(date +%s)
results=()
for spec in "${PACKAGES[@]}"; do
	read -r -a words <<<"$spec"
	pkg=${words[0]}
	json="$root/$out/${pkg//\//_}.json"
	echo "mutate: $pkg" >&2
	# One worker (two cores; the consumer's tests time real work) and a
	# generous timeout: with gremlins' default, slow tests read as "timed out".
	if ! "$gremlins" unleash --workers 1 --timeout-coefficient 5 "${words[@]:1}" -o "$json" "./$pkg" >"$json.log" 2>&1; then
		cat "$json.log" >&2
		exit 1
	fi
	results+=("$pkg=$json")
done
(cd tools/mutate && go run ./report -explained "$root/mk/mutate-explained.txt" -root "$root" "${results[@]}")
echo "mutate: $(($(date +%s) - start)) s in all" >&2
