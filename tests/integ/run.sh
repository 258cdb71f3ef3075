#!/usr/bin/env bash
# Runs every tests/integ/NN-*.sh in order; each is a standalone bash script
# that exits 0 on success. Prints a closing "N passed, N failed" line.
set -u
cd "$(dirname "$0")/../.."
export BUILD="${BUILD:-build}"
export SHARED="${SHARED:-$(cd .. && pwd)/shared}"
pass=0 fail=0 failed=()
for t in tests/integ/[0-9][0-9]-*.sh; do
	[ -e "$t" ] || continue
	echo "== $t"
	start=$(date +%s)
	log=$(mktemp)
	# A sanitizer report from any process (daemons in the background too)
	# fails the test even when the process's exit status went unchecked.
	if bash "$t" 2>&1 | tee "$log" && [ "${PIPESTATUS[0]}" -eq 0 ] &&
		! grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer' "$log"; then
		pass=$((pass + 1)); echo "-- PASS $t ($(( $(date +%s) - start )) s)"
	else
		fail=$((fail + 1)); failed+=("$t"); echo "-- FAIL $t ($(( $(date +%s) - start )) s)"
	fi
	rm -f "$log"
done
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
