#!/usr/bin/env bash
# pvgen's truth against an independent reader: tshark and capinfos on the same
# file. For a 200k-packet mixed capture (seed 7) and smaller dns and flood
# captures, tshark decodes the file (one pass over IP fields with IPv4
# reassembly off, one pass over DNS with reassembly on) and every counter, the
# exact cardinalities, the top 5 addresses, payload_size, the per-second rates
# and the DNS message counts recomputed from those fields must equal what pvgen
# wrote. Transport is the IP protocol field (METRICS.md): tshark's `udp` filter
# misses non-first fragments, so UDP is counted as ip.proto/ipv6.nxt == 17.
# Then: same seed -> byte-identical files, another seed -> different files, and
# the exit statuses for bad usage (1) and I/O errors (2).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PVGEN="$BUILD/tools/pvgen"
[ -x "$PVGEN" ] || fail "$PVGEN is not built (make $PVGEN)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/check.py" <<'PY'
import collections, ipaddress, json, sys

name = sys.argv[1]
truth = json.load(open(sys.argv[2]))
P = truth["packets"]
nets = [ipaddress.ip_network(x) for x in truth["host_net"].split(",")]
memo = {}
def host(a):
    if a not in memo:
        ip = ipaddress.ip_address(a)
        memo[a] = any(ip in n for n in nets)
    return memo[a]
def yes(v):
    return v in ("1", "True", "true")

c = collections.Counter()
cw = collections.defaultdict(collections.Counter)   # per window start
win = truth["window"]
top = collections.Counter()
src_in, dst_out = set(), set()
sec = {k: collections.Counter() for k in ("pps_total", "pps_in", "pps_out",
                                          "bytes_total", "bytes_in", "bytes_out")}
psize = []
for line in open(sys.argv[3]):
    (flen, t, s4, d4, s6, d6, p4, p6, syn, mf, foff, it, i6t,
     iplen, iphl, plen6, tcphl) = line.rstrip("\n").split("\t")
    flen = int(flen); s = int(t.split(".")[0])
    w = cw[s // win * win]
    def add(k, n=1):
        c[k] += n; w[k] += n
    add("total"); add("bytes.total", flen)
    sec["pps_total"][s] += 1; sec["bytes_total"][s] += flen
    if s4:
        add("ipv4"); src, dst, proto = s4, d4, int(p4)
        ippay = int(iplen) - int(iphl)
    elif s6:
        add("ipv6"); src, dst, proto = s6, d6, int(p6)
        ippay = int(plen6)
    else:
        add("unknown_dir")
        continue
    frag = bool(s4) and (yes(mf) or (foff not in ("", "0")))
    first = not frag or foff in ("", "0")
    if proto == 6:
        add("tcp")
        if yes(syn):
            add("protocol.tcp.syn")
    elif proto == 17:
        add("udp")
    else:
        add("other_l4")
    if it or i6t:
        add("icmp")
    if frag:
        add("fragments")
    if proto == 6:
        psize.append(ippay - int(tcphl))
    elif proto in (17, 1, 58):
        psize.append(ippay - 8 if first else ippay)
    else:
        psize.append(ippay)
    hs, hd = host(src), host(dst)
    if hd and not hs:
        add("in"); add("bytes.in", flen); top[src] += 1; src_in.add(src)
        sec["pps_in"][s] += 1; sec["bytes_in"][s] += flen
    elif hs and not hd:
        add("out"); add("bytes.out", flen); top[dst] += 1; dst_out.add(dst)
        sec["pps_out"][s] += 1; sec["bytes_out"][s] += flen
    else:
        add("unknown_dir")
c["cardinality.src_ips_in"] = len(src_in)
c["cardinality.dst_ips_out"] = len(dst_out)

bad = []
def check(name, got, want):
    if got != want:
        bad.append(f"{name}: pvgen's truth {want}, from tshark {got}")

for k in ("total", "ipv4", "ipv6", "tcp", "udp", "other_l4", "icmp", "fragments",
          "protocol.tcp.syn", "in", "out", "unknown_dir", "bytes.total", "bytes.in",
          "bytes.out", "cardinality.src_ips_in", "cardinality.dst_ips_out"):
    check("packets." + k, c[k], P[k])

def rank(v, q):
    return sorted(v)[int(q * (len(v) - 1) + 1e-9)]
for fam, key in ((4, "top_ipv4"), (6, "top_ipv6")):
    mine = sorted(((a, n) for a, n in top.items()
                   if ipaddress.ip_address(a).version == fam), key=lambda x: (-x[1], x[0]))
    check(key + "[:5]", [list(x) for x in mine[:5]], P[key][:5])

ps = P["payload_size"]
check("payload_size.count", len(psize), ps["count"])
check("payload_size.min", min(psize), ps["min"])
check("payload_size.max", max(psize), ps["max"])
for q in (50, 90, 95, 99):
    check(f"payload_size.p{q}", rank(psize, q / 100), ps[f"p{q}"])

lo, hi = min(sec["pps_total"]), max(sec["pps_total"])
zero_secs = sum(1 for s in range(lo, hi + 1) if not sec["pps_total"][s])
for k, per in sec.items():
    v = [per[s] for s in range(lo, hi + 1)]   # seconds without packets count as 0
    want = P["rates"][k]
    check(f"rates.{k}.max", max(v), want["max"])
    for q in (50, 90, 95, 99):
        check(f"rates.{k}.p{q}", rank(v, q / 100), want[f"p{q}"])
check("start_ts", lo, truth["start_ts"])
check("end_ts", hi, truth["end_ts"])

# Windows: every window from the first packet's to the last packet's, each
# with the counters of its packets.
W = truth["windows"]
check("windows.start_ts", [x["start_ts"] for x in W],
      list(range(lo // win * win, hi // win * win + 1, win)))
CK = ("total", "ipv4", "ipv6", "tcp", "udp", "other_l4", "icmp", "fragments",
      "protocol.tcp.syn", "in", "out", "unknown_dir", "bytes.total", "bytes.in", "bytes.out")
for x in W:
    for k in CK:
        check(f"windows[{x['start_ts']}].packets.{k}", cw[x["start_ts"]][k], x["packets." + k])

# DNS: tshark reassembles IP fragments and TCP streams; one entry per message.
# Its dns.time (reply time - query time, matched by id and conversation) gives
# the transactions; those under the 5 s timeout count.
D = truth["dns"]
d = collections.Counter(); names = set(); clients = set(); q2 = collections.Counter()
lat = {"in": [], "out": []}
def qname2(name):
    labels = name.split(".")
    return name if len(labels) <= 2 else "." + ".".join(labels[-2:])
for line in open(sys.argv[4]):
    resp, rcode, ans, qn, tport, s4, d4, s6, d6, dtime = line.rstrip("\n").split("\t")
    src, dst = (s4, d4) if s4 else (s6, d6)
    for t in dtime.split(";") if dtime else []:
        us = round(float(t) * 1e6)
        if us < 5000000:
            d["xact"] += 1
            if host(src) and not host(dst):
                lat["in"].append(us)
            elif host(dst) and not host(src):
                lat["out"].append(us)
    resp = resp.split(";"); n = len(resp)
    rcode = rcode.split(";") if rcode else []
    ans = ans.split(";")
    d["total"] += n
    d["tcp" if tport else "udp"] += n
    d["ipv6" if s6 else "ipv4"] += n
    ri = 0
    for i, r in enumerate(resp):
        if yes(r):
            d["replies"] += 1
            rc = int(rcode[ri]); ri += 1
            d[{0: "noerror", 2: "srvfail", 3: "nxdomain", 5: "refused"}.get(rc, "other")] += 1
            if rc == 0 and ans[i] == "0":
                d["nodata"] += 1
        else:
            d["queries"] += 1
            clients.add(src)
    for x in qn.split(";"):
        names.add(x.lower())
        q2[qname2(x.lower())] += 1
for k in ("total", "queries", "replies", "udp", "tcp", "ipv4", "ipv6", "noerror",
          "nxdomain", "srvfail", "refused", "nodata"):
    check("dns.wire_packets." + k, d[k], D["wire_packets." + k])
check("dns.cardinality.qname", len(names), D["cardinality.qname"])
check("dns.cardinality.clients", len(clients), D["cardinality.clients"])
check("dns.top_qname2[:5]", [list(x) for x in sorted(q2.items(), key=lambda x: (-x[1], x[0]))[:5]],
      D["top_qname2"][:5])
check("dns.xact.counts.total", d["xact"], D["xact.counts.total"])
for k in ("in", "out"):
    v, want = lat[k], D[f"xact.{k}.quantiles_us"]
    check(f"dns.xact.{k}.total", len(v), D[f"xact.{k}.total"])
    if v:
        check(f"dns.xact.{k}.quantiles_us", [min(v), max(v)] + [rank(v, q / 100) for q in (50, 90, 95, 99)],
              [want[x] for x in ("min", "max", "p50", "p90", "p95", "p99")])

if bad:
    print("\n".join(f"FAIL: {name}: {b}" for b in bad), file=sys.stderr)
    sys.exit(1)
print(f"ok: {name}: tshark agrees: total={c['total']} ipv4={c['ipv4']} ipv6={c['ipv6']} "
      f"tcp={c['tcp']} udp={c['udp']} icmp={c['icmp']} fragments={c['fragments']} "
      f"syn={c['protocol.tcp.syn']} in={c['in']} out={c['out']} unknown={c['unknown_dir']} "
      f"bytes={c['bytes.total']} src_ips_in={c['cardinality.src_ips_in']} "
      f"seconds={hi - lo + 1} (zero: {zero_secs}) windows={len(W)} dns={d['total']} (tcp {d['tcp']}) "
      f"xact={d['xact']}")
PY

# check NAME: compare $tmp/NAME.json with tshark's reading of $tmp/NAME.pcap
check() {
	local p="$tmp/$1.pcap" j="$tmp/$1.json" n
	# capinfos counts the records itself.
	n=$(capinfos -c -M "$p" | awk -F': *' '/Number of packets/ {print $2}')
	[ "$n" = "$(json_get "$j" packets_total)" ] || fail "$1: capinfos counts $n packets"
	[ "$n" = "$(json_get "$j" packets.total)" ] || fail "$1: packets.total != capinfos $n"
	# -E occurrence=f: the outer header, should a heuristic dissector find an inner one.
	tshark -n -r "$p" -o ip.defragment:FALSE -T fields -E occurrence=f \
		-e frame.len -e frame.time_epoch -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst \
		-e ip.proto -e ipv6.nxt -e tcp.flags.syn -e ip.flags.mf -e ip.frag_offset \
		-e icmp.type -e icmpv6.type -e ip.len -e ip.hdr_len -e ipv6.plen -e tcp.hdr_len \
		>"$tmp/ip.tsv" 2>/dev/null || fail "$1: tshark (IP fields) failed"
	tshark -n -r "$p" -Y dns -T fields -E occurrence=a -E aggregator=';' \
		-e dns.flags.response -e dns.flags.rcode -e dns.count.answers -e dns.qry.name \
		-e tcp.srcport -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e dns.time \
		>"$tmp/dns.tsv" 2>/dev/null || fail "$1: tshark (DNS) failed"
	python3 "$tmp/check.py" "$1" "$j" "$tmp/ip.tsv" "$tmp/dns.tsv" || fail "$1: truth != tshark"
}

gen() { "$PVGEN" --packets 200000 --duration 40 --window 10 "$@"; }
gen --seed 7 --out "$tmp/a.pcap" --truth "$tmp/a.json" || fail "pvgen exited $?"
check a
"$PVGEN" --profile dns --packets 40000 --duration 25 --seed 7 \
	--out "$tmp/dns.pcap" --truth "$tmp/dns.json" || fail "pvgen --profile dns exited $?"
check dns
"$PVGEN" --profile flood --packets 40000 --duration 3 --seed 7 --vlan-fraction 0.5 \
	--out "$tmp/flood.pcap" --truth "$tmp/flood.json" || fail "pvgen --profile flood exited $?"
check flood
rm -f "$tmp/dns.pcap" "$tmp/flood.pcap"

# Deterministic for a seed; another seed gives another capture.
gen --seed 7 --out "$tmp/b.pcap" --truth "$tmp/b.json" || fail "pvgen (again) exited $?"
cmp -s "$tmp/a.pcap" "$tmp/b.pcap" || fail "same seed, different pcap"
cmp -s "$tmp/a.json" "$tmp/b.json" || fail "same seed, different truth"
ok "seed 7 twice: identical pcap and truth"
gen --seed 8 --out "$tmp/c.pcap" --truth "$tmp/c.json" || fail "pvgen --seed 8 exited $?"
cmp -s "$tmp/a.pcap" "$tmp/c.pcap" && fail "seeds 7 and 8 gave the same pcap"
ok "seed 8 differs"

# Exit statuses: 1 for bad usage, 2 for I/O errors.
set +e
"$PVGEN" --out "$tmp/x.pcap" 2>/dev/null; s1=$?
"$PVGEN" --out "$tmp/x.pcap" --truth "$tmp/x.json" --ipv6-fraction 2 2>/dev/null; s2=$?
"$PVGEN" --out "$tmp/no/such/dir.pcap" --truth "$tmp/x.json" --packets 10 2>/dev/null; s3=$?
"$PVGEN" --help >/dev/null; s4=$?
set -e
[ "$s1$s2$s3$s4" = "1120" ] || fail "exit statuses: missing --truth $s1, bad fraction $s2, unwritable $s3, --help $s4"
ok "exit statuses 1 (usage), 2 (I/O), 0 (--help)"
