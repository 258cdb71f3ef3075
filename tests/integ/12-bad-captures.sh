#!/usr/bin/env bash
# Capture files are untrusted input:
# - a file cut in the middle of a record: every complete record is counted
#   (as many as tshark reads), the run ends normally with a warning;
# - pcapng: the same counts as the classic pcap it was converted from;
# - not a capture at all, an empty file, a missing file: a clear error
#   naming the file, pvctl exits 3, nothing left behind.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
src="$FIX/dns_ipv6_tcp.pcap"

head -c 100000 "$src" >"$tmp/cut.pcap"
want=$({ tshark -n -r "$tmp/cut.pcap" 2>/dev/null || true; } | wc -l)  # tshark exits 2 on the cut
[ "$want" -gt 0 ] || fail "tshark read nothing from the cut file"
"$PVCTL" analyze "$tmp/cut.pcap" --workers 2 --json >"$tmp/cut.json" 2>"$tmp/cut.err" ||
	fail "analyze of a cut file exited $?: $(cat "$tmp/cut.err")"
got=$(json_get "$tmp/cut.json" packets.total)
[ "$got" -eq "$want" ] || fail "cut file: counted $got, tshark reads $want records"
grep -q "ends badly" "$tmp/cut.err" || fail "no warning about the cut file"
ok "cut file: $got complete records counted (tshark: $want), with a warning"

editcap -F pcapng "$src" "$tmp/x.pcapng"
"$PVCTL" analyze "$src" --json >"$tmp/a.json"
"$PVCTL" analyze "$tmp/x.pcapng" --json >"$tmp/b.json"
for k in total ipv6 tcp protocol.tcp.syn bytes.total; do
	[ "$(json_get "$tmp/a.json" packets.$k)" = "$(json_get "$tmp/b.json" packets.$k)" ] ||
		fail "pcapng differs from pcap in packets.$k"
done
ok "pcapng counts equal the pcap's ($(json_get "$tmp/b.json" packets.total) packets)"

head -c 5000 /dev/urandom >"$tmp/garbage.pcap"
: >"$tmp/empty.pcap"
for f in "$tmp/garbage.pcap" "$tmp/empty.pcap" "$tmp/missing.pcap"; do
	rc=0
	"$PVCTL" analyze "$f" >/dev/null 2>"$tmp/err" || rc=$?
	[ "$rc" -eq 3 ] || fail "$(basename "$f"): exit $rc, want 3"
	grep -q "$(basename "$f")" "$tmp/err" || fail "$(basename "$f"): error does not name the file: $(cat "$tmp/err")"
	ok "$(basename "$f") refused: $(grep -m1 "$(basename "$f")" "$tmp/err")"
done
ls /dev/shm | grep -q '^pvisor-analyze' && fail "analyze left a region behind"
ok "no region left behind"
