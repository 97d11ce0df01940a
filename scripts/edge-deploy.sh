#!/usr/bin/env bash
# Installs the strangler-fig edge's nginx configuration on the edge host without ever taking a working
# edge down.
#
# Standard input: the complete nginx.conf to install (components/nginxConfig.ts renders it; not secret,
# but it can be larger than a command line may be).
# Environment (all optional):
#   EDGE_NGINX_CONF_PATH      where the configuration goes (default /etc/nginx/nginx.conf); the file it
#                             replaces is kept beside it as $EDGE_NGINX_CONF_PATH.previous
#   EDGE_NGINX_PID_FILE       the master's pid file, as the configuration's `pid` says (default /run/nginx.pid)
#   EDGE_RELOAD_WAIT_SECONDS  how long nginx may take to apply a reload (default 10)
#
# 1. Installs nginx and ca-certificates when missing (Debian/Ubuntu), without letting the package start
#    nginx with its default site (port 80 may still belong to the monolith).
# 2. Writes the new configuration beside the live file and tests it there (`nginx -t`, with the flags
#    of the Debian unit): a configuration nginx rejects never reaches the live path.
# 3. Keeps the live file as .previous, moves the new one in and reloads: SIGHUP to the master, which is
#    what `systemctl reload nginx` (the unit's ExecReload) sends. New workers start on the new
#    configuration while the old ones finish their requests: no connection is dropped.
# 4. Checks that the reload was taken (new workers appear). When nginx cannot apply a configuration
#    that passed the test (a port in use, ...) it keeps running the old one; the script then puts
#    .previous back, so the file on disk is again the one running, and fails.
# The same configuration again writes nothing and reloads nothing. nginx not running: it is started.
set -euo pipefail

say() { echo "edge-deploy: $*"; }
die() { echo "edge-deploy: $*" >&2; exit 1; }

conf=${EDGE_NGINX_CONF_PATH:-/etc/nginx/nginx.conf}
pid_file=${EDGE_NGINX_PID_FILE:-/run/nginx.pid}
reload_wait=${EDGE_RELOAD_WAIT_SECONDS:-10}
previous=$conf.previous
# How the Debian unit runs nginx (ExecStartPre, ExecStart, ExecReload): the file must not set these.
unit_flags=(-g 'daemon on; master_process on;')

install_packages() {
    local missing=() pkg
    for pkg in nginx ca-certificates; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    command -v apt-get >/dev/null || die "${missing[*]} missing and no apt-get: the edge host must run Debian or Ubuntu"
    say "installing ${missing[*]}"
    local no_start=0 status=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\n# private-faas edge-deploy: no service starts during this install\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 0755 /usr/sbin/policy-rc.d
        no_start=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
    if [ "$no_start" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    [ "$status" = 0 ] || die "apt-get could not install ${missing[*]}"
}

# PID of the running master, or nothing.
master_pid() {
    local pid
    [ -s "$pid_file" ] || return 0
    pid=$(<"$pid_file")
    if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

workers_of() { { pgrep -P "$1" || true; } | sort; }

start_nginx() {
    systemctl start nginx || die "nginx does not start (systemctl status nginx; journalctl -u nginx); it was not running before either"
}

install_packages
command -v nginx >/dev/null || die "nginx is installed but not on PATH"

candidate=$(mktemp "$conf.XXXXXX") # same directory: the move below is an atomic rename
trap 'rm -f "$candidate"' EXIT
cat >"$candidate"
[ -s "$candidate" ] || die "no configuration on standard input"
chmod 0644 "$candidate"

if ! systemctl is-enabled --quiet nginx; then
    say "enabling nginx at boot"
    systemctl enable --quiet nginx
fi
master=$(master_pid)

if [ -f "$conf" ] && cmp -s "$candidate" "$conf"; then
    if [ -n "$master" ]; then
        say "$conf unchanged; nginx keeps running"
    else
        say "$conf unchanged; starting nginx"
        start_nginx
    fi
    exit 0
fi

if ! test_output=$(nginx -t -q "${unit_flags[@]}" -c "$candidate" 2>&1); then
    printf '%s\n' "$test_output" >&2
    die "nginx rejects the new configuration (above, tested as $candidate); $conf is unchanged and the running edge keeps serving"
fi

if [ -f "$conf" ]; then cp -p "$conf" "$previous"; fi
mv -f "$candidate" "$conf"
trap - EXIT

if [ -z "$master" ]; then
    say "installed $conf; starting nginx"
    start_nginx
    exit 0
fi

before=$(workers_of "$master")
kill -HUP "$master"
deadline=$((SECONDS + reload_wait))
until comm -13 <(echo "$before") <(workers_of "$master") | grep -q .; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        if [ -f "$previous" ]; then cp -p "$previous" "$conf"; fi
        die "nginx did not apply the new configuration within ${reload_wait}s (its error log says why) and keeps serving the previous one, which is back in $conf"
    fi
    sleep 0.2
done
say "installed $conf (the one it replaced is $previous); nginx reloaded"
