#!/usr/bin/env bash
# Takes a node out of the cluster, through a server that stays (this host): drains it (its workloads
# are evicted and rescheduled on the other nodes; pods no controller would recreate stop the drain),
# then deletes its Node object. For a server, K3s removes its etcd member as the Node is deleted; this
# script first refuses when the remaining members would lose quorum. The node's K3s is uninstalled
# afterwards by its own install resource. Idempotent: a node that is not in the cluster is left alone.
#
# Environment:
#   NODE_NAME              the node to remove
#   NODE_ROLE              server | agent
#   VIA_NODE               the server this runs on (a server cannot remove itself)
#   DRAIN_TIMEOUT_SECONDS  how long the drain, and the deletion, may take
set -euo pipefail

die() { echo "k3s-node-remove: $*" >&2; exit 1; }

for v in NODE_NAME NODE_ROLE VIA_NODE DRAIN_TIMEOUT_SECONDS; do
    [ -n "${!v:-}" ] || die "$v is not set"
done
kubectl=(/usr/local/bin/k3s kubectl)

if [ "$VIA_NODE" = "$NODE_NAME" ]; then
    die "server $NODE_NAME cannot be removed through itself (it was the only server when it joined): add the servers that replace it in one pulumi up and remove it in a later one; nothing was changed"
fi
answer=$("${kubectl[@]}" get --raw /readyz 2>&1) || die "the Kubernetes API on $VIA_NODE does not answer ($answer); nothing was changed"

line=$("${kubectl[@]}" get node "$NODE_NAME" --no-headers --ignore-not-found)
if [ -z "$line" ]; then
    echo "node $NODE_NAME is not in the cluster: nothing to remove"
    exit 0
fi

if [ "$NODE_ROLE" = server ]; then
    members=$("${kubectl[@]}" get nodes -l node-role.kubernetes.io/etcd=true --no-headers)
    total=$(awk 'NF { n++ } END { print n + 0 }' <<<"$members")
    remaining=$((total - 1))
    quorum=$((remaining / 2 + 1))
    healthy=$(awk -v n="$NODE_NAME" '$1 != n && $2 ~ /^Ready/ { h++ } END { print h + 0 }' <<<"$members")
    unhealthy=$(awk -v n="$NODE_NAME" '$1 != n && $2 !~ /^Ready/ { printf "%s%s (%s)", sep, $1, $2; sep = ", " }' <<<"$members")
    if ((healthy < quorum)); then
        die "refusing to remove server $NODE_NAME: the $remaining remaining etcd member(s) need $quorum healthy for quorum, but only $healthy are Ready (not Ready: ${unhealthy:-none}); bring them back first; nothing was changed"
    fi
    echo "etcd: $total members; after removing $NODE_NAME, $healthy of $remaining Ready (quorum $quorum)"
fi

"${kubectl[@]}" drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="${DRAIN_TIMEOUT_SECONDS}s" ||
    die "draining $NODE_NAME failed (it stays cordoned, nothing was deleted); see the message above"
"${kubectl[@]}" delete node "$NODE_NAME" --timeout="${DRAIN_TIMEOUT_SECONDS}s"
left=$("${kubectl[@]}" get node "$NODE_NAME" --no-headers --ignore-not-found)
[ -z "$left" ] || die "node $NODE_NAME is still registered after its deletion: $left"
echo "node $NODE_NAME removed from the cluster"
