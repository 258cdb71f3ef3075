#!/usr/bin/env bash
# pvctl analyze on captures from the generator (tests/tools/pvgen.c), whose
# truth file holds the exact answers from its own bookkeeping:
# - every packets counter equals the truth exactly;
# - cardinalities within 3 standard errors of HLL p=14 (3 x 1.04/128 = 2.44 %);
# - top_ipv4/top_ipv6: every true entry above N/m is listed, with
#   0 <= estimate - true <= N/m (N = in + out packets, m = 1024);
# - payload_size and rates p50/p90/p95/p99 within alpha = 1 % of the exact
#   quantile; payload min/max/count exact;
# for several seeds, identically for --workers 1 and 2.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
GEN="$BUILD/tools/pvgen"

check() { # truth.json out.json label
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); a = json.load(open(sys.argv[2])); label = sys.argv[3]
tp, ap = t["packets"], a["packets"]
errs = []
def get(d, path):
    for k in path.split("."):
        d = d[k]
    return d
for k in ["total", "ipv4", "ipv6", "tcp", "udp", "other_l4", "icmp", "fragments",
          "protocol.tcp.syn", "in", "out", "unknown_dir", "bytes.total", "bytes.in", "bytes.out"]:
    if get(ap, k) != tp[k]:
        errs.append(f"{k}: {get(ap, k)} != truth {tp[k]}")
for k in ["src_ips_in", "dst_ips_out"]:
    want, got = tp["cardinality." + k], ap["cardinality"][k]
    if abs(got - want) > 3 * 1.04 / 128 * want + 1:
        errs.append(f"cardinality.{k}: {got} vs truth {want}")
N = tp["in"] + tp["out"]; bound = N / 1024
for tab in ["top_ipv4", "top_ipv6"]:
    order = [(-e["estimate"], e["name"]) for e in ap[tab]]
    if order != sorted(order):
        errs.append(f"{tab}: not sorted by estimate, then name (METRICS.md)")
    ours = {e["name"]: e["estimate"] for e in ap[tab]}
    for name, cnt in tp[tab][:30]:
        if cnt <= bound:
            continue
        if name not in ours:
            errs.append(f"{tab}: {name} (true {cnt} > N/m {bound:.0f}) missing")
        elif not (0 <= ours[name] - cnt <= bound):
            errs.append(f"{tab}: {name} estimate {ours[name]} vs true {cnt} (bound {bound:.0f})")
def qcheck(name, want, got, keys):
    for q in keys:
        w, g = want[q], got[q]
        if abs(g - w) > 0.01 * abs(w) + 1e-9:
            errs.append(f"{name}.{q}: {g} vs exact {w}")
ps = ap["payload_size"]
qcheck("payload_size", tp["payload_size"], ps, ["p50", "p90", "p95", "p99"])
for k in ["min", "max", "count"]:
    if ps[k] != tp["payload_size"][k]:
        errs.append(f"payload_size.{k}: {ps[k]} != {tp['payload_size'][k]}")
for r in ["pps_total", "pps_in", "pps_out", "bytes_total", "bytes_in", "bytes_out"]:
    qcheck("rates." + r, tp["rates"][r], ap["rates"][r], ["p50", "p90", "p95", "p99"])
    if ap["rates"][r]["max"] != tp["rates"][r]["max"]:
        errs.append(f"rates.{r}.max {ap['rates'][r]['max']} != {tp['rates'][r]['max']}")
if errs:
    print(f"{label}: " + "\n  ".join(errs)); sys.exit(1)
print(f"ok: {label}: {tp['total']} packets, counters exact; src_ips_in {ap['cardinality']['src_ips_in']} "
      f"(true {tp['cardinality.src_ips_in']}); payload p99 {ps['p99']:.1f} (exact {tp['payload_size']['p99']}); "
      f"top_ipv4[0] {ap['top_ipv4'][0]['name']}={ap['top_ipv4'][0]['estimate']}")
PY
}

for spec in "11 mixed 400000 7" "12 mixed 250000 3" "13 flood 200000 2"; do
	set -- $spec
	seed=$1 prof=$2 n=$3 dur=$4
	"$GEN" --out "$tmp/g.pcap" --truth "$tmp/t.json" --packets "$n" --seed "$seed" \
		--profile "$prof" --duration "$dur" >/dev/null
	hn=$(json_get "$tmp/t.json" host_net)
	for w in 1 2; do
		"$PVCTL" analyze "$tmp/g.pcap" --workers "$w" --host-net "$hn" --top 50 --json \
			>"$tmp/a$w.json" || fail "analyze seed $seed workers $w exited $?"
		check "$tmp/t.json" "$tmp/a$w.json" "seed $seed ($prof) --workers $w" || fail "seed $seed workers $w"
	done
	# Counters identical whatever the number of workers.
	python3 -c 'import json,sys
a,b=(json.load(open(f))["packets"] for f in sys.argv[1:3])
ks=[k for k,v in a.items() if isinstance(v,int)]
bad=[k for k in ks if a[k]!=b[k]]
sys.exit(1 if bad else 0)' "$tmp/a1.json" "$tmp/a2.json" || fail "seed $seed: counters differ between 1 and 2 workers"
done
