/**
 * private-faas: hardened K3s + OpenFaaS on rented EU servers.
 * Validates the whole configuration before registering anything, then builds the layers.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig, effectiveFlannelBackend } from "./components/config";
import { VpsNode } from "./components/vpsNode";
import { K3sCluster } from "./components/k3sCluster";
import { buildPlatform } from "./components/platform";
import { EdgeProxy, edgeProxyArgs } from "./components/edgeProxy";

const config = loadStackConfig();

// One VpsNode per host: facts, disk check, hardening, firewall. K3s installs depend on `node.ready`.
const flannelBackend = effectiveFlannelBackend(config);
const vpsNodes = config.nodes.map(
    (node) =>
        new VpsNode(node.name, {
            node,
            ssh: config.ssh,
            peers: config.nodes.filter((peer) => peer !== node).map(({ name, role, host, privateIp }) => ({ name, role, host, privateIp })),
            adminCidrs: config.adminCidrs,
            flannelBackend,
            clusterCidr: config.k3s.clusterCidr,
            serviceCidr: config.k3s.serviceCidr,
            maxFsyncP99Ms: node.role === "server" ? config.k3s.diskCheck.serverMaxP99Ms : config.k3s.diskCheck.agentMaxP99Ms,
        }),
);

export const nodeNames = config.nodes.map((n) => n.name);
/** What each host turned out to be, and its measured fdatasync p99 (ms) on the K3s data directory. */
export const nodeFacts = Object.fromEntries(
    vpsNodes.map((n) => [
        n.name,
        pulumi.all([n.facts, n.diskFsyncP99Ms]).apply(([f, p99]) => ({ os: f.os.prettyName, kernel: f.kernel, arch: f.arch, vcpus: f.vcpus, memoryKiB: f.memoryKiB, diskFsyncP99Ms: p99 })),
    ]),
);

// K3s installs on a host wait for its VpsNode: facts, disk check, hardening (CIS sysctls), firewall.
const nodeReady = Object.fromEntries(vpsNodes.map((n) => [n.name, n.ready]));
const cluster = new K3sCluster("k3s", { nodes: config.nodes, k3s: config.k3s, ssh: config.ssh, nodeReady });

/** Admin kubeconfig of the cluster (secret): `pulumi stack output --show-secrets kubeconfig`. */
export const kubeconfig = cluster.kubeconfig;

// OpenFaaS, its async queue, ingress and functions, through the cluster's provider once it is Ready.
const platform = buildPlatform(config, { provider: cluster.provider, ready: cluster.ready });

/** Gateway admin password (secret; user "admin"). */
export const gatewayPassword = platform.gatewayPassword;
/** Public URL of the gateway; null without `ingress.host` (an undefined output would only warn). */
export const gatewayUrl = platform.gatewayUrl ?? null;

// The strangler-fig edge in front of the monolith (private-faas:edge), when configured. It goes live
// after the ingress and the functions it routes to, so its routes do not answer 502 on a first `up`.
const edge = config.edge
    ? new EdgeProxy("edge", edgeProxyArgs(config), { dependsOn: [platform.ingress, ...platform.functions] })
    : undefined;
/** SHA-256 of the nginx configuration deployed to the edge (compare with `npm run edge:render`); null without an edge. */
export const edgeNginxConfigSha256 = edge?.nginxConfigSha256 ?? null;
