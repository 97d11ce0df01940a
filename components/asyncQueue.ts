/**
 * The asynchronous side of OpenFaaS: NATS and the queue-workers. The shared queue-worker is part of
 * the `openfaas` release (its values come from openfaasValues); this component guards NATS with a
 * NetworkPolicy and, for Pro, runs one `queue-worker` release per dedicated queue. Its outputs say
 * what the queue is: in-memory NATS Streaming (CE) or durable JetStream (Pro).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAccess, kubernetesOptions } from "./clusterAccess";
import { OpenFaasConfig } from "./config";
import { createNetworkPolicy, natsPolicy } from "./networkPolicies";
import { dedicatedQueueValues, OPENFAAS_NAMESPACE } from "./openfaasValues";
import { goDuration, TimeoutChain } from "./timeouts";
import { OPENFAAS_CHART_REPO, OPENFAAS_QUEUE_WORKER_CHART_VERSION } from "./versions";

export interface AsyncQueueArgs {
    /** The validated `openfaas` configuration (edition and `queue`). */
    openfaas: OpenFaasConfig;
    /** The timeout chain of `openfaas.maxDurationSeconds`. */
    chain: TimeoutChain;
    /** Provider and readiness of the cluster. */
    cluster: ClusterAccess;
    /** The `openfaas` release: NATS, the gateway and the licence Secret come before any queue-worker. */
    openfaasRelease: pulumi.Resource;
}

export class AsyncQueue extends pulumi.ComponentResource {
    /** One release per dedicated queue (Pro), by queue name. */
    readonly dedicatedQueues: Record<string, k8s.helm.v3.Release> = {};

    constructor(name: string, args: AsyncQueueArgs, opts?: pulumi.ComponentResourceOptions) {
        const pro = args.openfaas.edition === "pro";
        const facts = {
            edition: args.openfaas.edition,
            backend: pro ? "nats-jetstream" : "nats-streaming-in-memory",
            durable: pro,
            parallelism: args.openfaas.queue.parallelism,
            // CE: ackWait bounds a call; Pro: gateway.upstreamTimeout does (components/timeouts.ts).
            callTimeout: goDuration(pro ? args.chain.gatewayUpstream : args.chain.queueAckWait),
            retries: pro && args.openfaas.queue.retries !== undefined,
            dedicatedQueues: args.openfaas.queue.dedicated.map((q) => q.name),
        };
        super("private-faas:platform:AsyncQueue", name, facts, opts);

        createNetworkPolicy(`${name}-netpol`, natsPolicy(), kubernetesOptions(this, args.cluster, [args.openfaasRelease]));

        for (const queue of args.openfaas.queue.dedicated) {
            this.dedicatedQueues[queue.name] = new k8s.helm.v3.Release(
                `${name}-dedicated-${queue.name}`,
                {
                    name: `queue-${queue.name}`,
                    chart: "queue-worker",
                    version: OPENFAAS_QUEUE_WORKER_CHART_VERSION,
                    repositoryOpts: { repo: OPENFAAS_CHART_REPO },
                    namespace: OPENFAAS_NAMESPACE,
                    values: dedicatedQueueValues(queue.name, queue.parallelism, args.chain, args.openfaas.queue.retries),
                    timeout: 600,
                    maxHistory: 10,
                    cleanupOnFail: true,
                },
                kubernetesOptions(this, args.cluster, [args.openfaasRelease]),
            );
        }

        this.registerOutputs(facts);
    }
}
