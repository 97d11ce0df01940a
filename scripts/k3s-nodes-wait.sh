#!/usr/bin/env bash
# Waits, on a K3s server, until the Kubernetes API answers and every given node is registered
# (WAIT_FOR=registered) or Ready (WAIT_FOR=ready), then prints their lines. Fails with the list of
# the nodes that are not, and why, when the timeout passes. Reads only; changes nothing.
#
# Environment:
#   NODE_NAMES        node names, separated by spaces
#   WAIT_FOR          registered | ready
#   EXPECTED_VERSION  optional, with ready: the version every node must run (e.g. after an upgrade)
#   TIMEOUT_SECONDS   how long to wait
#   POLL_SECONDS      optional: pause between two looks (default 5)
set -euo pipefail

die() { echo "k3s-nodes-wait: $*" >&2; exit 1; }

[ -n "${NODE_NAMES:-}" ] || die "NODE_NAMES is not set"
[ -n "${TIMEOUT_SECONDS:-}" ] || die "TIMEOUT_SECONDS is not set"
case "${WAIT_FOR:-}" in registered | ready) ;; *) die "WAIT_FOR must be registered or ready" ;; esac
expected=${EXPECTED_VERSION:-}
kubectl=(/usr/local/bin/k3s kubectl)
read -ra names <<<"$NODE_NAMES"

deadline=$((SECONDS + TIMEOUT_SECONDS))
while :; do
    waiting=()
    listing=""
    if ! answer=$("${kubectl[@]}" get --raw /readyz 2>&1); then
        waiting=("the Kubernetes API (${answer//$'\n'/ })")
    elif ! listing=$("${kubectl[@]}" get nodes --no-headers 2>&1); then
        waiting=("the node list (${listing//$'\n'/ })")
    else
        for name in "${names[@]}"; do
            line=$(awk -v n="$name" '$1 == n' <<<"$listing")
            read -r _ status _ _ version _ <<<"$line"
            if [ -z "$line" ]; then
                waiting+=("$name (not registered)")
            elif [ "$WAIT_FOR" = ready ] && [[ $status != Ready* ]]; then
                waiting+=("$name ($status)")
            elif [ "$WAIT_FOR" = ready ] && [ -n "$expected" ] && [ "$version" != "$expected" ]; then
                waiting+=("$name (runs $version, expected $expected)")
            fi
        done
    fi
    [ ${#waiting[@]} -gt 0 ] || break
    if ((SECONDS >= deadline)); then
        printf -v joined '%s, ' "${waiting[@]}"
        die "not ${WAIT_FOR} after ${TIMEOUT_SECONDS}s: ${joined%, }"
    fi
    sleep "${POLL_SECONDS:-5}"
done

for name in "${names[@]}"; do awk -v n="$name" '$1 == n' <<<"$listing"; done
