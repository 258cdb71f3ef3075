#!/usr/bin/env bash
# top_geoLoc and top_ASN on MaxMind's test databases (../shared/fixtures):
# a capture with known packet counts from addresses those databases know;
# the expected names are built from what mmdblookup reads from the same
# files ("continent/country/subdivision/city", "number/organization").
set -euo pipefail
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
CITY="$FIX/GeoIP2-City-Test.mmdb" ASN="$FIX/GeoIP2-ISP-Test.mmdb"

# address -> packets (all inbound to 10.0.0.1)
addrs="81.2.69.142:7 89.160.20.128:5 216.160.83.56:4 175.16.199.0:3 1.128.0.1:6 12.81.92.1:2 2.125.160.216:1"

python3 - "$tmp/geo.pcap" $addrs <<'PY'
import struct, sys, socket
out = sys.argv[1]
f = open(out, "wb")
f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
ts = 1700000000
for spec in sys.argv[2:]:
    a, n = spec.split(":")
    for i in range(int(n)):
        payload = b"x" * 20
        udp = struct.pack(">HHHH", 40000 + i, 53, 8 + len(payload), 0) + payload
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                         socket.inet_aton(a), socket.inet_aton("10.0.0.1"))
        frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + udp
        f.write(struct.pack("<IIII", ts, i, len(frame), len(frame)) + frame)
f.close()
PY

mm() { # file ip path... -> value or empty
	local f=$1 ip=$2; shift 2
	{ mmdblookup --file "$f" --ip "$ip" "$@" 2>/dev/null || true; } | sed -n 's/^ *"\(.*\)" <utf8_string>$/\1/p; s/^ *\([0-9]*\) <uint32>$/\1/p' | head -1 || true
}
declare -A geo_want asn_want
for spec in $addrs; do
	a=${spec%%:*} n=${spec##*:}
	name=""
	for part in "continent code" "country iso_code" "subdivisions 0 iso_code" "city names en"; do
		v=$(mm "$CITY" "$a" $part)
		[ -n "$v" ] && name="${name:+$name/}$v"
	done
	[ -n "$name" ] && geo_want[$name]=$(( ${geo_want[$name]:-0} + n ))
	num=$(mm "$ASN" "$a" autonomous_system_number)
	if [ -n "$num" ]; then
		org=$(mm "$ASN" "$a" autonomous_system_organization)
		k="$num${org:+/$org}"
		asn_want[$k]=$(( ${asn_want[$k]:-0} + n ))
	fi
done
[ ${#geo_want[@]} -ge 3 ] || fail "mmdblookup found fewer than 3 of the test addresses in the City DB"
[ ${#asn_want[@]} -ge 2 ] || fail "mmdblookup found fewer than 2 of the test addresses in the ISP DB"

"$PVCTL" analyze "$tmp/geo.pcap" --workers 2 --host-net 10.0.0.0/8 --geo-city "$CITY" \
	--geo-asn "$ASN" --top 50 --json >"$tmp/out.json" || fail "analyze exited $?"
for name in "${!geo_want[@]}"; do
	got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["packets"]["top_geoLoc"]
print(next((e["estimate"] for e in d if e["name"]==sys.argv[2]), 0))' "$tmp/out.json" "$name")
	[ "$got" = "${geo_want[$name]}" ] || fail "top_geoLoc '$name': $got, mmdblookup says ${geo_want[$name]}"
	ok "top_geoLoc $name = $got"
done
for name in "${!asn_want[@]}"; do
	got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["packets"]["top_ASN"]
print(next((e["estimate"] for e in d if e["name"]==sys.argv[2]), 0))' "$tmp/out.json" "$name")
	[ "$got" = "${asn_want[$name]}" ] || fail "top_ASN '$name': $got, mmdblookup says ${asn_want[$name]}"
	ok "top_ASN $name = $got"
done
n_geo=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["packets"]["top_geoLoc"]))' "$tmp/out.json")
[ "$n_geo" -eq ${#geo_want[@]} ] || fail "top_geoLoc has $n_geo entries, expected ${#geo_want[@]}"

# A missing or corrupt database is a clear start-up error, not a crash.
if "$PVSENSOR" --pcap "$tmp/geo.pcap" --geo-city /nonexistent.mmdb --instance geotest$$ 2>"$tmp/err"; then
	fail "pvsensor accepted a missing database"
fi
grep -q "/nonexistent.mmdb" "$tmp/err" || fail "error does not name the missing file: $(cat "$tmp/err")"
head -c 4096 /dev/urandom >"$tmp/bad.mmdb"
if "$PVSENSOR" --pcap "$tmp/geo.pcap" --geo-asn "$tmp/bad.mmdb" --instance geotest$$ 2>"$tmp/err"; then
	fail "pvsensor accepted a corrupt database"
fi
grep -q "bad.mmdb" "$tmp/err" || fail "error does not name the corrupt file"
rm -f /dev/shm/pvisor-geotest$$
ok "missing and corrupt databases refused: $(head -1 "$tmp/err")"
