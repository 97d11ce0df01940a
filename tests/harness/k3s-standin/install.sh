#!/bin/sh
# Stand-in for the K3s install script (get.k3s.io) in throwaway roots. Same interface and same
# effects on the host as the real one for what this project uses:
#   INSTALL_K3S_VERSION  required (the stand-in has no release channels)
#   INSTALL_K3S_EXEC     "server" or "agent" (or K3S_URL set: agent)
#   GITHUB_URL           release tree: GITHUB_URL/download/VERSION/{k3s,sha256sum-ARCH.txt}
# It downloads the hash and (unless the installed binary matches) the binary, verifies it, installs
# /usr/local/bin/k3s with the kubectl/crictl/ctr links, k3s-killall.sh and the uninstall script
# (k3s-uninstall.sh or k3s-agent-uninstall.sh), the systemd unit and its 0600 environment file
# (K3S_* variables), enables the unit and restarts it only when binary, unit or environment changed.
# The unit is the real script's (Type=notify, KillMode=process, TimeoutStartSec=0, ...) without the
# ExecStartPre lines that would load kernel modules into this machine's kernel. Where the systemctl
# stand-in runs units (fleet hosts), the unit's process is the stand-in `k3s server|agent` itself;
# where it only records calls, the unit also gets a hook (/run/standin/hooks/UNIT) that runs
# `k3s standin-service`, which models what K3s does on start and stop (see the k3s stand-in).
set -eu

info() { echo "[INFO]  $*"; }
fatal() { echo "[ERROR] $*" >&2; exit 1; }

[ -n "${INSTALL_K3S_VERSION:-}" ] || fatal "the stand-in installs pinned versions only: set INSTALL_K3S_VERSION"
GITHUB_URL=${GITHUB_URL:-https://github.com/k3s-io/k3s/releases}
exec_command=${INSTALL_K3S_EXEC:-}
exec_command=${exec_command%% *}
case "$exec_command" in
server | agent) command=$exec_command ;;
"" | -*) if [ -n "${K3S_URL:-}" ]; then command=agent; else command=server; fi ;;
*) fatal "the stand-in supports the server and agent commands only, not '$exec_command'" ;;
esac
if [ "$command" = server ]; then name=k3s; else name=k3s-agent; fi
bin_dir=/usr/local/bin
unit=/etc/systemd/system/$name.service
env_file=$unit.env
case $(uname -m) in
x86_64 | amd64) arch=amd64 suffix= ;;
aarch64 | arm64) arch=arm64 suffix=-arm64 ;;
*) fatal "unsupported architecture $(uname -m)" ;;
esac

hashes() { sha256sum "$bin_dir/k3s" "$unit" "$env_file" 2>&1 || true; }
before=$(hashes)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
release=$GITHUB_URL/download/$INSTALL_K3S_VERSION
info "Downloading hash $release/sha256sum-$arch.txt"
curl -sfL -o "$tmp/hash" "$release/sha256sum-$arch.txt" || fatal "Download failed"
expected=$(awk -v f="k3s$suffix" '$2 == f { print $1 }' "$tmp/hash")
[ -n "$expected" ] || fatal "no hash for k3s$suffix in $release/sha256sum-$arch.txt"
if [ -x "$bin_dir/k3s" ] && [ "$(sha256sum "$bin_dir/k3s" | awk '{ print $1 }')" = "$expected" ]; then
    info "Skipping binary downloaded, installed k3s matches hash"
else
    info "Downloading binary $release/k3s$suffix"
    curl -sfL -o "$tmp/k3s" "$release/k3s$suffix" || fatal "Download failed"
    [ "$(sha256sum "$tmp/k3s" | awk '{ print $1 }')" = "$expected" ] || fatal "Download sha256 does not match $expected"
    chmod 0755 "$tmp/k3s"
    mv -f "$tmp/k3s" "$bin_dir/k3s"
    info "Installing k3s to $bin_dir/k3s"
fi
for link in kubectl crictl ctr; do
    [ -e "$bin_dir/$link" ] || ln -s k3s "$bin_dir/$link"
done

cat >"$bin_dir/k3s-killall.sh" <<'EOF'
#!/bin/sh
# Stand-in k3s-killall.sh: stops every K3s unit (the stand-in runs no pods or containerd shims to kill).
for unit in /etc/systemd/system/k3s*.service; do
    [ -e "$unit" ] && systemctl stop "$(basename "$unit")"
done
exit 0
EOF
chmod 0755 "$bin_dir/k3s-killall.sh"

cat >"$bin_dir/$name-uninstall.sh" <<EOF
#!/bin/sh
# Stand-in $name-uninstall.sh: removes what the stand-in installer and K3s put on the host.
set -x
$bin_dir/k3s-killall.sh
$bin_dir/k3s standin-uninstalled
systemctl disable $name
systemctl daemon-reload
rm -f $unit $env_file /run/standin/hooks/$name.service $bin_dir/$name-uninstall.sh
if ls /etc/systemd/system/k3s*.service >/dev/null 2>&1; then
    echo 'Additional k3s services installed, skipping uninstall of k3s'
    exit 0
fi
for link in kubectl crictl ctr; do [ -L $bin_dir/\$link ] && rm -f $bin_dir/\$link; done
rm -rf /etc/rancher/k3s /run/k3s /var/lib/rancher/k3s /var/lib/kubelet
rm -f $bin_dir/k3s $bin_dir/k3s-killall.sh
EOF
chmod 0755 "$bin_dir/$name-uninstall.sh"

umask 077
env | grep -E '^(K3S|CONTAINERD)_' >"$env_file" || true
umask 022
cat >"$unit" <<EOF
[Unit]
Description=Lightweight Kubernetes (stand-in)
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-$env_file
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStart=$bin_dir/k3s $command
EOF
if [ "$(cat /run/standin/systemctl.mode 2>/dev/null)" != run ]; then
    mkdir -p /run/standin/hooks
    printf '#!/bin/sh\n[ -x %s/k3s ] || exit 0\nexec %s/k3s standin-service "$@"\n' "$bin_dir" "$bin_dir" >"/run/standin/hooks/$name.service"
    chmod 0755 "/run/standin/hooks/$name.service"
fi

info "systemd: Enabling $name unit"
systemctl enable "$name"
systemctl daemon-reload
if [ "$before" = "$(hashes)" ]; then
    info "No change detected so skipping service start"
    exit 0
fi
info "systemd: Starting $name"
systemctl restart "$name"
