#!/usr/bin/env bash
# Hardening of a node, idempotent (a re-run writes nothing and reloads nothing):
#   1. automatic security updates: apt's daily timers with unattended-upgrades, which installs from
#      the security archive only (the distribution's 50unattended-upgrades). No automatic reboot:
#      rebooting K3s nodes needs coordination (drain, one at a time), not a timer.
#   2. SSH: public keys only (no password, no keyboard-interactive), checked with `sshd -t` and
#      `sshd -T` before sshd reloads; reloaded only when the drop-in changed.
#   3. fail2ban jail for sshd reading the systemd journal: Debian 12/13 have no rsyslog and no
#      /var/log/auth.log, where fail2ban's default (file) backend looks; Ubuntu has both.
#   4. the kernel settings kubelet checks with protect-kernel-defaults, in
#      /etc/sysctl.d/90-kubelet.conf, applied now. Where /proc/sys is read-only (some container
#      VPS), the file is written, a loud warning printed, and the script goes on: K3s will refuse to
#      start until the values apply.
#
# Environment:
#   SSH_PORT   port sshd listens on (fail2ban's ban covers it); default 22
set -euo pipefail

SSH_PORT=${SSH_PORT:-22}

die() { echo "harden: $*" >&2; exit 1; }

for tool in sshd fail2ban-client unattended-upgrade apt-config sysctl; do
    command -v "$tool" >/dev/null || die "$tool is not installed (the packages step installs it)"
done

# put_file PATH MODE: writes stdin to PATH (root-owned) unless it already holds exactly that.
# Returns 0 when it wrote, 1 when the file was already right.
put_file() {
    local content
    content=$(cat; printf x)
    content=${content%x}
    if [ -f "$1" ] && [ "$(stat -c %a "$1")" = "$2" ] && [ "$(cat "$1"; printf x)" = "${content}x" ]; then return 1; fi
    install -d -m 0755 "$(dirname "$1")"
    printf '%s' "$content" >"$1.private-faas-new"
    chmod "$2" "$1.private-faas-new"
    mv -f "$1.private-faas-new" "$1"
    echo "harden: wrote $1"
    changed=1
}
changed=0

# ensure_unit UNIT: enabled and running (no-op when it already is).
ensure_unit() {
    systemctl is-enabled --quiet "$1" || systemctl enable "$1"
    systemctl is-active --quiet "$1" || systemctl start "$1"
}

# --- 1. automatic security updates -----------------------------------------------------------------
put_file /etc/apt/apt.conf.d/21private-faas-auto-upgrades 644 <<'EOF' || true
// private-faas: refresh the package lists and run unattended-upgrades every day. Which packages it
// installs is 50unattended-upgrades' choice: the distribution's security archive.
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
EOF
for key in APT::Periodic::Update-Package-Lists APT::Periodic::Unattended-Upgrade; do
    value=$(apt-config dump "$key" | awk -v k="$key" '$1 == k { gsub(/[";]/, "", $2); print $2 }')
    [ "$value" = 1 ] || die "apt-config says $key is \"$value\", not \"1\": a file in /etc/apt/apt.conf.d that sorts after 21private-faas-auto-upgrades overrides it"
done
ensure_unit apt-daily.timer
ensure_unit apt-daily-upgrade.timer

# --- 2. SSH: keys only ---------------------------------------------------------------------------
# sshd keeps the first value it reads for each keyword, and the Include of sshd_config.d comes first
# in Debian's and Ubuntu's sshd_config: this file sorts before the others (cloud-init writes
# 50-cloud-init.conf, sometimes with "PasswordAuthentication yes").
sshd_dropin=/etc/ssh/sshd_config.d/01-private-faas.conf
backup=$(mktemp)
trap 'rm -f "$backup"' EXIT
had_dropin=0
if [ -f "$sshd_dropin" ]; then cp -p "$sshd_dropin" "$backup" && had_dropin=1; fi
# sshd -t/-T refuse to run without their privilege separation directory, which exists only while
# ssh.service runs (a socket-activated sshd on Ubuntu may not be running).
[ -d /run/sshd ] || install -d -m 0755 /run/sshd
if put_file "$sshd_dropin" 644 <<'EOF'; then
# private-faas: public-key authentication only.
PubkeyAuthentication yes
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
PermitRootLogin prohibit-password
EOF
    restore() {
        if [ $had_dropin = 1 ]; then cp -p "$backup" "$sshd_dropin"; else rm -f "$sshd_dropin"; fi
    }
    if ! err=$(sshd -t 2>&1); then
        restore
        die "sshd rejects the configuration with $sshd_dropin (restored the previous state): $err"
    fi
    effective=$(sshd -T 2>/dev/null | awk '$1 ~ /^(passwordauthentication|kbdinteractiveauthentication|authenticationmethods)$/ { print $1 "=" $2 }' | sort | tr '\n' ' ')
    if [ "$effective" != "authenticationmethods=publickey kbdinteractiveauthentication=no passwordauthentication=no " ]; then
        restore
        die "sshd would still run with: $effective(restored the previous state). Something in /etc/ssh/sshd_config sets these before its Include of sshd_config.d; remove it there."
    fi
    systemctl try-reload-or-restart ssh.service
    echo "harden: sshd reloaded: public keys only"
fi

# --- 3. fail2ban on sshd ---------------------------------------------------------------------------
# OpenSSH 9.8+ (Debian 13) logs failed logins as "sshd-session": the filter's _daemon and the
# journal match cover both names.
if put_file /etc/fail2ban/jail.d/private-faas-sshd.local 644 <<EOF; then
# private-faas: ban SSH brute force; sshd's messages come from the systemd journal.
[sshd]
enabled = true
port = $SSH_PORT
backend = systemd
filter = sshd[_daemon="sshd(?:-session)?"]
journalmatch = _SYSTEMD_UNIT=ssh.service + _SYSTEMD_UNIT=sshd.service + _COMM=sshd + _COMM=sshd-session
banaction = nftables-multiport
maxretry = 5
findtime = 10m
bantime = 1h
EOF
    err=$(fail2ban-client -t 2>&1) || die "fail2ban rejects its configuration: $err"
    systemctl enable fail2ban.service
    systemctl restart fail2ban.service
    echo "harden: fail2ban restarted with the sshd jail"
fi
ensure_unit fail2ban.service

# --- 4. kernel settings for protect-kernel-defaults ------------------------------------------------
# The six values kubelet compares (kubernetes pkg/kubelet/cm, setupKernelTunables); the CIS guide for
# K3s lists the first four, the keys quotas are the kernel's defaults on current kernels.
sysctls=(
    vm.panic_on_oom=0
    vm.overcommit_memory=1
    kernel.panic=10
    kernel.panic_on_oops=1
    kernel.keys.root_maxkeys=1000000
    kernel.keys.root_maxbytes=25000000
)
put_file /etc/sysctl.d/90-kubelet.conf 644 < <(
    echo "# private-faas: kernel settings kubelet checks with protect-kernel-defaults (K3s CIS hardening guide)."
    printf '%s\n' "${sysctls[@]}"
) || true
not_applied=()
for setting in "${sysctls[@]}"; do
    key=${setting%%=*} want=${setting#*=}
    [ "$(sysctl -n "$key")" = "$want" ] && continue
    if err=$(sysctl -q -w "$setting" 2>&1); then
        echo "harden: applied $setting"
        changed=1
    elif findmnt --noheadings --output OPTIONS --target /proc/sys | tr , '\n' | grep -qx ro; then
        not_applied+=("$setting")
    else
        die "cannot set $setting: $err"
    fi
done
if [ ${#not_applied[@]} -gt 0 ]; then
    {
        echo "WARNING: ==========================================================================="
        echo "WARNING: /proc/sys is read-only here (a container VPS?). Written to"
        echo "WARNING: /etc/sysctl.d/90-kubelet.conf but NOT applied: ${not_applied[*]}"
        echo "WARNING: K3s runs with protect-kernel-defaults and will refuse to start until these"
        echo "WARNING: values apply (reboot if the host allows it, or move to a full virtual machine)."
        echo "WARNING: ==========================================================================="
    } >&2
fi
[ $changed = 1 ] || echo "harden: nothing to change"
