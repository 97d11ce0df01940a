#!/usr/bin/env bash
# Uninstalls K3s from this host with the uninstall script its installer wrote (k3s-uninstall.sh for a
# server, k3s-agent-uninstall.sh for an agent): stops K3s and its pods, removes the binary, the
# services, /etc/rancher/k3s (configuration and token) and the data directory. Runs after the node was
# drained and deleted through a server. Idempotent: on a host without K3s it does nothing.
set -euo pipefail

ran=0
for script in /usr/local/bin/k3s-agent-uninstall.sh /usr/local/bin/k3s-uninstall.sh; do
    if [ -x "$script" ]; then
        echo "running $script"
        "$script"
        ran=1
    fi
done
if [ "$ran" = 0 ]; then
    echo "K3s is not installed on this host: nothing to uninstall"
fi
