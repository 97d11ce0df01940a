/**
 * K3s configuration files, rendered from the stack configuration. Pure functions, tested directly.
 *
 * Every node gets `/etc/rancher/k3s/config.yaml` (options as K3s documents them, without the leading
 * "--"). The cluster token is never in it: `token-file` names a file the install script writes from
 * its standard input, so the rendered configuration is not secret and can be shown and checked.
 *
 * Options that must be identical on every server (docs.k3s.io cli/server, "Critical Configuration
 * Values": CIDRs, cluster DNS and domain, flannel backend and external IP, disabled components,
 * secrets encryption) all come from `clusterOptions`, so two servers cannot be rendered differently.
 */
import { isIP } from "net";
import * as YAML from "yaml";
import { effectiveFlannelBackend, K3sConfig, NodeConfig } from "./config";

/** Paths on the hosts (defaults of K3s and of its CIS hardening guide). */
export const K3S_PATHS = {
    config: "/etc/rancher/k3s/config.yaml",
    tokenFile: "/etc/rancher/k3s/cluster-token",
    kubeconfig: "/etc/rancher/k3s/k3s.yaml",
    podSecurity: "/var/lib/rancher/k3s/server/psa.yaml",
    auditPolicy: "/var/lib/rancher/k3s/server/audit.yaml",
    auditLog: "/var/lib/rancher/k3s/server/logs/audit.log",
} as const;

export const API_PORT = 6443;

/** With this label on some nodes, ServiceLB (and so Traefik's LoadBalancer Service) runs only there. */
export const SERVICELB_NODE_LABEL = "svccontroller.k3s.cattle.io/enablelb";

/**
 * Packaged components every server starts without. Empty: Traefik (the ingress, configured by the
 * platform layer), ServiceLB (which publishes it on the ingress nodes), CoreDNS, local-path storage
 * and metrics-server all stay.
 */
export const DISABLED_COMPONENTS: readonly string[] = [];

/** A config.yaml: option name → value. */
export type K3sConfigFile = Record<string, string | boolean | string[]>;

export function serverNodes(nodes: readonly NodeConfig[]): NodeConfig[] {
    return nodes.filter((n) => n.role === "server");
}

export function agentNodes(nodes: readonly NodeConfig[]): NodeConfig[] {
    return nodes.filter((n) => n.role === "agent");
}

/** The server that initialises the cluster (cluster-init) and that the others join: the first listed. */
export function firstServer(nodes: readonly NodeConfig[]): NodeConfig {
    const first = nodes.find((n) => n.role === "server");
    if (!first) throw new Error("a K3s cluster needs at least one node with role server");
    return first;
}

/** `https://HOST:6443`, with an IPv6 address in brackets. */
export function apiUrl(host: string): string {
    return `https://${isIP(host) === 6 ? `[${host}]` : host}:${API_PORT}`;
}

/** Pod traffic crosses a public network when some node has no private address. */
export function usesPublicNetwork(nodes: readonly NodeConfig[]): boolean {
    return nodes.some((n) => n.privateIp === undefined);
}

/** The options that must match on every server, from this one place. */
export function clusterOptions(nodes: readonly NodeConfig[], k3s: K3sConfig): K3sConfigFile {
    return {
        "cluster-cidr": k3s.clusterCidr,
        "service-cidr": k3s.serviceCidr,
        "cluster-dns": k3s.clusterDns,
        "cluster-domain": k3s.clusterDomain,
        "flannel-backend": effectiveFlannelBackend({ nodes, k3s }),
        // Without a private network, nodes reach each other's pods through their public addresses.
        "flannel-external-ip": usesPublicNetwork(nodes),
        ...(DISABLED_COMPONENTS.length > 0 ? { disable: [...DISABLED_COMPONENTS] } : {}),
        "secrets-encryption": k3s.secretsEncryption,
    };
}

/** Every name or address clients use for the API: the endpoint, each server's addresses, the extra SANs. */
export function tlsSans(nodes: readonly NodeConfig[], k3s: K3sConfig): string[] {
    const all = [
        ...(k3s.apiEndpoint !== undefined ? [k3s.apiEndpoint] : []),
        ...serverNodes(nodes).flatMap((s) => [s.host, ...(s.privateIp !== undefined ? [s.privateIp] : [])]),
        ...k3s.tlsSans,
    ];
    return [...new Set(all)];
}

/** The address NODE uses to join the first server: the private one when both have a private network. */
export function joinAddress(node: NodeConfig, nodes: readonly NodeConfig[]): string {
    const first = firstServer(nodes);
    return node.privateIp !== undefined && first.privateIp !== undefined ? first.privateIp : first.host;
}

function family(address: string): number {
    return isIP(address.split("/")[0]);
}

/**
 * The node's public address as K3s' node-external-ip: the SSH host when it is an IP of the cluster's
 * address family and not the private address. (A DNS name cannot be given; K3s then uses node-ip.)
 */
export function externalIp(node: NodeConfig, k3s: K3sConfig): string | undefined {
    const f = family(node.host);
    return f !== 0 && f === family(k3s.clusterCidr) && node.host !== node.privateIp ? node.host : undefined;
}

/** Node labels: the configured ones, plus the ServiceLB label on ingress nodes. Sorted, "key=value". */
export function nodeLabels(node: NodeConfig): string[] {
    const labels: Record<string, string> = { ...node.labels };
    if (node.ingress) labels[SERVICELB_NODE_LABEL] = "true";
    return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`);
}

/** kube-apiserver flags of the CIS hardening guide: Pod Security Admission and the audit log. */
export function apiServerArgs(): string[] {
    return [
        `admission-control-config-file=${K3S_PATHS.podSecurity}`,
        `audit-log-path=${K3S_PATHS.auditLog}`,
        `audit-policy-file=${K3S_PATHS.auditPolicy}`,
        "audit-log-maxage=30",
        "audit-log-maxbackup=10",
        "audit-log-maxsize=100",
    ];
}

/** The config.yaml of NODE (a server or an agent) in the cluster NODES. */
export function nodeConfig(node: NodeConfig, nodes: readonly NodeConfig[], k3s: K3sConfig): K3sConfigFile {
    const isFirst = node.role === "server" && firstServer(nodes).name === node.name;
    const external = externalIp(node, k3s);
    const labels = nodeLabels(node);
    const file: K3sConfigFile = {
        "node-name": node.name,
        "token-file": K3S_PATHS.tokenFile,
        ...(isFirst ? { "cluster-init": true } : { server: apiUrl(joinAddress(node, nodes)) }),
        ...(node.privateIp !== undefined ? { "node-ip": node.privateIp } : {}),
        ...(external !== undefined ? { "node-external-ip": external } : {}),
        ...(node.flannelIface !== undefined ? { "flannel-iface": node.flannelIface } : {}),
        ...(labels.length > 0 ? { "node-label": labels } : {}),
        "protect-kernel-defaults": true,
    };
    if (node.role === "agent") return file;
    return {
        ...file,
        // The API and etcd stay on the private network when there is one.
        ...(node.privateIp !== undefined ? { "advertise-address": node.privateIp } : {}),
        "tls-san": tlsSans(nodes, k3s),
        "write-kubeconfig-mode": "0600",
        ...clusterOptions(nodes, k3s),
        "kube-apiserver-arg": apiServerArgs(),
    };
}

/** YAML text of a config file (or any document). */
export function toYaml(doc: unknown): string {
    return YAML.stringify(doc, { lineWidth: 0 });
}

/** Pod Security Admission defaults: enforce (and audit, warn) `restricted`, kube-system exempt. */
export function podSecurityAdmissionConfig(): string {
    return toYaml({
        apiVersion: "apiserver.config.k8s.io/v1",
        kind: "AdmissionConfiguration",
        plugins: [
            {
                name: "PodSecurity",
                configuration: {
                    apiVersion: "pod-security.admission.config.k8s.io/v1",
                    kind: "PodSecurityConfiguration",
                    defaults: {
                        enforce: "restricted",
                        "enforce-version": "latest",
                        audit: "restricted",
                        "audit-version": "latest",
                        warn: "restricted",
                        "warn-version": "latest",
                    },
                    exemptions: { usernames: [], runtimeClasses: [], namespaces: ["kube-system"] },
                },
            },
        ],
    });
}

/** API audit policy: request metadata for everything (never bodies: they would hold Secrets). */
export function auditPolicy(): string {
    return toYaml({ apiVersion: "audit.k8s.io/v1", kind: "Policy", rules: [{ level: "Metadata" }] });
}

/** Things that work but that an operator should know, shown as warnings by the component. */
export function clusterWarnings(nodes: readonly NodeConfig[], k3s: K3sConfig): string[] {
    const warnings: string[] = [];
    const backend = effectiveFlannelBackend({ nodes, k3s });
    if (usesPublicNetwork(nodes) && backend !== "wireguard-native") {
        warnings.push(
            `k3s.flannelBackend is "${backend}" while ${nodes.filter((n) => n.privateIp === undefined).map((n) => n.name).join(", ")} ` +
                "have no privateIp: pod traffic between nodes crosses a public network unencrypted; wireguard-native encrypts it",
        );
    }
    const publicServers = serverNodes(nodes).filter((n) => n.privateIp === undefined);
    if (serverNodes(nodes).length > 1 && publicServers.length > 0) {
        warnings.push(
            `servers ${publicServers.map((n) => n.name).join(", ")} have no privateIp: embedded etcd will run between ` +
                "public addresses; K3s expects servers to reach each other over a low-latency private network",
        );
    }
    return warnings;
}
