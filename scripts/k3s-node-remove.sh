#!/usr/bin/env bash
# Takes a node out of the cluster, through a server that stays (this host): drains it (its workloads
# are evicted and rescheduled on the other nodes; pods no controller would recreate stop the drain),
# then deletes its Node object. For a server, K3s removes its etcd member as the Node is deleted; this
# script first refuses when the remaining members would lose quorum. The node's K3s is uninstalled
# afterwards by its own install resource. Idempotent: a node that is not in the cluster is left alone.
#
# In the same `pulumi up`, the other nodes' firewalls were already updated without the leaving node
# (Pulumi deletes removed resources last). Its kubelet must still reach the API to let its pods go, so
# while this runs the leaving node's addresses are admitted again in this host's firewall (the
# private_faas nodes set), which is restored exactly when it ends, whatever the outcome.
#
# Environment:
#   NODE_NAME              the node to remove
#   NODE_ROLE              server | agent
#   NODE_ADDRESSES         the node's IP addresses (public and private), space-separated; may be empty
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

# Re-admit the leaving node in this host's firewall for the duration (see the header). The sets merge
# neighbouring addresses into ranges, so one address cannot be deleted again on its own: each set
# touched is saved first and restored exactly when this script ends.
saved_sets=()
restore_sets() {
    local saved status=$?
    for saved in "${saved_sets[@]}"; do
        if ! printf 'flush set inet private_faas %s\n%s\n' "${saved%%$'\n'*}" "${saved#*$'\n'}" | nft -f -; then
            echo "k3s-node-remove: could not restore the firewall set ${saved%%$'\n'*}: $NODE_NAME stays admitted here until the firewall step runs again" >&2
            status=1
        fi
    done
    exit "$status"
}
trap restore_sets EXIT
if command -v nft >/dev/null && nft list table inet private_faas >/dev/null 2>&1; then
    for address in ${NODE_ADDRESSES:-}; do
        case "$address" in *:*) set=nodes_v6 ;; *) set=nodes_v4 ;; esac
        listing=$(nft list set inet private_faas "$set" 2>/dev/null) || continue
        nft get element inet private_faas "$set" "{ $address }" >/dev/null 2>&1 && continue
        case " ${saved_sets[*]%%$'\n'*} " in *" $set "*) ;; *) saved_sets+=("$set"$'\n'"$listing") ;; esac
        nft add element inet private_faas "$set" "{ $address }"
        echo "firewall: $NODE_NAME ($address) admitted again while it leaves"
    done
fi

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
