/**
 * The platform layer under the real Pulumi mock engine (tools/engine.ts), on a stand-in cluster: what
 * it registers for CE, Pro and a bare stack, that every Kubernetes object goes through the cluster's
 * provider and waits for its readiness, and how secrets travel (recorded wire form).
 */
import * as YAML from "yaml";
import { PRO_ONLY_KEYS } from "../components/openfaasValues";
import { timeoutChain } from "../components/timeouts";
import { traefikValues } from "../components/traefikValues";
import { OPENFAAS_CHART_REPO, OPENFAAS_CHART_VERSION, OPENFAAS_QUEUE_WORKER_CHART_VERSION, CERT_MANAGER_CHART_VERSION } from "../components/versions";
import { containsSecret, plain, redacted, RecordedResource } from "../tools/engine";
import { prodConfig, TEST_PRIVATE_KEY } from "./helpers/plan";
import { inputs, ofType, PlatformRun, resource, runPlatform } from "./helpers/platform";
import { FAKE_PASSWORD } from "./helpers/runPlatform";
import * as fs from "fs";
import * as path from "path";

const HA = YAML.parse(fs.readFileSync(path.join(__dirname, "..", "Pulumi.ha.yaml"), "utf8")).config;

function ceConfig() {
    const c = prodConfig();
    c["private-faas:openfaas"].functions = {
        hello: { image: "ghcr.io/openfaas/alpine:latest", labels: { "com.openfaas.scale.max": "3" }, annotations: { team: "web" } },
    };
    return c;
}

function proStack() {
    const c = structuredClone(HA);
    c["private-faas:openfaas"].queue.dedicated = [{ name: "slow", parallelism: 2 }];
    c["private-faas:openfaas"].functions = { resize: { image: "registry.example.eu/resize:2.1", annotations: { "com.openfaas.queue": "slow" } } };
    return c;
}

function bareStack() {
    const c = prodConfig();
    delete c["private-faas:ingress"];
    c["private-faas:adminCidrs"] = [];
    c["private-faas:ingress"] = { publicFunctions: [] };
    c["private-faas:edge"] = { host: "192.0.2.50", serverName: "_", legacyUpstream: "10.0.0.5:8080", routes: [{ path: "/api/invoice", function: "invoice" }] };
    return c;
}

const K8S_CUSTOM = (r: RecordedResource) => r.custom && r.type.startsWith("kubernetes:");

let ce: PlatformRun;
let pro: PlatformRun;
let bare: PlatformRun;
let ceUpdate: PlatformRun;

beforeAll(async () => {
    [ce, pro, bare, ceUpdate] = await Promise.all([
        runPlatform(ceConfig()),
        runPlatform(proStack()),
        runPlatform(bareStack()),
        runPlatform({ ...ceConfig(), "private-faas:ssh": { user: "root", privateKey: TEST_PRIVATE_KEY } }, true),
    ]);
}, 120000);

describe.each([
    ["CE", () => ce],
    ["Pro", () => pro],
    ["bare", () => bare],
    ["CE update", () => ceUpdate],
])("%s stack", (_label, get) => {
    test("runs without error", () => {
        expect(get().error).toBeUndefined();
    });

    test("every Kubernetes object uses the cluster's provider and waits for cluster readiness", () => {
        const run = get();
        const provider = resource(run, "pulumi:providers:kubernetes", "cluster-provider");
        const ready = resource(run, "random:index/randomId:RandomId", "cluster-ready");
        const objects = run.resources.filter(K8S_CUSTOM);
        expect(objects.length).toBeGreaterThan(10);
        for (const r of objects) {
            expect(`${r.name}: ${r.provider?.split("::").slice(0, -1).join("::")}`).toBe(`${r.name}: ${provider.urn}`);
            expect(r.dependsOn).toContain(ready.urn);
        }
        for (const r of ofType(run, "command:remote:Command")) expect(r.dependsOn).toContain(ready.urn);
    });

    test("the OpenFaaS, queue and ingress components are there, each with children", () => {
        const run = get();
        for (const [type, name] of [
            ["private-faas:platform:OpenFaas", "openfaas"],
            ["private-faas:platform:AsyncQueue", "openfaas-queue"],
            ["private-faas:platform:Ingress", "ingress"],
        ]) {
            const component = resource(run, type, name);
            expect(run.resources.filter((r) => r.parent === component.urn).length).toBeGreaterThan(0);
        }
    });

    test("the gateway is never a NodePort or LoadBalancer", () => {
        const release = inputs(resource(get(), "kubernetes:helm.sh/v3:Release", "openfaas-release"));
        expect(release.values.serviceType).toBe("ClusterIP");
        expect(release.values.exposeServices).toBe(false);
        expect(ofType(get(), "kubernetes:core/v1:Service")).toEqual([]);
    });
});

describe("CE", () => {
    test("namespaces with Pod Security labels pinned to the cluster's minor", () => {
        for (const [name, ns] of [["openfaas-namespace", "openfaas"], ["openfaas-function-namespace", "openfaas-fn"]]) {
            const meta = inputs(resource(ce, "kubernetes:core/v1:Namespace", name)).metadata;
            expect(meta.name).toBe(ns);
            expect(meta.labels).toMatchObject({
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/enforce-version": "v1.35",
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
            });
        }
        expect(inputs(resource(ce, "kubernetes:core/v1:Namespace", "ingress-cert-manager-namespace")).metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    });

    test("the gateway credentials are our Secret basic-auth; the chart generates none; no licence Secret", () => {
        // The generated password is unknown in a preview: read the content from the update run.
        expect(containsSecret(resource(ce, "kubernetes:core/v1:Secret", "openfaas-basic-auth").rawInputs.stringData)).toBe(true);
        const secret = resource(ceUpdate, "kubernetes:core/v1:Secret", "openfaas-basic-auth");
        expect(inputs(secret).metadata).toMatchObject({ name: "basic-auth", namespace: "openfaas" });
        expect(Object.keys(inputs(secret).stringData).sort()).toEqual(["basic-auth-password", "basic-auth-user"]);
        expect(inputs(secret).stringData["basic-auth-user"]).toBe("admin");
        expect(ofType(ce, "kubernetes:core/v1:Secret").map((s) => inputs(s).metadata.name)).toEqual(["basic-auth"]);
        expect(inputs(resource(ce, "kubernetes:helm.sh/v3:Release", "openfaas-release")).values.generateBasicAuth).toBe(false);
    });

    test("the openfaas release: pinned chart, CE values without any Pro key", () => {
        const release = inputs(resource(ce, "kubernetes:helm.sh/v3:Release", "openfaas-release"));
        expect(release).toMatchObject({ name: "openfaas", chart: "openfaas", version: OPENFAAS_CHART_VERSION, namespace: "openfaas", repositoryOpts: { repo: OPENFAAS_CHART_REPO } });
        expect(release.values.openfaasPro).toBe(false);
        for (const key of PRO_ONLY_KEYS) expect(release.values).not.toHaveProperty(key);
        expect(release.values.queueWorker).toMatchObject({ replicas: 1, ackWait: "310s" });
        expect(release.values.gateway).toMatchObject({ upstreamTimeout: "302s", readTimeout: "305s", writeTimeout: "305s" });
    });

    test("Traefik is configured through K3s's HelmChartConfig", () => {
        const config = inputs(resource(ce, "kubernetes:helm.cattle.io/v1:HelmChartConfig", "ingress-traefik-config"));
        expect(config.metadata).toEqual({ name: "traefik", namespace: "kube-system" });
        // The prod stack's edge (192.0.2.20) may set X-Forwarded-For.
        expect(YAML.parse(config.spec.valuesContent)).toEqual(traefikValues(timeoutChain(300), ["osl-agent-1", "osl-agent-2"], ["192.0.2.20"]));
        expect(YAML.parse(config.spec.valuesContent).ports.websecure.forwardedHeaders).toEqual({ trustedIPs: ["192.0.2.20/32"] });
        expect(config.spec.valuesContent).not.toMatch(/[&*]a\d/);
    });

    test("cert-manager, a Let's Encrypt ClusterIssuer and the gateway's Certificate", () => {
        expect(inputs(resource(ce, "kubernetes:helm.sh/v3:Release", "ingress-cert-manager"))).toMatchObject({ chart: "cert-manager", version: CERT_MANAGER_CHART_VERSION, namespace: "cert-manager", values: { crds: { enabled: true } } });
        expect(inputs(resource(ce, "kubernetes:cert-manager.io/v1:ClusterIssuer", "ingress-cluster-issuer")).metadata.name).toBe("letsencrypt-production");
        const cert = inputs(resource(ce, "kubernetes:cert-manager.io/v1:Certificate", "ingress-certificate"));
        expect(cert.spec).toMatchObject({ secretName: "gateway-tls", dnsNames: ["faas.example.no"], issuerRef: { name: "letsencrypt-production" } });
    });

    test("public function paths, and the admin paths behind the allow-list Middleware", () => {
        const pub = inputs(resource(ce, "kubernetes:networking.k8s.io/v1:Ingress", "ingress-public"));
        expect(pub.spec.rules[0].http.paths.map((p: any) => p.path)).toEqual(["/function/", "/async-function/"]);
        const admin = inputs(resource(ce, "kubernetes:networking.k8s.io/v1:Ingress", "ingress-admin"));
        expect(admin.spec.rules[0].http.paths.map((p: any) => p.path)).toEqual(["/system/", "/ui/"]);
        const middleware = resource(ce, "kubernetes:traefik.io/v1alpha1:Middleware", "ingress-admin-allowlist");
        expect(inputs(middleware).metadata).toEqual({ name: "admin-allowlist", namespace: "openfaas" });
        expect(inputs(middleware).spec.ipAllowList.sourceRange).toEqual(["198.51.100.0/24"]);
        expect(admin.metadata.annotations["traefik.ingress.kubernetes.io/router.middlewares"]).toBe("openfaas-admin-allowlist@kubernetescrd");
        expect(resource(ce, "kubernetes:networking.k8s.io/v1:Ingress", "ingress-admin").dependsOn).toContain(middleware.urn);
    });

    test("NetworkPolicies: default deny in both namespaces, NATS and functions guarded", () => {
        const names = ofType(ce, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => `${inputs(r).metadata.namespace}/${inputs(r).metadata.name}`);
        expect(names.sort()).toEqual([
            "openfaas-fn/default-deny-ingress",
            "openfaas-fn/functions-from-gateway-and-queue-workers",
            "openfaas/acme-http01-solver-from-traefik",
            "openfaas/control-plane-from-own-namespace",
            "openfaas/default-deny-ingress",
            "openfaas/gateway-from-traefik-and-functions",
            "openfaas/nats-from-gateway-and-queue-workers",
        ]);
    });

    test("a function is deployed through the gateway API from the first server, and removed on delete", () => {
        const fn = resource(ce, "private-faas:platform:OpenFaasFunction", "fn-hello");
        // What the openfaas-ce-limits policy reads, as inputs and registered outputs.
        for (const view of [plain(fn.rawInputs), plain(fn.rawOutputs)] as any[]) {
            expect(view).toMatchObject({ name: "hello", image: "ghcr.io/openfaas/alpine:latest", labels: { "com.openfaas.scale.max": "3" }, annotations: { team: "web" } });
        }
        const cmd = resource(ce, "command:remote:Command", "fn-hello-deploy");
        expect(cmd.parent).toBe(fn.urn);
        const c = inputs(cmd);
        expect(c.connection.host).toBe("192.0.2.10");
        // The script's environment, quoted once more inside `bash -c '...'`.
        expect(c.create).toContain("export ACTION='\\''apply'\\''");
        expect(c.create).toContain("export FUNCTION_NAME='\\''hello'\\''");
        expect(c.update).toBe(c.create);
        expect(c.delete).toContain("export ACTION='\\''delete'\\''");
        expect(cmd.dependsOn).toContain(resource(ce, "kubernetes:helm.sh/v3:Release", "openfaas-release").urn);
        expect(containsSecret(cmd.rawInputs.stdin)).toBe(true);
    });

    test("the plan states the CE licence terms, the in-memory queue and the TLS source", () => {
        const text = ce.diagnostics.map((d) => `${d.severity}: ${d.message}`).join("\n");
        expect(text).toMatch(/warning: OpenFaaS Community Edition .*one installation per company for at most 60 days/);
        expect(text).toMatch(/warning: Async queue \(CE\): NATS Streaming keeps queued calls in memory only/);
        expect(text).toMatch(/info: TLS: Let's Encrypt production certificate for faas.example.no/);
    });
});

describe("Pro", () => {
    test("the licence key becomes the Secret the chart mounts, as a secret", () => {
        const secret = resource(pro, "kubernetes:core/v1:Secret", "openfaas-license");
        expect(inputs(secret).metadata).toEqual({ name: "openfaas-license", namespace: "openfaas" });
        expect(Object.keys(inputs(secret).stringData)).toEqual(["license"]);
        expect(containsSecret(secret.rawInputs.stringData)).toBe(true);
        expect(resource(pro, "kubernetes:helm.sh/v3:Release", "openfaas-release").dependsOn).toContain(secret.urn);
    });

    test("Pro values: JetStream queue-worker, operator, autoscaler, retries from the config", () => {
        const values = inputs(resource(pro, "kubernetes:helm.sh/v3:Release", "openfaas-release")).values;
        expect(values).toMatchObject({
            openfaasPro: true,
            operator: { create: true, leaderElection: { enabled: true } },
            autoscaler: { enabled: true },
            jetstreamQueueWorker: { mode: "static" },
            queueWorkerPro: { maxInflight: 8, maxRetryAttempts: "10" },
            gateway: { replicas: 2, upstreamTimeout: "902s" },
        });
        expect(containsSecret(resource(pro, "kubernetes:helm.sh/v3:Release", "openfaas-release").rawInputs.values)).toBe(false);
    });

    test("a dedicated queue gets its own queue-worker release", () => {
        const r = inputs(resource(pro, "kubernetes:helm.sh/v3:Release", "openfaas-queue-dedicated-slow"));
        expect(r).toMatchObject({ name: "queue-slow", chart: "queue-worker", version: OPENFAAS_QUEUE_WORKER_CHART_VERSION, namespace: "openfaas" });
        expect(r.values).toMatchObject({ queueName: "slow", maxInflight: 2, upstreamTimeout: "902s", maxRetryAttempts: "10" });
    });

    test("functions are Function custom resources, not API calls", () => {
        const cr = inputs(resource(pro, "kubernetes:openfaas.com/v1:Function", "fn-resize-function"));
        expect(cr.metadata).toEqual({ name: "resize", namespace: "openfaas-fn" });
        expect(cr.spec).toMatchObject({ name: "resize", image: "registry.example.eu/resize:2.1", annotations: { "com.openfaas.queue": "slow" } });
        expect(cr.spec.environment).toMatchObject({ exec_timeout: "900s", read_timeout: "901s", write_timeout: "901s" });
        expect(ofType(pro, "command:remote:Command")).toEqual([]);
    });

    test("no CE licence warning in the plan", () => {
        expect(pro.diagnostics.map((d) => d.message).join("\n")).not.toMatch(/Community Edition/);
    });
});

describe("bare stack: no host, no admin CIDRs, only an edge-routed function public", () => {
    test("no cert-manager, no admin Ingress or Middleware", () => {
        expect(bare.resources.map((r) => r.type).filter((t) => /cert-manager|Middleware/.test(t))).toEqual([]);
        expect(ofType(bare, "kubernetes:helm.sh/v3:Release").map((r) => r.name)).toEqual(["openfaas-release"]);
        expect(ofType(bare, "kubernetes:networking.k8s.io/v1:Ingress").map((r) => r.name)).toEqual(["ingress-public"]);
    });

    test("the public Ingress carries only the function the edge calls, on any host, without a TLS section", () => {
        const pub = inputs(resource(bare, "kubernetes:networking.k8s.io/v1:Ingress", "ingress-public"));
        expect(pub.spec.rules).toEqual([{ http: { paths: expect.any(Array) } }]);
        expect(pub.spec.rules[0].http.paths.map((p: any) => p.path)).toEqual(["/function/invoice", "/async-function/invoice"]);
        expect(pub.spec.tls).toBeUndefined();
    });

    test("the plan says plainly: self-signed default certificate, admin paths not exposed", () => {
        const warnings = bare.diagnostics.filter((d) => d.severity === "warning").map((d) => d.message).join("\n");
        expect(warnings).toMatch(/Traefik's built-in self-signed default certificate/);
        expect(warnings).toMatch(/are not exposed at all/);
    });
});

describe("secrets in the recorded wire form (update run with a known generated password)", () => {
    test("the gateway password is a secret stack output", () => {
        expect(containsSecret(ceUpdate.stackOutputs!.gatewayPassword)).toBe(true);
        expect(plain(ceUpdate.stackOutputs!.gatewayPassword)).toBe(FAKE_PASSWORD);
    });

    test("it appears nowhere except behind secret markers", () => {
        // The RandomPassword's own state is left out: the real engine marks its `result` secret
        // (additionalSecretOutputs), the mock monitor does not implement that.
        const recorded = ceUpdate.resources.map((r) => [redacted(r.rawInputs), r.type === "random:index/randomPassword:RandomPassword" ? {} : redacted(r.rawOutputs)]);
        const printable = JSON.stringify(recorded) + JSON.stringify(redacted(ceUpdate.stackOutputs));
        expect(printable).not.toContain(FAKE_PASSWORD);
        expect(printable).not.toContain("test-key-not-real");
    });

    test("it reaches the Secret and the deploy script's stdin, never a command text or Helm values", () => {
        const secret = resource(ceUpdate, "kubernetes:core/v1:Secret", "openfaas-basic-auth");
        expect(inputs(secret).stringData["basic-auth-password"]).toBe(FAKE_PASSWORD);
        expect(containsSecret(secret.rawInputs.stringData)).toBe(true);
        const cmd = inputs(resource(ceUpdate, "command:remote:Command", "fn-hello-deploy"));
        expect(cmd.stdin).toBe(`${FAKE_PASSWORD}\n`);
        for (const text of [cmd.create, cmd.update, cmd.delete]) expect(text).not.toContain(FAKE_PASSWORD);
        expect(JSON.stringify(inputs(resource(ceUpdate, "kubernetes:helm.sh/v3:Release", "openfaas-release")))).not.toContain(FAKE_PASSWORD);
    });
});
