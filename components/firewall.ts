/**
 * The host firewall of a node: a pure function of the configuration that returns the port matrix as
 * data (what is open, to whom, why) and the nftables ruleset that implements it.
 *
 * The ruleset lives in its own table, `inet private_faas`, so the rules K3s, kube-proxy, flannel,
 * kube-router and fail2ban keep in their own tables are never touched. In nftables every base chain
 * of a hook sees the packet and a drop anywhere is final, so this table's drops hold whatever the
 * other tables accept, and it only has to accept what the cluster needs.
 *
 * Two hooks:
 * - `input` (policy drop): everything addressed to the host after NAT: the port matrix.
 * - `guard` (prerouting, just before kube-proxy's and the CNI portmap's DNAT): a new connection from
 *   outside the cluster to one of the host's addresses may only go to a public port. Without it a
 *   NodePort (30000-32767) or a pod's hostPort would be open to the internet: DNAT rewrites the
 *   destination to a pod and the packet is forwarded, so it never reaches an input chain. The guard
 *   also drops packets from outside the cluster addressed to pod or service addresses (a neighbour on
 *   the provider's network could otherwise route straight into pods).
 * Both jump to one `public` chain, so the public ports are written once.
 */
import { isIP } from "net";
import type { FlannelBackend, NodeRole } from "./config";

/** The nftables table (family inet: IPv4 and IPv6) this project owns on every node. */
export const FIREWALL_TABLE = "private_faas";

/** Kubernetes' default NodePort range (kube-apiserver --service-node-port-range). */
export const NODEPORT_RANGE: PortRange = [30000, 32767];

/** A node as the firewall sees it: its addresses and its role. */
export interface FirewallPeer {
    name: string;
    role: NodeRole;
    /** Address Pulumi reaches over SSH: an IP, or a DNS name (then `privateIp` must be set). */
    host: string;
    privateIp?: string;
}

export interface FirewallSpec {
    /** The node the ruleset is for. */
    node: FirewallPeer & { ingress: boolean; sshPort: number };
    /** Every other node of the cluster. */
    peers: FirewallPeer[];
    /** CIDR blocks of the operators: the Kubernetes API, and SSH when `restrictSshToAdminCidrs`. */
    adminCidrs: string[];
    /** Open SSH to `adminCidrs` only instead of to everyone. */
    restrictSshToAdminCidrs: boolean;
    /** Decides the overlay port: UDP 8472 (vxlan), UDP 51820/51821 (wireguard-native), none (host-gw). */
    flannelBackend: FlannelBackend;
    /** Pod range: pods reach the host (DNS, kubelet, metrics). */
    clusterCidr: string;
    /** Service range. */
    serviceCidr: string;
}

export type PortRange = [number, number];
/** Who may open a connection: everyone, the admin CIDRs, every node's addresses, the servers' addresses. */
export type Source = "anywhere" | "admins" | "nodes" | "servers";

export interface PortRule {
    /** Short name, e.g. "ssh", "kube-apiserver". */
    name: string;
    protocol: "tcp" | "udp";
    ports: PortRange[];
    from: Source;
    /** Why the port is open (also the rule's comment in the ruleset). */
    reason: string;
}

export interface Firewall {
    /** `inet private_faas`. */
    table: string;
    /** Reachable from outside the cluster (checked again before DNAT, see the guard chain). */
    publicRules: PortRule[];
    /** Reachable only from node addresses. */
    clusterRules: PortRule[];
    /** The addresses behind each source, plus the pod and service ranges. */
    addresses: { admins: string[]; nodes: string[]; servers: string[]; podsAndServices: string[] };
    /** Interfaces whose traffic comes from pods (CNI bridge, flannel overlay). */
    cniInterfaces: string[];
    /** The nftables ruleset: `nft -f` replaces this table atomically and touches nothing else. */
    ruleset: string;
}

/** The firewall of one node. Throws when a node has no IP address to admit it by. */
export function nodeFirewall(spec: FirewallSpec): Firewall {
    const everyone = [spec.node, ...spec.peers];
    const multiNode = everyone.length > 1;
    const addressesOf = (n: FirewallPeer): string[] => {
        const found = [n.host, n.privateIp].filter((a): a is string => a !== undefined && isIP(a) !== 0);
        if (found.length === 0 && multiNode) {
            throw new Error(
                `node "${n.name}": host "${n.host}" is a DNS name and privateIp is not set; the firewall admits cluster traffic by IP address, so give the node a privateIp (or an IP as host)`,
            );
        }
        return found;
    };
    const nodes = unique(everyone.flatMap(addressesOf));
    const servers = unique(everyone.filter((n) => n.role === "server").flatMap(addressesOf));
    const addresses = {
        admins: unique(spec.adminCidrs),
        nodes,
        servers,
        podsAndServices: unique([spec.clusterCidr, spec.serviceCidr]),
    };
    const isServer = spec.node.role === "server";
    const otherServers = spec.peers.filter((p) => p.role === "server").length;

    const publicRules: PortRule[] = [
        {
            name: "ssh",
            protocol: "tcp",
            ports: [[spec.node.sshPort, spec.node.sshPort]],
            from: spec.restrictSshToAdminCidrs ? "admins" : "anywhere",
            reason: spec.restrictSshToAdminCidrs ? "SSH from the admin CIDRs" : "SSH",
        },
    ];
    if (spec.node.ingress) {
        publicRules.push({ name: "ingress", protocol: "tcp", ports: [[80, 80], [443, 443]], from: "anywhere", reason: "HTTP/HTTPS ingress (Traefik)" });
    }
    if (isServer) {
        publicRules.push({ name: "kube-apiserver-admins", protocol: "tcp", ports: [[6443, 6443]], from: "admins", reason: "Kubernetes API from the admin CIDRs" });
    }

    const clusterRules: PortRule[] = [];
    if (isServer) {
        clusterRules.push({ name: "kube-apiserver", protocol: "tcp", ports: [[6443, 6443]], from: "nodes", reason: "Kubernetes API and K3s supervisor for the nodes" });
        if (otherServers > 0) {
            clusterRules.push({ name: "etcd", protocol: "tcp", ports: [[2379, 2380]], from: "servers", reason: "embedded etcd client and peer traffic between servers" });
        }
    }
    switch (spec.flannelBackend) {
        case "vxlan":
            clusterRules.push({ name: "flannel-vxlan", protocol: "udp", ports: [[8472, 8472]], from: "nodes", reason: "flannel VXLAN overlay" });
            break;
        case "wireguard-native":
            clusterRules.push({ name: "flannel-wireguard", protocol: "udp", ports: [[51820, 51821]], from: "nodes", reason: "flannel WireGuard overlay (51820 IPv4, 51821 IPv6)" });
            break;
        case "host-gw":
            break; // plain routing between nodes: no overlay port
    }
    clusterRules.push({ name: "kubelet", protocol: "tcp", ports: [[10250, 10250]], from: "nodes", reason: "kubelet API (logs, exec, metrics)" });

    const cniInterfaces = ["cni0", ...FLANNEL_INTERFACES[spec.flannelBackend]];
    const firewall = { table: `inet ${FIREWALL_TABLE}`, publicRules, clusterRules, addresses, cniInterfaces };
    return { ...firewall, ruleset: renderTable(buildTable(firewall)) };
}

/** Interfaces flannel creates per backend (IPv4, IPv6). */
const FLANNEL_INTERFACES: Record<FlannelBackend, string[]> = {
    vxlan: ["flannel.1", "flannel-v6.1"],
    "wireguard-native": ["flannel-wg", "flannel-wg-v6"],
    "host-gw": [],
};

function unique<T>(items: T[]): T[] {
    return [...new Set(items)];
}

// ---------------------------------------------------------------------------------------------------
// The ruleset as data, then as text
// ---------------------------------------------------------------------------------------------------

type Family = "ip" | "ip6";
const FAMILIES: { family: Family; setType: "ipv4_addr" | "ipv6_addr"; suffix: string; version: 4 | 6 }[] = [
    { family: "ip", setType: "ipv4_addr", suffix: "v4", version: 4 },
    { family: "ip6", setType: "ipv6_addr", suffix: "v6", version: 6 },
];

type Match =
    | { kind: "ct-state"; states: ("established" | "related" | "invalid")[] }
    | { kind: "iif"; name: string }
    | { kind: "iifname"; names: string[] }
    | { kind: "addr"; family: Family; dir: "saddr" | "daddr"; set?: string; prefix?: string }
    | { kind: "fib-daddr-not-local" }
    | { kind: "port"; protocol: "tcp" | "udp"; dir: "sport" | "dport"; ports: PortRange[] }
    | { kind: "icmp"; family: Family; types: string[] }
    | { kind: "l4proto"; protocols: string[] };

type Verdict = "accept" | "drop" | { jump: string };

interface Rule {
    matches: Match[];
    verdict: Verdict;
    comment?: string;
}

interface Chain {
    name: string;
    base?: { hook: "input" | "prerouting"; priority: string; policy: "accept" | "drop" };
    rules: Rule[];
}

interface AddressSet {
    name: string;
    type: "ipv4_addr" | "ipv6_addr";
    elements: string[];
}

interface Table {
    name: string;
    comment: string;
    sets: AddressSet[];
    chains: Chain[];
}

/** ICMP that IPv4 needs to work (path MTU discovery needs fragmentation-needed, a destination-unreachable code). */
const ICMP_TYPES = ["destination-unreachable", "time-exceeded", "parameter-problem", "echo-request"];
/** ICMPv6 that IPv6 needs to work (RFC 4890): errors, packet-too-big (PMTU), neighbour discovery, MLD. */
const ICMPV6_TYPES = [
    "destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem", "echo-request",
    "nd-router-solicit", "nd-router-advert", "nd-neighbor-solicit", "nd-neighbor-advert",
    "mld-listener-query", "mld-listener-report", "mld2-listener-report",
];

type SetKey = keyof Firewall["addresses"];
const SET_OF_SOURCE: Record<Exclude<Source, "anywhere">, SetKey> = { admins: "admins", nodes: "nodes", servers: "servers" };
const SET_NAMES: Record<SetKey, string> = { admins: "admins", nodes: "nodes", servers: "servers", podsAndServices: "pods_services" };

function buildTable(fw: Omit<Firewall, "ruleset">): Table {
    const sets: AddressSet[] = [];
    /** Name of the set holding the KEY addresses of one family, or undefined when there are none. */
    const setName = new Map<string, string>();
    for (const key of Object.keys(SET_NAMES) as SetKey[]) {
        for (const f of FAMILIES) {
            const elements = fw.addresses[key].filter((a) => isIP(a.split("/")[0]) === f.version);
            if (elements.length === 0) continue;
            const name = `${SET_NAMES[key]}_${f.suffix}`;
            sets.push({ name, type: f.setType, elements });
            setName.set(`${key}/${f.family}`, name);
        }
    }
    /** One rule per family that has addresses in SET (none when it is empty: nothing to admit). */
    const fromSet = (key: SetKey, dir: "saddr" | "daddr", rest: Match[], verdict: Verdict, comment?: string): Rule[] =>
        FAMILIES.flatMap((f) => {
            const set = setName.get(`${key}/${f.family}`);
            return set ? [{ matches: [{ kind: "addr", family: f.family, dir, set } as Match, ...rest], verdict, comment }] : [];
        });
    const portRules = (rules: PortRule[]): Rule[] =>
        rules.flatMap((r) => {
            const port: Match = { kind: "port", protocol: r.protocol, dir: "dport", ports: r.ports };
            return r.from === "anywhere"
                ? [{ matches: [port], verdict: "accept" as Verdict, comment: r.reason }]
                : fromSet(SET_OF_SOURCE[r.from], "saddr", [port], "accept", r.reason);
        });
    const fromInside: Rule[] = [
        { matches: [{ kind: "iif", name: "lo" }], verdict: "accept", comment: "loopback" },
        { matches: [{ kind: "iifname", names: fw.cniInterfaces }], verdict: "accept", comment: "from pods (CNI bridge, flannel)" },
    ];

    const guard: Chain = {
        name: "guard",
        base: { hook: "prerouting", priority: "dstnat - 10", policy: "accept" },
        rules: [
            { matches: [{ kind: "ct-state", states: ["established", "related"] }], verdict: "accept" },
            ...fromInside,
            ...fromSet("nodes", "saddr", [], "accept", "from a node"),
            ...fromSet("podsAndServices", "saddr", [], "accept", "from a pod"),
            ...fromSet("podsAndServices", "daddr", [], "drop", "pod and service addresses are not reachable from outside the cluster"),
            { matches: [{ kind: "fib-daddr-not-local" }], verdict: "accept", comment: "only traffic to this host's addresses is judged here" },
            { matches: [], verdict: { jump: "public" } },
            {
                matches: [{ kind: "l4proto", protocols: ["tcp", "udp", "sctp"] }],
                verdict: "drop",
                comment: `not a public port: NodePorts (${NODEPORT_RANGE.join("-")}) and hostPorts are DNATed before the input chain`,
            },
        ],
    };
    const input: Chain = {
        name: "input",
        base: { hook: "input", priority: "filter", policy: "drop" },
        rules: [
            { matches: [{ kind: "ct-state", states: ["established", "related"] }], verdict: "accept" },
            { matches: [{ kind: "ct-state", states: ["invalid"] }], verdict: "drop" },
            ...fromInside,
            { matches: [{ kind: "icmp", family: "ip", types: ICMP_TYPES }], verdict: "accept", comment: "ICMP errors (PMTU), ping" },
            { matches: [{ kind: "icmp", family: "ip6", types: ICMPV6_TYPES }], verdict: "accept", comment: "ICMPv6 errors (PMTU), neighbour discovery, MLD, ping" },
            {
                matches: [
                    { kind: "addr", family: "ip6", dir: "saddr", prefix: "fe80::/10" },
                    { kind: "port", protocol: "udp", dir: "sport", ports: [[547, 547]] },
                    { kind: "port", protocol: "udp", dir: "dport", ports: [[546, 546]] },
                ],
                verdict: "accept",
                comment: "DHCPv6 replies (the request went to a multicast address, so conntrack cannot match them)",
            },
            ...fromSet("podsAndServices", "saddr", [], "accept", "from a pod"),
            ...portRules(fw.clusterRules),
            { matches: [], verdict: { jump: "public" } },
        ],
    };
    const publicChain: Chain = { name: "public", rules: portRules(fw.publicRules) };
    return {
        name: FIREWALL_TABLE,
        comment: "private-faas host firewall (managed by Pulumi; see README, Nodes)",
        sets,
        chains: [guard, input, publicChain],
    };
}

function renderPorts(ports: PortRange[]): string {
    const items = ports.map(([from, to]) => (from === to ? `${from}` : `${from}-${to}`));
    return items.length === 1 ? items[0] : `{ ${items.join(", ")} }`;
}

function renderList(items: string[]): string {
    return items.length === 1 ? items[0] : `{ ${items.join(", ")} }`;
}

function renderMatch(m: Match): string {
    switch (m.kind) {
        case "ct-state":
            return `ct state ${m.states.join(",")}`;
        case "iif":
            return `iif ${quote(m.name)}`;
        case "iifname":
            return `iifname ${renderList(m.names.map(quote))}`;
        case "addr":
            return `${m.family} ${m.dir} ${m.set !== undefined ? `@${m.set}` : m.prefix}`;
        case "fib-daddr-not-local":
            return "fib daddr type != local";
        case "port":
            return `${m.protocol} ${m.dir} ${renderPorts(m.ports)}`;
        case "icmp":
            return `${m.family === "ip" ? "icmp" : "icmpv6"} type ${renderList(m.types)}`;
        case "l4proto":
            return `meta l4proto ${renderList(m.protocols)}`;
    }
}

function renderRule(r: Rule): string {
    const verdict = typeof r.verdict === "string" ? r.verdict : `jump ${r.verdict.jump}`;
    const parts = [...r.matches.map(renderMatch), verdict];
    if (r.comment !== undefined) parts.push(`comment ${quote(r.comment)}`);
    return parts.join(" ");
}

function quote(text: string): string {
    if (/["\\\n]/.test(text)) throw new Error(`nftables string cannot hold ${JSON.stringify(text)}`);
    return `"${text}"`;
}

/**
 * The table as an `nft -f` file. Declaring the table first makes the delete succeed when it does not
 * exist yet; the whole file is one transaction, so the host is never without the rules in between.
 */
function renderTable(t: Table): string {
    const out: string[] = [
        "#!/usr/sbin/nft -f",
        `# ${t.comment}`,
        `table inet ${t.name}`,
        `delete table inet ${t.name}`,
        "",
        `table inet ${t.name} {`,
    ];
    for (const s of t.sets) {
        out.push(`\tset ${s.name} {`, `\t\ttype ${s.type}`, "\t\tflags interval", "\t\tauto-merge", `\t\telements = { ${s.elements.join(", ")} }`, "\t}", "");
    }
    t.chains.forEach((c, i) => {
        out.push(`\tchain ${c.name} {`);
        if (c.base) out.push(`\t\ttype filter hook ${c.base.hook} priority ${c.base.priority}; policy ${c.base.policy};`);
        for (const r of c.rules) out.push(`\t\t${renderRule(r)}`);
        out.push("\t}");
        if (i < t.chains.length - 1) out.push("");
    });
    out.push("}", "");
    return out.join("\n");
}
