import { acmeSolverPolicy, natsPolicy, openfaasNetworkPolicies } from "../components/networkPolicies";
import { admits, Pod } from "./helpers/networkPolicyEval";

const pods: Record<string, Pod> = {
    traefik: { namespace: "kube-system", labels: { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-kube-system" } },
    gateway: { namespace: "openfaas", labels: { app: "gateway" } },
    queueWorker: { namespace: "openfaas", labels: { app: "queue-worker" } },
    dedicatedQueueWorker: { namespace: "openfaas", labels: { app: "queue-worker", component: "queue-worker" } },
    nats: { namespace: "openfaas", labels: { app: "nats" } },
    prometheus: { namespace: "openfaas", labels: { app: "prometheus" } },
    autoscaler: { namespace: "openfaas", labels: { app: "autoscaler" } },
    solver: { namespace: "openfaas", labels: { "acme.cert-manager.io/http01-solver": "true" } },
    fn: { namespace: "openfaas-fn", labels: { faas_function: "resize" } },
    otherFn: { namespace: "openfaas-fn", labels: { faas_function: "ocr" } },
    stranger: { namespace: "default", labels: { app: "gateway" } },
    strangerInKubeSystem: { namespace: "kube-system", labels: { "k8s-app": "metrics-server" } },
};

const policies = [...openfaasNetworkPolicies(), natsPolicy(), acmeSolverPolicy("openfaas")];

const cases: [string, string, number, boolean][] = [
    // Functions: only the gateway and the queue-workers, only on the watchdog port.
    ["gateway", "fn", 8080, true],
    ["queueWorker", "fn", 8080, true],
    ["dedicatedQueueWorker", "fn", 8080, true],
    ["gateway", "fn", 8081, false],
    ["traefik", "fn", 8080, false],
    ["prometheus", "fn", 8080, false],
    ["otherFn", "fn", 8080, false],
    ["stranger", "fn", 8080, false],
    // The gateway: Traefik, functions (calls through the gateway), its own namespace.
    ["traefik", "gateway", 8080, true],
    ["traefik", "gateway", 8081, false],
    ["fn", "gateway", 8080, true],
    ["fn", "gateway", 8081, false],
    ["prometheus", "gateway", 8082, true],
    ["autoscaler", "gateway", 8081, true],
    ["queueWorker", "gateway", 8080, true],
    ["stranger", "gateway", 8080, false],
    ["strangerInKubeSystem", "gateway", 8080, false],
    // NATS: only its publisher and its consumers.
    ["gateway", "nats", 4222, true],
    ["queueWorker", "nats", 4222, true],
    ["dedicatedQueueWorker", "nats", 4222, true],
    ["gateway", "nats", 8222, false],
    ["prometheus", "nats", 4222, false],
    ["autoscaler", "nats", 4222, false],
    ["fn", "nats", 4222, false],
    ["traefik", "nats", 4222, false],
    // The rest of the control plane: from inside the namespace only.
    ["gateway", "prometheus", 9090, true],
    ["autoscaler", "prometheus", 9090, true],
    ["fn", "prometheus", 9090, false],
    ["traefik", "prometheus", 9090, false],
    // cert-manager's HTTP-01 solver: Traefik on 8089.
    ["traefik", "solver", 8089, true],
    ["stranger", "solver", 8089, false],
];

test.each(cases)("%s → %s:%i admitted: %s", (from, to, port, expected) => {
    expect(admits(policies, pods[from], pods[to], port)).toBe(expected);
});

test("both OpenFaaS namespaces deny by default (a pod no other policy selects admits nothing)", () => {
    const unlabeledFn = { namespace: "openfaas-fn", labels: {} };
    expect(admits(policies, pods.gateway, unlabeledFn, 8080)).toBe(true);
    expect(admits(policies, pods.traefik, unlabeledFn, 8080)).toBe(false);
    const defaults = policies.filter((p) => p.name === "default-deny-ingress");
    expect(defaults.map((p) => p.namespace).sort()).toEqual(["openfaas", "openfaas-fn"]);
    for (const p of defaults) expect(p.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
});

test("the evaluator itself: without policies everything is admitted", () => {
    expect(admits([], pods.stranger, pods.nats, 4222)).toBe(true);
});
