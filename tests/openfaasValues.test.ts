import { timeoutChain } from "../components/timeouts";
import {
    dedicatedQueueValues,
    openfaasValues,
    podSecurityLabels,
    PRO_ONLY_KEYS,
    QUEUE_WORKER_RESOURCES,
} from "../components/openfaasValues";
import { proConfig, stackConfig } from "./helpers/stackConfig";

const chain = timeoutChain(300);

describe("openfaas chart values, Community Edition", () => {
    const config = stackConfig({ openfaas: { queue: { parallelism: 4 }, gatewayReplicas: 2 } });
    const values = openfaasValues(config.openfaas, chain);

    test("set no Pro-only value", () => {
        expect(values.openfaasPro).toBe(false);
        for (const key of PRO_ONLY_KEYS) expect(values).not.toHaveProperty(key);
    });

    test("the gateway is ClusterIP only, credentials come from our Secret, async is on", () => {
        expect(values).toMatchObject({
            serviceType: "ClusterIP",
            exposeServices: false,
            basic_auth: true,
            generateBasicAuth: false,
            async: true,
            psp: false,
            functionNamespace: "openfaas-fn",
            ingress: { enabled: false },
        });
        expect(values.gateway.replicas).toBe(2);
    });

    test("one queue-worker replica per parallel call, ackWait from the chain, resources set", () => {
        expect(values.queueWorker).toEqual({ replicas: 4, ackWait: "310s", resources: QUEUE_WORKER_RESOURCES });
        expect(QUEUE_WORKER_RESOURCES.requests).toEqual({ cpu: "50m", memory: "120Mi" });
        expect(QUEUE_WORKER_RESOURCES.limits.memory).toBe("256Mi");
    });

    test("containers the chart lets us configure meet Pod Security restricted", () => {
        const sc = values.securityContext;
        expect(sc.runAsNonRoot).toBe(true);
        expect(sc.runAsUser).toBeGreaterThan(0);
        expect(sc.allowPrivilegeEscalation).toBe(false);
        expect(sc.capabilities.drop).toContain("ALL");
        expect(sc.seccompProfile.type).toBe("RuntimeDefault");
        expect(sc.readOnlyRootFilesystem).toBe(true);
        expect(values.functions.setNonRootUser).toBe(true);
    });
});

describe("openfaas chart values, Pro", () => {
    test("openfaasPro, the operator, the autoscaler, the JetStream queue-worker with maxInflight = parallelism", () => {
        const values = openfaasValues(proConfig({ queue: { parallelism: 8 } }).openfaas, chain);
        expect(values).toMatchObject({
            openfaasPro: true,
            clusterRole: true,
            operator: { create: true, leaderElection: { enabled: false } },
            autoscaler: { enabled: true },
            jetstreamQueueWorker: { mode: "static" },
            queueWorkerPro: { maxInflight: 8 },
            queueWorker: { replicas: 1 },
        });
        // Retries left to the chart when none are configured; ackWait left at the chart's heartbeat value.
        expect(values.queueWorkerPro).toEqual({ maxInflight: 8 });
        expect(values.queueWorker.ackWait).toBeUndefined();
    });

    test("retries are spelled and typed as the chart takes them", () => {
        const values = openfaasValues(proConfig({ queue: { retries: { attempts: 7, initialWaitSeconds: 3, maxWaitSeconds: 90, httpCodes: [429, 503] } } }).openfaas, chain);
        expect(values.queueWorkerPro).toEqual({
            maxInflight: 1,
            maxRetryAttempts: "7",
            initialRetryWait: "3s",
            maxRetryWait: "90s",
            httpRetryCodes: "429,503",
        });
    });

    test("more than one gateway replica turns on the operator's leader election", () => {
        expect(openfaasValues(proConfig({ gatewayReplicas: 3 }).openfaas, chain).operator?.leaderElection.enabled).toBe(true);
    });
});

describe("dedicated queue values (queue-worker chart)", () => {
    test("own stream and consumer, maxInflight, the gateway's upstream timeout, retries", () => {
        const retries = { attempts: 5, initialWaitSeconds: 2, maxWaitSeconds: 60, httpCodes: [500] };
        expect(dedicatedQueueValues("slow", 3, timeoutChain(900), retries)).toEqual({
            queueName: "slow",
            mode: "static",
            replicas: 1,
            maxInflight: 3,
            upstreamTimeout: "902s",
            nats: { stream: { name: "slow-requests" }, consumer: { durableName: "slow-workers" } },
            resources: QUEUE_WORKER_RESOURCES,
            maxRetryAttempts: "5",
            initialRetryWait: "2s",
            maxRetryWait: "60s",
            httpRetryCodes: "500",
        });
    });
});

describe("Pod Security Admission labels", () => {
    test("enforce the given level, warn and audit at restricted, pinned to the cluster's minor", () => {
        expect(podSecurityLabels("baseline", "v1.35.6+k3s1")).toEqual({
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/enforce-version": "v1.35",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": "v1.35",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": "v1.35",
        });
    });

    test("a K3s version that is not a release falls back to latest", () => {
        expect(podSecurityLabels("restricted", "stable")["pod-security.kubernetes.io/enforce-version"]).toBe("latest");
    });
});
