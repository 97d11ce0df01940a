/**
 * The K3s cluster: k3s-version-pinned, etcd-quorum-odd and secrets-encryption-at-rest. They read the
 * K3sCluster component (inputs when the engine sends them, else its registered outputs); the quorum
 * falls back to the roles of the VpsNodes when the cluster does not show its server count.
 */
import type { ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import * as YAML from "yaml";
import { ClusterFacts, Observations, perComponent, Props, readCluster, readNode, Subject, TYPES } from "./facts";
import { PackPolicy } from "./settings";

export const VERSION_PINNED = "k3s-version-pinned";
export const QUORUM = "etcd-quorum-odd";
export const SECRETS_ENCRYPTION = "secrets-encryption-at-rest";

const EXACT_RELEASE = /^v\d+\.\d+\.\d+\+k3s\d+$/;
const CHANNELS = ["stable", "latest", "testing"];

export function versionProblem(cluster: string, version: string): string | undefined {
    if (EXACT_RELEASE.test(version)) return undefined;
    const why = CHANNELS.includes(version) || /^v\d+\.\d+$/.test(version)
        ? "a release channel: each install takes whatever the channel points to that day, so servers and agents drift apart and K3s upgrades without a change to the stack"
        : /-rc\d+/.test(version)
            ? "a release candidate, not a release"
            : "not an exact K3s release (vMAJOR.MINOR.PATCH+k3sN)";
    return `cluster ${cluster} installs K3s "${version}", ${why} (${VERSION_PINNED}). Pin an exact release such as v1.35.6+k3s1 in private-faas:k3s.version ` +
        `(https://github.com/k3s-io/k3s/releases).`;
}

export function versionPinnedPolicy(observations: Observations): PackPolicy {
    const rule = perComponent(observations, {
        type: TYPES.k3sCluster,
        read: (props: Props) => readCluster(props)?.version,
        check: (version, s, report) => {
            const problem = versionProblem(s.name, version);
            if (problem) report(problem);
        },
        invisible: (s: Subject) =>
            `cluster ${s.name} (${TYPES.k3sCluster}) shows its K3s version neither as an input nor as a registered output, ` +
            `so ${VERSION_PINNED} cannot see that it is pinned. The K3sCluster component must register version as an output.`,
    }, () => ({}));
    return {
        name: VERSION_PINNED,
        displayName: "K3s version pinned",
        description: "The K3s version is an exact release (such as v1.35.6+k3s1), not a channel (stable, latest, v1.35) or anything else.",
        enforcementLevel: "mandatory",
        severity: "high",
        tags: ["reproducibility"],
        remediationSteps: "Set private-faas:k3s.version to an exact release from https://github.com/k3s-io/k3s/releases; upgrade by changing it.",
        ...rule,
    };
}

/** Why N servers are the wrong number for etcd, or undefined when N is 1 or odd ≥ 3. */
export function quorumProblem(where: string, servers: number, names?: readonly string[]): string | undefined {
    if (servers === 1 || (servers >= 3 && servers % 2 === 1)) return undefined;
    const listed = names && names.length > 0 ? ` (${names.join(", ")})` : "";
    if (servers === 0) return `${where} has no K3s server: there is no etcd and no control plane (${QUORUM}). Give one node, or three, role: server.`;
    const majority = Math.floor(servers / 2) + 1;
    const tolerated = servers - majority;
    const why = tolerated === 0
        ? `etcd needs ${majority} of ${servers} members to accept writes, so losing either server stops the control plane: two servers fail more often than one`
        : `etcd needs ${majority} of ${servers} members, so the cluster survives losing ${tolerated} server(s), no more than with ${servers - 1}, and has one more machine that can fail`;
    return `${where} has ${servers} K3s servers${listed}: ${why} (${QUORUM}). Run ${servers === 2 ? "1 server, or 3" : `${servers - 1} or ${servers + 1} servers`} (role: server in private-faas:nodes).`;
}

const readServers = (props: Props): ClusterFacts | undefined => {
    const facts = readCluster(props);
    return facts?.servers === undefined ? undefined : facts;
};

export function quorumPolicy(observations: Observations): PackPolicy {
    const decided = new Set<string>();
    return {
        name: QUORUM,
        displayName: "Odd number of etcd members",
        description: "The number of K3s servers (embedded etcd members) is 1 or an odd number of at least 3.",
        enforcementLevel: "mandatory",
        severity: "high",
        tags: ["availability", "etcd"],
        remediationSteps: "Give role: server to 1, 3 or 5 nodes in private-faas:nodes; the rest are agents.",
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            observations.see(args);
            if (args.type !== TYPES.k3sCluster) return;
            const facts = readServers(args.props);
            if (facts === undefined) return;
            decided.add(args.urn);
            const problem = quorumProblem(`cluster ${args.name}`, facts.servers!, facts.serverNames);
            if (problem) report(problem);
        },
        validateStack: (args: StackValidationArgs, report: ReportViolation) => {
            let counted = false;
            for (const r of args.resources.filter((x) => x.type === TYPES.k3sCluster)) {
                if (decided.has(r.urn)) {
                    counted = true;
                    continue;
                }
                const facts = readServers(r.props);
                if (facts === undefined) continue;
                counted = true;
                const problem = quorumProblem(`cluster ${r.name}`, facts.servers!, facts.serverNames);
                if (problem) report(problem, r.urn);
            }
            if (counted) return;
            // No cluster shows its server count: count the nodes' roles.
            const nodes = args.resources
                .filter((r) => r.type === TYPES.vpsNode)
                .map((r) => observations.facts(r, readNode))
                .filter((n) => n?.role !== undefined);
            if (nodes.length === 0) return;
            const servers = nodes.filter((n) => n!.role === "server").map((n) => n!.name);
            const problem = quorumProblem("the cluster", servers.length, servers);
            if (problem) report(problem);
        },
    };
}

/** Whether K3s's config.yaml turns secrets encryption on; a string when it cannot be read. */
function configEncrypts(serverConfig: string): boolean | string {
    try {
        const doc = YAML.parse(serverConfig) as unknown;
        if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return "it is not a YAML mapping";
        return (doc as Props)["secrets-encryption"] === true;
    } catch (err) {
        return `it is not valid YAML (${(err as Error).message.split("\n")[0]})`;
    }
}

export function encryptionProblem(cluster: string, facts: ClusterFacts): string | undefined {
    const fix = `Set private-faas:k3s.secretsEncryption to true (the default); K3s then writes secrets-encryption: true in its config.yaml.`;
    const why = "Kubernetes Secrets (the gateway's admin password, the OpenFaaS licence, function secrets) then sit in etcd and in its snapshots in plain text";
    if (facts.secretsEncryption === false) return `cluster ${cluster} runs K3s without secrets encryption: ${why} (${SECRETS_ENCRYPTION}). ${fix}`;
    if (facts.serverConfig !== undefined) {
        const encrypts = configEncrypts(facts.serverConfig);
        if (typeof encrypts === "string") return `cluster ${cluster}: its servers' config.yaml cannot be read because ${encrypts}, so ${SECRETS_ENCRYPTION} cannot see secrets encryption turned on. ${fix}`;
        if (!encrypts) return `cluster ${cluster}: its servers' config.yaml does not set secrets-encryption: true, so ${why} (${SECRETS_ENCRYPTION}). ${fix}`;
    }
    return undefined;
}

export function secretsEncryptionPolicy(observations: Observations): PackPolicy {
    const rule = perComponent(observations, {
        type: TYPES.k3sCluster,
        read: (props: Props) => {
            const facts = readCluster(props);
            return facts?.secretsEncryption !== undefined || facts?.serverConfig !== undefined ? facts : undefined;
        },
        check: (facts, s, report) => {
            const problem = encryptionProblem(s.name, facts);
            if (problem) report(problem);
        },
        invisible: (s: Subject) =>
            `cluster ${s.name} (${TYPES.k3sCluster}) shows neither secretsEncryption nor serverConfig as an input or registered output, ` +
            `so ${SECRETS_ENCRYPTION} cannot see secrets encryption turned on. The K3sCluster component must register them as outputs.`,
    }, () => ({}));
    return {
        name: SECRETS_ENCRYPTION,
        displayName: "Secrets encrypted at rest",
        description: "K3s runs with secrets-encryption, so Secrets are encrypted in etcd and its snapshots.",
        enforcementLevel: "mandatory",
        severity: "high",
        tags: ["security", "kubernetes"],
        remediationSteps: "Keep private-faas:k3s.secretsEncryption true (the default). On a cluster that ran without it: `k3s secrets-encrypt enable`, restart the servers, then `k3s secrets-encrypt reencrypt`.",
        ...rule,
    };
}
