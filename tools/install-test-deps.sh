#!/usr/bin/env bash
# Installs the Debian packages the tests use for real: shellcheck, nginx, fio, sshd, fail2ban (with
# python3-systemd for its journal backend), nftables, unattended-upgrades, wrk, graphviz, openssl,
# sshpass (the fleet tests' password login attempts), systemd (its journald runs on the fleet's
# hosts); python3 with PyYAML for the K3s stand-in.
# Idempotent: installs only what is missing. Services are not started by the install (policy-rc.d):
# the tests start their own instances.
set -euo pipefail

packages=(
    shellcheck nginx fio openssh-server openssh-client fail2ban python3-systemd nftables unattended-upgrades
    wrk graphviz curl ca-certificates openssl iproute2 procps python3 python3-yaml jq sshpass systemd
)

if [ "$(id -u)" != 0 ]; then
    echo "install-test-deps.sh: run as root (it installs Debian packages)" >&2
    exit 1
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-test-deps.sh: all ${#packages[@]} packages present"
    exit 0
fi
echo "install-test-deps.sh: installing ${missing[*]}"
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-test-deps.sh: done"
