#!/usr/bin/env bash
# Applies the node's nftables ruleset (rendered by components/firewall.ts) and keeps it across
# reboots. The ruleset replaces only the table `inet private_faas`, in one transaction (`nft -f`):
# the tables of K3s, kube-proxy, flannel and fail2ban are not touched, and the host is never without
# its rules in between. Idempotent: when the installed ruleset is already this one and the table is
# loaded, nothing is written or reloaded.
#
# Environment:
#   NFT_RULESET   the complete ruleset (an `nft -f` file; not secret)
#
# Persistence is an own unit, private-faas-firewall.service, ordered before the network comes up.
# It does not go through nftables.service: Debian's /etc/nftables.conf begins with "flush ruleset",
# so reloading that service would wipe the rules of K3s and kube-proxy along with everything else.
set -euo pipefail

: "${NFT_RULESET:?NFT_RULESET is required}"

TABLE=(inet private_faas)
RULESET_FILE=/etc/private-faas/firewall.nft
UNIT=private-faas-firewall.service
UNIT_FILE=/etc/systemd/system/$UNIT

die() { echo "firewall: $*" >&2; exit 1; }

command -v nft >/dev/null || die "nft is not installed (the packages step installs nftables)"
nft_bin=$(command -v nft)

candidate=$(mktemp)
unit=$(mktemp)
trap 'rm -f "$candidate" "$unit"' EXIT
printf '%s' "$NFT_RULESET" >"$candidate"
err=$(nft --check --file "$candidate" 2>&1) || die "nft refuses the ruleset, nothing applied: $err"

# same_file PATH: whether PATH already holds exactly the content of FILE (argument 2).
same_file() { [ -f "$1" ] && cmp -s "$1" "$2"; }

changed=0
if ! same_file "$RULESET_FILE" "$candidate"; then
    install -d -m 0755 "$(dirname "$RULESET_FILE")"
    install -m 0644 "$candidate" "$RULESET_FILE"
    echo "firewall: wrote $RULESET_FILE"
    changed=1
fi

cat >"$unit" <<EOF
# private-faas: loads the host firewall (table ${TABLE[*]}) at boot, before any network is up.
[Unit]
Description=private-faas host firewall (nftables table ${TABLE[*]})
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target shutdown.target
After=nftables.service
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=$nft_bin -f $RULESET_FILE
ExecReload=$nft_bin -f $RULESET_FILE

[Install]
WantedBy=sysinit.target
EOF
if ! same_file "$UNIT_FILE" "$unit"; then
    install -m 0644 "$unit" "$UNIT_FILE"
    echo "firewall: wrote $UNIT_FILE"
    systemctl daemon-reload
fi
systemctl is-enabled --quiet "$UNIT" || systemctl enable "$UNIT"

if [ $changed = 1 ] || ! nft list table "${TABLE[@]}" >/dev/null 2>&1; then
    err=$(nft -f "$RULESET_FILE" 2>&1) || die "nft -f $RULESET_FILE failed: $err"
    echo "firewall: applied table ${TABLE[*]}"
else
    echo "firewall: table ${TABLE[*]} unchanged"
fi
# Marks the unit active; it loads the same file again, which replaces the table with itself.
systemctl is-active --quiet "$UNIT" || systemctl start "$UNIT"

if command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q '^Status: active'; then
    echo "firewall: WARNING: ufw is active too; a packet must pass both, and ufw's defaults block the cluster ports" >&2
fi
