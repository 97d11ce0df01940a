#!/usr/bin/env bash
# Throwaway roots for running host scripts for real without touching this machine.
#
#   sandbox.sh create DIR [--units record|run]
#                                    tmpfs at DIR holding the overlay's upper layer and stand-in state;
#                                    --units says what the systemctl stand-in does with units: record
#                                    the calls only (default) or also run them (tests/harness/units.py)
#   sandbox.sh run DIR [--netns NS] [--hostname NAME] [--bind SRC:DST]... [--share SRC:DST]...
#                  [--system-dev] -- CMD [ARG...]
#                                    runs CMD as root in a private mount + PID namespace, chrooted into
#                                    an overlay of / whose writes land in DIR/upper; /proc/sys is
#                                    read-only; own network namespace (a fresh one, or NS if given);
#                                    each --bind mounts SRC read-only at DST, each --share read-write;
#                                    DST must be below /mnt (a tmpfs there keeps mount points out of the
#                                    upper layer). CMD is PID 1 of the namespace: when it ends, or when
#                                    this process is killed, every process of the run ends with it.
#                                    --system-dev: what a systemd host offers its journal, so that a
#                                    real systemd-journald can run inside: a /dev of its own (the
#                                    usual device nodes bound from this machine's, its own ptys, and
#                                    /dev/log leading to journald's socket in the run's /run; no
#                                    /dev/kmsg, so nothing reaches this machine's kernel log) and the
#                                    cgroup2 hierarchy read-only at /sys/fs/cgroup (journald reads its
#                                    cgroup root there).
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
    units=record
    if [ "${1:-}" = --units ]; then units=${2:-}; fi
    case "$units" in record | run) ;; *) die "create: --units takes record or run, not '$units'" ;; esac
    mkdir -p "$dir"
    mountpoint -q "$dir" || mount -t tmpfs -o mode=0700 sandbox "$dir"
    mkdir -p "$dir/upper" "$dir/work" "$dir/root" "$dir/state"
    echo "$units" >"$dir/state/systemctl.mode"
    ;;
destroy)
    if mountpoint -q "$dir"; then umount -R -l "$dir"; fi
    rmdir "$dir" 2>/dev/null || true
    ;;
run)
    netns="" hostname="sandbox" binds="" system_dev=0
    while [ $# -gt 0 ]; do
        case "$1" in
        --netns) netns=$2; shift 2 ;;
        --system-dev) system_dev=1; shift ;;
        --hostname) hostname=$2; shift 2 ;;
        --bind) binds="${binds}ro:$2"$'\n'; shift 2 ;;
        --share) binds="${binds}rw:$2"$'\n'; shift 2 ;;
        --) shift; break ;;
        *) die "unknown option $1" ;;
        esac
    done
    [ $# -gt 0 ] || die "run: no command"
    mountpoint -q "$dir" || die "run: $dir is not a sandbox (sandbox.sh create $dir first)"
    if [ -n "$netns" ]; then
        enter=(ip netns exec "$netns" unshare --mount --pid --uts --ipc --fork --kill-child)
    else
        enter=(unshare --mount --net --pid --uts --ipc --fork --kill-child)
    fi
    exec "${enter[@]}" /bin/bash -c "$(cat <<'INNER'
set -euo pipefail
dir=$1 hostname=$2 harness=$3 binds=$4 system_dev=$5; shift 5
root=$dir/root
mount --make-rprivate /
# The copies of other network namespaces' mount points would keep those namespaces alive as long as
# this run lives; nothing in here needs them.
if mountpoint -q /run/netns; then umount -R -l /run/netns; fi
mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/upper,workdir=$dir/work" "$root"
mount -t proc proc "$root/proc"
mount --bind "$root/proc/sys" "$root/proc/sys"
mount -o remount,bind,ro "$root/proc/sys"
mount -t sysfs -o ro sysfs "$root/sys" 2>/dev/null || mount --rbind -o ro /sys "$root/sys"
if [ "$system_dev" = 1 ]; then
    mount -t tmpfs -o mode=0755,nosuid dev "$root/dev"
    for node in null zero full random urandom tty; do
        touch "$root/dev/$node"
        mount --bind "/dev/$node" "$root/dev/$node"
    done
    mkdir "$root/dev/pts" "$root/dev/shm"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
    ln -s pts/ptmx "$root/dev/ptmx"
    mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
    ln -s /proc/self/fd "$root/dev/fd"
    for i in 0:stdin 1:stdout 2:stderr; do ln -s "/proc/self/fd/${i%%:*}" "$root/dev/${i#*:}"; done
    ln -s /run/systemd/journal/dev-log "$root/dev/log"
    mount -t cgroup2 -o ro,nosuid,nodev,noexec cgroup2 "$root/sys/fs/cgroup"
else
    mount --rbind /dev "$root/dev"
fi
mount -t tmpfs tmpfs "$root/tmp"
mount -t tmpfs tmpfs "$root/run"
mkdir -p "$root/run/standin"
mount --bind "$dir/state" "$root/run/standin"
# Stand-ins: first on PATH (a tmpfs over /usr/local/sbin, outside the upper layer) and bound over
# the real binaries of the same name, for scripts that call them by absolute path.
mount -t tmpfs -o mode=0755 standins "$root/usr/local/sbin"
for s in "$harness/standins"/*; do
    [ -f "$s" ] || continue
    name=$(basename "$s")
    install -m 0755 "$s" "$root/usr/local/sbin/$name"
    for target in "/usr/bin/$name" "/bin/$name" "/usr/sbin/$name" "/sbin/$name"; do
        if [ -e "$root$target" ] && [ ! -L "$root$target" ]; then mount --bind "$s" "$root$target"; fi
    done
done
# The systemctl stand-in's unit runner (run mode).
install -m 0755 "$harness/units.py" "$root/usr/local/sbin/standin-units"
mount -t tmpfs -o mode=0755 mnt "$root/mnt"
while IFS= read -r spec; do
    [ -n "$spec" ] || continue
    access=${spec%%:*} spec=${spec#*:}
    case "${spec#*:}" in /mnt/*) ;; *) echo "sandbox.sh: --bind/--share destination must be below /mnt: $spec" >&2; exit 2 ;; esac
    src=${spec%%:*} dst=${spec#*:}
    mkdir -p "$root$dst"
    mount --bind "$src" "$root$dst"
    if [ "$access" = ro ]; then mount -o remount,bind,ro "$root$dst"; fi
done <<<"$binds"
ip link set lo up 2>/dev/null || true
hostname "$hostname"
exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
INNER
)" sandbox-inner "$dir" "$hostname" "$here" "$binds" "$system_dev" "$@"
    ;;
*) die "unknown command $cmd" ;;
esac
