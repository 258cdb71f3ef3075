#!/usr/bin/env bash
# Privilege separation, read from the kernel's view of each process
# (/proc/PID/status): every worker has CapEff = CapPrm = CapInh = CapAmb = 0,
# NoNewPrivs = 1 and a uid other than 0; the supervisor holds no capability
# beyond CAP_NET_RAW (13) and CAP_NET_ADMIN (12), and no longer runs as root.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_setup priv

start_sensor --workers 2 --window 5
start_aggregator
wait_for 10 workers_running 2 || fail "workers did not start"

field() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
allowed=$(( (1 << 13) | (1 << 12) ))

sup=$SENSOR_PID
[ "$(field "$sup" Uid)" != 0 ] || fail "supervisor still uid 0"
for f in CapEff CapPrm; do
	v=$((16#$(field "$sup" $f)))
	[ $((v & ~allowed)) -eq 0 ] || fail "supervisor $f=$(field "$sup" $f) holds more than NET_RAW|NET_ADMIN"
done
[ $((16#$(field "$sup" CapEff) & (1 << 13))) -ne 0 ] || fail "supervisor lost CAP_NET_RAW"
ok "supervisor pid $sup: uid $(field "$sup" Uid), CapEff $(field "$sup" CapEff), CapPrm $(field "$sup" CapPrm)"

workers=$(pgrep -P "$sup")
[ "$(echo "$workers" | wc -w)" -eq 2 ] || fail "expected 2 workers, found: $workers"
for w in $workers; do
	for f in CapEff CapPrm CapInh CapAmb; do
		[ $((16#$(field "$w" $f))) -eq 0 ] || fail "worker $w $f=$(field "$w" $f)"
	done
	[ "$(field "$w" NoNewPrivs)" = 1 ] || fail "worker $w NoNewPrivs=$(field "$w" NoNewPrivs)"
	uid=$(field "$w" Uid)
	[ "$uid" != 0 ] || fail "worker $w runs as root"
	[ "$(id -u nobody)" = "$uid" ] || fail "worker $w uid $uid is not the service user"
	ok "worker pid $w: uid $uid, CapEff/CapPrm/CapInh/CapAmb 0, NoNewPrivs 1"
done
# The region belongs to the service user and is not world readable.
st=$(stat -c '%U %a' "/dev/shm/pvisor-$INST")
[ "$st" = "nobody 640" ] || fail "region owner/mode: $st"
ok "region /dev/shm/pvisor-$INST: $st"
stop_sensor
