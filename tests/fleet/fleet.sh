#!/usr/bin/env bash
# A simulated VPS fleet on this machine: network namespaces, throwaway roots (tests/harness/sandbox.sh)
# and a real sshd per host. tests/fleet/fleet.ts drives it; this file holds what must also work when
# the test process is gone (teardown, the watchdog).
#
#   fleet.sh network RUN            the "lan" namespace (the hosts' switch and their router to the
#                                   internet side, which also answers DNS: resolver.py), the
#                                   operator's and the internet's namespaces
#   fleet.sh host RUN NAME INDEX [--private]
#                                   host NAME: its namespace on the switch (public address
#                                   198.18.0.(10+INDEX), with --private also 198.18.1.(10+INDEX) on a
#                                   second switch without a router), its throwaway root (units run
#                                   for real) with a fresh ed25519 host key and the operator's key in
#                                   root's authorized_keys; prints the public host key. Booting (the
#                                   sandbox run whose PID 1 starts sshd) is left to the caller.
#   fleet.sh destroy RUN            kills every process in the fleet's namespaces, deletes the
#                                   namespaces (and with them every link and bridge), unmounts and
#                                   removes RUN; safe to repeat and on a half-made fleet
#   fleet.sh watch RUN OWNER_PID    destroys RUN once OWNER_PID has ended (run detached)
#   fleet.sh leftovers ID           prints what is left of fleet ID (namespaces, mounts, processes)
#
# RUN is the fleet's directory /tmp/pf-fleet-ID (a tmpfs); every namespace is named fleet-ID-*. All
# links and bridges are made inside the fleet's namespaces: the machine's own network namespace gets
# nothing, so nothing can be routed to the real network, and fleets running side by side never clash.
#
# Addresses (RFC 2544 benchmarking range, never routed anywhere):
#   198.18.0.0/24  hosts' public network; .1 is the router (namespace fleet-ID-lan) and nameserver
#   198.18.1.0/24  hosts' private network (--private), no router
#   198.19.0.0/24  the internet side; .1 router, .10 operator (fleet-ID-op), .20 internet (fleet-ID-inet),
#                  .30 the internet's mirror address (also fleet-ID-inet)
set -euo pipefail

die() { echo "fleet.sh: $*" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sandbox=$here/../harness/sandbox.sh

[ "$(id -u)" = 0 ] || die "needs root (network and mount namespaces)"
cmd=${1:-}; shift || true

fleet_id() { cat "$1/id"; }
ns_list() { ip netns list | awk '{print $1}' | grep -E "^fleet-$1-" || true; }

# A veth pair: END in the lan namespace on BRIDGE, PEER (named IFACE) in namespace NS.
plug() {
    local run=$1 end=$2 bridge=$3 ns=$4 iface=$5 addr=$6 gateway=${7:-}
    local lan
    lan=fleet-$(fleet_id "$run")-lan
    ip -n "$lan" link add "$end" type veth peer name "$iface" netns "$ns"
    ip -n "$lan" link set "$end" master "$bridge" up
    ip -n "$ns" addr add "$addr" dev "$iface"
    ip -n "$ns" link set "$iface" up
    ip -n "$ns" link set lo up
    if [ -n "$gateway" ]; then ip -n "$ns" route add default via "$gateway"; fi
}

# Processes of fleet ID besides those in its namespaces, as "PID COMMAND" lines: naming the fleet on
# their command line (a host's unshare, a deployment's executor) or started by the tests with
# PF_FLEET=ID (probes, listeners, the mirror). This script (its subshells have its command line) and
# the watchdog are left out. Reads /proc without forking (it runs often).
fleet_processes() {
    local id=$1 run=/tmp/pf-fleet-$1 p pid cmdline self w
    local -a words
    mapfile -d '' -t words </proc/$$/cmdline
    self="${words[*]}"
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        if [ "$pid" = "${FLEET_WATCHDOG:-}" ]; then continue; fi
        mapfile -d '' -t words <"$p/cmdline" 2>/dev/null || continue
        cmdline="${words[*]}"
        if [ "$cmdline" = "$self" ]; then continue; fi
        cmdline=${cmdline//$'\n'/ }
        if [[ "$cmdline" == *"$run"* || "$cmdline" == *"fleet-$id-"* ]]; then
            echo "$pid ${cmdline:0:120}"
            continue
        fi
        mapfile -d '' -t words <"$p/environ" 2>/dev/null || continue
        for w in "${words[@]}"; do
            if [ "$w" = "PF_FLEET=$id" ]; then echo "$pid ${cmdline:0:120}"; break; fi
        done
    done
}

add_ns() {
    echo "$2" >>"$1/namespaces"
    ip netns add "$2"
}

case "$cmd" in
network)
    run=${1:?RUN}
    id=$(fleet_id "$run")
    lan=fleet-$id-lan
    add_ns "$run" "$lan"
    ip -n "$lan" link set lo up
    for bridge in public:198.18.0.1/24 private: internet:198.19.0.1/24; do
        name=${bridge%%:*} addr=${bridge#*:}
        ip -n "$lan" link add "$name" type bridge
        ip -n "$lan" link set "$name" up
        if [ -n "$addr" ]; then ip -n "$lan" addr add "$addr" dev "$name"; fi
    done
    # Routing between the hosts' public network and the internet side, inside the lan namespace only.
    ip netns exec "$lan" sysctl -q -w net.ipv4.ip_forward=1
    add_ns "$run" "fleet-$id-op"
    plug "$run" op internet "fleet-$id-op" eth0 198.19.0.10/24 198.19.0.1
    add_ns "$run" "fleet-$id-inet"
    plug "$run" inet internet "fleet-$id-inet" eth0 198.19.0.20/24 198.19.0.1
    ip -n "fleet-$id-inet" addr add 198.19.0.30/24 dev eth0
    # The hosts' nameserver (their gateway): it knows no names and says so at once.
    setsid ip netns exec "$lan" /usr/bin/python3 "$here/resolver.py" 198.18.0.1 198.19.0.1 \
        </dev/null >>"$run/resolver.log" 2>&1 &
    ;;
host)
    run=${1:?RUN} name=${2:?NAME} index=${3:?INDEX} private=${4:-}
    id=$(fleet_id "$run")
    ns=fleet-$id-host-$name
    add_ns "$run" "$ns"
    plug "$run" "h$index" public "$ns" eth0 "198.18.0.$((10 + index))/24" 198.18.0.1
    if [ "$private" = --private ]; then plug "$run" "p$index" private "$ns" eth1 "198.18.1.$((10 + index))/24"; fi
    dir=$run/hosts/$name
    mkdir -p "$dir"
    "$sandbox" create "$dir" --units run
    # The host's identity, as a provider's image would set it up: its name in /etc/hosts (as Debian's
    # installer and cloud-init write it) and the fleet's nameserver, its own host key (the machine's
    # keys are not the host's) and the operator's key for root.
    # shellcheck disable=SC2016 # the script runs inside the host, with its own $1
    "$sandbox" run "$dir" --netns "$ns" --hostname "$name" --bind "$run/operator:/mnt/fleet/operator" -- /bin/bash -c '
        set -euo pipefail
        printf "127.0.1.1\t%s\n" "$1" >>/etc/hosts
        rm -f /etc/resolv.conf
        echo "nameserver 198.18.0.1" >/etc/resolv.conf
        rm -f /etc/ssh/ssh_host_*
        ssh-keygen -q -t ed25519 -N "" -C "root@$1" -f /etc/ssh/ssh_host_ed25519_key
        install -d -m 0700 /root/.ssh
        install -m 0600 /mnt/fleet/operator/id_ed25519.pub /root/.ssh/authorized_keys
        cut -d" " -f1,2 /etc/ssh/ssh_host_ed25519_key.pub' fleet-host-setup "$name"
    ;;
destroy)
    run=${1:?RUN}
    case "$run" in */pf-fleet-*) id=${run##*/pf-fleet-} ;; *) die "destroy: $run is not a fleet directory" ;; esac
    if [ -f "$run/watchdog.pid" ]; then
        w=$(cat "$run/watchdog.pid")
        if [ "$w" != "$$" ] && [ "$w" != "${FLEET_WATCHDOG:-}" ]; then kill "$w" 2>/dev/null || true; fi
    fi
    namespaces=$( (cat "$run/namespaces" 2>/dev/null || true; ns_list "$id") | sort -u)
    # First the hosts' processes other than their unshare: the host's PID 1 dies, its unshare reaps it
    # and exits (an init left to this machine's init would linger as a zombie in the host's PID
    # namespace until that gets round to it).
    unshares=""
    for ns in $namespaces; do
        [ -e "/run/netns/$ns" ] || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            read -r comm <"/proc/$pid/comm" 2>/dev/null || continue
            if [ "$comm" = unshare ]; then unshares="$unshares $pid"; else kill -9 "$pid" 2>/dev/null || true; fi
        done
    done
    for _ in $(seq 20); do
        running=0
        for pid in $unshares; do
            state=Z
            read -r _ _ state _ <"/proc/$pid/stat" 2>/dev/null || true
            if [ "$state" != Z ]; then running=1; fi
        done
        [ $running = 1 ] || break
        sleep 0.1
    done
    # Every process in a fleet namespace (the hosts' PID 1, whose death ends its PID namespace, their
    # services, probes, the mirror) and every other process of the fleet (a deployment's executor).
    # Repeat until none is left (a dying process may still fork).
    for _ in $(seq 100); do
        pids=$(fleet_processes "$id" | cut -d' ' -f1 | tr '\n' ' ')
        for ns in $namespaces; do
            if [ -e "/run/netns/$ns" ]; then pids="$pids $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"; fi
        done
        [ -n "${pids// /}" ] || break
        # shellcheck disable=SC2086 # a list of PIDs
        kill -9 $pids 2>/dev/null || true
        sleep 0.1
    done
    for ns in $namespaces; do
        if [ -e "/run/netns/$ns" ]; then ip netns del "$ns" 2>/dev/null || true; fi
    done
    if mountpoint -q "$run"; then umount -R -l "$run"; fi
    if [ -d "$run" ]; then rm -rf --one-file-system "$run"; fi
    ;;
watch)
    run=${1:?RUN} owner=${2:?OWNER_PID}
    echo $$ >"$run/watchdog.pid"
    alive() { local s; s=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [ "$s" != Z ] && [ "$s" != X ]; }
    while [ -e "$run/id" ] && alive "$owner"; do sleep 0.5; done
    FLEET_WATCHDOG=$$ exec "$0" destroy "$run"
    ;;
leftovers)
    id=${1:?ID}
    ns_list "$id" | sed 's/^/namespace /'
    findmnt -rn -o TARGET | grep -F "pf-fleet-$id" | sed 's/^/mount /' || true
    fleet_processes "$id" | sed 's/^/process /'
    ;;
*) die "usage: fleet.sh network|host|destroy|watch|leftovers ..." ;;
esac
