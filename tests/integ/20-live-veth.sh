#!/usr/bin/env bash
# Live capture: pvsensor (2 workers, TPACKET_V3 rings in one fanout group) on
# one end of a veth pair inside a private namespace, tcpreplay into the other
# end. The sealed windows' packets.total equals the number of packets replayed
# (capinfos counts them), or falls short by exactly the drops the sensor
# reports. Then a clean SIGTERM stop loses nothing: every window is sealed and
# merged.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_setup live

p4="$FIX/dns_ipv4_udp.pcap" p6="$FIX/dns_ipv6_tcp.pcap"
n4=$(capinfos -c -M "$p4" | awk '/Number of packets/ {print $NF}')
n6=$(capinfos -c -M "$p6" | awk '/Number of packets/ {print $NF}')
v6=$(tshark_count "$p6" ipv6) t6=$(tshark_count "$p6" tcp) u4=$(tshark_count "$p4" udp)
sent=$((n4 + n6))

start_sensor --workers 2 --window 2
start_aggregator
wait_for 10 workers_running 2 || fail "workers did not start"
ok "2 workers running"

replay --pps 3000 "$p4"
replay --pps 3000 "$p6"
sleep 1
finish_and_count
echo "sent $sent, counted $total, reported drops $drops"
[ $((total + drops)) -eq "$sent" ] || fail "counted $total + drops $drops != sent $sent"
[ "$drops" -eq 0 ] && {
	[ "$(json_get "$RUN/all.json" packets.ipv6)" -eq "$v6" ] || fail "ipv6"
	[ "$(json_get "$RUN/all.json" packets.tcp)" -eq "$t6" ] || fail "tcp"
	[ "$(json_get "$RUN/all.json" packets.udp)" -eq "$u4" ] || fail "udp"
}
[ "$(json_get "$RUN/all.json" capture.windows_overwritten_unread)" -eq 0 ] || fail "overwritten windows"
ring=$(json_get "$RUN/all.json" capture.ring_packets)
[ "$ring" -ge "$total" ] || fail "ring_packets $ring < counted $total"
ok "live totals match: $total of $sent (+$drops drops); ring saw $ring"
