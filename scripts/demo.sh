#!/usr/bin/env bash
# make demo: no configuration needed. Creates two private network namespaces
# joined by a veth pair (both ends inside namespaces the demo made: nothing
# touches the host's network),
# starts pvsensor on one end and pvaggregator, sends bounded generated traffic
# (DNS over UDP and TCP, other UDP, TCP handshakes, ICMP) into the other end,
# shows `pvctl status` and `pvctl show`, and removes everything it created,
# also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build}"
[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (network namespace, AF_PACKET)" >&2; exit 1; }

NS="pvdemo-$$" NS2="pvdemo-peer-$$" INST="demo$$" RUN=$(mktemp -d) PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$NS" 2>/dev/null || true
	ip netns del "$NS2" 2>/dev/null || true
	rm -f "/dev/shm/pvisor-$INST"
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 755 "$RUN"
ctl() { "$BUILD/pvctl" --instance "$INST" --run-dir "$RUN" "$@"; }

echo "== namespaces $NS (pva 10.99.0.1, sensor) and $NS2 (pvb 10.99.0.2, traffic)"
ip netns add "$NS"
ip netns add "$NS2"
ip -n "$NS" link add pva type veth peer name pvb netns "$NS2"
ip -n "$NS" addr add 10.99.0.1/24 dev pva
ip -n "$NS2" addr add 10.99.0.2/24 dev pvb
ip -n "$NS" addr add fd99::1/64 dev pva nodad
ip -n "$NS2" addr add fd99::2/64 dev pvb nodad
for n in "$NS" "$NS2"; do ip -n "$n" link set lo up; done
ip -n "$NS" link set pva up
ip -n "$NS2" link set pvb up

echo "== pvsensor -i pva (2 workers, 5 s windows) and pvaggregator"
ip netns exec "$NS" "$BUILD/pvsensor" -i pva --workers 2 --window 5 --instance "$INST" \
	--host-net 10.99.0.1/32,fd99::1/128 &
PIDS+=($!)
ip netns exec "$NS" "$BUILD/pvaggregator" --instance "$INST" --run-dir "$RUN" &
PIDS+=($!)
for _ in $(seq 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done

echo "== traffic from pvb (10.99.0.2) to pva (10.99.0.1): bounded, about 6 s"
# A generator in Python (standard library only) so the demo needs no peer
# service: DNS queries over UDP (answered by nothing: the host replies with
# ICMP port unreachable), DNS over TCP (RST), other UDP, TCP SYNs, pings.
ip netns exec "$NS2" python3 - <<'PY'
import socket, struct, random, time
random.seed(1)
names = ["www.example.com", "api.example.com", "mail.test.com", "a.b.shop.example.net"]
def dns_query(qid, name, qtype=1):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", qtype, 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
end = time.time() + 6
sent = 0
while time.time() < end and sent < 20000:
    n = random.choice(names)
    u.sendto(dns_query(sent & 0xffff, n, random.choice([1, 28, 16])), ("10.99.0.1", 53))
    u6.sendto(dns_query(sent & 0xffff, n), ("fd99::1", 53))
    u.sendto(b"x" * random.randint(10, 1200), ("10.99.0.1", random.randint(1024, 65000)))
    if sent % 50 == 0:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setblocking(False)
        try:
            t.connect(("10.99.0.1", random.choice([53, 80, 443])))
        except BlockingIOError:
            pass
        t.close()
    sent += 3
    time.sleep(0.002)
icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
def csum(b):
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
for i in range(5):
    h = struct.pack(">BBHHH", 8, 0, 0, 0x4242, i) + b"pvisor-demo!"
    icmp.sendto(h[:2] + struct.pack(">H", csum(h)) + h[4:], ("10.99.0.1", 0))
    time.sleep(0.1)
print(f"sent about {sent} datagrams plus TCP handshakes and pings")
PY

echo "== pvctl status"
ctl status
echo
echo "== pvctl show --window live (the open window, still moving)"
ctl show --window live || true
echo
echo "== stopping the sensor (workers seal their windows), then pvctl show --merged 100"
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}" || true
for _ in $(seq 50); do
	ctl status --json 2>/dev/null | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["sensor_finished"] else 1)' && break
	sleep 0.1
done
ctl show --merged 100
total=$(ctl show --merged 100 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"]["total"])')
[ "$total" -gt 0 ] || { echo "demo: no packets counted" >&2; exit 1; }
echo
echo "demo: counted $total packets live; cleaning up"
