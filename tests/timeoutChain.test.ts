/**
 * The whole timeout chain, read back from the rendered values (chart values, Traefik values, function
 * environment) rather than from timeoutChain itself, for several maximum durations.
 */
import { functionDeployment, functionResourceSpec } from "../components/functionSpec";
import { dedicatedQueueValues, openfaasValues } from "../components/openfaasValues";
import { parseGoDuration, timeoutChain } from "../components/timeouts";
import { traefikValues } from "../components/traefikValues";
import { proConfig, stackConfig } from "./helpers/stackConfig";

function seconds(value: string | undefined): number {
    const s = value === undefined ? undefined : parseGoDuration(value);
    if (s === undefined) throw new Error(`not a Go duration: ${value}`);
    return s;
}

describe.each([10, 60, 300, 900, 3600])("maxDurationSeconds %i", (max) => {
    const fn = { image: "ghcr.io/example/fn:1", labels: {}, annotations: {}, environment: {} };
    const ce = stackConfig({ openfaas: { maxDurationSeconds: max, functions: { f: fn } } });
    const pro = proConfig({ maxDurationSeconds: max, functions: { f: fn }, queue: { dedicated: [{ name: "slow", parallelism: 2 }] } });
    const chain = timeoutChain(max);
    const ceValues = openfaasValues(ce.openfaas, chain);
    const proValues = openfaasValues(pro.openfaas, chain);
    const traefik = traefikValues(chain, ["a1"]);
    const ceEnv = functionDeployment("f", "openfaas-fn", ce.openfaas.functions.f, chain).body.envVars;
    const proEnv = functionResourceSpec("f", pro.openfaas.functions.f, chain).environment;

    test("function exec_timeout is the max duration; the watchdog's read/write are above it", () => {
        for (const env of [ceEnv, proEnv]) {
            expect(seconds(env.exec_timeout)).toBe(max);
            expect(seconds(env.read_timeout)).toBeGreaterThan(max);
            expect(seconds(env.write_timeout)).toBeGreaterThan(max);
        }
    });

    test("gateway: read/write > upstream >= the function's timeouts", () => {
        for (const v of [ceValues, proValues]) {
            const upstream = seconds(v.gateway.upstreamTimeout);
            expect(seconds(v.gateway.readTimeout)).toBeGreaterThan(upstream);
            expect(seconds(v.gateway.writeTimeout)).toBeGreaterThan(upstream);
            expect(upstream).toBeGreaterThanOrEqual(seconds(ceEnv.write_timeout));
            expect(upstream).toBeGreaterThanOrEqual(seconds(ceEnv.exec_timeout));
        }
    });

    test("CE queue: ackWait outlasts a call (the worker acknowledges only when the function returns)", () => {
        expect(seconds(ceValues.queueWorker.ackWait)).toBeGreaterThanOrEqual(seconds(ceEnv.write_timeout));
        expect(seconds(ceValues.queueWorker.ackWait)).toBeGreaterThanOrEqual(seconds(ceValues.gateway.upstreamTimeout));
    });

    test("Pro queues: bounded by the gateway's upstream timeout, dedicated queues by the same", () => {
        expect(proValues.queueWorker.ackWait).toBeUndefined();
        const dedicated = dedicatedQueueValues("slow", 2, chain, undefined);
        expect(seconds(dedicated.upstreamTimeout)).toBe(seconds(proValues.gateway.upstreamTimeout));
        expect(seconds(dedicated.upstreamTimeout)).toBeGreaterThanOrEqual(seconds(proEnv.write_timeout));
    });

    test("Traefik entry points: read/write above the gateway's, idle at least as long", () => {
        for (const ep of [traefik.ports.web, traefik.ports.websecure]) {
            const t = ep.transport.respondingTimeouts;
            expect(seconds(t.readTimeout)).toBeGreaterThan(seconds(ceValues.gateway.readTimeout));
            expect(seconds(t.writeTimeout)).toBeGreaterThan(seconds(ceValues.gateway.writeTimeout));
            expect(seconds(t.idleTimeout)).toBeGreaterThanOrEqual(seconds(t.readTimeout));
            expect(seconds(t.readTimeout)).toBeGreaterThanOrEqual(max);
        }
    });
});

describe("parseGoDuration", () => {
    test.each([
        ["300s", 300],
        ["1m05s", 65],
        ["1h", 3600],
        ["1h2m3s", 3723],
        ["1.5s", 1.5],
        ["250ms", 0.25],
    ])("%s is %d s", (text, value) => {
        expect(parseGoDuration(text)).toBeCloseTo(value);
    });

    test.each(["", "5", "5 s", "-5s", "5d", "s", "1m5"])("%j is not one", (text) => {
        expect(parseGoDuration(text)).toBeUndefined();
    });
});
