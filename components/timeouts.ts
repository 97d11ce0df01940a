/**
 * One setting, `openfaas.maxDurationSeconds`, drives every timeout between a client and a function, so
 * that no hop cuts a call the next hop would still allow:
 *
 *   function exec_timeout  ≤  gateway upstreamTimeout  <  gateway read/write timeout
 *   gateway upstreamTimeout  ≤  queue-worker ackWait   (an async call is not redelivered while it runs)
 *   gateway write timeout  ≤  Traefik entry-point read/write timeouts
 *   edge (nginx) route timeout: the max duration itself unless a route sets its own
 */

export interface TimeoutChain {
    /** Function watchdog exec_timeout / read_timeout / write_timeout, seconds. */
    functionExec: number;
    /** Gateway upstreamTimeout: how long the gateway waits for a function. */
    gatewayUpstream: number;
    /** Gateway readTimeout and writeTimeout (HTTP server), strictly above upstreamTimeout. */
    gatewayReadWrite: number;
    /** Queue-worker ackWait: NATS redelivers a message not acknowledged within it. */
    queueAckWait: number;
    /** Traefik entry point respondingTimeouts read/write. */
    traefikReadWrite: number;
    /** Traefik entry point idle timeout (keep-alive connections). */
    traefikIdle: number;
    /** Default proxy_read/send timeout of an edge route. */
    edgeRoute: number;
}

export function timeoutChain(maxDurationSeconds: number): TimeoutChain {
    const d = maxDurationSeconds;
    return {
        functionExec: d,
        gatewayUpstream: d + 1,
        gatewayReadWrite: d + 5,
        queueAckWait: d + 10,
        traefikReadWrite: d + 15,
        traefikIdle: Math.max(180, d + 15),
        edgeRoute: d,
    };
}

/** Seconds as a Go duration string ("305s"), the form the OpenFaaS chart and Traefik take. */
export function goDuration(seconds: number): string {
    return `${seconds}s`;
}
