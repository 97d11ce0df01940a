/**
 * Test stacks for a fleet: the `config:` map of a Pulumi.<stack>.yaml whose nodes are the fleet's
 * hosts (public address, pinned host key, private address when the fleet has a private network) and
 * whose SSH key is the operator's. Everything else comes from the prod stack unless overridden.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { prodConfig } from "../helpers/plan";
import { StandinRegistry, useRegistry, writeReleaseTree } from "../harness/k3sStandin";
import { Fleet, OPERATOR_ADDRESS, SHARED_MOUNT } from "./fleet";

export interface FleetNode {
    /** The fleet host this node is. */
    host: string;
    role: "server" | "agent";
    /** Further fields of the node (name defaults to the host's name), e.g. ingress, labels. */
    [field: string]: unknown;
}

/**
 * What every fleet host has, since each one is this machine: its vCPUs and its memory in whole GiB
 * (MemTotal rounded down, so the facts step's tolerance is never needed).
 */
export function fleetHostSize(): { vcpu: number; memoryGb: number } {
    return { vcpu: os.cpus().length, memoryGb: Math.floor(os.totalmem() / 2 ** 30) };
}

/**
 * NODES on FLEET as a stack's `config:` map; CONFIG adds or replaces keys ("private-faas:edge": ...).
 * Nodes declare the size they really have (fleetHostSize) and NVMe storage in coolvds/oslo (what the
 * node facts cannot contradict). The operator's address is the only admin CIDR.
 */
export function fleetStack(fleet: Fleet, nodes: FleetNode[], config: Record<string, unknown> = {}): Record<string, unknown> {
    const prod = prodConfig();
    return {
        ...prod,
        "private-faas:nodes": nodes.map(({ host, role, ...fields }) => {
            const h = fleet.host(host);
            return {
                name: h.name,
                role,
                host: h.address,
                provider: "coolvds",
                region: "oslo",
                storage: "nvme",
                ...fleetHostSize(),
                hostKey: h.hostKey,
                ...(h.privateAddress ? { privateIp: h.privateAddress, flannelIface: "eth1" } : {}),
                ...fields,
            };
        }),
        "private-faas:ssh": { user: "root", privateKey: fleet.operator.privateKey, dialErrorLimit: 5, perDialTimeoutSeconds: 5 },
        "private-faas:adminCidrs": [`${OPERATOR_ADDRESS}/32`],
        ...config,
    };
}

/** The K3s stand-in on a fleet: where its installer and releases are served, and its registry. */
export interface FleetK3s {
    /** For `private-faas:k3s`: the stand-in install script and release tree on the fleet's mirror. */
    installScriptUrl: string;
    releaseMirror: string;
    /** The cluster registry every host's stand-in `k3s` shares (in the fleet's shared directory). */
    registry: StandinRegistry;
}

/**
 * Serves the K3s stand-in's install script and releases of VERSIONS from the fleet's mirror (the
 * internet side, as get.k3s.io and GitHub would be) and points every host's stand-in `k3s` at one
 * registry in the fleet's shared directory.
 */
export async function fleetK3sStandin(fleet: Fleet, versions: string[]): Promise<FleetK3s> {
    const tree = path.join(fleet.dir, "k3s-mirror");
    fs.mkdirSync(tree, { mode: 0o755 });
    writeReleaseTree(tree, versions);
    const url = await fleet.serve(tree);
    for (const host of fleet.hosts) useRegistry(host.root.dir, `${SHARED_MOUNT}/k3s-registry`);
    return {
        installScriptUrl: `${url}/install.sh`,
        releaseMirror: `${url}/releases`,
        registry: new StandinRegistry(path.join(fleet.sharedDir, "k3s-registry")),
    };
}
