/**
 * private-faas: hardened K3s + OpenFaaS on rented EU servers.
 * Validates the whole configuration before registering anything, then builds the layers.
 */
import { loadStackConfig, effectiveFlannelBackend } from "./components/config";
import { VpsNode } from "./components/vpsNode";

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
/** Measured fdatasync p99 (ms) of each node's K3s data directory. */
export const nodeDiskFsyncP99Ms = Object.fromEntries(vpsNodes.map((n) => [n.name, n.diskFsyncP99Ms]));
