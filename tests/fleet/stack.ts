/**
 * Test stacks for a fleet: the `config:` map of a Pulumi.<stack>.yaml whose nodes are the fleet's
 * hosts (public address, pinned host key, private address when the fleet has a private network) and
 * whose SSH key is the operator's. Everything else comes from the prod stack unless overridden.
 */
import { prodConfig } from "../helpers/plan";
import { Fleet, OPERATOR_ADDRESS } from "./fleet";

export interface FleetNode {
    /** The fleet host this node is. */
    host: string;
    role: "server" | "agent";
    /** Further fields of the node (name defaults to the host's name), e.g. ingress, labels. */
    [field: string]: unknown;
}

/**
 * NODES on FLEET as a stack's `config:` map; CONFIG adds or replaces keys ("private-faas:edge": ...).
 * Nodes declare 1 vCPU and 1 GB, which every fleet host has (they are this machine), and NVMe storage in
 * coolvds/oslo (what the node facts cannot contradict). The operator's address is the only admin CIDR.
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
                vcpu: 1,
                memoryGb: 1,
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
