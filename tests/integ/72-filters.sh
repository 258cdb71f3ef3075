#!/usr/bin/env bash
# Filters on a generated capture, expected counts from independent tools:
# - --only-hosts CIDR: packets.total = packets with an IP address in CIDR
#   (tshark: ip.addr / ipv6.addr), packets.filtered = the rest;
# - --bpf EXPR (offline, libpcap filter): packets.total = what tcpdump's
#   filter keeps on the same file; nothing else is counted.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$BUILD/tools/pvgen" --out "$tmp/g.pcap" --truth "$tmp/t.json" --packets 60000 --seed 21 \
	--duration 5 >/dev/null
all=$(capinfos -c -M "$tmp/g.pcap" | awk '/Number of packets/ {print $NF}')

want=$(tshark -n -r "$tmp/g.pcap" -o ip.defragment:FALSE -Y 'ip.addr==10.0.1.0/24 || ipv6.addr==fd00:1::/64' 2>/dev/null | wc -l)
"$PVCTL" analyze "$tmp/g.pcap" --workers 2 --only-hosts 10.0.1.0/24,fd00:1::/64 --json >"$tmp/o.json"
got=$(json_get "$tmp/o.json" packets.total) filt=$(json_get "$tmp/o.json" packets.filtered)
[ "$got" -eq "$want" ] || fail "--only-hosts: total $got, tshark says $want"
[ $((got + filt)) -eq "$all" ] || fail "--only-hosts: total $got + filtered $filt != $all"
[ "$got" -gt 0 ] && [ "$filt" -gt 0 ] || fail "--only-hosts test capture does not exercise both sides"
ok "--only-hosts: $got counted, $filt filtered (tshark: $want of $all)"

for expr in 'udp port 53' 'tcp[tcpflags] & tcp-syn != 0' 'vlan'; do
	want=$(tcpdump -n -r "$tmp/g.pcap" "$expr" 2>/dev/null | wc -l)
	"$PVCTL" analyze "$tmp/g.pcap" --workers 2 --bpf "$expr" --json >"$tmp/b.json"
	got=$(json_get "$tmp/b.json" packets.total)
	[ "$got" -eq "$want" ] || fail "--bpf '$expr': total $got, tcpdump says $want"
	[ "$got" -gt 0 ] || fail "--bpf '$expr' matched nothing: not a test"
	ok "--bpf '$expr': $got packets (tcpdump: $want)"
done
# A bad expression is a clear error (pvctl exits 3, the sensor names it).
if "$PVCTL" analyze "$tmp/g.pcap" --bpf 'udp port' >/dev/null 2>"$tmp/err"; then
	fail "a bad BPF expression was accepted"
fi
grep -q "bpf" "$tmp/err" || fail "bad BPF: no clear message: $(cat "$tmp/err")"
ok "bad BPF expression refused: $(grep -m1 bpf "$tmp/err")"
