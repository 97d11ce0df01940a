#!/usr/bin/env bash
# Disk check before K3s: etcd's fdatasync test (fio, 2300-byte sequential writes each followed by
# fdatasync, as etcd writes its WAL) on the filesystem that holds the K3s data directory. Prints one
# JSON document with the measured p99 and fails when it is above the limit.
#
# Environment:
#   NODE_NAME      node name, for messages
#   MAX_P99_MS     limit of the fdatasync p99, milliseconds
#   LIMIT_KEY      configuration key of the limit, for the message
#   K3S_DATA_DIR   K3s data directory (default /var/lib/rancher/k3s); before the install it does not
#                  exist yet and its nearest existing parent is measured (the same filesystem
#                  unless a volume is mounted there later)
#
# The test file lives in a temporary directory that is removed on exit, whatever happens. The
# rotational flag of the disk is reported but not used: virtio disks say "rotational" whatever is
# underneath, so only the measurement decides.
set -euo pipefail

: "${NODE_NAME:?NODE_NAME is required}"
: "${MAX_P99_MS:?MAX_P99_MS is required}"
LIMIT_KEY=${LIMIT_KEY:-the limit}
K3S_DATA_DIR=${K3S_DATA_DIR:-/var/lib/rancher/k3s}

die() { echo "disk check ($NODE_NAME): $*" >&2; exit 1; }

for tool in fio jq findmnt lsblk; do
    command -v "$tool" >/dev/null || die "$tool is not installed (the packages step installs it)"
done

dir=$K3S_DATA_DIR
while [ ! -d "$dir" ]; do dir=$(dirname "$dir"); done

workdir=$(mktemp -d "$dir/.private-faas-disk-check.XXXXXX")
trap 'rm -rf "$workdir"' EXIT

fio --name=etcd-check --directory="$workdir" --rw=write --ioengine=sync --fdatasync=1 --size=22m --bs=2300 \
    --percentile_list=99 --output-format=json --output="$workdir/result.json" >/dev/null ||
    die "fio failed in $workdir"
read -r p99_ns syncs < <(jq -r '.jobs[0].sync.lat_ns | "\(.percentile["99.000000"] // "none") \(.N // 0)"' "$workdir/result.json")
[ "$p99_ns" != none ] || die "fio reported no fdatasync latencies (is $dir on a filesystem that ignores fdatasync?)"

read -r source fstype < <(findmnt --noheadings --output SOURCE,FSTYPE --target "$dir")
# The disk under the filesystem (through partitions, LVM, RAID), when it is a block device at all.
rotational=null
if [ -b "$source" ]; then
    case "$(lsblk --noheadings --inverse --nodeps --output ROTA "$source" 2>/dev/null | tr -d ' ' | tail -n 1)" in
    1) rotational=true ;;
    0) rotational=false ;;
    esac
fi

# Milliseconds to the nanosecond fio measures in: a tmpfs or a cache that ignores fdatasync is fast.
p99_ms=$(awk -v ns="$p99_ns" 'BEGIN { printf "%.6f", ns / 1e6 }')
if awk -v ns="$p99_ns" -v limit="$MAX_P99_MS" 'BEGIN { exit !(ns > limit * 1e6) }'; then
    die "fdatasync p99 is $p99_ms ms on $dir ($source, $fstype), above the limit of $MAX_P99_MS ms ($LIMIT_KEY). etcd needs its WAL fsync well below 10 ms; this disk is too slow for it (or shared with a noisy neighbour): move the node to faster storage, or raise the limit knowingly."
fi

jq -cn --arg dataDir "$K3S_DATA_DIR" --arg testedDir "$dir" --arg source "$source" --arg fstype "$fstype" \
    --argjson rotational "$rotational" --argjson p99 "$p99_ms" --argjson limit "$MAX_P99_MS" --argjson syncs "$syncs" \
    '{dataDir: $dataDir, testedDir: $testedDir, filesystem: {source: $source, fstype: $fstype}, rotational: $rotational,
      fsyncP99Ms: $p99, limitMs: $limit, fdatasyncs: $syncs}'
