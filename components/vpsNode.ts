/**
 * VpsNode: one rented host, prepared for K3s over SSH. In order:
 *
 *   facts → packages → disk check → harden → firewall
 *
 * - facts (read-only) first: it refuses an unsupported OS or a host smaller than declared before
 *   anything on the host changes;
 * - packages: what the later steps need, installed only when missing;
 * - disk check: etcd's fdatasync test on the filesystem of the K3s data directory; a disk too slow
 *   for etcd stops the node here, before it is hardened or joins anything;
 * - harden: automatic security updates, key-only SSH, fail2ban, kernel settings;
 * - firewall last: the step that could cut the SSH session if the rules were wrong runs after
 *   everything else succeeded, and still before K3s opens a single port (K3sCluster depends on
 *   `ready`, the firewall step).
 *
 * Works in preview (stdout unknown: facts and measurements are unknown, the firewall is known since
 * it is a pure function of the configuration) and with real stdout (parsed and validated).
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { z } from "zod";
import type { FlannelBackend, NodeConfig, SshConfig } from "./config";
import { sshConnection } from "./connection";
import { hostCommand } from "./hostCommand";
import { Firewall, FirewallPeer, nodeFirewall } from "./firewall";
import { resolveCountry } from "../policies/locations";

export const VPS_NODE_TYPE = "private-faas:cluster:VpsNode";

/** Packages the host scripts use (scripts/packages.sh installs the missing ones). */
export const HOST_PACKAGES = ["fio", "jq", "nftables", "fail2ban", "python3-systemd", "unattended-upgrades"];

/**
 * How far MemTotal may fall short of the declared memory, percent: the kernel keeps 2-4 % of the RAM
 * for itself and a kdump crash kernel takes 320-512 MiB (Ubuntu), so an "8 GB" host shows 7.2-7.8 GiB.
 */
export const MEMORY_TOLERANCE_PERCENT = 12;

/** The K3s data directory, whose filesystem the disk check measures. */
export const K3S_DATA_DIR = "/var/lib/rancher/k3s";

export interface VpsNodeArgs {
    /** The node as configured: name, role, host, location, declared size, addresses, ingress. */
    node: NodeConfig;
    /** SSH user, private key (a secret) and dial limits, shared by every host. */
    ssh: SshConfig;
    /** The other nodes of the cluster: the firewall admits cluster traffic from their addresses. */
    peers: FirewallPeer[];
    /** Operators' CIDR blocks: they reach the Kubernetes API, and SSH with `ssh.restrictToAdminCidrs`. */
    adminCidrs: string[];
    /** The flannel backend in effect (effectiveFlannelBackend): UDP 8472 (vxlan) or 51820/51821 (wireguard-native). */
    flannelBackend: FlannelBackend;
    /** Pod range: pods reach the host. */
    clusterCidr: string;
    /** Service range. */
    serviceCidr: string;
    /** The disk check fails above this fdatasync p99, milliseconds (k3s.diskCheck.serverMaxP99Ms / agentMaxP99Ms). */
    maxFsyncP99Ms: number;
}

const hostFactsSchema = z.object({
    os: z.object({ id: z.string(), versionId: z.string(), prettyName: z.string() }),
    kernel: z.string(),
    arch: z.string(),
    vcpus: z.int().positive(),
    memoryKiB: z.int().positive(),
    disks: z.array(
        z.object({ name: z.string(), sizeBytes: z.number().nonnegative(), rotational: z.boolean(), transport: z.string().nullable() }),
    ),
});
/** What scripts/facts.sh reports. `rotational` is the kernel's flag, a hint only. */
export type HostFacts = z.infer<typeof hostFactsSchema>;

const diskCheckSchema = z.object({
    dataDir: z.string(),
    testedDir: z.string(),
    filesystem: z.object({ source: z.string(), fstype: z.string() }),
    rotational: z.boolean().nullable(),
    fsyncP99Ms: z.number().nonnegative(),
    limitMs: z.number().positive(),
    fdatasyncs: z.int().nonnegative(),
});
/** What scripts/disk-check.sh reports. */
export type DiskCheck = z.infer<typeof diskCheckSchema>;

function parseReport<T>(schema: z.ZodType<T>, node: string, script: string, stdout: string): T {
    let value: unknown;
    try {
        value = JSON.parse(stdout);
    } catch {
        throw new Error(`node "${node}": ${script} printed no JSON document: ${JSON.stringify(stdout.slice(0, 200))}`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
        const first = parsed.error.issues[0];
        throw new Error(`node "${node}": ${script} printed an unexpected document (${first.path.join(".") || "top level"}: ${first.message})`);
    }
    return parsed.data;
}

/** Parses and checks the stdout of scripts/facts.sh. */
export function parseHostFacts(node: string, stdout: string): HostFacts {
    return parseReport(hostFactsSchema, node, "facts.sh", stdout);
}

/** Parses and checks the stdout of scripts/disk-check.sh. */
export function parseDiskCheck(node: string, stdout: string): DiskCheck {
    return parseReport(diskCheckSchema, node, "disk-check.sh", stdout);
}

export class VpsNode extends pulumi.ComponentResource {
    /** Node name (Kubernetes node name). */
    readonly name: string;
    readonly role: NodeConfig["role"];
    /** Address Pulumi reaches over SSH. */
    readonly host: string;
    /** Address on the private network between the nodes, when there is one. */
    readonly privateIp?: string;
    /** The SSH connection of this host (key as a secret), for further commands on it. */
    readonly connection: command.types.input.remote.ConnectionArgs;
    /** What the host is: OS, kernel, architecture, vCPUs, memory, disks. Unknown in preview. */
    readonly facts: pulumi.Output<HostFacts>;
    /** The disk check's report. Unknown in preview. */
    readonly diskCheck: pulumi.Output<DiskCheck>;
    /** Measured fdatasync p99 on the K3s data directory's filesystem, milliseconds. */
    readonly diskFsyncP99Ms: pulumi.Output<number>;
    /** The host firewall: port matrix and nftables ruleset (known in preview). */
    readonly firewall: Firewall;
    /** The last step (firewall): once it is done the host is checked, hardened and firewalled. K3s installs depend on it. */
    readonly ready: pulumi.Resource;

    constructor(name: string, args: VpsNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        const { node } = args;
        // Everything that can be wrong with the inputs throws here, before anything is registered.
        if (!(args.maxFsyncP99Ms > 0)) {
            throw new Error(`node "${node.name}": maxFsyncP99Ms must be a positive number of milliseconds, got ${args.maxFsyncP99Ms}`);
        }
        const firewall = nodeFirewall({
            node: { name: node.name, role: node.role, host: node.host, privateIp: node.privateIp, ingress: node.ingress, sshPort: node.sshPort },
            peers: args.peers,
            adminCidrs: args.adminCidrs,
            restrictSshToAdminCidrs: args.ssh.restrictToAdminCidrs,
            flannelBackend: args.flannelBackend,
            clusterCidr: args.clusterCidr,
            serviceCidr: args.serviceCidr,
        });
        const identity = {
            name: node.name,
            role: node.role,
            host: node.host,
            provider: node.provider,
            region: node.region,
            country: resolveCountry(node.provider, node.region, node.country),
            storage: node.storage,
            vcpu: node.vcpu,
            memoryGb: node.memoryGb,
        };
        // Policies read the component's inputs: the identity at the top level, then the real args.
        super(VPS_NODE_TYPE, name, { ...identity, ...args }, opts);

        this.name = node.name;
        this.role = node.role;
        this.host = node.host;
        this.privateIp = node.privateIp;
        this.firewall = firewall;
        this.connection = sshConnection({ host: node.host, port: node.sshPort, hostKey: node.hostKey }, args.ssh);

        const step = (suffix: string, script: string, env: Record<string, pulumi.Input<string | number>>, after?: pulumi.Resource) =>
            new command.remote.Command(
                `${name}-${suffix}`,
                { connection: this.connection, create: hostCommand(script, env) },
                { parent: this, dependsOn: after ? [after] : [] },
            );

        const factsCmd = step("facts", "facts.sh", {
            NODE_NAME: node.name,
            DECLARED_VCPU: node.vcpu,
            DECLARED_MEMORY_GB: node.memoryGb,
            MEMORY_TOLERANCE_PERCENT,
        });
        const packagesCmd = step("packages", "packages.sh", { PACKAGES: HOST_PACKAGES.join(" ") }, factsCmd);
        const diskCmd = step(
            "disk-check",
            "disk-check.sh",
            {
                NODE_NAME: node.name,
                MAX_P99_MS: args.maxFsyncP99Ms,
                LIMIT_KEY: `private-faas:k3s.diskCheck.${node.role}MaxP99Ms`,
                K3S_DATA_DIR,
            },
            packagesCmd,
        );
        const hardenCmd = step("harden", "harden.sh", { SSH_PORT: node.sshPort }, diskCmd);
        const firewallCmd = step("firewall", "firewall.sh", { NFT_RULESET: firewall.ruleset }, hardenCmd);
        this.ready = firewallCmd;

        this.facts = factsCmd.stdout.apply((out) => parseHostFacts(node.name, out));
        this.diskCheck = diskCmd.stdout.apply((out) => parseDiskCheck(node.name, out));
        this.diskFsyncP99Ms = this.diskCheck.apply((d) => d.fsyncP99Ms);

        const { ruleset, ...rules } = firewall;
        this.registerOutputs({
            ...identity,
            privateIp: node.privateIp,
            ingress: node.ingress,
            facts: this.facts,
            diskCheck: this.diskCheck,
            diskFsyncP99Ms: this.diskFsyncP99Ms,
            firewall: rules,
            firewallRuleset: ruleset,
        });
    }
}
