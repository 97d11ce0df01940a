import { spawnSync } from "child_process";
import { FirewallSpec, nodeFirewall, PortRule } from "../components/firewall";

const base = (overrides: Partial<FirewallSpec> = {}): FirewallSpec => ({
    node: { name: "s1", role: "server", host: "192.0.2.10", ingress: true, sshPort: 22 },
    peers: [],
    adminCidrs: ["198.51.100.0/24"],
    restrictSshToAdminCidrs: false,
    flannelBackend: "wireguard-native",
    clusterCidr: "10.42.0.0/16",
    serviceCidr: "10.43.0.0/16",
    ...overrides,
});

/** The HA shape: three servers and two agents on a private network. */
const ha = (name: string, overrides: Partial<FirewallSpec> = {}): FirewallSpec => {
    const all = [
        { name: "s1", role: "server" as const, host: "203.0.113.21", privateIp: "10.0.1.21" },
        { name: "s2", role: "server" as const, host: "203.0.113.22", privateIp: "10.0.1.22" },
        { name: "s3", role: "server" as const, host: "203.0.113.23", privateIp: "10.0.1.23" },
        { name: "a1", role: "agent" as const, host: "203.0.113.31", privateIp: "10.0.1.31" },
        { name: "a2", role: "agent" as const, host: "2001:db8::32", privateIp: "10.0.1.32" },
    ];
    const self = all.find((n) => n.name === name)!;
    return base({
        node: { ...self, ingress: self.role === "agent", sshPort: 22 },
        peers: all.filter((n) => n !== self),
        flannelBackend: "vxlan",
        ...overrides,
    });
};

const summary = (rules: PortRule[]) => rules.map((r) => `${r.protocol} ${r.ports.map(([a, b]) => (a === b ? a : `${a}-${b}`)).join(",")} from ${r.from}`);

/** The rules of one chain of the ruleset text, trimmed. */
function chain(ruleset: string, name: string): string[] {
    const m = new RegExp(`\\tchain ${name} \\{\\n([\\s\\S]*?)\\n\\t\\}`).exec(ruleset);
    if (!m) throw new Error(`no chain ${name}`);
    return m[1].split("\n").map((l) => l.trim());
}

describe("nodeFirewall: port matrix", () => {
    test("single server with ingress: SSH and 80/443 public, API for admins, no etcd, overlay and kubelet only from nodes", () => {
        const fw = nodeFirewall(base());
        expect(summary(fw.publicRules)).toEqual(["tcp 22 from anywhere", "tcp 80,443 from anywhere", "tcp 6443 from admins"]);
        expect(summary(fw.clusterRules)).toEqual(["tcp 6443 from nodes", "udp 51820-51821 from nodes", "tcp 10250 from nodes"]);
        expect(fw.addresses).toEqual({ admins: ["198.51.100.0/24"], nodes: ["192.0.2.10"], servers: ["192.0.2.10"], podsAndServices: ["10.42.0.0/16", "10.43.0.0/16"] });
        expect(fw.cniInterfaces).toEqual(["cni0", "flannel-wg", "flannel-wg-v6"]);
        expect(fw.ruleset).not.toMatch(/2379/);
    });

    test("HA server on a private network: etcd only from servers (public and private addresses), VXLAN, no ingress", () => {
        const fw = nodeFirewall(ha("s1"));
        expect(summary(fw.publicRules)).toEqual(["tcp 22 from anywhere", "tcp 6443 from admins"]);
        expect(summary(fw.clusterRules)).toEqual(["tcp 6443 from nodes", "tcp 2379-2380 from servers", "udp 8472 from nodes", "tcp 10250 from nodes"]);
        expect(fw.addresses.servers).toEqual(["203.0.113.21", "10.0.1.21", "203.0.113.22", "10.0.1.22", "203.0.113.23", "10.0.1.23"]);
        expect(fw.addresses.nodes).toEqual(expect.arrayContaining(["203.0.113.31", "10.0.1.31", "2001:db8::32", "10.0.1.32"]));
        const input = chain(fw.ruleset, "input");
        expect(input).toContain('ip saddr @servers_v4 tcp dport 2379-2380 accept comment "embedded etcd client and peer traffic between servers"');
        expect(input).toContain('ip6 saddr @nodes_v6 udp dport 8472 accept comment "flannel VXLAN overlay"');
        // no IPv6 server, so no IPv6 etcd rule
        expect(input.some((l) => l.startsWith("ip6 saddr @servers_v6"))).toBe(false);
        expect(fw.ruleset).toMatch(/set servers_v4 \{[^}]*elements = \{ 203\.0\.113\.21, 10\.0\.1\.21, 203\.0\.113\.22, 10\.0\.1\.22, 203\.0\.113\.23, 10\.0\.1\.23 \}/);
    });

    test("HA agent with ingress: 80/443 public, no API and no etcd port at all", () => {
        const fw = nodeFirewall(ha("a1"));
        expect(summary(fw.publicRules)).toEqual(["tcp 22 from anywhere", "tcp 80,443 from anywhere"]);
        expect(summary(fw.clusterRules)).toEqual(["udp 8472 from nodes", "tcp 10250 from nodes"]);
        expect(fw.ruleset).not.toMatch(/6443|2379/);
    });

    test("a node without ingress has no 80/443 anywhere, and the guard drops what DNAT would carry there", () => {
        const fw = nodeFirewall(base({ node: { ...base().node, ingress: false } }));
        expect(fw.ruleset).not.toMatch(/\b(80|443)\b/);
        const guard = chain(fw.ruleset, "guard");
        expect(guard.slice(-2)).toEqual([
            "jump public",
            'meta l4proto { tcp, udp, sctp } drop comment "not a public port: NodePorts (30000-32767) and hostPorts are DNATed before the input chain"',
        ]);
    });

    test("restricted SSH: port 22 only from the admin CIDRs of each family, on the configured port", () => {
        const fw = nodeFirewall(
            base({ restrictSshToAdminCidrs: true, adminCidrs: ["198.51.100.0/24", "2001:db8:a::/48"], node: { ...base().node, sshPort: 2222 } }),
        );
        expect(summary(fw.publicRules)[0]).toBe("tcp 2222 from admins");
        expect(chain(fw.ruleset, "public")).toEqual([
            'ip saddr @admins_v4 tcp dport 2222 accept comment "SSH from the admin CIDRs"',
            'ip6 saddr @admins_v6 tcp dport 2222 accept comment "SSH from the admin CIDRs"',
            'tcp dport { 80, 443 } accept comment "HTTP/HTTPS ingress (Traefik)"',
            'ip saddr @admins_v4 tcp dport 6443 accept comment "Kubernetes API from the admin CIDRs"',
            'ip6 saddr @admins_v6 tcp dport 6443 accept comment "Kubernetes API from the admin CIDRs"',
        ]);
        expect(fw.ruleset).not.toMatch(/dport 22\b/);
    });

    test("host-gw: no overlay port and no flannel interface", () => {
        const fw = nodeFirewall(ha("s2", { flannelBackend: "host-gw" }));
        expect(fw.clusterRules.map((r) => r.name)).toEqual(["kube-apiserver", "etcd", "kubelet"]);
        expect(fw.cniInterfaces).toEqual(["cni0"]);
    });

    test("input: policy drop; state, loopback, pods, ICMP for PMTU and neighbour discovery come first", () => {
        const fw = nodeFirewall(base());
        expect(fw.ruleset).toMatch(/chain input \{\n\t\ttype filter hook input priority filter; policy drop;/);
        const input = chain(fw.ruleset, "input");
        expect(input.slice(1, 5)).toEqual([
            "ct state established,related accept",
            "ct state invalid drop",
            'iif "lo" accept comment "loopback"',
            'iifname { "cni0", "flannel-wg", "flannel-wg-v6" } accept comment "from pods (CNI bridge, flannel)"',
        ]);
        expect(input.join("\n")).toMatch(/icmp type \{ destination-unreachable, time-exceeded, parameter-problem, echo-request \} accept/);
        expect(input.join("\n")).toMatch(/icmpv6 type \{[^}]*packet-too-big[^}]*nd-neighbor-solicit, nd-neighbor-advert[^}]*\} accept/);
        expect(input).toContain('ip saddr @pods_services_v4 accept comment "from a pod"');
        expect(input[input.length - 1]).toBe("jump public");
    });

    test("the guard runs before kube-proxy's DNAT and lets the cluster through before judging anything", () => {
        const guard = chain(nodeFirewall(ha("a1")).ruleset, "guard");
        expect(guard[0]).toBe("type filter hook prerouting priority dstnat - 10; policy accept;");
        const at = (prefix: string) => guard.findIndex((l) => l.startsWith(prefix));
        expect(at("ip saddr @nodes_v4 accept")).toBeLessThan(at("ip daddr @pods_services_v4 drop"));
        expect(at("ip daddr @pods_services_v4 drop")).toBeLessThan(at("fib daddr type != local accept"));
        expect(at("fib daddr type != local accept")).toBeLessThan(at("jump public"));
    });

    test("the ruleset replaces only its own table, atomically", () => {
        const lines = nodeFirewall(base()).ruleset.split("\n");
        expect(lines.slice(0, 4)).toEqual(["#!/usr/sbin/nft -f", expect.stringMatching(/^# /), "table inet private_faas", "delete table inet private_faas"]);
        expect(lines.filter((l) => /^(table|delete|flush)/.test(l))).toEqual(["table inet private_faas", "delete table inet private_faas", "table inet private_faas {"]);
    });

    test("a peer reachable only by DNS name and without privateIp is refused, naming it", () => {
        const spec = base({ peers: [{ name: "a9", role: "agent", host: "a9.example.net" }] });
        expect(() => nodeFirewall(spec)).toThrow(/node "a9": host "a9\.example\.net" is a DNS name and privateIp is not set/);
        // alone, a DNS host needs no address: there is nobody to admit
        expect(() => nodeFirewall(base({ node: { ...base().node, host: "s1.example.net" } }))).not.toThrow();
    });
});

const canNft = process.getuid?.() === 0 && spawnSync("unshare", ["--net", "nft", "list", "ruleset"]).status === 0;
if (!canNft) console.log("nft syntax check not run: needs root, unshare and nft");
(canNft ? test : test.skip).each([
    ["single server", base()],
    ["HA server", ha("s1")],
    ["HA agent with IPv6", ha("a2")],
    ["restricted SSH, IPv6 admins", base({ restrictSshToAdminCidrs: true, adminCidrs: ["2001:db8:a::/48", "198.51.100.7/24"] })],
    ["host-gw, no admins", ha("s3", { flannelBackend: "host-gw", adminCidrs: [] })],
])("nft accepts the %s ruleset (checked in an empty network namespace)", (_label, spec) => {
    const r = spawnSync("unshare", ["--net", "nft", "--check", "--file", "-"], { input: nodeFirewall(spec).ruleset, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
});
