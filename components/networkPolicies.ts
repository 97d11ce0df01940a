/**
 * NetworkPolicies of the OpenFaaS namespaces, as data (K3s enforces them with its embedded kube-router
 * policy controller). Ingress only: every pod of both namespaces denies what is not allowed here.
 *
 *   openfaas-fn  functions are reached only by the gateway and the queue-workers, on the watchdog port.
 *   openfaas     the gateway is reached by Traefik, by the control plane and by functions (calls through
 *                the gateway); NATS only by the gateway and the queue-workers; the other control-plane
 *                pods only from inside the namespace.
 *
 * Traffic from a pod's own node (kubelet probes) is allowed by kube-router whatever the policies say.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { FUNCTION_NAMESPACE, GATEWAY_PORT, OPENFAAS_NAMESPACE, POD_LABELS } from "./openfaasValues";

export interface NetworkPolicyDefinition {
    /** Policy name (also the suffix of its Pulumi resource name). */
    name: string;
    namespace: string;
    spec: k8s.types.input.networking.v1.NetworkPolicySpec;
}

/** Selects a namespace by the label Kubernetes sets on every namespace. */
export function namespaceSelector(name: string) {
    return { matchLabels: { "kubernetes.io/metadata.name": name } };
}

/** Traefik, as K3s deploys it (namespace kube-system, chart label app.kubernetes.io/name). */
export const TRAEFIK_PEER = {
    namespaceSelector: namespaceSelector("kube-system"),
    podSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } },
};

/** The OpenFaaS components that call functions: the gateway and every queue-worker (also dedicated ones). */
const FUNCTION_CALLERS = {
    namespaceSelector: namespaceSelector(OPENFAAS_NAMESPACE),
    podSelector: { matchExpressions: [{ key: "app", operator: "In", values: [POD_LABELS.gateway, POD_LABELS.queueWorker] }] },
};

/** Watchdog port of every function (of-watchdog and classic watchdog). */
export const FUNCTION_PORT = 8080;
/** Client port of NATS (Streaming in CE, JetStream in Pro). */
export const NATS_PORT = 4222;

function defaultDeny(namespace: string): NetworkPolicyDefinition {
    return { name: "default-deny-ingress", namespace, spec: { podSelector: {}, policyTypes: ["Ingress"] } };
}

/** The policies of the OpenFaaS control plane and function namespaces, except NATS (natsPolicy). */
export function openfaasNetworkPolicies(): NetworkPolicyDefinition[] {
    return [
        defaultDeny(FUNCTION_NAMESPACE),
        {
            name: "functions-from-gateway-and-queue-workers",
            namespace: FUNCTION_NAMESPACE,
            spec: {
                podSelector: {},
                policyTypes: ["Ingress"],
                ingress: [{ from: [FUNCTION_CALLERS], ports: [{ protocol: "TCP", port: FUNCTION_PORT }] }],
            },
        },
        defaultDeny(OPENFAAS_NAMESPACE),
        {
            name: "gateway-from-traefik-and-functions",
            namespace: OPENFAAS_NAMESPACE,
            spec: {
                podSelector: { matchLabels: { app: POD_LABELS.gateway } },
                policyTypes: ["Ingress"],
                ingress: [
                    {
                        from: [TRAEFIK_PEER, { namespaceSelector: namespaceSelector(FUNCTION_NAMESPACE), podSelector: {} }],
                        ports: [{ protocol: "TCP", port: GATEWAY_PORT }],
                    },
                ],
            },
        },
        {
            // Prometheus, the autoscaler, the gateway's provider sidecar, alertmanager: they talk to each
            // other freely. NATS is not among them: natsPolicy admits only its two clients.
            name: "control-plane-from-own-namespace",
            namespace: OPENFAAS_NAMESPACE,
            spec: {
                podSelector: { matchExpressions: [{ key: "app", operator: "NotIn", values: [POD_LABELS.nats] }] },
                policyTypes: ["Ingress"],
                ingress: [{ from: [{ podSelector: {} }] }],
            },
        },
    ];
}

/** NATS: only the gateway (publishes async calls) and the queue-workers (consume them). */
export function natsPolicy(): NetworkPolicyDefinition {
    return {
        name: "nats-from-gateway-and-queue-workers",
        namespace: OPENFAAS_NAMESPACE,
        spec: {
            podSelector: { matchLabels: { app: POD_LABELS.nats } },
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: [{ podSelector: { matchExpressions: [{ key: "app", operator: "In", values: [POD_LABELS.gateway, POD_LABELS.queueWorker] }] } }],
                    ports: [{ protocol: "TCP", port: NATS_PORT }],
                },
            ],
        },
    };
}

/** cert-manager's HTTP-01 solver pods (in the Certificate's namespace) answer Let's Encrypt through Traefik. */
export function acmeSolverPolicy(namespace: string): NetworkPolicyDefinition {
    return {
        name: "acme-http01-solver-from-traefik",
        namespace,
        spec: {
            podSelector: { matchLabels: { "acme.cert-manager.io/http01-solver": "true" } },
            policyTypes: ["Ingress"],
            ingress: [{ from: [TRAEFIK_PEER], ports: [{ protocol: "TCP", port: 8089 }] }],
        },
    };
}

/** Registers DEF as a NetworkPolicy child named `${prefix}-${namespace}-${name}`. */
export function createNetworkPolicy(
    prefix: string,
    def: NetworkPolicyDefinition,
    opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.NetworkPolicy {
    return new k8s.networking.v1.NetworkPolicy(
        `${prefix}-${def.namespace}-${def.name}`,
        { metadata: { name: def.name, namespace: def.namespace }, spec: def.spec },
        opts,
    );
}
