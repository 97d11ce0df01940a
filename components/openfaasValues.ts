/**
 * Helm values of the OpenFaaS charts, as pure functions of the configuration. The types list exactly
 * the values this project sets, spelled as in the charts' values.yaml at the pinned versions
 * (components/versions.ts); tests/helmValues.test.ts checks every path against the charts' key lists.
 */
import { OpenFaasConfig } from "./config";
import { goDuration, TimeoutChain } from "./timeouts";

/** Namespace of the OpenFaaS control plane (gateway, NATS, queue-workers, Prometheus). */
export const OPENFAAS_NAMESPACE = "openfaas";
/** The one function namespace (CE allows no other). */
export const FUNCTION_NAMESPACE = "openfaas-fn";
/** Secret the chart's components read the gateway credentials from (keys basic-auth-user/-password). */
export const BASIC_AUTH_SECRET = "basic-auth";
/** The gateway's admin user. */
export const GATEWAY_USER = "admin";
/** Secret the Pro components mount at /var/secrets/license (key `license`), as the chart names it. */
export const LICENSE_SECRET = "openfaas-license";
export const LICENSE_SECRET_KEY = "license";
/** The gateway's in-cluster Service and port. */
export const GATEWAY_SERVICE = "gateway";
export const GATEWAY_PORT = 8080;

/** Pod labels of the chart's pods (templates: `app: gateway`, `app: queue-worker`, `app: nats`). */
export const POD_LABELS = { gateway: "gateway", queueWorker: "queue-worker", nats: "nats" } as const;

export interface ContainerSecurityContext {
    runAsNonRoot: boolean;
    runAsUser: number;
    allowPrivilegeEscalation: boolean;
    readOnlyRootFilesystem: boolean;
    capabilities: { drop: string[] };
    seccompProfile: { type: "RuntimeDefault" };
}

export interface ResourceRequirements {
    requests: { cpu: string; memory: string };
    limits: { memory: string };
}

/** The subset of the `openfaas` chart's values we set. */
export interface OpenFaasValues {
    functionNamespace: string;
    openfaasPro: boolean;
    /** Pro: CPU/RAM metrics for the autoscaler (cluster-wide read of metrics). */
    clusterRole?: boolean;
    basic_auth: true;
    generateBasicAuth: false;
    /** No gateway-external Service at all; the gateway's own Service is ClusterIP. */
    exposeServices: false;
    serviceType: "ClusterIP";
    async: true;
    psp: false;
    /** Applied by the chart to the gateway, faas-netes/operator and Pro queue-worker containers. */
    securityContext: ContainerSecurityContext;
    functions: { setNonRootUser: boolean };
    gateway: { replicas: number; readTimeout: string; writeTimeout: string; upstreamTimeout: string };
    queueWorker: { replicas: number; ackWait?: string; resources: ResourceRequirements };
    /** This project creates its own Ingress objects (components/ingress.ts). */
    ingress: { enabled: false };
    operator?: { create: true; leaderElection: { enabled: boolean } };
    autoscaler?: { enabled: true };
    jetstreamQueueWorker?: { mode: "static" };
    queueWorkerPro?: {
        maxInflight: number;
        maxRetryAttempts?: string;
        maxRetryWait?: string;
        initialRetryWait?: string;
        httpRetryCodes?: string;
    };
}

/** Values keys that only exist for OpenFaaS Pro; the CE values set none of them. */
export const PRO_ONLY_KEYS = [
    "clusterRole",
    "operator",
    "autoscaler",
    "jetstreamQueueWorker",
    "queueWorkerPro",
    "gatewayPro",
    "faasnetesPro",
    "dashboard",
    "iam",
    "oidcAuthPlugin",
    "eventSubscription",
    "eventWorker",
] as const;

/**
 * Container security context for the chart's `securityContext` value: what Pod Security "restricted"
 * asks of a container, with the user the OpenFaaS images run as (10001, as OpenFaaS documents).
 */
export const CONTAINER_SECURITY_CONTEXT: ContainerSecurityContext = {
    runAsNonRoot: true,
    runAsUser: 10001,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

/** Queue-worker resources: requests for scheduling, a memory limit so a stuck worker cannot starve a node. */
export const QUEUE_WORKER_RESOURCES: ResourceRequirements = {
    requests: { cpu: "50m", memory: "120Mi" },
    limits: { memory: "256Mi" },
};

type QueueRetries = NonNullable<OpenFaasConfig["queue"]["retries"]>;

/** The Pro queue-worker's retry values, spelled and typed as the charts take them (strings). */
export function retryValues(retries: QueueRetries): {
    maxRetryAttempts: string;
    maxRetryWait: string;
    initialRetryWait: string;
    httpRetryCodes: string;
} {
    return {
        maxRetryAttempts: String(retries.attempts),
        maxRetryWait: goDuration(retries.maxWaitSeconds),
        initialRetryWait: goDuration(retries.initialWaitSeconds),
        httpRetryCodes: retries.httpCodes.join(","),
    };
}

/** Values of the `openfaas` chart for CONFIG with the timeouts of CHAIN. */
export function openfaasValues(config: OpenFaasConfig, chain: TimeoutChain): OpenFaasValues {
    const pro = config.edition === "pro";
    const common = {
        functionNamespace: FUNCTION_NAMESPACE,
        openfaasPro: pro,
        basic_auth: true as const,
        generateBasicAuth: false as const,
        exposeServices: false as const,
        serviceType: "ClusterIP" as const,
        async: true as const,
        psp: false as const,
        securityContext: CONTAINER_SECURITY_CONTEXT,
        functions: { setNonRootUser: true },
        gateway: {
            replicas: config.gatewayReplicas,
            readTimeout: goDuration(chain.gatewayReadWrite),
            writeTimeout: goDuration(chain.gatewayReadWrite),
            upstreamTimeout: goDuration(chain.gatewayUpstream),
        },
        ingress: { enabled: false as const },
    };
    if (!pro) {
        // CE: one message in flight per queue-worker replica, so replicas = parallelism; NATS Streaming
        // redelivers after ackWait, which must outlast the longest call.
        return {
            ...common,
            queueWorker: { replicas: config.queue.parallelism, ackWait: goDuration(chain.queueAckWait), resources: QUEUE_WORKER_RESOURCES },
        };
    }
    return {
        ...common,
        clusterRole: true,
        // One JetStream queue-worker handles `parallelism` messages at once; the stream is durable, so a
        // restart of the worker loses nothing.
        queueWorker: { replicas: 1, resources: QUEUE_WORKER_RESOURCES },
        operator: { create: true, leaderElection: { enabled: config.gatewayReplicas > 1 } },
        autoscaler: { enabled: true },
        jetstreamQueueWorker: { mode: "static" },
        queueWorkerPro: {
            maxInflight: config.queue.parallelism,
            ...(config.queue.retries ? retryValues(config.queue.retries) : {}),
        },
    };
}

/** The subset of the `queue-worker` chart's values we set, for one dedicated queue. */
export interface QueueWorkerValues {
    /** The name functions select with the annotation `com.openfaas.queue`. */
    queueName: string;
    mode: "static";
    replicas: number;
    maxInflight: number;
    upstreamTimeout: string;
    nats: { stream: { name: string }; consumer: { durableName: string } };
    resources: ResourceRequirements;
    maxRetryAttempts?: string;
    maxRetryWait?: string;
    initialRetryWait?: string;
    httpRetryCodes?: string;
}

/**
 * Values of the `queue-worker` chart for the dedicated queue NAME: its own stream and consumer
 * (NAME-requests, NAME-workers, as the chart's README recommends), bounded by the gateway's
 * upstreamTimeout like the shared queue.
 */
export function dedicatedQueueValues(
    name: string,
    parallelism: number,
    chain: TimeoutChain,
    retries: QueueRetries | undefined,
): QueueWorkerValues {
    return {
        queueName: name,
        mode: "static",
        replicas: 1,
        maxInflight: parallelism,
        upstreamTimeout: goDuration(chain.gatewayUpstream),
        nats: { stream: { name: `${name}-requests` }, consumer: { durableName: `${name}-workers` } },
        resources: QUEUE_WORKER_RESOURCES,
        ...(retries ? retryValues(retries) : {}),
    };
}

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/**
 * Pod Security Admission labels: ENFORCE is what the namespace's pods are held to; warnings and audit
 * entries report anything short of "restricted". The policy version is pinned to the cluster's
 * Kubernetes minor (from the K3s release), so a K3s upgrade does not silently change the rules.
 */
export function podSecurityLabels(enforce: PodSecurityLevel, k3sVersion: string): Record<string, string> {
    const minor = /^v?(\d+)\.(\d+)\./.exec(k3sVersion);
    const version = minor ? `v${minor[1]}.${minor[2]}` : "latest";
    return {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/enforce-version": version,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": version,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": version,
    };
}
