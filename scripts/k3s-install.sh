#!/usr/bin/env bash
# Installs, configures or upgrades K3s on this host, as a server or an agent. Idempotent: with the
# same version and configuration it changes nothing and restarts nothing; a changed configuration is
# written and the service restarted; a new version is installed with the K3s install script.
# Refuses to downgrade, to skip a minor version, or to turn an agent into a server (or back).
# A server waits until its node is Ready again before returning, so servers change one at a time.
#
# Environment:
#   NODE_NAME              the node's Kubernetes name (config.yaml node-name)
#   NODE_ROLE              server | agent
#   TARGET_VERSION         exact K3s release, e.g. v1.35.6+k3s1
#   CONFIG_YAML            content of /etc/rancher/k3s/config.yaml (no token: it names the token file)
#   PSA_CONFIG_YAML        servers: Pod Security Admission configuration (kube-apiserver admission config)
#   AUDIT_POLICY_YAML      servers: API audit policy
#   INSTALL_SCRIPT_URL     the K3s install script (https://get.k3s.io or a mirror; file:// works)
#   RELEASE_MIRROR         optional: where the install script downloads releases (its GITHUB_URL)
#   READY_TIMEOUT_SECONDS  servers: how long to wait for the node to be Ready after a (re)start
# Standard input: the cluster token (first line). Written to the token file, never printed.
set -euo pipefail

die() { echo "k3s-install: $*" >&2; exit 1; }

for v in NODE_NAME NODE_ROLE TARGET_VERSION CONFIG_YAML INSTALL_SCRIPT_URL READY_TIMEOUT_SECONDS; do
    [ -n "${!v:-}" ] || die "$v is not set"
done
case "$NODE_ROLE" in
server)
    unit=k3s other_unit=k3s-agent
    if [ -z "${PSA_CONFIG_YAML:-}" ] || [ -z "${AUDIT_POLICY_YAML:-}" ]; then
        die "a server needs PSA_CONFIG_YAML and AUDIT_POLICY_YAML"
    fi
    ;;
agent) unit=k3s-agent other_unit=k3s ;;
*) die "NODE_ROLE must be server or agent, not '$NODE_ROLE'" ;;
esac

k3s_bin=/usr/local/bin/k3s
k3s_dir=/etc/rancher/k3s
token_file=$k3s_dir/cluster-token
server_dir=/var/lib/rancher/k3s/server

token=""
IFS= read -r token || true
[ -n "$token" ] || die "no cluster token on standard input"

# "v1.35.6+k3s1" -> "1 35 6 999999 1"; a release candidate (-rcN) sorts before its release.
version_fields() {
    [[ $1 =~ ^v([0-9]+)\.([0-9]+)\.([0-9]+)(-rc([0-9]+))?\+k3s([0-9]+)$ ]] || return 1
    echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]} ${BASH_REMATCH[5]:-999999} ${BASH_REMATCH[6]}"
}

# Prints -1, 0 or 1 as version fields $1 sort before, equal to or after $2.
compare_fields() {
    local -a a b
    read -ra a <<<"$1"
    read -ra b <<<"$2"
    for i in 0 1 2 3 4; do
        if ((a[i] < b[i])); then echo -1; return; fi
        if ((a[i] > b[i])); then echo 1; return; fi
    done
    echo 0
}

target_fields=$(version_fields "$TARGET_VERSION") ||
    die "TARGET_VERSION '$TARGET_VERSION' is not an exact K3s release such as v1.35.6+k3s1"

if [ -e "/etc/systemd/system/$other_unit.service" ]; then
    die "$NODE_NAME runs K3s as $([ "$NODE_ROLE" = server ] && echo an agent || echo a server) ($other_unit.service); changing a node's role in place is not supported: remove the node from the configuration, run pulumi up, then add it back with its new role"
fi

installed=""
if [ -x "$k3s_bin" ] && [ -e "/etc/systemd/system/$unit.service" ]; then
    installed=$("$k3s_bin" --version | awk 'NR == 1 { print $3 }') || die "cannot run $k3s_bin --version"
fi

action=unchanged
if [ -z "$installed" ]; then
    action=install
elif [ "$installed" != "$TARGET_VERSION" ]; then
    installed_fields=$(version_fields "$installed") || die "cannot read the installed K3s version '$installed'"
    read -r target_major target_minor _ <<<"$target_fields"
    read -r installed_major installed_minor _ <<<"$installed_fields"
    if [ "$(compare_fields "$target_fields" "$installed_fields")" = -1 ]; then
        die "refusing to downgrade K3s on $NODE_NAME from $installed to $TARGET_VERSION (Kubernetes does not support downgrades); nothing was changed"
    fi
    if [ "$target_major" != "$installed_major" ] || ((target_minor > installed_minor + 1)); then
        die "refusing to upgrade K3s on $NODE_NAME from $installed to $TARGET_VERSION: that skips minor version v$installed_major.$((installed_minor + 1)); upgrade one minor version at a time (set k3s.version to a v$installed_major.$((installed_minor + 1)) release, pulumi up, then go on); nothing was changed"
    fi
    action=upgrade
fi

changed=0

# ensure_dir PATH MODE: creates PATH or corrects its mode.
ensure_dir() {
    if [ ! -d "$1" ]; then
        mkdir -p "$1"
        chmod "$2" "$1"
        echo "created $1"
        changed=1
    elif [ "$(stat -c %a "$1")" != "${2#0}" ]; then
        chmod "$2" "$1"
        echo "set mode $2 on $1"
        changed=1
    fi
}

# install_file PATH MODE CONTENT: replaces PATH (atomically) when its content or mode differs.
install_file() {
    local path=$1 mode=$2 tmp
    tmp=$(mktemp "$path.XXXXXX")
    printf '%s' "$3" >"$tmp"
    if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c %a "$path")" = "${mode#0}" ]; then
        rm -f "$tmp"
        return
    fi
    chmod "$mode" "$tmp"
    mv -f "$tmp" "$path"
    echo "wrote $path"
    changed=1
}

ensure_dir "$k3s_dir" 0755
install_file "$token_file" 0600 "$token"
install_file "$k3s_dir/config.yaml" 0600 "$CONFIG_YAML"
if [ "$NODE_ROLE" = server ]; then
    ensure_dir "$server_dir" 0700
    ensure_dir "$server_dir/logs" 0700
    install_file "$server_dir/psa.yaml" 0600 "$PSA_CONFIG_YAML"
    install_file "$server_dir/audit.yaml" 0600 "$AUDIT_POLICY_YAML"
fi

run_installer() {
    local dir
    dir=$(mktemp -d)
    # shellcheck disable=SC2064 # expand now: dir is local
    trap "rm -rf '$dir'" EXIT
    curl -fsSL --retry 3 -o "$dir/install.sh" "$INSTALL_SCRIPT_URL" ||
        die "cannot download the K3s install script from $INSTALL_SCRIPT_URL"
    # A clean environment: the install script copies every K3S_* variable into the service's
    # environment file, and K3s reads K3S_* variables as options.
    local env=(PATH="$PATH" INSTALL_K3S_VERSION="$TARGET_VERSION" INSTALL_K3S_EXEC="$NODE_ROLE")
    if [ -n "${RELEASE_MIRROR:-}" ]; then env+=(GITHUB_URL="$RELEASE_MIRROR"); fi
    env -i "${env[@]}" sh "$dir/install.sh" ||
        die "the K3s install script ($INSTALL_SCRIPT_URL) failed installing $TARGET_VERSION on $NODE_NAME"
}

restarted=0
case "$action" in
install | upgrade)
    echo "${action/%e/}ing K3s $TARGET_VERSION (${NODE_ROLE})${installed:+, replacing $installed}"
    run_installer
    restarted=1
    ;;
*)
    if [ "$changed" = 1 ]; then
        systemctl restart "$unit"
        echo "restarted $unit: configuration changed"
        action=reconfigured
        restarted=1
    fi
    ;;
esac
if ! systemctl is-enabled --quiet "$unit"; then
    systemctl enable "$unit"
    echo "enabled $unit"
fi
if ! systemctl is-active --quiet "$unit"; then
    systemctl start "$unit"
    echo "started $unit: it was not running"
    restarted=1
fi

# A restarted server is Ready again, at the target version, before the next server changes.
if [ "$NODE_ROLE" = server ] && [ "$restarted" = 1 ]; then
    deadline=$((SECONDS + READY_TIMEOUT_SECONDS))
    until
        line=$("$k3s_bin" kubectl get node "$NODE_NAME" --no-headers --ignore-not-found 2>/dev/null || true)
        read -r _ status _ _ version _ <<<"$line"
        [[ $status == Ready* ]] && [ "$version" = "$TARGET_VERSION" ]
    do
        ((SECONDS < deadline)) ||
            die "node $NODE_NAME is not Ready at $TARGET_VERSION ${READY_TIMEOUT_SECONDS}s after starting $unit (last seen: ${line:-API not answering or node not registered}); see journalctl -u $unit"
        sleep 2
    done
    echo "node $NODE_NAME is Ready ($version)"
fi
echo "k3s $TARGET_VERSION on $NODE_NAME: $action"
