import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ConfigError, NodeConfig, parseStackConfig, StackConfig } from "../components/config";
import {
    apiUrl,
    auditPolicy,
    clusterOptions,
    clusterWarnings,
    K3S_PATHS,
    nodeConfig,
    podSecurityAdmissionConfig,
    SERVICELB_NODE_LABEL,
    toYaml,
} from "../components/k3sConfig";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----";

/** docs.k3s.io cli/server, "Critical Configuration Values" (the ones this project can set). */
const MUST_MATCH = [
    "cluster-cidr", "service-cidr", "cluster-dns", "cluster-domain", "flannel-backend", "flannel-external-ip",
    "disable", "secrets-encryption", "agent-token", "disable-cloud-controller", "disable-helm-controller",
    "disable-network-policy", "egress-selector-mode", "embedded-registry", "flannel-ipv6-masq", "secrets-encryption-provider",
];
const SERVER_ONLY = ["cluster-init", "tls-san", "write-kubeconfig-mode", "kube-apiserver-arg", "advertise-address", ...MUST_MATCH];

function stack(file: string): StackConfig {
    const raw = YAML.parse(fs.readFileSync(path.join(__dirname, "..", file), "utf8")).config as Record<string, unknown>;
    const config: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) config[k.replace(/^private-faas:/, "")] = v;
    config.ssh = { privateKey: KEY };
    if ((config.openfaas as { edition?: string })?.edition === "pro") config.openfaas = { edition: "pro", licenseKey: "x" };
    return parseStackConfig(config);
}

function node(overrides: Partial<Record<string, unknown>>): Record<string, unknown> {
    return { provider: "other", country: "NO", storage: "nvme", vcpu: 4, memoryGb: 8, ...overrides };
}

function cluster(nodes: Record<string, unknown>[], k3s: Record<string, unknown> = {}): StackConfig {
    return parseStackConfig({ nodes: nodes.map(node), ssh: { privateKey: KEY }, k3s: { version: "v1.35.6+k3s1", ...k3s } });
}

const prod = stack("Pulumi.prod.yaml");
const ha = stack("Pulumi.ha.yaml");
const configs = (c: StackConfig) => new Map(c.nodes.map((n) => [n.name, nodeConfig(n, c.nodes, c.k3s)]));

describe("config.yaml of a node", () => {
    test("the first server initialises the cluster; the other servers and the agents join it", () => {
        const files = configs(ha);
        expect(files.get("fsn-server-1")).toMatchObject({ "cluster-init": true });
        expect(files.get("fsn-server-1")).not.toHaveProperty("server");
        for (const name of ["nbg-server-2", "hel-server-3", "fsn-agent-1", "hel-agent-2"]) {
            expect(files.get(name)).not.toHaveProperty("cluster-init");
            expect(files.get(name)!.server).toBe("https://10.0.1.21:6443"); // over the private network
        }
        expect(configs(prod).get("osl-agent-1")!.server).toBe("https://192.0.2.10:6443"); // no private network
    });

    test("a single server also runs embedded etcd, so that servers can be added later", () => {
        expect(configs(prod).get("osl-server-1")).toMatchObject({ "cluster-init": true });
    });

    test("the token is not in the file: it names the token file", () => {
        for (const file of [...configs(ha).values(), ...configs(prod).values()]) {
            expect(file).not.toHaveProperty("token");
            expect(file["token-file"]).toBe(K3S_PATHS.tokenFile);
        }
    });

    test("tls-san holds the API endpoint, every server's addresses and the extra names, once each", () => {
        const c = cluster(
            [{ name: "s1", role: "server", host: "203.0.113.1", privateIp: "10.0.0.1" }, { name: "s2", role: "server", host: "s2.example.eu", privateIp: "10.0.0.2" }, { name: "a1", role: "agent", host: "203.0.113.9" }],
            { apiEndpoint: "k8s.example.eu", tlsSans: ["203.0.113.1", "api.example.eu"] },
        );
        expect(nodeConfig(c.nodes[1], c.nodes, c.k3s)["tls-san"]).toEqual(["k8s.example.eu", "203.0.113.1", "10.0.0.1", "s2.example.eu", "10.0.0.2", "api.example.eu"]);
    });

    test("addresses: node-ip is the private address, node-external-ip the public one, flannel-iface when given", () => {
        const c = cluster([{ name: "s1", role: "server", host: "203.0.113.1", privateIp: "10.0.0.1", flannelIface: "enp7s0" }, { name: "a1", role: "agent", host: "a1.example.eu", privateIp: "10.0.0.5" }]);
        expect(nodeConfig(c.nodes[0], c.nodes, c.k3s)).toMatchObject({ "node-ip": "10.0.0.1", "node-external-ip": "203.0.113.1", "advertise-address": "10.0.0.1", "flannel-iface": "enp7s0" });
        const agent = nodeConfig(c.nodes[1], c.nodes, c.k3s);
        expect(agent["node-ip"]).toBe("10.0.0.5");
        expect(agent).not.toHaveProperty("node-external-ip"); // a DNS name is not an IP K3s can advertise
    });

    test("an IPv6 host is bracketed in the join URL and not advertised in an IPv4 cluster", () => {
        const c = cluster([{ name: "s1", role: "server", host: "2001:db8::1" }, { name: "a1", role: "agent", host: "2001:db8::2" }]);
        const agent = nodeConfig(c.nodes[1], c.nodes, c.k3s);
        expect(agent.server).toBe("https://[2001:db8::1]:6443");
        expect(agent).not.toHaveProperty("node-external-ip");
        expect(apiUrl("k8s.example.eu")).toBe("https://k8s.example.eu:6443");
    });

    test("without a private network: wireguard-native between the nodes' public addresses", () => {
        const server = configs(prod).get("osl-server-1")!;
        expect(server).toMatchObject({ "flannel-backend": "wireguard-native", "flannel-external-ip": true, "node-external-ip": "192.0.2.10" });
        expect(configs(prod).get("osl-agent-2")).toMatchObject({ "node-external-ip": "192.0.2.12" });
    });

    test("with a private network on every node: vxlan over it; a configured backend wins", () => {
        expect(configs(ha).get("fsn-server-1")).toMatchObject({ "flannel-backend": "vxlan", "flannel-external-ip": false });
        const c = { ...ha, k3s: { ...ha.k3s, flannelBackend: "wireguard-native" as const } };
        expect(configs(c).get("hel-server-3")!["flannel-backend"]).toBe("wireguard-native");
    });

    test("hardening: secrets encryption, kernel defaults, kubeconfig 0600, PSA and audit log arguments", () => {
        const server = configs(ha).get("nbg-server-2")!;
        expect(server).toMatchObject({ "secrets-encryption": true, "protect-kernel-defaults": true, "write-kubeconfig-mode": "0600" });
        expect(server["kube-apiserver-arg"]).toEqual([
            "admission-control-config-file=/var/lib/rancher/k3s/server/psa.yaml",
            "audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log",
            "audit-policy-file=/var/lib/rancher/k3s/server/audit.yaml",
            "audit-log-maxage=30",
            "audit-log-maxbackup=10",
            "audit-log-maxsize=100",
        ]);
        expect(configs(ha).get("fsn-agent-1")!["protect-kernel-defaults"]).toBe(true);
    });

    test("agents get no server options (K3s agents do not take them)", () => {
        for (const name of ["fsn-agent-1", "hel-agent-2"]) {
            for (const key of SERVER_ONLY) expect(configs(ha).get(name)).not.toHaveProperty(key);
        }
    });

    test("ServiceLB runs on the ingress nodes only; configured labels are kept, sorted", () => {
        const c = cluster([
            { name: "s1", role: "server", host: "192.0.2.1" },
            { name: "a1", role: "agent", host: "192.0.2.2", labels: { "example.com/pool": "fast", "node.kubernetes.io/instance-type": "cx42" } },
            { name: "a2", role: "agent", host: "192.0.2.3", ingress: false },
        ]);
        const labels = (i: number) => nodeConfig(c.nodes[i], c.nodes, c.k3s)["node-label"];
        expect(labels(0)).toBeUndefined();
        expect(labels(1)).toEqual(["example.com/pool=fast", "node.kubernetes.io/instance-type=cx42", `${SERVICELB_NODE_LABEL}=true`]);
        expect(labels(2)).toBeUndefined();
        expect(SERVICELB_NODE_LABEL).toBe("svccontroller.k3s.cattle.io/enablelb");
    });

    test("the rendered YAML parses back to the same options", () => {
        for (const file of configs(ha).values()) expect(YAML.parse(toYaml(file))).toEqual(file);
    });
});

describe("options that must match across servers", () => {
    const pick = (file: Record<string, unknown>) => Object.fromEntries(MUST_MATCH.filter((k) => k in file).map((k) => [k, file[k]]));

    /** Servers that differ in everything a node may differ in. */
    const varied = cluster(
        [
            { name: "s1", role: "server", host: "s1.example.eu", privateIp: "10.0.0.1", flannelIface: "ens10", labels: { "example.com/a": "1" } },
            { name: "s2", role: "server", host: "198.51.100.2", ingress: true },
            { name: "s3", role: "server", host: "2001:db8::3", privateIp: "10.0.0.3", sshPort: 2222 },
            { name: "a1", role: "agent", host: "203.0.113.9" },
        ],
        { clusterCidr: "10.52.0.0/16", serviceCidr: "10.53.0.0/16", clusterDns: "10.53.0.10", clusterDomain: "faas.internal", secretsEncryption: false },
    );

    test.each([["prod", prod], ["ha", ha], ["varied", varied]])("every server of %s renders them identically, from clusterOptions", (_label, c) => {
        const servers = c.nodes.filter((n: NodeConfig) => n.role === "server");
        for (const s of servers) expect(pick(nodeConfig(s, c.nodes, c.k3s))).toEqual(clusterOptions(c.nodes, c.k3s));
        expect(Object.keys(clusterOptions(c.nodes, c.k3s)).every((k) => MUST_MATCH.includes(k))).toBe(true);
    });

    test("they follow the configuration", () => {
        expect(clusterOptions(varied.nodes, varied.k3s)).toEqual({
            "cluster-cidr": "10.52.0.0/16",
            "service-cidr": "10.53.0.0/16",
            "cluster-dns": "10.53.0.10",
            "cluster-domain": "faas.internal",
            "flannel-backend": "wireguard-native",
            "flannel-external-ip": true,
            "secrets-encryption": false,
        });
    });
});

describe("files beside config.yaml", () => {
    test("Pod Security Admission: restricted by default, kube-system exempt", () => {
        const doc = YAML.parse(podSecurityAdmissionConfig());
        expect(doc.kind).toBe("AdmissionConfiguration");
        const plugin = doc.plugins.find((p: { name: string }) => p.name === "PodSecurity");
        expect(plugin.configuration.defaults).toMatchObject({ enforce: "restricted", audit: "restricted", warn: "restricted" });
        expect(plugin.configuration.exemptions.namespaces).toEqual(["kube-system"]);
    });

    test("audit policy: metadata only, so request bodies (Secrets) never reach the log", () => {
        expect(YAML.parse(auditPolicy())).toEqual({ apiVersion: "audit.k8s.io/v1", kind: "Policy", rules: [{ level: "Metadata" }] });
    });
});

describe("warnings", () => {
    test("none for the example stacks", () => {
        expect(clusterWarnings(prod.nodes, prod.k3s)).toEqual([]);
        expect(clusterWarnings(ha.nodes, ha.k3s)).toEqual([]);
    });

    test("unencrypted pod traffic over public networks, etcd between public addresses", () => {
        const c = cluster([{ name: "s1", role: "server", host: "192.0.2.1" }, { name: "s2", role: "server", host: "192.0.2.2" }, { name: "s3", role: "server", host: "192.0.2.3", privateIp: "10.0.0.3" }], { flannelBackend: "vxlan" });
        const w = clusterWarnings(c.nodes, c.k3s);
        expect(w).toHaveLength(2);
        expect(w[0]).toMatch(/"vxlan" while s1, s2 have no privateIp: pod traffic .* unencrypted/);
        expect(w[1]).toMatch(/servers s1, s2 have no privateIp: embedded etcd/);
    });
});

describe("configuration keys of the K3s layer", () => {
    const problems = (nodes: Record<string, unknown>[], k3s: Record<string, unknown> = {}) => {
        try {
            cluster(nodes, k3s);
        } catch (err) {
            return (err as ConfigError).problems;
        }
        throw new Error("expected a ConfigError");
    };

    test("install sources may be file:// (a mirror mounted on the hosts), not other schemes", () => {
        const c = cluster([{ name: "s1", role: "server", host: "192.0.2.1" }], { installScriptUrl: "file:///srv/k3s/install.sh", releaseMirror: "https://mirror.example.eu/k3s" });
        expect(c.k3s.installScriptUrl).toBe("file:///srv/k3s/install.sh");
        expect(c.k3s.drainTimeoutSeconds).toBe(600);
        expect(problems([{ name: "s1", role: "server", host: "192.0.2.1" }], { releaseMirror: "ftp://mirror.example.eu" })).toEqual([
            { key: "private-faas:k3s.releaseMirror", value: '"ftp://mirror.example.eu"', expected: "an http(s) or file:// URL" },
        ]);
    });

    test("node labels: bad keys, kubelet-reserved namespaces and bad values are refused by key", () => {
        const p = problems([{ name: "s1", role: "server", host: "192.0.2.1", labels: { "node-role.kubernetes.io/edge": "true", "bad key": "x", "example.com/ok": "no spaces" } }]);
        expect(p.map((x) => x.key).sort()).toEqual([
            "private-faas:nodes[0].labels.bad key",
            "private-faas:nodes[0].labels.example.com/ok",
            "private-faas:nodes[0].labels.node-role.kubernetes.io/edge",
        ]);
        expect(p.find((x) => x.key.endsWith("edge"))!.expected).toMatch(/outside the kubernetes.io and k8s.io namespaces/);
        expect(p.find((x) => x.key.endsWith("ok"))!.expected).toMatch(/a label value/);
        expect(() => cluster([{ name: "s1", role: "server", host: "192.0.2.1", labels: { "topology.kubernetes.io/zone": "fsn1-dc14", "pool.node.kubernetes.io/x": "" } }])).not.toThrow();
    });
});
