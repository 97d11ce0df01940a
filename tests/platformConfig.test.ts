/** Configuration rules of the platform layer (components/config.ts, platformCrossCheck). */
import { ConfigError } from "../components/config";
import { platformNotices, CE_TERMS } from "../components/platform";
import { proConfig, stackConfig } from "./helpers/stackConfig";

function problems(build: () => unknown) {
    try {
        build();
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems.map((p) => `${p.key}: got ${p.value}; expected ${p.expected}`);
    }
    throw new Error("expected a ConfigError");
}

describe("platform configuration errors", () => {
    test("retries and dedicated queues need Pro", () => {
        expect(problems(() => stackConfig({ openfaas: { queue: { retries: { attempts: 3 }, dedicated: [{ name: "slow" }] } } }))).toEqual([
            'private-faas:openfaas.queue.retries: got {"attempts":3}; expected nothing with edition "ce": the Community Edition queue-worker has no retries and one shared queue (edition "pro" has both)',
            'private-faas:openfaas.queue.dedicated: got [{"name":"slow"}]; expected nothing with edition "ce": the Community Edition queue-worker has no retries and one shared queue (edition "pro" has both)',
        ]);
    });

    test("a function's queue annotation must name a dedicated queue", () => {
        expect(problems(() => proConfig({ queue: { dedicated: [{ name: "slow" }] }, functions: { f: { image: "x/y:1", annotations: { "com.openfaas.queue": "fast" } } } }))).toEqual([
            'private-faas:openfaas.functions.f.annotations.com.openfaas.queue: got "fast"; expected one of the dedicated queues: "slow"',
        ]);
        expect(problems(() => stackConfig({ openfaas: { functions: { f: { image: "x/y:1", annotations: { "com.openfaas.queue": "slow" } } } } }))).toEqual([
            'private-faas:openfaas.functions.f.annotations.com.openfaas.queue: got "slow"; expected no dedicated queue: openfaas.queue.dedicated defines none',
        ]);
    });

    test("a function may shorten its timeouts, never lengthen them past the chain", () => {
        expect(() => stackConfig({ openfaas: { functions: { f: { image: "x/y:1", environment: { exec_timeout: "30s", write_timeout: "1m" } } } } })).not.toThrow();
        expect(problems(() => stackConfig({ openfaas: { maxDurationSeconds: 60, functions: { f: { image: "x/y:1", environment: { exec_timeout: "2m", read_timeout: "soon" } } } } }))).toEqual([
            'private-faas:openfaas.functions.f.environment.exec_timeout: got "2m"; expected a Go duration of at most 60s (the timeout chain of openfaas.maxDurationSeconds 60; raise that instead)',
            'private-faas:openfaas.functions.f.environment.read_timeout: got "soon"; expected a Go duration of at most 61s (the timeout chain of openfaas.maxDurationSeconds 60; raise that instead)',
        ]);
    });

    test("an ACME e-mail needs a host", () => {
        expect(problems(() => stackConfig({ ingress: { acmeEmail: "ops@example.eu" } }))).toEqual([
            "private-faas:ingress.host: got nothing (missing); expected the gateway's public DNS name (required with ingress.acmeEmail: Let's Encrypt certifies a name)",
        ]);
    });
});

describe("plan notices", () => {
    const messages = (c: ReturnType<typeof stackConfig>, severity: "info" | "warning") => platformNotices(c).filter((n) => n.severity === severity).map((n) => n.message);

    test("CE: the licence terms and limits, and the in-memory queue, as warnings", () => {
        const warnings = messages(stackConfig({ openfaas: { queue: { parallelism: 3 } } }), "warning");
        expect(warnings).toContain(CE_TERMS);
        expect(CE_TERMS).toMatch(/one installation per company for at most 60 days/);
        expect(CE_TERMS).toMatch(/must not be installed for a client/);
        expect(CE_TERMS).toMatch(/at most 15 functions, at most 5 replicas per function/);
        expect(CE_TERMS).toMatch(/public container images only, one function namespace/);
        expect(warnings.join("\n")).toMatch(/NATS Streaming keeps queued calls in memory only.*lost when the NATS pod restarts.*3 queue-worker replica\(s\).*OpenFaaS Pro \(JetStream\)/s);
    });

    test("Pro: no CE terms; dedicated queues warn about the Enterprise licence", () => {
        const c = proConfig({ queue: { dedicated: [{ name: "slow" }] } });
        expect(messages(c, "warning").join("\n")).not.toMatch(/Community Edition/);
        expect(messages(c, "warning").join("\n")).toMatch(/Dedicated queues \(slow\).*OpenFaaS for Enterprises/);
        expect(messages(c, "info").join("\n")).toMatch(/JetStream queue-worker \(maxInflight 1/);
    });

    test("TLS and exposure are said plainly", () => {
        expect(messages(stackConfig(), "warning").join("\n")).toMatch(/Traefik's built-in self-signed default certificate/);
        expect(messages(stackConfig({ ingress: { host: "faas.example.eu" } }), "warning").join("\n")).toMatch(/self-signed certificate for faas.example.eu/);
        expect(messages(stackConfig({ ingress: { host: "f.example.eu", acmeEmail: "o@example.eu", acmeEnvironment: "staging" } }), "warning").join("\n")).toMatch(/staging certificates are not trusted/);
        expect(messages(stackConfig(), "warning").join("\n")).toMatch(/\/system\/, \/ui\/\) are not exposed at all/);
        expect(messages(stackConfig({ ingress: { publicFunctions: ["a"] } }), "info").join("\n")).toMatch(/Public: the functions a .*does not authenticate function calls/);
    });
});
