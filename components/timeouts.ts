/**
 * One setting, `openfaas.maxDurationSeconds`, drives every timeout between a client and a function, so
 * that no hop cuts a call the next hop would still allow, and each hop gives up a little after the
 * one behind it (so the caller gets that hop's error rather than a cut connection):
 *
 *   function exec_timeout  <  function read/write_timeout  ≤  gateway upstreamTimeout  <  gateway read/write
 *   gateway read/write  <  Traefik entry-point read/write  (Traefik's default read timeout is 60 s)
 *   CE queue-worker ackWait  >  function write_timeout: the CE queue-worker (NATS Streaming) calls the
 *     function directly, has no timeout of its own, and acknowledges only when the call returns, so a
 *     shorter ackWait redelivers a message that is still running (the function runs twice).
 *   Pro (JetStream) queue-workers are bounded by gateway upstreamTimeout, which the chart passes them as
 *     `upstream_timeout`; their ackWait is a heartbeat the chart says not to change (values.yaml of
 *     chart 15.0.x, and the queue-worker chart's README: "Only gateway.upstreamTimeout sets the maximum
 *     function duration"), so the chain does not set it for Pro.
 *   edge (nginx) route timeout: the max duration itself unless a route sets its own
 */

export interface TimeoutChain {
    /** Function watchdog exec_timeout, seconds: the longest a handler may run. */
    functionExec: number;
    /** Function watchdog read_timeout / write_timeout: above exec_timeout, so the watchdog answers its own timeout. */
    functionReadWrite: number;
    /** Gateway upstreamTimeout: how long the gateway (and a Pro queue-worker) waits for a function. */
    gatewayUpstream: number;
    /** Gateway readTimeout and writeTimeout (HTTP server), strictly above upstreamTimeout. */
    gatewayReadWrite: number;
    /** CE queue-worker ackWait: NATS Streaming redelivers a message not acknowledged within it. */
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
        functionReadWrite: d + 1,
        gatewayUpstream: d + 2,
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

const GO_DURATION_UNITS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };

/**
 * Seconds of a Go duration such as "1m05s", "300s", "1h" or "1.5s" (the units OpenFaaS users write),
 * or undefined when VALUE is not one.
 */
export function parseGoDuration(value: string): number | undefined {
    if (!/^([0-9]+(\.[0-9]+)?(h|ms|m|s))+$/.test(value)) return undefined;
    let total = 0;
    for (const m of value.matchAll(/([0-9]+(?:\.[0-9]+)?)(h|ms|m|s)/g)) total += Number(m[1]) * GO_DURATION_UNITS[m[2]];
    return total;
}
