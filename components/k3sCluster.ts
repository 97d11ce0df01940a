/**
 * K3sCluster: K3s installed over SSH on the stack's nodes, from a cluster token to a Kubernetes
 * provider the platform layer deploys with.
 *
 * Resources and the order Pulumi gives them (dependencies):
 *
 *   token ──▶ install(server 1) ──▶ install(server 2) ──▶ … ──▶ install(server N)   one at a time (etcd)
 *                                                                     │
 *                      install(agent) for every agent, in parallel ◀──┘ (after every server)
 *   member(node): on a server that stays; depends on the node's install (and, for agents, on every
 *                 server's member). Create: waits until the node is registered. Delete: drain, delete
 *                 the Node (a server's etcd member goes with it, if quorum allows).
 *   ready ◀── every member: the API answers, every node is Ready at the configured version.
 *   kubeconfig ◀── ready: read from the first server (secret), rewritten; provider ◀── kubeconfig.
 *
 * The same edges order the life after the first `up`:
 *   - a version change updates the installs in that order: servers one at a time (each waits until
 *     its node is Ready at the new version), then the agents; a skipped minor version or a downgrade
 *     is refused on the host before anything changes;
 *   - removing a node deletes its member before its install (Pulumi deletes dependents first):
 *     drain → delete Node (→ etcd member) → uninstall K3s;
 *   - destroying the whole cluster skips the members (deletedWith the token): no drains, each host
 *     uninstalls K3s.
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { isIP } from "net";
import { K3sConfig, NodeConfig, SshConfig } from "./config";
import { sshConnection } from "./connection";
import { hostCommand } from "./hostCommand";
import {
    agentNodes,
    apiUrl,
    auditPolicy,
    clusterWarnings,
    firstServer,
    nodeConfig,
    podSecurityAdmissionConfig,
    serverNodes,
    toYaml,
} from "./k3sConfig";
import { rewriteKubeconfig } from "./kubeconfig";

export interface K3sClusterArgs {
    /** Every host, in configuration order; the first server initialises the cluster, the others join it. */
    nodes: NodeConfig[];
    /** K3s settings: version, API addresses, pod network, install sources, timeouts. */
    k3s: K3sConfig;
    /** SSH user and private key (secret) for every host. */
    ssh: SshConfig;
    /** Per node name, a resource the node's K3s install waits for (its VpsNode: facts, disk check, hardening). */
    nodeReady?: Record<string, pulumi.Resource>;
    /** Name of the cluster, context and user in the kubeconfig. Default: the stack's name. */
    kubeconfigName?: string;
}

/** The environment of scripts/k3s-install.sh for NODE (everything but the token, which goes on stdin). */
export function installEnvironment(node: NodeConfig, nodes: readonly NodeConfig[], k3s: K3sConfig): Record<string, string> {
    return {
        NODE_NAME: node.name,
        NODE_ROLE: node.role,
        TARGET_VERSION: k3s.version,
        CONFIG_YAML: toYaml(nodeConfig(node, nodes, k3s)),
        ...(node.role === "server" ? { PSA_CONFIG_YAML: podSecurityAdmissionConfig(), AUDIT_POLICY_YAML: auditPolicy() } : {}),
        INSTALL_SCRIPT_URL: k3s.installScriptUrl,
        ...(k3s.releaseMirror !== undefined ? { RELEASE_MIRROR: k3s.releaseMirror } : {}),
        READY_TIMEOUT_SECONDS: String(k3s.readyTimeoutSeconds),
    };
}

/** The server through which NODE joins and leaves: the first server other than NODE (NODE itself when alone). */
export function viaServer(node: NodeConfig, nodes: readonly NodeConfig[]): NodeConfig {
    return serverNodes(nodes).find((s) => s.name !== node.name) ?? node;
}

/** The environment of scripts/k3s-node-remove.sh for NODE. */
export function removalEnvironment(node: NodeConfig, nodes: readonly NodeConfig[], k3s: K3sConfig): Record<string, string> {
    return {
        NODE_NAME: node.name,
        NODE_ROLE: node.role,
        NODE_ADDRESSES: [node.host, node.privateIp].filter((a): a is string => a !== undefined && isIP(a) !== 0).join(" "),
        VIA_NODE: viaServer(node, nodes).name,
        DRAIN_TIMEOUT_SECONDS: String(k3s.drainTimeoutSeconds),
    };
}

/** The environment of scripts/k3s-nodes-wait.sh waiting for NAMES. */
export function waitEnvironment(names: string[], waitFor: "registered" | "ready", k3s: K3sConfig): Record<string, string> {
    return {
        NODE_NAMES: names.join(" "),
        WAIT_FOR: waitFor,
        ...(waitFor === "ready" ? { EXPECTED_VERSION: k3s.version } : {}),
        TIMEOUT_SECONDS: String(k3s.readyTimeoutSeconds),
    };
}

export class K3sCluster extends pulumi.ComponentResource {
    /** Admin kubeconfig (secret): the API address clients use, names after the stack. */
    readonly kubeconfig: pulumi.Output<string>;
    /** Kubernetes provider built from the kubeconfig, for the platform layer. */
    readonly provider: k8s.Provider;
    /** Done when the API answers and every node is Ready at the configured version. */
    readonly ready: pulumi.Resource;
    /** The name or address clients use for the API (configured apiEndpoint, else the first server's host). */
    readonly apiEndpoint: string;
    /** https://apiEndpoint:6443. */
    readonly apiUrl: string;
    readonly version: string;
    readonly serverNames: string[];
    readonly agentNames: string[];

    constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("private-faas:cluster:K3sCluster", name, args, opts);
        const { nodes, k3s, ssh } = args;
        const servers = serverNodes(nodes);
        const agents = agentNodes(nodes);
        const first = firstServer(nodes);
        const unknown = Object.keys(args.nodeReady ?? {}).filter((n) => !nodes.some((node) => node.name === n));
        if (unknown.length > 0) throw new Error(`K3sCluster ${name}: nodeReady names unknown nodes: ${unknown.join(", ")}`);
        for (const warning of clusterWarnings(nodes, k3s)) pulumi.log.warn(warning, this);

        this.version = k3s.version;
        this.serverNames = servers.map((s) => s.name);
        this.agentNames = agents.map((a) => a.name);
        this.apiEndpoint = k3s.apiEndpoint ?? first.host;
        this.apiUrl = apiUrl(this.apiEndpoint);

        const token = new random.RandomPassword(`${name}-token`, { length: 48, special: false }, { parent: this });
        const tokenOnStdin = pulumi.secret(pulumi.interpolate`${token.result}\n`);
        const connection = (node: NodeConfig) => sshConnection({ host: node.host, port: node.sshPort, hostKey: node.hostKey }, ssh);
        const ready = (node: NodeConfig): pulumi.Resource[] => {
            const r = args.nodeReady?.[node.name];
            return r ? [r] : [];
        };

        const installs = new Map<string, command.remote.Command>();
        const install = (node: NodeConfig, after: pulumi.Resource[]) => {
            const cmd = new command.remote.Command(
                `${name}-${node.name}-install`,
                {
                    connection: connection(node),
                    create: hostCommand("k3s-install.sh", installEnvironment(node, nodes, k3s)),
                    delete: hostCommand("k3s-uninstall.sh"),
                    stdin: tokenOnStdin,
                    addPreviousOutputInEnv: false,
                },
                { parent: this, dependsOn: [...after, ...ready(node)] },
            );
            installs.set(node.name, cmd);
            return cmd;
        };
        // Servers join one at a time: each after the previous one is Ready (etcd adds one member at a time).
        servers.reduce<pulumi.Resource[]>((after, server) => [install(server, after)], []);
        const serverInstalls = servers.map((s) => installs.get(s.name)!);
        // Agents only need the servers, and not each other: the graph does not deepen with more agents.
        for (const agent of agents) install(agent, serverInstalls);

        const member = (node: NodeConfig, after: pulumi.Resource[]) => {
            const via = viaServer(node, nodes);
            return new command.remote.Command(
                `${name}-${node.name}-member`,
                {
                    connection: connection(via),
                    create: hostCommand("k3s-nodes-wait.sh", waitEnvironment([node.name], "registered", k3s)),
                    delete: hostCommand("k3s-node-remove.sh", removalEnvironment(node, nodes, k3s)),
                    addPreviousOutputInEnv: false,
                },
                // A destroyed cluster needs no drains: the members go with the token, unrun.
                { parent: this, dependsOn: [installs.get(node.name)!, installs.get(via.name)!, ...after], deletedWith: token },
            );
        };
        // Server members in a chain, so that servers leave one at a time too; agents leave before any server.
        const serverMembers = servers.reduce<command.remote.Command[]>((chain, server) => [...chain, member(server, chain.slice(-1))], []);
        const members = [...serverMembers, ...agents.map((agent) => member(agent, serverMembers))];

        const readiness = new command.remote.Command(
            `${name}-ready`,
            {
                connection: connection(first),
                create: hostCommand("k3s-nodes-wait.sh", waitEnvironment(nodes.map((n) => n.name), "ready", k3s)),
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: members },
        );
        this.ready = readiness;

        const kubeconfigRead = new command.remote.Command(
            `${name}-kubeconfig`,
            {
                connection: connection(first),
                create: hostCommand("k3s-kubeconfig.sh"),
                logging: "none",
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [readiness], additionalSecretOutputs: ["stdout"] },
        );
        const kubeconfigName = args.kubeconfigName ?? pulumi.getStack();
        this.kubeconfig = pulumi.secret(
            kubeconfigRead.stdout.apply((text) => rewriteKubeconfig(text, { server: this.apiUrl, name: kubeconfigName })),
        );
        this.provider = new k8s.Provider(`${name}-provider`, { kubeconfig: this.kubeconfig }, { parent: this });

        this.registerOutputs({
            version: this.version,
            servers: servers.length,
            serverNames: this.serverNames,
            agentNames: this.agentNames,
            secretsEncryption: k3s.secretsEncryption,
            serverConfig: nodeConfig(first, nodes, k3s),
            apiEndpoint: this.apiEndpoint,
            kubeconfig: this.kubeconfig,
        });
    }
}
