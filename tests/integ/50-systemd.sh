#!/usr/bin/env bash
# tests/integ/50-systemd.sh — static checks of pvisor's systemd integration.
#
# Checks, without a running systemd (nothing is started or installed):
#   1. `systemd-analyze verify` accepts both units and prints nothing about
#      them (ExecStart= is pointed at the built binaries, or /bin/true, in a
#      temporary copy, because verify insists that the command exists);
#   2. `systemd-analyze security --offline=true` exposure level:
#      pvaggregator.service <= 1.5, pvsensor.service <= 2.0;
#   3. capabilities: pvsensor.service bounding and ambient sets are exactly
#      CAP_NET_RAW CAP_NET_ADMIN; pvaggregator.service has an empty bounding
#      set and no ambient capability;
#   4. design invariants the shared-memory region depends on (both units keep
#      the host's /dev/shm writable and never remove pvisor's IPC objects; no
#      PrivateUsers= on the sensor);
#   5. the sysusers.d and tmpfiles.d entries apply cleanly to an empty root.
#
# Run from run.sh as `bash tests/integ/50-systemd.sh` with BUILD set, or
# standalone from anywhere. Exit 0: pass; 1: fail, with the reason on stderr
# (a missing systemd-analyze is a failure too: systemd is in scripts/deps.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$ROOT/$BUILD ;;
esac

declare -A MAX_EXPOSURE=([pvsensor]=2.0 [pvaggregator]=1.5)
UNITS=(pvsensor pvaggregator)

# Plain, stable output from systemd tools: no colours, no pager, ASCII.
export SYSTEMD_COLORS=0 SYSTEMD_PAGER=cat LC_ALL=C

msg() { printf '50-systemd: %s\n' "$*"; }
fail() {
	printf '50-systemd: FAIL: %s\n' "$*" >&2
	exit 1
}

command -v systemd-analyze >/dev/null 2>&1 ||
	fail "systemd-analyze not found: install the systemd package (scripts/deps.sh)"
for u in "${UNITS[@]}"; do
	[[ -f systemd/$u.service ]] || fail "systemd/$u.service is missing"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pvisor-50-systemd.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT

# --- helpers -------------------------------------------------------------

# stage UNIT BINARY: copy systemd/UNIT.service to $TMP with the program of
# its single ExecStart= line replaced by BINARY (prefixes like "-" are kept).
stage() {
	local unit=$1 bin=$2 n
	awk -v bin="$bin" '
		/^ExecStart=/ {
			s = substr($0, 11)
			match(s, /^[-@:+!]*/)
			pre = substr(s, 1, RLENGTH)
			s = substr(s, RLENGTH + 1)
			match(s, /[ \t]|$/)
			print "ExecStart=" pre bin substr(s, RSTART)
			next
		}
		{ print }' "systemd/$unit.service" >"$TMP/$unit.service"
	n=$(grep -c '^ExecStart=' "$TMP/$unit.service" || true)
	[[ $n == 1 ]] || fail "$unit.service: expected exactly one ExecStart= line, found $n"
	grep -qF "ExecStart=$bin" "$TMP/$unit.service" ||
		fail "$unit.service: could not rewrite ExecStart= to $bin"
}

# caps FILE KEY: the capability set a unit file assigns to KEY in [Service]
# (assignments accumulate, an empty one resets), sorted, space-separated.
# Prints "<unset>" if KEY never appears and "<inverted>" for a "~" list.
caps() {
	awk -v key="$2" '
		/^[ \t]*[#;]/ { next }
		/^\[/ { sec = $0; next }
		sec == "[Service]" && index($0, key "=") == 1 {
			seen = 1
			v = substr($0, length(key) + 2)
			if (v ~ /^[ \t]*$/) { for (c in set) delete set[c]; next }
			if (v ~ /^~/) { inverted = 1; next }
			n = split(v, a, /[ \t]+/)
			for (i = 1; i <= n; i++) if (a[i] != "") set[a[i]] = 1
		}
		END {
			if (!seen) { print "<unset>"; exit }
			if (inverted) { print "<inverted>"; exit }
			for (c in set) print c
		}' "$1" | sort | tr '\n' ' ' | sed 's/ $//'
}

# last FILE KEY: the last value assigned to KEY in [Service] ("" if none).
last() {
	awk -v key="$2" '
		/^[ \t]*[#;]/ { next }
		/^\[/ { sec = $0; next }
		sec == "[Service]" && index($0, key "=") == 1 { v = substr($0, length(key) + 2) }
		END { print v }' "$1"
}

# --- 1. systemd-analyze verify -------------------------------------------

for u in "${UNITS[@]}"; do
	bin=$BUILD/$u
	if [[ ! -x $bin ]]; then
		bin=/bin/true
		[[ -x $bin ]] || bin=$(command -v true)
		msg "note: $BUILD/$u not built, verifying with ExecStart=$bin"
	fi
	stage "$u" "$bin"
done

rc=0
out=$(cd "$TMP" && systemd-analyze verify "${UNITS[@]/%/.service}" 2>&1) || rc=$?
concern=""
while IFS= read -r line; do
	[[ -z $line ]] && continue
	# Complaints about the host's own unit files (pulled in as dependencies,
	# e.g. network-online.target) are not ours: show them, do not fail.
	if [[ $line =~ ^(/[^:]+\.(service|socket|target|mount|path|timer|slice|scope|swap|automount|device)):[0-9]*:? &&
		${BASH_REMATCH[1]} != "$TMP"/* ]]; then
		msg "note (host unit, ignored): $line"
		continue
	fi
	concern+="$line"$'\n'
done <<<"$out"
if ((rc != 0)) || [[ -n $concern ]]; then
	printf '%s' "$concern" >&2
	fail "systemd-analyze verify (exit status $rc) reported problems with the units (above)"
fi
msg "verify: pvsensor.service pvaggregator.service OK"

# --- 2. exposure levels --------------------------------------------------

for u in "${UNITS[@]}"; do
	rc=0
	out=$(systemd-analyze security --offline=true --no-pager "$TMP/$u.service" 2>&1) || rc=$?
	level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\(\.[0-9][0-9]*\)\{0,1\}\).*/\1/p' <<<"$out" | tail -n 1)
	if [[ -z $level ]]; then
		printf '%s\n' "$out" >&2
		fail "$u.service: no \"Overall exposure level\" in systemd-analyze security output (exit $rc)"
	fi
	max=${MAX_EXPOSURE[$u]}
	msg "exposure: $u.service $level (limit $max)"
	if ! awk -v l="$level" -v m="$max" 'BEGIN { exit !(l + 0 <= m + 0) }'; then
		# Failed checks are marked "✗" (UTF-8) or "-" (LC_ALL=C).
		grep -E '^(✗|-) ' <<<"$out" >&2 || printf '%s\n' "$out" >&2
		fail "$u.service: exposure level $level exceeds $max"
	fi
done

# --- 3. capabilities -----------------------------------------------------

want="CAP_NET_ADMIN CAP_NET_RAW"
for key in CapabilityBoundingSet AmbientCapabilities; do
	got=$(caps systemd/pvsensor.service "$key")
	[[ $got == "$want" ]] || fail "pvsensor.service: $key is \"$got\", expected exactly \"$want\""
done
got=$(caps systemd/pvaggregator.service CapabilityBoundingSet)
[[ -z $got ]] || fail "pvaggregator.service: CapabilityBoundingSet must be set and empty, is \"$got\""
got=$(caps systemd/pvaggregator.service AmbientCapabilities)
[[ $got == "" || $got == "<unset>" ]] ||
	fail "pvaggregator.service: AmbientCapabilities must be empty, is \"$got\""

# Cross-check with systemd's own reading of the units: the only capability
# checks it may flag are CAP_NET_ADMIN and the CAP_NET_RAW group for the
# sensor, none for the aggregator.
flagged() { # unit -> names of failed CapabilityBoundingSet/AmbientCapabilities checks
	systemd-analyze security --offline=true --json=pretty "$TMP/$1.service" 2>/dev/null |
		awk '/"set" *:/ { bad = ($0 ~ /false/) }
		     /"name" *:/ && bad && /"(CapabilityBoundingSet|AmbientCapabilities)=/ {
			sub(/.*"name" *: *"/, ""); sub(/",? *$/, ""); print }' | sort | tr '\n' ' ' | sed 's/ $//'
}
got=$(flagged pvsensor)
want='AmbientCapabilities= CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW) CapabilityBoundingSet=~CAP_NET_ADMIN'
[[ $got == "$want" ]] || fail "pvsensor.service: systemd-analyze flags capability checks \"$got\", expected \"$want\""
got=$(flagged pvaggregator)
[[ -z $got ]] || fail "pvaggregator.service: systemd-analyze flags capability checks \"$got\", expected none"
msg "capabilities: pvsensor.service CAP_NET_RAW CAP_NET_ADMIN, pvaggregator.service none"

# --- 4. invariants the shared-memory region relies on ----------------------

for u in "${UNITS[@]}"; do
	f=systemd/$u.service
	[[ $(last "$f" RemoveIPC) == no ]] ||
		fail "$u.service: RemoveIPC=no required (RemoveIPC=yes deletes pvisor's /dev/shm region on stop)"
	[[ $(last "$f" PrivateIPC) != yes ]] || fail "$u.service: PrivateIPC=yes is not allowed (design decision)"
	[[ $(last "$f" NoNewPrivileges) == yes ]] || fail "$u.service: NoNewPrivileges=yes required"
	grep -Eq '^ReadWritePaths=(.*[ \t])?/dev/shm([ \t]|$)' "$f" ||
		fail "$u.service: /dev/shm must be in ReadWritePaths= (the region is shared)"
	if grep -Eq '^(TemporaryFileSystem|InaccessiblePaths|BindPaths|BindReadOnlyPaths)=.*/dev/shm' "$f"; then
		fail "$u.service: /dev/shm must stay the host's (shared with the other unit)"
	fi
done
[[ $(last systemd/pvsensor.service PrivateUsers) != yes ]] ||
	fail "pvsensor.service: PrivateUsers=yes would void its capabilities in the host network namespace"
msg "invariants: shared /dev/shm, RemoveIPC=no, no PrivateIPC OK"

# --- 5. sysusers.d / tmpfiles.d ------------------------------------------

if command -v systemd-sysusers >/dev/null 2>&1; then
	r=$TMP/root
	mkdir -p "$r/etc" "$r/run" "$r/usr/lib/sysusers.d" "$r/usr/lib/tmpfiles.d"
	cp systemd/pvisor.sysusers "$r/usr/lib/sysusers.d/pvisor.conf"
	cp systemd/pvisor.tmpfiles "$r/usr/lib/tmpfiles.d/pvisor.conf"
	out=$(systemd-sysusers --root="$r" 2>&1) || {
		printf '%s\n' "$out" >&2
		fail "systemd-sysusers rejected systemd/pvisor.sysusers"
	}
	pw=$(grep '^pvisor:' "$r/etc/passwd" || true)
	IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
	[[ -n $pw && $home == /nonexistent && $shell == */nologin ]] ||
		fail "pvisor.sysusers: want a pvisor user with home /nonexistent and a nologin shell, got \"$pw\""
	grep -q "^pvisor:x:$gid:" "$r/etc/group" || fail "pvisor.sysusers: primary group of pvisor is not \"pvisor\""
	((uid < 1000)) || fail "pvisor.sysusers: pvisor must be a system user (uid $uid)"
	if [[ $(id -u) == 0 ]] && command -v systemd-tmpfiles >/dev/null 2>&1; then
		out=$(systemd-tmpfiles --root="$r" --create 2>&1) || {
			printf '%s\n' "$out" >&2
			fail "systemd-tmpfiles rejected systemd/pvisor.tmpfiles"
		}
		st=$(stat -c '%a %u %g' "$r/run/pvisor" 2>/dev/null || true)
		[[ $st == "750 $uid $gid" ]] ||
			fail "pvisor.tmpfiles: /run/pvisor is \"$st\", want \"750 $uid $gid\" (mode uid gid)"
		msg "sysusers/tmpfiles: pvisor user, /run/pvisor 0750 pvisor:pvisor OK"
	else
		msg "sysusers: pvisor user OK (tmpfiles check needs root, skipped)"
	fi
else
	msg "note: systemd-sysusers not installed, sysusers/tmpfiles checks skipped"
fi

msg "PASS"
