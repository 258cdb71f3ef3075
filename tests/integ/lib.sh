# Shared helpers for the integration tests (sourced, not run).
BUILD="${BUILD:-build}"
SHARED="${SHARED:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/shared}"
FIX="$SHARED/fixtures"
PVSENSOR="$BUILD/pvsensor"
PVAGG="$BUILD/pvaggregator"
PVCTL="$BUILD/pvctl"

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# json_get FILE PATH (dotted) -> value
json_get() {
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d=d[int(k)] if isinstance(d,list) else d[k]
print(d)' "$1" "$2"
}

# tshark_count FILE FILTER -> number of packets matching a display filter
tshark_count() {
	if [ -n "$2" ]; then tshark -n -r "$1" -Y "$2" 2>/dev/null | wc -l
	else tshark -n -r "$1" 2>/dev/null | wc -l; fi
}
