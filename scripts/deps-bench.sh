#!/usr/bin/env bash
# Installs the peers that only `make bench` needs (scripts/bench.sh calls this
# first): pmacct (pmacctd), valgrind (callgrind), linux-perf, hyperfine,
# tcpdump, tshark (+ editcap). Idempotent: when everything is present it only
# runs dpkg-query and exits. Installing pmacct must not leave a daemon behind:
# service starts are blocked during the install (policy-rc.d) and, on a host
# run by systemd, pmacct's units are stopped and disabled afterwards.
set -euo pipefail

PKGS=(pmacct valgrind hyperfine tcpdump tshark)
# linux-perf exists on Debian 12; other releases may not have it: optional.
OPTIONAL=(linux-perf)
PMACCT_UNITS=(pmacctd.service nfacctd.service sfacctd.service uacctd.service)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${PKGS[@]}" "${OPTIONAL[@]}"; do
  installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps-bench.sh: missing packages: ${missing[*]}; run as root (or: sudo $0)" >&2
  exit 1
fi
echo "deps-bench.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections

# Block service starts for the length of the install, unless the host already
# blocks them (containers often do). Ours is removed on every exit path.
policy=/usr/sbin/policy-rc.d
own_policy=0
cleanup() { [ "$own_policy" -eq 1 ] && rm -f "$policy"; return 0; }
trap cleanup EXIT
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# temporary, from pvisor scripts/deps-bench.sh\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  own_policy=1
fi

apt-get update -qq
need=()
for p in "${missing[@]}"; do
  if [[ " ${OPTIONAL[*]} " == *" $p "* ]] && ! apt-cache show "$p" >/dev/null 2>&1; then
    echo "deps-bench.sh: $p is not available here; bench will skip what needs it" >&2
    continue
  fi
  need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# pmacct's units: never leave a collector running or enabled because of us.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  for u in "${PMACCT_UNITS[@]}"; do
    if systemctl list-unit-files "$u" >/dev/null 2>&1; then
      systemctl disable --now "$u" >/dev/null 2>&1 || true
    fi
  done
fi
exit 0
