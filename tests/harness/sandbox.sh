#!/usr/bin/env bash
# Throwaway roots for running host scripts for real without touching this machine.
#
#   sandbox.sh create DIR            tmpfs at DIR holding the overlay's upper layer and stand-in state
#   sandbox.sh run DIR [--netns NS] [--hostname NAME] [--bind SRC:DST]... -- CMD [ARG...]
#                                    runs CMD as root in a private mount + PID namespace, chrooted into
#                                    an overlay of / whose writes land in DIR/upper; /proc/sys is
#                                    read-only; own network namespace (a fresh one, or NS if given);
#                                    each --bind mounts SRC read-only at DST, which must be below /mnt
#                                    (a tmpfs there keeps mount points out of the upper layer);
#                                    SRC:DST:rw mounts it writable (a directory several sandboxes share)
#   sandbox.sh destroy DIR           unmounts DIR (everything the runs wrote is gone)
#
# Runs of one DIR share the upper layer, so a second run sees what the first wrote: that is how the
# tests prove a script idempotent (DIR/upper is identical after run 1 and run 2).
# Stand-ins (tests/harness/standins/*) are bind-mounted over the real binaries of the same name;
# their state lives in DIR/state (mounted at /run/standin), outside the upper layer.
set -euo pipefail

die() { echo "sandbox.sh: $*" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[ "$(id -u)" = 0 ] || die "needs root (mount and network namespaces)"
cmd=${1:-}; shift || true
dir=${1:-}; shift || true
if [ -z "$cmd" ] || [ -z "$dir" ]; then die "usage: sandbox.sh create|run|destroy DIR ..."; fi

case "$cmd" in
create)
    mkdir -p "$dir"
    mountpoint -q "$dir" || mount -t tmpfs -o mode=0700 sandbox "$dir"
    mkdir -p "$dir/upper" "$dir/work" "$dir/root" "$dir/state"
    ;;
destroy)
    if mountpoint -q "$dir"; then umount -R -l "$dir"; fi
    rmdir "$dir" 2>/dev/null || true
    ;;
run)
    netns="" hostname="sandbox" binds=""
    while [ $# -gt 0 ]; do
        case "$1" in
        --netns) netns=$2; shift 2 ;;
        --hostname) hostname=$2; shift 2 ;;
        --bind) binds="$binds$2"$'\n'; shift 2 ;;
        --) shift; break ;;
        *) die "unknown option $1" ;;
        esac
    done
    [ $# -gt 0 ] || die "run: no command"
    mountpoint -q "$dir" || die "run: $dir is not a sandbox (sandbox.sh create $dir first)"
    if [ -n "$netns" ]; then
        enter=(ip netns exec "$netns" unshare --mount --pid --uts --ipc --fork)
    else
        enter=(unshare --mount --net --pid --uts --ipc --fork)
    fi
    exec "${enter[@]}" /bin/bash -c "$(cat <<'INNER'
set -euo pipefail
dir=$1 hostname=$2 standins=$3 binds=$4; shift 4
root=$dir/root
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/upper,workdir=$dir/work" "$root"
mount -t proc proc "$root/proc"
mount --bind "$root/proc/sys" "$root/proc/sys"
mount -o remount,bind,ro "$root/proc/sys"
mount --rbind /dev "$root/dev"
mount -t sysfs -o ro sysfs "$root/sys" 2>/dev/null || mount --rbind -o ro /sys "$root/sys"
mount -t tmpfs tmpfs "$root/tmp"
mount -t tmpfs tmpfs "$root/run"
mkdir -p "$root/run/standin"
mount --bind "$dir/state" "$root/run/standin"
# Stand-ins: first on PATH (a tmpfs over /usr/local/sbin, outside the upper layer) and bound over
# the real binaries of the same name, for scripts that call them by absolute path.
mount -t tmpfs -o mode=0755 standins "$root/usr/local/sbin"
for s in "$standins"/*; do
    [ -f "$s" ] || continue
    name=$(basename "$s")
    install -m 0755 "$s" "$root/usr/local/sbin/$name"
    for target in "/usr/bin/$name" "/bin/$name" "/usr/sbin/$name" "/sbin/$name"; do
        if [ -e "$root$target" ] && [ ! -L "$root$target" ]; then mount --bind "$s" "$root$target"; fi
    done
done
mount -t tmpfs -o mode=0755 mnt "$root/mnt"
while IFS= read -r spec; do
    [ -n "$spec" ] || continue
    case "${spec#*:}" in /mnt/*) ;; *) echo "sandbox.sh: --bind destination must be below /mnt: $spec" >&2; exit 2 ;; esac
    writable=0
    case "$spec" in *:rw) writable=1 spec=${spec%:rw} ;; esac
    src=${spec%%:*} dst=${spec#*:}
    mkdir -p "$root$dst"
    mount --bind "$src" "$root$dst"
    [ "$writable" = 1 ] || mount -o remount,bind,ro "$root$dst"
done <<<"$binds"
ip link set lo up 2>/dev/null || true
hostname "$hostname"
exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
INNER
)" sandbox-inner "$dir" "$hostname" "$here/standins" "$binds" "$@"
    ;;
*) die "unknown command $cmd" ;;
esac
