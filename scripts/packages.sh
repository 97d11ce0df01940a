#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the other host scripts use, and only those that are missing:
# when everything is there (every re-run), apt is not touched at all.
#
# Environment:
#   PACKAGES   space-separated package names
#
# A fresh VPS often has stale package lists and an apt run of its own at first boot (cloud-init,
# apt-daily): the lists are refreshed once before installing, and apt waits for the dpkg lock.
set -euo pipefail

: "${PACKAGES:?PACKAGES is required}"

die() { echo "packages: $*" >&2; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

read -r -a wanted <<<"$PACKAGES"
missing=()
for p in "${wanted[@]}"; do
    installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "packages: all present (${wanted[*]})"
    exit 0
fi

echo "packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
apt-get "${apt_opts[@]}" update || die "apt-get update failed (see above)"
apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}" || die "apt-get install ${missing[*]} failed (see above)"
for p in "${missing[@]}"; do
    installed "$p" || die "$p is still not installed after apt-get install"
done
