#!/usr/bin/env bash
# Prints the admin kubeconfig K3s wrote on this server (/etc/rancher/k3s/k3s.yaml). The output is a
# secret: the command that runs this must not log it and must mark its stdout secret.
set -euo pipefail

kubeconfig=/etc/rancher/k3s/k3s.yaml
[ -s "$kubeconfig" ] || { echo "k3s-kubeconfig: $kubeconfig is missing or empty: is K3s running as a server here?" >&2; exit 1; }
cat "$kubeconfig"
