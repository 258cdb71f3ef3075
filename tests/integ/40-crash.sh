#!/usr/bin/env bash
# Crash recovery.
# 1. kill -9 of a worker mid-stream: the supervisor restarts it into the same
#    shard and ring, pvctl status shows the restart, and the counts already in
#    its shard survive: every replayed packet is in the final totals.
# 2. kill -9 of pvaggregator, restarted within S-1 windows: no window is lost
#    (the sealed windows wait in shared memory, unacknowledged) and nothing is
#    overwritten unread.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_setup crash

p4="$FIX/dns_ipv4_udp.pcap"
n4=$(capinfos -c -M "$p4" | awk '/Number of packets/ {print $NF}')

# Long windows so the kill most likely lands inside the window that holds the
# counts; the check below also holds if a window boundary passes meanwhile.
start_sensor --workers 2 --window 300 --slots 4
start_aggregator
wait_for 10 workers_running 2 || fail "workers did not start"

replay --pps 2000 "$p4"
live_total() { ctl show --window live --json >"$RUN/live.json" 2>/dev/null && json_get "$RUN/live.json" packets.total; }
# Everything counted so far: sealed windows (if any) plus the open one.
counted() {
	local sealed=0 live
	if ctl show --merged 100000 --json >"$RUN/sealed.json" 2>/dev/null; then
		sealed=$(json_get "$RUN/sealed.json" packets.total)
	fi
	live=$(live_total) || live=0
	echo $((sealed + live))
}
counted_ge() { local v; v=$(counted) && [ "$v" -ge "$1" ]; }
wait_for 10 counted_ge "$n4" || { ctl show --window live --json; ctl status; fail "never counted $n4 packets"; }
before=$(counted)
[ "$before" -eq "$n4" ] || fail "counted $before != $n4 before the crash"

ctl status --json >"$RUN/st0.json"
victim=$(json_get "$RUN/st0.json" workers.0.pid)
kill -9 "$victim"
restarted() {
	ctl status --json >"$RUN/st1.json" 2>/dev/null || return 1
	[ "$(json_get "$RUN/st1.json" workers.0.restarts)" = 1 ] &&
	[ "$(json_get "$RUN/st1.json" workers.0.state)" = running ] &&
	[ "$(json_get "$RUN/st1.json" workers.0.pid)" != "$victim" ]
}
wait_for 10 restarted || fail "worker 0 was not restarted"
ok "worker 0 (pid $victim) killed, restarted as pid $(json_get "$RUN/st1.json" workers.0.pid), restarts=1"
after=$(counted)
[ "$after" -eq "$before" ] || fail "counts lost in the crash: $before -> $after (sealed + live)"
ok "the shard's counts survived the crash: $after packets (sealed + live)"

replay --pps 2000 "$p4"
sleep 0.5
finish_and_count
[ $((total + drops)) -eq $((2 * n4)) ] || fail "after a worker crash: counted $total + drops $drops != $((2 * n4))"
[ "$(json_get "$RUN/all.json" capture.worker_restarts)" = 1 ] || fail "worker_restarts in the windows"
ok "worker crash: $total of $((2 * n4)) packets counted, worker_restarts=1"

# --- aggregator crash: 1 s windows, 4 slots: it may be down up to 3 windows.
kill "$AGG_PID"; wait "$AGG_PID" || true
rm -f "/dev/shm/pvisor-$INST"
start_sensor --workers 2 --window 1 --slots 4
start_aggregator
wait_for 10 workers_running 2 || fail "workers did not start (2nd run)"
replay --pps 2000 "$p4"
agg_total() { ctl show --merged 1000 --json >"$RUN/a.json" 2>/dev/null && json_get "$RUN/a.json" packets.total; }
agg_ge() { local v; v=$(agg_total) && [ "$v" -ge "$1" ]; }
wait_for 10 agg_ge "$n4" || fail "first aggregator never merged the first burst"
first=$(agg_total)
kill -9 "$AGG_PID"
wait "$AGG_PID" 2>/dev/null || true
ok "aggregator killed with $first packets merged"
# While it is down: a second burst, sealed into windows nobody acknowledges.
replay --pps 2000 "$p4"
sleep 1.5
start_aggregator
sleep 0.5
stop_sensor
wait_for 10 sensor_finished || { ctl status; kill -0 "$AGG_PID" && echo "aggregator alive"; fail "restarted aggregator did not finish"; }
ctl show --merged 100000 --json >"$RUN/b.json"
second=$(json_get "$RUN/b.json" packets.total)
lost=$(json_get "$RUN/b.json" capture.windows_overwritten_unread)
drops=$(( $(json_get "$RUN/b.json" capture.ring_drops) + $(json_get "$RUN/b.json" capture.interface_drops) ))
[ "$lost" -eq 0 ] || fail "$lost windows overwritten unread while the aggregator was down"
[ $((first + second + drops)) -eq $((2 * n4)) ] || fail "aggregator crash: $first + $second (+$drops drops) != $((2 * n4))"
ok "aggregator crash: $first before + $second after = $((2 * n4)), no window lost or overwritten"
