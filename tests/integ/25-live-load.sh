#!/usr/bin/env bash
# Live under load: tcpreplay --topspeed of a generated capture (5 loops)
# into the veth while pvctl reads the live window. Every live read answers,
# its total never goes down, and its sketches are there (a torn copy of a
# window being written keeps its counters). At the end, the sealed windows
# plus the drops the sensor reports equal the packets sent, and the
# cardinality of the live window matches the generator's truth within HLL
# bounds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_setup load
gen="$RUN/g.pcap"
"$BUILD/tools/pvgen" --out "$RUN/all.pcap" --truth "$RUN/t.json" --packets 100000 --seed 4 --duration 2 >/dev/null
# Live, the fanout group reassembles IPv4 fragments before the sensor sees
# them (PACKET_FANOUT_FLAG_DEFRAG): N fragments arrive as one datagram. The
# load capture leaves them out so that packets sent = packets seen.
# (tshark sees through VLAN and QinQ tags, which a BPF 'ip' test does not.)
tshark -r "$RUN/all.pcap" -o ip.defragment:FALSE -F pcap -w "$gen" \
	-Y 'not (ip.flags.mf == 1 or ip.frag_offset > 0)' 2>/dev/null
hn=$(json_get "$RUN/t.json" host_net)
loops=5

start_sensor --workers 2 --window 30 --host-net "$hn"
start_aggregator
wait_for 10 workers_running 2 || fail "workers did not start"
ip netns exec "$NS" timeout 60 tcpreplay -i pvb --topspeed --loop "$loops" "$gen" >"$RUN/replay.out" 2>&1 &
rp=$!
prev=0 reads=0
while kill -0 "$rp" 2>/dev/null; do
	sleep 0.2
	ctl show --window live --json >"$RUN/l.json" || fail "live read failed under load"
	read -r start tot card ntop < <(python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
p=d["packets"]
print(d["window"]["start_ts"], p["total"], p["cardinality"]["src_ips_in"], len(p["top_ipv4"]))' "$RUN/l.json")
	# Within one window the live total only grows (a new window starts at 0).
	[ "$start" != "${prev_start:-}" ] && prev=0
	prev_start=$start
	[ "$tot" -ge "$prev" ] || fail "live total went down within window $start: $prev -> $tot"
	if [ "$tot" -gt 50000 ]; then
		[ "$card" -gt 0 ] && [ "$ntop" -gt 0 ] || fail "live sketches missing at total $tot"
	fi
	prev=$tot reads=$((reads + 1))
done
wait "$rp" || fail "tcpreplay failed"
# What left pvb: sends the kernel refused (ENOBUFS) never reached pva.
sent=$(awk '/Successful packets:/ {print $3}' "$RUN/replay.out")
failed=$(awk '/Failed packets:/ {print $3}' "$RUN/replay.out")
[ -n "$sent" ] || fail "no tcpreplay statistics: $(cat "$RUN/replay.out")"
# A veth that cannot queue into its peer's backlog counts the drop on the
# sending side (pvb tx_dropped): lost before the sensor's interface, so no
# counter of pva shows it. The test knows the topology and adds it.
veth_drops=$(ip netns exec "$NS" cat /sys/class/net/pvb/statistics/tx_dropped)
ok "$reads live reads under load, totals rising to $prev, sketches present"
sleep 0.5
finish_and_count
[ $((total + drops + veth_drops)) -eq "$sent" ] ||
	fail "counted $total + drops $drops + sender-side veth drops $veth_drops != sent $sent"
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packets"]["cardinality.src_ips_in"])' "$RUN/t.json")
got=$(json_get "$RUN/all.json" packets.cardinality.src_ips_in)
python3 -c 'import sys; w,g=int(sys.argv[1]),int(sys.argv[2]); sys.exit(0 if abs(g-w) <= 3*1.04/128*w+1 else 1)' "$want" "$got" ||
	[ "$drops" -gt 0 ] || fail "src_ips_in $got vs truth $want"
ok "load: $total counted + $drops reported drops + $veth_drops sender-side veth drops = $sent sent ($failed refused by the sender); src_ips_in $got (truth $want)"
