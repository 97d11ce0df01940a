#!/usr/bin/env bash
# Deploys or removes one OpenFaaS function through the gateway's REST API (/system/functions): the way
# to manage functions of OpenFaaS Community Edition, which has no Function CRD. Runs on a K3s server
# and reaches the gateway through `kubectl port-forward` to svc/gateway; the tunnel ends inside the
# gateway pod, so the NetworkPolicies of the openfaas namespace need no opening for it.
#
# Idempotent: `apply` reads the function first and leaves it alone when it carries the annotation
# private-faas/spec-sha256 with SPEC_SHA256 (nothing is redeployed, nothing restarts); `delete` of an
# absent function succeeds.
#
# Environment:
#   ACTION                 apply | delete
#   FUNCTION_NAME          the function's name
#   FUNCTION_NAMESPACE     its namespace (openfaas-fn)
#   FUNCTION_JSON          apply: the FunctionDeployment body, with the spec hash among its annotations
#   SPEC_SHA256            apply: that hash
#   GATEWAY_NAMESPACE      namespace of the gateway Service (openfaas)
#   GATEWAY_USER           the gateway's basic-auth user (admin)
#   KUBECTL                command that runs kubectl against this cluster (default: "k3s kubectl")
#   PORT_FORWARD_TIMEOUT   seconds to wait for the tunnel to the gateway (default: 120)
# Standard input: the gateway's basic-auth password (first line).
set -euo pipefail

die() {
    echo "openfaas-function.sh: $*" >&2
    exit 1
}

for v in ACTION FUNCTION_NAME FUNCTION_NAMESPACE GATEWAY_NAMESPACE GATEWAY_USER; do
    [ -n "${!v:-}" ] || die "$v is not set"
done
case "$ACTION" in
apply)
    if [ -z "${FUNCTION_JSON:-}" ] || [ -z "${SPEC_SHA256:-}" ]; then die "ACTION=apply needs FUNCTION_JSON and SPEC_SHA256"; fi
    ;;
delete) ;;
*) die "ACTION must be apply or delete, got '$ACTION'" ;;
esac
[[ "$FUNCTION_NAME" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "FUNCTION_NAME '$FUNCTION_NAME' is not a DNS-1123 label"
command -v curl >/dev/null || die "curl is not installed on this host"

password=""
IFS= read -r password || true
[ -n "$password" ] || die "no gateway password on standard input"
read -r -a kubectl <<<"${KUBECTL:-k3s kubectl}"
timeout=${PORT_FORWARD_TIMEOUT:-120}

work=$(mktemp -d)
tunnel_pid=""
cleanup() {
    if [ -n "$tunnel_pid" ]; then
        kill "$tunnel_pid" 2>/dev/null || true
        wait "$tunnel_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# curl reads the credentials from a file (mode 600 in a private directory), never from its command
# line, which any user of the host could read in the process list.
umask 077
escaped=${password//\\/\\\\}
escaped=${escaped//\"/\\\"}
printf 'user = "%s:%s"\n' "$GATEWAY_USER" "$escaped" >"$work/curlrc"

# Opens the tunnel; retried until TIMEOUT, since right after an install the gateway may not be up yet.
gateway=""
deadline=$((SECONDS + timeout))
while [ -z "$gateway" ]; do
    : >"$work/tunnel.out"
    "${kubectl[@]}" --namespace "$GATEWAY_NAMESPACE" port-forward svc/gateway :8080 >"$work/tunnel.out" 2>"$work/tunnel.err" &
    tunnel_pid=$!
    while kill -0 "$tunnel_pid" 2>/dev/null; do
        port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9][0-9]*\) -> 8080$/\1/p' "$work/tunnel.out" | head -n 1)
        if [ -n "$port" ]; then
            gateway="http://127.0.0.1:$port"
            break
        fi
        [ "$SECONDS" -lt "$deadline" ] || break
        sleep 0.2
    done
    [ -n "$gateway" ] && break
    kill "$tunnel_pid" 2>/dev/null || true
    wait "$tunnel_pid" 2>/dev/null || true
    tunnel_pid=""
    # Keep kubectl's last complaint: an attempt cut short by the deadline has not written one yet.
    if [ -s "$work/tunnel.err" ]; then cp "$work/tunnel.err" "$work/tunnel.last-error"; fi
    [ "$SECONDS" -lt "$deadline" ] || die "no tunnel to svc/gateway in namespace $GATEWAY_NAMESPACE within ${timeout}s: $(tr '\n' ' ' <"$work/tunnel.last-error" 2>/dev/null || echo "kubectl port-forward printed no error")"
    sleep 2
done

# request METHOD PATH [BODY_FILE]: prints the HTTP status; the response body lands in $work/body.
request() {
    local args=(--silent --show-error --config "$work/curlrc" --output "$work/body" --write-out '%{http_code}' --request "$1" "$gateway$2")
    if [ $# -ge 3 ]; then
        args+=(--header "Content-Type: application/json" --data-binary "@$3")
    fi
    curl "${args[@]}"
}

answer() {
    head -c 400 "$work/body" | tr '\n' ' '
}

case "$ACTION" in
apply)
    status=$(request GET "/system/function/$FUNCTION_NAME?namespace=$FUNCTION_NAMESPACE")
    case "$status" in
    200)
        if grep -qF "$SPEC_SHA256" "$work/body"; then
            echo "function $FUNCTION_NAME: unchanged"
            exit 0
        fi
        method=PUT
        done_word=updated
        ;;
    404)
        method=POST
        done_word=created
        ;;
    *) die "GET /system/function/$FUNCTION_NAME answered HTTP $status: $(answer)" ;;
    esac
    printf '%s' "$FUNCTION_JSON" >"$work/function.json"
    status=$(request "$method" /system/functions "$work/function.json")
    case "$status" in
    2??) echo "function $FUNCTION_NAME: $done_word" ;;
    *) die "$method /system/functions for $FUNCTION_NAME answered HTTP $status: $(answer)" ;;
    esac
    ;;
delete)
    printf '{"functionName":"%s","namespace":"%s"}' "$FUNCTION_NAME" "$FUNCTION_NAMESPACE" >"$work/delete.json"
    status=$(request DELETE /system/functions "$work/delete.json")
    case "$status" in
    2??) echo "function $FUNCTION_NAME: deleted" ;;
    404) echo "function $FUNCTION_NAME: already absent" ;;
    *) die "DELETE /system/functions for $FUNCTION_NAME answered HTTP $status: $(answer)" ;;
    esac
    ;;
esac
