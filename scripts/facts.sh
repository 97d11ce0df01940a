#!/usr/bin/env bash
# Facts of a host, as one JSON document on stdout: OS, kernel, architecture, vCPUs, memory, disks.
# Read-only. Fails (exit 1, message on stderr) when the OS is not supported or the host is smaller
# than the configuration declares, before anything on the host is changed.
#
# Environment:
#   NODE_NAME                  node name, for messages
#   DECLARED_VCPU              vCPUs the configuration declares (private-faas:nodes[].vcpu)
#   DECLARED_MEMORY_GB         memory the configuration declares, GiB (private-faas:nodes[].memoryGb)
#   MEMORY_TOLERANCE_PERCENT   how far MemTotal may fall short of the declared memory. MemTotal is
#                              the RAM less what the kernel reserves for itself (2-4 %) and for a
#                              kdump crash kernel (Ubuntu reserves 320-512 MiB): an "8 GB" VPS shows
#                              7.2-7.8 GiB. Default 12: such a host passes, one a size smaller fails.
#
# Supported: Debian 12 and 13, Ubuntu 22.04 and 24.04.
set -euo pipefail

: "${NODE_NAME:?NODE_NAME is required}"
: "${DECLARED_VCPU:?DECLARED_VCPU is required}"
: "${DECLARED_MEMORY_GB:?DECLARED_MEMORY_GB is required}"
MEMORY_TOLERANCE_PERCENT=${MEMORY_TOLERANCE_PERCENT:-12}

SUPPORTED="debian 12, debian 13, ubuntu 22.04, ubuntu 24.04"

die() { echo "facts ($NODE_NAME): $*" >&2; exit 1; }

# A JSON string literal. Values here are single-line; backslash, quote and tab are escaped.
json_string() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\t'/\\t}
    printf '"%s"' "$s"
}

# One field of /etc/os-release, which is meant to be read by a shell.
os_field() {
    [ -r /etc/os-release ] || die "/etc/os-release is missing: cannot tell the OS (supported: $SUPPORTED)"
    # shellcheck disable=SC1091
    (. /etc/os-release && printf '%s' "${!1:-}")
}

os_id=$(os_field ID)
os_version=$(os_field VERSION_ID)
os_pretty=$(os_field PRETTY_NAME)
case "$os_id $os_version" in
"debian 12" | "debian 13" | "ubuntu 22.04" | "ubuntu 24.04") ;;
*) die "unsupported OS: ${os_pretty:-$os_id $os_version} (ID=$os_id VERSION_ID=${os_version:-none}); supported: $SUPPORTED" ;;
esac

vcpus=$(nproc)
if [ "$vcpus" -lt "$DECLARED_VCPU" ]; then
    die "the host has $vcpus vCPU(s); the configuration declares vcpu: $DECLARED_VCPU. Declare what the host has, or resize it."
fi

mem_kib=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
[ -n "$mem_kib" ] || die "no MemTotal in /proc/meminfo"
# Integer KiB throughout; the printed GiB figures are for people.
min_kib=$(awk -v gb="$DECLARED_MEMORY_GB" -v tol="$MEMORY_TOLERANCE_PERCENT" 'BEGIN { printf "%d", gb * 1048576 * (100 - tol) / 100 }')
gib() { awk -v kib="$1" 'BEGIN { printf "%.2f", kib / 1048576 }'; }
if [ "$mem_kib" -lt "$min_kib" ]; then
    die "the host has $(gib "$mem_kib") GiB of memory (MemTotal); the configuration declares memoryGb: $DECLARED_MEMORY_GB, which needs at least $(gib "$min_kib") GiB ($MEMORY_TOLERANCE_PERCENT % below $DECLARED_MEMORY_GB GiB for kernel reservations). Declare what the host has, or resize it."
fi

# Whole disks with a size (zram, loop, ram and optical devices left out). Transport is empty for
# virtio disks; the rotational flag is what the kernel was told, not what the disk is.
disks=()
while read -r name type size rota tran; do
    if [ "$type" != disk ] || [ "$size" -eq 0 ]; then continue; fi
    case "$name" in zram*) continue ;; esac
    rotational=false
    [ "$rota" = 1 ] && rotational=true
    transport=null
    [ -n "${tran:-}" ] && transport=$(json_string "$tran")
    disks+=("{\"name\":$(json_string "$name"),\"sizeBytes\":$size,\"rotational\":$rotational,\"transport\":$transport}")
done < <(lsblk --nodeps --bytes --noheadings --raw --exclude 1,7,11 --output NAME,TYPE,SIZE,ROTA,TRAN)

disk_list=$(IFS=,; printf '%s' "${disks[*]}")
printf '{"os":{"id":%s,"versionId":%s,"prettyName":%s},"kernel":%s,"arch":%s,"vcpus":%d,"memoryKiB":%d,"disks":[%s]}\n' \
    "$(json_string "$os_id")" "$(json_string "$os_version")" "$(json_string "$os_pretty")" \
    "$(json_string "$(uname -r)")" "$(json_string "$(uname -m)")" "$vcpus" "$mem_kib" "$disk_list"
