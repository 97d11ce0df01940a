/** Inputs VpsNode cannot work with are refused before anything is registered, with the node named. */
import * as path from "path";
import { parseStackConfig, ConfigError } from "../components/config";
import { runFixture } from "./helpers/program";
import { planConfig, prodConfig } from "./helpers/plan";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----";
const node = (name: string, host: string, extra: Record<string, unknown> = {}) => ({
    name, role: "server", host, provider: "coolvds", region: "oslo", storage: "nvme", vcpu: 4, memoryGb: 8, ...extra,
});

test("component: a peer the firewall cannot admit by address stops the program before the node registers", () => {
    const args = {
        node: { ...node("s1", "192.0.2.10"), sshPort: 22, labels: {}, ingress: true },
        ssh: { user: "root", restrictToAdminCidrs: false, dialErrorLimit: 40, perDialTimeoutSeconds: 15 },
        peers: [{ name: "a1", role: "agent", host: "a1.example.net" }],
        adminCidrs: [],
        flannelBackend: "wireguard-native",
        clusterCidr: "10.42.0.0/16",
        serviceCidr: "10.43.0.0/16",
        maxFsyncP99Ms: 10,
    };
    const run = (a: object) => runFixture({ PROGRAM: path.join(__dirname, "fixtures", "vpsNodeProgram.ts"), VPS_NODE_ARGS: JSON.stringify(a) });
    const bad = run(args);
    expect(bad.status).toBe(3);
    expect(bad.stderr).toContain('node "a1": host "a1.example.net" is a DNS name and privateIp is not set');
    expect(JSON.parse(bad.stdout)).not.toContain("private-faas:cluster:VpsNode");
    expect(JSON.parse(bad.stdout)).not.toContain("command:remote:Command");
    // the same node with an address for its peer registers with its five steps
    const good = run({ ...args, peers: [{ name: "a1", role: "agent", host: "a1.example.net", privateIp: "10.0.0.5" }] });
    expect(good.stderr).toBe("");
    expect(JSON.parse(good.stdout).filter((t: string) => t !== "pulumi:pulumi:Stack")).toEqual(["private-faas:cluster:VpsNode", ...Array(5).fill("command:remote:Command")]);
});

describe("configuration: a DNS name as host needs privateIp in a cluster of several nodes", () => {
    test("refused with the key, the value and why", () => {
        let problems: ConfigError["problems"] = [];
        try {
            parseStackConfig({ nodes: [node("s1", "192.0.2.10"), node("a1", "a1.example.net", { role: "agent" })], ssh: { privateKey: KEY }, k3s: { version: "v1.35.6+k3s1" } });
        } catch (err) {
            problems = (err as ConfigError).problems;
        }
        expect(problems).toEqual([
            {
                key: "private-faas:nodes[1].privateIp",
                value: "nothing (missing)",
                expected: 'an IP address: host "a1.example.net" is a DNS name, and the other nodes\' firewalls admit cluster traffic by IP address',
            },
        ]);
    });

    test("accepted with privateIp, or alone", () => {
        expect(() => parseStackConfig({ nodes: [node("s1", "192.0.2.10"), node("a1", "a1.example.net", { role: "agent", privateIp: "10.0.0.5" })], ssh: { privateKey: KEY }, k3s: { version: "v1" } })).not.toThrow();
        expect(() => parseStackConfig({ nodes: [node("s1", "s1.example.net")], ssh: { privateKey: KEY }, k3s: { version: "v1" } })).not.toThrow();
    });

    test("npm run plan exits 2 naming the key, and registers nothing", async () => {
        const config = prodConfig();
        config["private-faas:nodes"][2].host = "agent2.example.no";
        const r = await planConfig(config);
        expect(r.code).toBe(2);
        expect(r.stdout + r.stderr).toMatch(/private-faas:nodes\[2\]\.privateIp: got nothing \(missing\); expected an IP address: host "agent2\.example\.no" is a DNS name/);
        expect(r.doc?.resources ?? []).toEqual([]);
    });
});
