#!/usr/bin/env bash
# make demo's script, run as a test: it must end showing non-zero live counts
# and leave nothing behind (namespaces, regions).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
out=$(mktemp); trap 'rm -f "$out"' EXIT
before_ns=$(ip netns list | grep -c pvdemo || true)
BUILD="$BUILD" timeout 120 bash scripts/demo.sh >"$out" 2>&1 || { cat "$out"; fail "demo exited $?"; }
grep -q '^== pvctl status' "$out" || fail "demo did not show pvctl status"
n=$(sed -n 's/^demo: counted \([0-9]*\) packets live.*/\1/p' "$out")
[ -n "$n" ] && [ "$n" -gt 0 ] || { cat "$out"; fail "demo showed no live counts"; }
# The table shown has the same non-zero total.
grep -qE "^packets\.total +$n\$" "$out" || fail "pvctl show table does not show packets.total $n"
[ "$(ip netns list | grep -c pvdemo || true)" -eq "$before_ns" ] || fail "demo left a namespace"
ls /dev/shm | grep -q '^pvisor-demo' && fail "demo left a region"
ok "demo counted $n packets live and cleaned up"
