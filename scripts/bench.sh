#!/usr/bin/env bash
# make bench: throughput and memory figures of pvisor, side by side with the
# limit (a bare libpcap read loop) and peers (tcpdump, pmacctd, tshark), all
# measured in the same run on the same generated capture. Prints one table on
# stdout (progress goes to stderr) and writes $BUILD/bench.json.
# What each figure means: docs/benchmarks.md.
#
# Environment (all optional):
#   BUILD=build            where the binaries are (make bench sets it)
#   BENCH_PACKETS=5000000  packets in the capture
#   BENCH_RUNS=5           runs per timed figure, the best kept (pmacctd: at
#                          most 3, tshark 2: they are slow)
#   BENCH_BUDGET=540       seconds: optional steps still to come are skipped
#                          (reported "skipped") once the run has lasted this long
#   BENCH_TMP=DIR          where the capture goes (default /dev/shm when free
#                          memory allows, else $TMPDIR or /tmp)
#   BENCH_PCAP=FILE        bench this capture instead of generating one
#                          (read in place; BENCH_PACKETS is then ignored)
#   BENCH_NO_PVGEN=1       use the fixtures fallback even if pvgen is built
#
# Everything it starts runs under timeout(1) in its own process group and is
# removed on exit (also on error or Ctrl-C): temp files, the shared-memory
# regions of its sensors (/dev/shm/pvisor-bench<pid>-*), stray processes.
# No network access; no network interface is touched (offline mode only).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

BUILD="${BUILD:-build}"
PACKETS="${BENCH_PACKETS:-5000000}"
RUNS="${BENCH_RUNS:-5}"
PM_RUNS=$(( RUNS < 3 ? RUNS : 3 ))
BUDGET="${BENCH_BUDGET:-540}"
SLICE_BIG=200000
SLICE_SMALL=20000
T_START=$EPOCHREALTIME
INST_PREFIX="bench$$-"
FIX_DIR="${SHARED:-$(cd .. && pwd)/shared}/fixtures"

TMP=""
GROUPS_STARTED=()
FAILED=0

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
calc() { awk "BEGIN { printf \"%.9g\", $1 }"; }
elapsed() { calc "$EPOCHREALTIME - $T_START"; }
over_budget() { [ "$(awk "BEGIN { print ($(elapsed) > $BUDGET) }")" = 1 ]; }

cleanup() {
	local pid p cmd
	# Process groups of the commands we timed (timeout(1) leads each one).
	for pid in "${GROUPS_STARTED[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
	# Sensors of ours, by their unique instance names (workers included).
	for p in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
		case "$cmd" in *"--instance $INST_PREFIX"*) kill -TERM "${p#/proc/}" 2>/dev/null ;; esac
	done
	rm -f /dev/shm/pvisor-"$INST_PREFIX"* 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
	return 0
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# --- figures: one TSV line each, rendered at the end -------------------------
# fig NAME VALUE UNIT RATIO NOTE [RUNS_FILE]   (VALUE/RATIO: a number, or ""
# for none; RUNS_FILE: the seconds of every run, one per line, kept in the JSON)
fig() {
	local runs=""
	[ -n "${6:-}" ] && runs=$(tr '\n' ' ' <"$6")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" "$runs" >>"$TMP/figures.tsv"
}
na() { fig "$1" "" "" "" "$2"; }

# --- timed runs ------------------------------------------------------------
# timed SECONDS OUT ERR CMD...: runs CMD under timeout in its own process group,
# stdout to OUT, stderr to ERR; sets R_RC, R_WALL (s, fork to exit), R_CPU
# (user+sys of CMD and every descendant it waited for); kills any straggler of
# the group afterwards.
R_RC=0 R_WALL=0 R_CPU=0
# `times` must run in this shell, not in a $(...) subshell (whose children
# times start at zero): it writes a file, read afterwards.
children_cpu() {
	awk 'NR == 2 { split($0, a, /[ ms]+/); print a[1] * 60 + a[2] + a[3] * 60 + a[4] }' "$1"
}
timed() {
	local limit=$1 out=$2 err=$3 t0 t1 c0 c1 pid
	shift 3
	times >"$TMP/times0"
	t0=$EPOCHREALTIME
	timeout -k 5 "$limit" "$@" >"$out" 2>"$err" </dev/null &
	pid=$!
	GROUPS_STARTED+=("$pid")
	wait "$pid"
	R_RC=$?
	t1=$EPOCHREALTIME
	times >"$TMP/times1"
	c0=$(children_cpu "$TMP/times0")
	c1=$(children_cpu "$TMP/times1")
	kill -KILL -- "-$pid" 2>/dev/null
	R_WALL=$(calc "$t1 - $t0")
	R_CPU=$(calc "$c1 - $c0")
	[ "$R_RC" -eq 124 ] && log "timed out after ${limit}s: $*"
	return 0
}

# min FILE: the smallest number in FILE (one per line), empty if none
min() { awk 'NF { if (m == "" || $1 < m) m = $1 } END { print m }' "$@"; }
max2() { awk "BEGIN { print ($1 > $2) ? $1 : $2 }"; }
mpps() { calc "$1 / $2 / 1e6"; }            # packets seconds -> Mpps
ratio() { [ -n "$1" ] && [ -n "$LIMIT_MPPS" ] && calc "$1 / $LIMIT_MPPS"; }
json_get() {
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d=d[k]
print(d)' "$1" "$2" 2>/dev/null
}

# --- 0. peers, binaries, temp dir ---------------------------------------------
timeout 600 bash scripts/deps-bench.sh || die "scripts/deps-bench.sh failed"
for b in pvsensor pvaggregator pvctl; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b is missing: run make first"
done
need_tools=(pcaploop shmsize)
[ -f tests/tools/pvgen.c ] && need_tools+=(pvgen)
for t in bench_topk bench_sketch; do [ -f "tests/tools/$t.c" ] && need_tools+=("$t"); done
for t in "${need_tools[@]}"; do
	[ -x "$BUILD/tools/$t" ] && continue
	make --no-print-directory BUILD="$BUILD" "$BUILD/tools/$t" >&2 ||
		log "cannot build $BUILD/tools/$t"
done
for t in pcaploop shmsize; do [ -x "$BUILD/tools/$t" ] || die "$BUILD/tools/$t is missing"; done

# The capture lives in RAM when it fits with room to spare, so disk I/O stays
# out of every figure. pvgen writes about 185 bytes per packet.
need_mb=$(( PACKETS * 230 / 1048576 + 256 ))
avail_mb=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
shm_mb=$(df -Pm /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
if [ -n "${BENCH_TMP:-}" ]; then
	base="$BENCH_TMP"
elif [ -n "$shm_mb" ] && [ "$avail_mb" -gt $(( need_mb * 2 )) ] && [ "$shm_mb" -gt "$need_mb" ]; then
	base=/dev/shm
else
	base="${TMPDIR:-/tmp}"
	log "capture on disk ($base): ${avail_mb} MiB free memory, ${need_mb} MiB needed twice"
fi
TMP=$(mktemp -d "$base/pvbench.XXXXXX") || die "cannot create a temp dir in $base"
chmod 0755 "$TMP"
mkdir -m 1777 "$TMP/cg" # callgrind files of workers that run as an unprivileged user
: >"$TMP/figures.tsv"
CAP="$TMP/bench.pcap"

# --- 1. the capture ------------------------------------------------------------
HOSTNET=""
if [ -n "${BENCH_PCAP:-}" ]; then
	[ -r "$BENCH_PCAP" ] || die "BENCH_PCAP=$BENCH_PCAP is not readable"
	SOURCE="$BENCH_PCAP"
	CAP=$(realpath "$BENCH_PCAP")
	log "capture: $CAP (as given)"
elif [ -x "$BUILD/tools/pvgen" ] && [ -z "${BENCH_NO_PVGEN:-}" ]; then
	SOURCE="pvgen --packets $PACKETS --seed 1"
	log "capture: $SOURCE"
	timed 300 "$TMP/pvgen.out" "$TMP/pvgen.err" "$BUILD/tools/pvgen" --out "$CAP" \
		--truth "$TMP/truth.json" --packets "$PACKETS" --seed 1
	[ "$R_RC" -eq 0 ] || { cat "$TMP/pvgen.err" >&2; die "pvgen failed"; }
	HOSTNET=$(json_get "$TMP/truth.json" host_net) || HOSTNET=""
else
	# Until pvgen exists: the shared fixtures, concatenated until PACKETS are
	# there. Timestamps are not shifted: each copy starts over in time, so
	# the file stays within a few windows as real traffic of that size would
	# (shifted copies would spread it over thousands of mostly empty windows).
	SOURCE="fixtures concatenated (no pvgen)"
	log "capture: no pvgen: concatenating the fixtures in $FIX_DIR"
	timeout 60 mergecap -F pcap -w "$TMP/d0.pcap" "$FIX_DIR"/*.pcap || die "mergecap failed"
	cur="$TMP/d0.pcap" i=0
	n=$(capinfos -c -M "$cur" | awk '/Number of packets/ { print $NF }')
	while [ "$n" -lt "$PACKETS" ]; do
		timeout 120 mergecap -F pcap -a -w "$TMP/d$((i + 1)).pcap" "$cur" "$cur" ||
			die "building the capture failed"
		rm -f "$cur"
		i=$((i + 1)) cur="$TMP/d$i.pcap" n=$((n * 2))
	done
	timeout 120 editcap -F pcap -r "$cur" "$CAP" "1-$PACKETS" || die "editcap failed"
	rm -f "$cur"
fi
hn_args=()
[ -n "$HOSTNET" ] && hn_args=(--host-net "$HOSTNET")

# --- 2. the limit: the bare libpcap loop -----------------------------------------
log "pcaploop x$RUNS"
: >"$TMP/limit.s"
: >"$TMP/limitcpu.s"
N=""
for r in $(seq "$RUNS"); do
	timed 120 "$TMP/pl.out" "$TMP/pl.err" "$BUILD/tools/pcaploop" "$CAP"
	[ "$R_RC" -eq 0 ] || { cat "$TMP/pl.err" >&2; die "pcaploop failed"; }
	read -r _ n _ s _ _ <"$TMP/pl.out"
	N=$n
	echo "$s" >>"$TMP/limit.s"
	echo "$R_CPU" >>"$TMP/limitcpu.s"
done
[ "$N" -gt 0 ] || die "the capture holds no packet"
[ "$N" -ge 1000000 ] ||
	log "note: $N packets: fixed costs (start-up, 100 ms polls, heartbeats every 4096 records) dominate below ~1 M packets"
[ -n "${BENCH_PCAP:-}" ] || [ "$N" -eq "$PACKETS" ] || log "note: the capture holds $N packets (asked $PACKETS)"
LIMIT_S=$(min "$TMP/limit.s")
LIMIT_MPPS=$(mpps "$N" "$LIMIT_S")
fig "libpcap loop (limit)" "$LIMIT_MPPS" Mpps 1 \
	"pcaploop, best of $RUNS: $(printf '%.1f' "$(calc "$LIMIT_S * 1e9 / $N")") ns/packet" "$TMP/limit.s"
LIMIT_CPU_NS=$(calc "$(min "$TMP/limitcpu.s") * 1e9 / $N")
fig "libpcap loop CPU time" "$LIMIT_CPU_NS" ns/packet 1 \
	"user+sys / packets, best of $RUNS (less sensitive to a busy machine than wall time)" \
	"$TMP/limitcpu.s"
[ "$N" -lt "$SLICE_BIG" ] && SLICE_BIG=$N SLICE_SMALL=$((N / 10))
timeout 120 editcap -F pcap -r "$CAP" "$TMP/big.pcap" "1-$SLICE_BIG" &&
	timeout 60 editcap -F pcap -r "$CAP" "$TMP/small.pcap" "1-$SLICE_SMALL" ||
	die "editcap (slices) failed"

# --- 3. pvsensor alone, and pvctl analyze ------------------------------------------
# sensor_run W TAG: one `pvsensor --pcap` run; sets S_SENSOR (the sensor's own
# time read from its region: creation to the last worker's last heartbeat) and
# S_OK (every worker read all N records and finished).
S_SENSOR="" S_OK=0
sensor_run() {
	local w=$1 inst="${INST_PREFIX}$2" k recs secs done_
	S_SENSOR="" S_OK=0
	timed 120 "$TMP/s.out" "$TMP/s.err" "$BUILD/pvsensor" --pcap "$CAP" --workers "$w" \
		--instance "$inst" --quiet "${hn_args[@]}"
	if [ "$R_RC" -ne 0 ]; then
		log "pvsensor --workers $w exited $R_RC: $(tail -3 "$TMP/s.err")"
		rm -f "/dev/shm/pvisor-$inst"
		return
	fi
	if "$BUILD/tools/shmsize" --region "$inst" >"$TMP/region.txt" 2>"$TMP/region.err"; then
		S_OK=1 S_SENSOR=0
		for ((k = 0; k < w; k++)); do
			recs=$(awk -v f="w${k}_records" '$1 == f { print $2 }' "$TMP/region.txt")
			secs=$(awk -v f="w${k}_seconds" '$1 == f { print $2 }' "$TMP/region.txt")
			done_=$(awk -v f="w${k}_done" '$1 == f { print $2 }' "$TMP/region.txt")
			if [ "$recs" != "$N" ] || [ "$done_" != 1 ]; then
				log "pvsensor --workers $w: worker $k read ${recs:-?} of $N records (done=${done_:-?})"
				S_OK=0
			fi
			S_SENSOR=$(max2 "$S_SENSOR" "${secs:-0}")
		done
	else
		log "cannot read the region of $inst: $(cat "$TMP/region.err")"
	fi
	rm -f "/dev/shm/pvisor-$inst"
}

for w in 1 2; do
	log "pvsensor --pcap --workers $w x$RUNS"
	: >"$TMP/sensor.s"
	: >"$TMP/cmd.s"
	: >"$TMP/cpu.s"
	for r in $(seq "$RUNS"); do
		sensor_run "$w" "s$w-$r"
		if [ "$S_OK" -eq 1 ]; then
			echo "$S_SENSOR" >>"$TMP/sensor.s"
			echo "$R_WALL" >>"$TMP/cmd.s"
			echo "$R_CPU" >>"$TMP/cpu.s"
		fi
	done
	best=$(min "$TMP/sensor.s")
	if [ -z "$best" ]; then
		FAILED=1
		na "pvsensor --pcap, $w worker(s)" "FAILED: no valid run (see messages above)"
		continue
	fi
	v=$(mpps "$N" "$best")
	if [ "$w" -eq 1 ]; then
		SENSOR1_S=$best
		fig "pvsensor --pcap, 1 worker" "$v" Mpps "$(ratio "$v")" \
			"sensor's own time (region -> end of file), best of $RUNS" "$TMP/sensor.s"
	else
		fig "pvsensor --pcap, 2 workers (per worker)" "$v" Mpps "$(ratio "$v")" \
			"each worker reads the whole file and keeps its flow-hash share: per-worker pps = total pps" \
			"$TMP/sensor.s"
	fi
	best=$(min "$TMP/cmd.s")
	v=$(mpps "$N" "$best")
	fig "pvsensor --pcap, $w worker$([ "$w" -gt 1 ] && echo s) (whole command)" "$v" Mpps \
		"$(ratio "$v")" "exec to exit, best of $RUNS" \
		"$TMP/cmd.s"
	best=$(calc "$(min "$TMP/cpu.s") * 1e9 / $N")
	fig "pvsensor --pcap, $w worker$([ "$w" -gt 1 ] && echo s) CPU time" "$best" ns/packet \
		"$(calc "$LIMIT_CPU_NS / $best")" \
		"user+sys of every process / packets, best of $RUNS; ratio = limit CPU / this" "$TMP/cpu.s"
	[ "$w" -eq 1 ] && SENSOR1_CPU_NS=$best
done
if [ -n "${SENSOR1_S:-}" ]; then
	fig "pvsensor work/packet above the limit" "$(calc "($SENSOR1_S - $LIMIT_S) * 1e9 / $N")" \
		ns "" "(sensor time - pcaploop time) / packets, 1 worker; budget <= 150 ns (DESIGN.md)"
	fig "pvsensor CPU/packet above the limit" "$(calc "$SENSOR1_CPU_NS - $LIMIT_CPU_NS")" ns "" \
		"the same from CPU times (user+sys), 1 worker"
fi

for w in 1 2; do
	log "pvctl analyze --workers $w x$RUNS"
	: >"$TMP/an.s"
	for r in $(seq "$RUNS"); do
		timed 180 "$TMP/an.json" "$TMP/an.err" "$BUILD/pvctl" analyze "$CAP" --workers "$w" \
			--json "${hn_args[@]}"
		total=$(json_get "$TMP/an.json" packets.total)
		if [ "$R_RC" -eq 0 ] && [ "$total" = "$N" ]; then
			echo "$R_WALL" >>"$TMP/an.s"
		else
			log "pvctl analyze --workers $w: exit $R_RC, packets.total ${total:-?} (expected $N): $(tail -3 "$TMP/an.err")"
		fi
	done
	best=$(min "$TMP/an.s")
	if [ -z "$best" ]; then
		FAILED=1
		na "pvctl analyze --workers $w" "FAILED: no valid run"
		continue
	fi
	v=$(mpps "$N" "$best")
	fig "pvctl analyze --workers $w (whole command)" "$v" Mpps "$(ratio "$v")" \
		"sensor + aggregator + merge + JSON, best of $RUNS; packets.total checked" "$TMP/an.s"
done

# --- 4. peers ------------------------------------------------------------------------
if over_budget; then
	na "tcpdump -r -w /dev/null" "skipped: time budget"
else
	log "tcpdump x$RUNS"
	: >"$TMP/td.s"
	for r in $(seq "$RUNS"); do
		timed 120 "$TMP/td.out" "$TMP/td.err" tcpdump -n -r "$CAP" -w /dev/null
		[ "$R_RC" -eq 0 ] && echo "$R_WALL" >>"$TMP/td.s"
	done
	best=$(min "$TMP/td.s")
	if [ -n "$best" ]; then
		v=$(mpps "$N" "$best")
		fig "tcpdump -n -r FILE -w /dev/null" "$v" Mpps "$(ratio "$v")" \
			"read + write loop, whole command, best of $RUNS" "$TMP/td.s"
	else
		na "tcpdump -n -r FILE -w /dev/null" "failed: $(tail -1 "$TMP/td.err")"
	fi
fi

# pmacctd reads the savefile offline and exits at its end. In this mode it
# sleeps 2 s before the file and 2 s after it (before stopping its plugins),
# and 1 ms per buffer handed to the plugin: large buffers keep that throttle
# small (with the defaults it also loses its plugin on big files). Its print
# plugin silently drops what arrives while its cache is full and purging, so
# the cache gets room for every (src, dst) pair of the capture (pvgen's has
# about N/5 pairs; pmacct's cache holds about 4 entries per bucket before it
# purges, at ~4 KiB of memory per bucket), and appends on each purge: the sum of
# PACKETS over the CSV must then be the packets it accounted.
PM_BUCKETS=$(( N / 19 > 16411 ? N / 19 : 16411 ))
pmacct_run() { # FILE -> R_* ; P_PKTS = packets the print plugin reported
	cat >"$TMP/pmacct.conf" <<-EOC
		daemonize: false
		logfile: $TMP/pmacct.log
		pcap_savefile: $1
		pcap_savefile_wait: false
		aggregate: src_host, dst_host
		plugins: print
		print_output: csv
		print_output_file: $TMP/pmacct.csv
		print_output_file_append: true
		print_refresh_time: 3600
		print_cache_entries: $PM_BUCKETS
		plugin_buffer_size: 1048576
		plugin_pipe_size: 268435456
	EOC
	rm -f "$TMP/pmacct.csv" "$TMP/pmacct.log"
	timed 180 "$TMP/pm.out" "$TMP/pm.err" pmacctd -f "$TMP/pmacct.conf"
	P_PKTS=$(awk -F, '$3 ~ /^[0-9]+$/ { s += $3 } END { print s + 0 }' "$TMP/pmacct.csv" 2>/dev/null)
	P_PKTS=${P_PKTS:-0}
}
pm_mem_mb=$(( PM_BUCKETS * 4 / 1024 + 512 ))
avail_mb=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
if over_budget; then
	na "pmacctd (src_host, dst_host)" "skipped: time budget"
elif ! command -v pmacctd >/dev/null; then
	na "pmacctd (src_host, dst_host)" "pmacctd not installed"
elif [ "$avail_mb" -lt "$pm_mem_mb" ]; then
	na "pmacctd (src_host, dst_host)" "skipped: its cache needs ${pm_mem_mb} MiB, ${avail_mb} MiB free"
else
	log "pmacctd x$PM_RUNS (cache $PM_BUCKETS buckets)"
	: >"$TMP/pm.s"
	counted=0
	for r in $(seq "$PM_RUNS"); do
		pmacct_run "$CAP"
		counted=$P_PKTS
		# pmacct skips a few packets it does not account (about 0.6 % of
		# pvgen's); far fewer means its plugin lost data: not a valid run.
		if [ "$R_RC" -eq 0 ] && [ $(( P_PKTS * 100 )) -ge $(( N * 95 )) ]; then
			echo "$R_WALL" >>"$TMP/pm.s"
		else
			log "pmacctd: exit $R_RC, accounted $P_PKTS of $N packets"
		fi
	done
	best=$(min "$TMP/pm.s")
	if [ -n "$best" ]; then
		v=$(mpps "$N" "$best")
		fig "pmacctd (src_host, dst_host)" "$v" Mpps "$(ratio "$v")" \
			"whole command incl. its fixed 2 s + 2 s savefile delays, best of $PM_RUNS; accounted $counted of $N packets" \
			"$TMP/pm.s"
		[ "$N" -gt "$SLICE_BIG" ] && pmacct_run "$TMP/big.pcap"
		if [ "$N" -gt "$SLICE_BIG" ] && [ "$R_RC" -eq 0 ] && [ $(( P_PKTS * 100 )) -ge $(( SLICE_BIG * 95 )) ] &&
			[ "$(awk "BEGIN { print ($best > $R_WALL) }")" = 1 ]; then
			v=$(calc "($N - $SLICE_BIG) / ($best - $R_WALL) / 1e6")
			fig "pmacctd, marginal" "$v" Mpps "$(ratio "$v")" \
				"(N - ${SLICE_BIG}) / (t(N) - t(${SLICE_BIG})): fixed delays cancelled"
		else
			na "pmacctd, marginal" "no valid ${SLICE_BIG}-packet run (or the capture is not larger)"
		fi
	else
		na "pmacctd (src_host, dst_host)" \
			"failed: exit $R_RC, accounted $counted of $N packets; $(grep -m1 -iE 'error|warn' "$TMP/pmacct.log" 2>/dev/null)"
	fi
fi

if over_budget; then
	na "tshark -q -z io,stat,0" "skipped: time budget"
else
	log "tshark on ${SLICE_BIG} and ${SLICE_SMALL} packets"
	: >"$TMP/ts.s"
	for r in 1 2; do
		timed 120 "$TMP/ts.out" "$TMP/ts.err" tshark -n -r "$TMP/big.pcap" -q -z io,stat,0
		[ "$R_RC" -eq 0 ] && grep -q "| *$SLICE_BIG |" "$TMP/ts.out" && echo "$R_WALL" >>"$TMP/ts.s"
	done
	big_s=$(min "$TMP/ts.s")
	timed 120 "$TMP/ts.out" "$TMP/ts.err" tshark -n -r "$TMP/small.pcap" -q -z io,stat,0
	small_s=$R_WALL
	if [ -n "$big_s" ]; then
		v=$(mpps "$SLICE_BIG" "$big_s")
		fig "tshark -q -z io,stat,0 (${SLICE_BIG} slice)" "$v" Mpps "$(ratio "$v")" \
			"whole command on the first ${SLICE_BIG} packets, scaled; best of 2" "$TMP/ts.s"
		if [ "$R_RC" -eq 0 ] && [ "$(awk "BEGIN { print ($big_s > $small_s) }")" = 1 ]; then
			v=$(calc "($SLICE_BIG - $SLICE_SMALL) / ($big_s - $small_s) / 1e6")
			fig "tshark, marginal" "$v" Mpps "$(ratio "$v")" \
				"(${SLICE_BIG} - ${SLICE_SMALL}) / (t(${SLICE_BIG}) - t(${SLICE_SMALL})): start-up cancelled"
		fi
	else
		na "tshark -q -z io,stat,0 (${SLICE_BIG} slice)" "failed: $(tail -1 "$TMP/ts.err")"
	fi
fi

# --- 5. instructions per packet (callgrind) ------------------------------------------
# Ir summed over every process of the run (supervisor and workers: one file per
# pid); the difference between the two slices cancels start-up and exit.
cg_ir() { # TAG CMD... -> prints total Ir, or nothing on failure
	local tag=$1
	shift
	rm -f "$TMP/cg/$tag".*
	timed 300 "$TMP/cg.out" "$TMP/cg.err" valgrind --tool=callgrind --vgdb=no --trace-children=yes \
		--callgrind-out-file="$TMP/cg/$tag.%p" "$@"
	[ "$R_RC" -eq 0 ] || { log "callgrind $tag: exit $R_RC: $(tail -2 "$TMP/cg.err")"; return; }
	awk '/^(summary|totals):/ { if (!seen[FILENAME]++) s += $2 } END { if (s) printf "%.0f\n", s }' \
		"$TMP/cg/$tag".*
}
cg_pv() { # SLICE TAG: pvsensor under callgrind, region checked
	local inst="${INST_PREFIX}cg$2" ir
	# --user (ourselves): a process that changed uid could not write the
	# callgrind file valgrind opened for it before; the per-packet path is
	# the same.
	ir=$(cg_ir "pv$2" "$BUILD/pvsensor" --pcap "$1" --workers 1 --instance "$inst" --quiet \
		--user "$(id -un)" "${hn_args[@]}")
	if [ -n "$ir" ] && "$BUILD/tools/shmsize" --region "$inst" >"$TMP/region.txt" 2>/dev/null &&
		[ "$(awk '$1 == "w0_records" { print $2 }' "$TMP/region.txt")" = "$3" ]; then
		echo "$ir"
	fi
	rm -f "/dev/shm/pvisor-$inst"
}
if over_budget; then
	na "instructions/packet pvsensor (callgrind)" "skipped: time budget"
elif ! command -v valgrind >/dev/null; then
	na "instructions/packet pvsensor (callgrind)" "valgrind not installed"
else
	log "callgrind: pvsensor and pcaploop on ${SLICE_BIG} and ${SLICE_SMALL} packets"
	pv_big=$(cg_pv "$TMP/big.pcap" big "$SLICE_BIG")
	pv_small=$(cg_pv "$TMP/small.pcap" small "$SLICE_SMALL")
	pl_big=$(cg_ir plbig "$BUILD/tools/pcaploop" "$TMP/big.pcap")
	pl_small=$(cg_ir plsmall "$BUILD/tools/pcaploop" "$TMP/small.pcap")
	d=$((SLICE_BIG - SLICE_SMALL))
	pl_ipp=""
	[ -n "$pl_big" ] && [ -n "$pl_small" ] && pl_ipp=$(calc "($pl_big - $pl_small) / $d")
	if [ -n "$pv_big" ] && [ -n "$pv_small" ]; then
		pv_ipp=$(calc "($pv_big - $pv_small) / $d")
		if [ -n "$pl_ipp" ]; then
			fig "instructions/packet pvsensor (callgrind)" "$pv_ipp" instr \
				"$(calc "$pv_ipp / $pl_ipp")" "(pcaploop: $(printf '%.0f' "$pl_ipp")); (Ir(${SLICE_BIG}) - Ir(${SLICE_SMALL})) / $d"
			fig "instructions/packet decode + update" "$(calc "$pv_ipp - $pl_ipp")" instr "" \
				"pvsensor minus pcaploop: pvisor's own per-packet path"
		else
			fig "instructions/packet pvsensor (callgrind)" "$pv_ipp" instr "" "pcaploop run failed"
		fi
	else
		FAILED=1
		na "instructions/packet pvsensor (callgrind)" "FAILED: see messages above"
	fi
	[ -n "$pl_ipp" ] && fig "instructions/packet pcaploop (callgrind)" "$pl_ipp" instr 1 "the limit"
fi

# --- 6. hardware counters -----------------------------------------------------------
if ! command -v perf >/dev/null; then
	na "perf stat instructions,cycles" "perf not installed"
elif perf stat -x, -e instructions,cycles true 2>&1 >/dev/null | grep -q 'not supported\|not counted\|<not'; then
	na "perf stat instructions,cycles" "not supported here (no hardware counters in this VM)"
elif over_budget; then
	na "perf stat instructions,cycles" "skipped: time budget"
else
	log "perf stat on pvsensor --workers 1"
	inst="${INST_PREFIX}perf"
	timed 120 "$TMP/perf.out" "$TMP/perf.csv" perf stat -x, -e instructions,cycles -- \
		"$BUILD/pvsensor" --pcap "$CAP" --workers 1 --instance "$inst" --quiet "${hn_args[@]}"
	rm -f "/dev/shm/pvisor-$inst"
	ins=$(awk -F, '$3 ~ /^instructions/ { print $1 }' "$TMP/perf.csv")
	cyc=$(awk -F, '$3 ~ /^cycles/ { print $1 }' "$TMP/perf.csv")
	if [ "$R_RC" -eq 0 ] && [[ "$ins" =~ ^[0-9]+$ ]] && [[ "$cyc" =~ ^[0-9]+$ ]]; then
		fig "instructions/packet pvsensor (perf)" "$(calc "$ins / $N")" instr "" "whole command / packets"
		fig "cycles/packet pvsensor (perf)" "$(calc "$cyc / $N")" cycles "" "IPC $(calc "$ins / $cyc")"
	else
		na "perf stat instructions,cycles" "failed: $(tail -1 "$TMP/perf.csv")"
	fi
fi

# --- 7. memory ------------------------------------------------------------------------
# One `pvctl analyze --workers 2` run, its processes sampled every 20 ms:
# VmHWM (peak resident set, shared-memory pages it touched included) of each,
# and the size of the region it created.
log "memory: pvctl analyze --workers 2, sampled"
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
: >"$TMP/mem.txt"
timeout -k 5 180 "$BUILD/pvctl" analyze "$CAP" --workers 2 --json "${hn_args[@]}" \
	>"$TMP/mem.json" 2>"$TMP/mem.err" </dev/null &
mpid=$!
GROUPS_STARTED+=("$mpid")
shm_bytes=""
while kill -0 "$mpid" 2>/dev/null; do
	for ctl in $(pgrep -P "$mpid"); do
		echo "pvctl $(kb "$ctl" VmHWM)" >>"$TMP/mem.txt"
		for c in $(pgrep -P "$ctl"); do
			case "$(cat "/proc/$c/comm" 2>/dev/null)" in
			pvaggregator) echo "aggregator $(kb "$c" VmHWM)" >>"$TMP/mem.txt" ;;
			pvsensor)
				echo "supervisor $(kb "$c" VmHWM)" >>"$TMP/mem.txt"
				for wk in $(pgrep -P "$c"); do
					echo "worker $(kb "$wk" VmHWM)" >>"$TMP/mem.txt"
				done
				if [ -z "$shm_bytes" ]; then
					inst=$(tr '\0' '\n' <"/proc/$c/cmdline" 2>/dev/null |
						awk 'p { print; exit } $0 == "--instance" { p = 1 }')
					[ -n "$inst" ] && shm_bytes=$(stat -c %s "/dev/shm/pvisor-$inst" 2>/dev/null)
				fi
				;;
			esac
		done
	done
	sleep 0.02
done
wait "$mpid"
mrc=$?
[ "$mrc" -eq 0 ] || log "memory run: pvctl analyze exited $mrc: $(tail -2 "$TMP/mem.err")"
peak() { awk -v r="$1" '$1 == r && $2 != "" { if ($2 > m) m = $2 } END { if (m) printf "%.2f", m / 1024 }' "$TMP/mem.txt"; }
"$BUILD/tools/shmsize" 2 4 >"$TMP/geo.txt"
geo() { awk -v f="$1" '$1 == f { print $2 }' "$TMP/geo.txt"; }
if [ -n "$shm_bytes" ]; then
	fig "shm region, 2 workers x 4 slots" "$(calc "$shm_bytes / 1048576")" MiB "" \
		"stat of /dev/shm/pvisor-<instance> during the run"
	fig "shm per worker" "$(calc "($shm_bytes - $(geo header)) / 2 / 1048576")" MiB "" \
		"(region - 4 KiB header) / workers: 4 window slots + ack share"
else
	na "shm per worker" "region not seen during the run"
fi
fig "shm per worker (layout)" "$(calc "$(geo per_worker) / 1048576")" MiB "" \
	"pv_shm_geometry(2 workers, 4 slots): slot $(geo slot) B, metrics block $(geo metrics) B"
for role in supervisor worker aggregator pvctl; do
	v=$(peak "$role")
	label="RSS $role (VmHWM)"
	[ "$role" = supervisor ] && label="RSS pvsensor supervisor (VmHWM)"
	[ "$role" = worker ] && label="RSS pvsensor worker, max (VmHWM)"
	[ "$role" = aggregator ] && label="RSS pvaggregator (VmHWM)"
	[ "$role" = pvctl ] && label="RSS pvctl analyze (VmHWM)"
	if [ -n "$v" ]; then
		fig "$label" "$v" MiB "" "peak resident set incl. touched shm pages"
	else
		na "$label" "not sampled (run too short?)"
	fi
done

# --- 8. sketch micro-benchmarks -----------------------------------------------------
for b in bench_topk bench_sketch; do
	if [ ! -x "$BUILD/tools/$b" ]; then
		na "$b" "n/a: $BUILD/tools/$b not built"
		continue
	fi
	log "$b"
	timed 120 "$TMP/mb.out" "$TMP/mb.err" "$BUILD/tools/$b"
	if [ "$R_RC" -ne 0 ]; then
		na "$b" "failed (exit $R_RC): $(tail -1 "$TMP/mb.err")"
		continue
	fi
	while read -r name value unit rest; do
		[[ "$value" =~ ^[-+0-9.eE]+$ ]] || continue
		fig "$b: $name" "$value" "${unit:-}" "" "$rest"
	done <"$TMP/mb.out"
done

# --- output ---------------------------------------------------------------------------
TOTAL_S=$(elapsed)
mkdir -p "$BUILD"
python3 - "$TMP/figures.tsv" "$BUILD/bench.json" "$N" "$SOURCE" "$base" "$RUNS" "$TOTAL_S" <<'PY'
import json, os, platform, sys, time
tsv, out, n, source, fs, runs, total = sys.argv[1:8]

def num(s):
    if s == "":
        return None
    v = float(s)
    return int(v) if v.is_integer() and abs(v) < 2**53 else v

figs = []
for line in open(tsv):
    name, value, unit, ratio, note, each = line.rstrip("\n").split("\t")
    f = {"name": name, "value": num(value), "unit": unit, "ratio": num(ratio), "note": note}
    if each.strip():
        f["runs"] = [float(x) for x in each.split()]
    figs.append(f)

def fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, int) or abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"

cpu = ""
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip()
            break
except OSError:
    pass
doc = {
    "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    "packets": int(n),
    "capture": {"source": source, "filesystem": fs},
    "runs_per_figure": int(runs),
    "machine": {"cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release()},
    "bench_seconds": round(float(total), 1),
    "figures": figs,
}
with open(out, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")

print(f"pvisor bench {doc['date']}: {int(n)} packets ({source}) in {fs}, "
      f"{os.cpu_count()} CPUs, {cpu}")
print(f"{'figure':<44} {'value':>10}  {'unit':<10} {'ratio-to-limit':<15} note")
for f in figs:
    r = ""
    if f["ratio"] is not None:
        r = f"{f['ratio']:.2f}" if abs(f["ratio"]) < 100 else f"{f['ratio']:.0f}"
    print(f"{f['name']:<44} {fmt(f['value']):>10}  {f['unit']:<10} {r:<15} {f['note']}")
print(f"bench took {float(total):.0f} s; figures in {out}")
PY
exit "$FAILED"
