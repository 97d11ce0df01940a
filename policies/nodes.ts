/**
 * What the nodes are made of: nvme-storage-required (every node on NVMe) and min-node-size (servers
 * big enough for etcd, the API server and the OpenFaaS control plane).
 */
import type { PolicyConfigSchema } from "@pulumi/policy";
import { NodeFacts, Observations, perComponent, readNode, Subject, TYPES } from "./facts";
import { PackPolicy, settingsOf } from "./settings";

export const NVME = "nvme-storage-required";
export const MIN_SIZE = "min-node-size";

export function nvmeProblem(facts: NodeFacts): string | undefined {
    if (facts.storage === "nvme") return undefined;
    const declared = facts.storage === undefined ? "declares no storage" : `declares storage "${facts.storage}"`;
    return `node ${facts.name} ${declared}: every node must run on NVMe (${NVME}), because etcd commits every write with fsync ` +
        `and a slow disk makes leader elections fail, and function cold starts wait on image pulls. ` +
        `Move it to an NVMe plan and set storage: nvme for it in private-faas:nodes.`;
}

export function nvmePolicy(observations: Observations): PackPolicy {
    const rule = perComponent(observations, {
        type: TYPES.vpsNode,
        read: readNode,
        check: (facts, _s, report) => {
            const problem = nvmeProblem(facts);
            if (problem) report(problem);
        },
        invisible: (s: Subject) =>
            `node ${s.name} (${TYPES.vpsNode}) shows its storage neither as an input nor as a registered output, ` +
            `so ${NVME} cannot see that it is NVMe. The VpsNode component must register storage as an output.`,
    }, () => ({}));
    return {
        name: NVME,
        displayName: "Nodes on NVMe",
        description: "Every node declares storage: nvme (etcd and cold starts need fast fsync and reads).",
        enforcementLevel: "mandatory",
        severity: "high",
        tags: ["performance", "etcd"],
        remediationSteps: "Rent NVMe-backed servers and set storage: nvme for each node in private-faas:nodes; the node's disk check measures the fsync latency it really has.",
        ...rule,
    };
}

const minSizeSchema: PolicyConfigSchema = {
    properties: {
        minVcpu: { type: "integer", minimum: 1, default: 4, description: "Least vCPUs of a K3s server." },
        minMemoryGb: { type: "number", exclusiveMinimum: 0, default: 8, description: "Least memory of a K3s server, in GB." },
    },
};

export function minSizeProblem(facts: NodeFacts, minVcpu: number, minMemoryGb: number): string | undefined {
    if (facts.role !== "server") return undefined;
    const short: string[] = [];
    if (facts.vcpu !== undefined && facts.vcpu < minVcpu) short.push(`${facts.vcpu} vCPU (at least ${minVcpu})`);
    if (facts.memoryGb !== undefined && facts.memoryGb < minMemoryGb) short.push(`${facts.memoryGb} GB of memory (at least ${minMemoryGb})`);
    if (short.length === 0) return undefined;
    return `server ${facts.name} has ${short.join(" and ")}: a K3s server runs etcd, the API server and the OpenFaaS control plane, ` +
        `and starved of CPU or memory it misses etcd heartbeats and evicts pods (${MIN_SIZE}). ` +
        `Resize it, or lower minVcpu/minMemoryGb in the policy config.`;
}

export function minSizePolicy(observations: Observations): PackPolicy {
    const rule = perComponent(observations, {
        type: TYPES.vpsNode,
        read: readNode,
        check: (facts, _s, report, c) => {
            const problem = minSizeProblem(facts, c.minVcpu as number, c.minMemoryGb as number);
            if (problem) report(problem);
        },
    }, (args) => settingsOf(minSizeSchema, args));
    return {
        name: MIN_SIZE,
        displayName: "Servers big enough for the control plane",
        description: "K3s servers have at least 4 vCPU and 8 GB of memory (configurable).",
        enforcementLevel: "advisory",
        severity: "low",
        tags: ["capacity"],
        remediationSteps: 'Give servers more vCPU/memory, or set {"min-node-size": {"minVcpu": 2, "minMemoryGb": 4}} in the policy config for small clusters.',
        configSchema: minSizeSchema,
        ...rule,
    };
}
