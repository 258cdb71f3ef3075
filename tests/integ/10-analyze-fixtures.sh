#!/usr/bin/env bash
# pvctl analyze on the shared fixtures: packets.total, ipv4, ipv6, udp, tcp and
# protocol.tcp.syn equal what tshark counts on the same file (derived here, not
# written down), identically for --workers 1, 2 and 3; bytes.total equals the
# sum of frame.len that tshark reports.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for f in dns_ipv4_udp dns_ipv6_tcp; do
	pcap="$FIX/$f.pcap"
	declare -A want=(
		[total]=$(tshark_count "$pcap" "")
		[ipv4]=$(tshark_count "$pcap" ip)
		[ipv6]=$(tshark_count "$pcap" ipv6)
		[udp]=$(tshark_count "$pcap" udp)
		[tcp]=$(tshark_count "$pcap" tcp)
		[protocol.tcp.syn]=$(tshark_count "$pcap" 'tcp.flags.syn==1')
		[bytes.total]=$(tshark -n -r "$pcap" -T fields -e frame.len 2>/dev/null | awk '{s+=$1} END {print s}')
	)
	[ "${want[total]}" -gt 0 ] || fail "tshark read nothing from $pcap"
	for w in 1 2 3; do
		"$PVCTL" analyze "$pcap" --workers "$w" --json >"$tmp/out.json" ||
			fail "pvctl analyze $f --workers $w exited $?"
		for k in "${!want[@]}"; do
			got=$(json_get "$tmp/out.json" "packets.$k")
			[ "$got" = "${want[$k]}" ] || fail "$f workers=$w packets.$k = $got, tshark says ${want[$k]}"
		done
		# No packet hidden as a decode error in these clean captures.
		[ "$(json_get "$tmp/out.json" capture.decode_errors.malformed)" = 0 ] || fail "$f malformed"
		[ "$(json_get "$tmp/out.json" capture.workers)" = "$w" ] || fail "$f workers field"
		ok "$f --workers $w: total=${want[total]} ipv4=${want[ipv4]} ipv6=${want[ipv6]} udp=${want[udp]} tcp=${want[tcp]} syn=${want[protocol.tcp.syn]}"
	done
	unset want
done
# analyze leaves nothing behind
ls /dev/shm | grep -q '^pvisor-analyze' && fail "analyze left a region in /dev/shm"
ok "no region left behind"
