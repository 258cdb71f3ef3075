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

# --- live tests: a private network namespace holding both ends of a veth pair.
# Nothing is attached to the root namespace; everything runs via ip netns exec.
# Call netns_setup once; netns_cleanup runs from the EXIT trap (also on failure).
NS="" RUN="" INST="" PIDS=()
netns_setup() {
	NS="pvt-$1-$$"
	INST="t$1$$"
	RUN=$(mktemp -d)
	chmod 755 "$RUN"
	trap netns_cleanup EXIT
	ip netns add "$NS"
	# No IPv6 autoconfiguration chatter: only replayed packets cross the pair.
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$NS" link add pva type veth peer name pvb
	ip -n "$NS" link set lo up
	ip -n "$NS" link set pva up
	ip -n "$NS" link set pvb up
}
netns_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	[ -n "$INST" ] && rm -f "/dev/shm/pvisor-$INST"
	[ -n "$RUN" ] && rm -rf "$RUN"
	return 0
}
in_ns() { ip netns exec "$NS" "$@"; }
ctl() { "$PVCTL" --instance "$INST" --run-dir "$RUN" "$@"; }

# start_sensor ARGS... / start_aggregator ARGS... : background, pid recorded
SENSOR_PID="" AGG_PID=""
start_sensor() {
	# Not through a shell function: $! must be the sensor itself.
	ip netns exec "$NS" "$PVSENSOR" -i pva --instance "$INST" --user nobody "$@" &
	SENSOR_PID=$!; PIDS+=("$SENSOR_PID")
}
start_aggregator() {
	ip netns exec "$NS" "$PVAGG" --instance "$INST" --run-dir "$RUN" "$@" &
	AGG_PID=$!; PIDS+=("$AGG_PID")
}
# wait_for SECONDS CMD... : retry CMD every 0.1 s until it succeeds
wait_for() {
	local t=$1; shift
	local end=$(( $(date +%s%N) + t * 1000000000 ))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.1
	done
}
# workers_running N: pvctl status shows N workers in state running
workers_running() {
	ctl status --json >"$RUN/st.json" 2>/dev/null || return 1
	python3 - "$RUN/st.json" "$1" <<'PY'
import json,sys
d=json.load(open(sys.argv[1]))
w=d.get("workers",[])
sys.exit(0 if len(w)==int(sys.argv[2]) and all(x["state"]=="running" for x in w) else 1)
PY
}
sensor_finished() {
	ctl status --json >"$RUN/st.json" 2>/dev/null || return 1
	python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["sensor_finished"] else 1)' "$RUN/st.json"
}
# stop_sensor: SIGTERM, wait for exit status 0
stop_sensor() {
	kill -TERM "$SENSOR_PID"
	wait "$SENSOR_PID" || fail "pvsensor exited with $? on SIGTERM"
}
replay() { in_ns tcpreplay -q -i pvb "$@" >/dev/null 2>&1 || fail "tcpreplay $*"; }

# finish_and_count: stop the sensor cleanly, wait until the aggregator merged
# every window, write them all merged to $RUN/all.json and set total (packets
# counted) and drops (ring + interface drops the sensor reported).
total=0 drops=0
finish_and_count() {
	stop_sensor
	wait_for 10 sensor_finished || { ctl status; fail "the aggregator did not merge the final windows"; }
	ctl show --merged 100000 --json >"$RUN/all.json"
	total=$(json_get "$RUN/all.json" packets.total)
	drops=$(( $(json_get "$RUN/all.json" capture.ring_drops) + $(json_get "$RUN/all.json" capture.interface_drops) ))
}
