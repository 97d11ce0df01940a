/**
 * The firewall against real packets: network namespaces this test creates stand for a node, the
 * internet around it (a stranger, another node, an admin, each a source address of one "outside"
 * namespace) and a pod behind a kube-proxy-style NodePort DNAT. The node's ruleset is the one
 * nodeFirewall renders; connections are made with real sockets.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as path from "path";
import { FirewallSpec, nodeFirewall } from "../components/firewall";

const PYTHON = "/usr/bin/python3";
const TCP = path.join(__dirname, "helpers", "tcp.py");
const supported = process.getuid?.() === 0 && spawnSync("ip", ["netns", "list"]).status === 0 && spawnSync("nft", ["--version"]).status === 0;
if (!supported) console.log("firewall traffic tests not run: need root, ip netns and nft");
const maybe = supported ? describe : describe.skip;

const id = crypto.randomBytes(3).toString("hex");
const NS = { node: `vpsnode-${id}-node`, outside: `vpsnode-${id}-out`, pod: `vpsnode-${id}-pod` };
const NODE_IP = "192.0.2.10";
const STRANGER = "192.0.2.99";
const PEER = "192.0.2.11";
const ADMIN = "192.0.2.50";
const POD_IP = "10.42.0.5";
const NODEPORT = 30080;

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" });
const inNs = (ns: string, ...argv: string[]) => execFileSync("ip", ["netns", "exec", ns, ...argv], { stdio: "pipe", encoding: "utf8" });

/** A node at NODE_IP with one server peer at PEER and ADMIN as the only admin address. */
function spec(node: Pick<FirewallSpec["node"], "name" | "role" | "ingress">, restrictSsh: boolean, flannelBackend: FirewallSpec["flannelBackend"]): FirewallSpec {
    return {
        node: { ...node, host: NODE_IP, sshPort: 22 },
        peers: [{ name: "s2", role: "server", host: PEER }],
        adminCidrs: [`${ADMIN}/32`],
        restrictSshToAdminCidrs: restrictSsh,
        flannelBackend,
        clusterCidr: "10.42.0.0/16",
        serviceCidr: "10.43.0.0/16",
    };
}

function probe(src: string, ports: number[]): Record<string, string> {
    return JSON.parse(inNs(NS.outside, PYTHON, TCP, "probe", src, NODE_IP, ...ports.map(String)));
}

function listen(ns: string, ports: number[]): Promise<ChildProcess> {
    const child = spawn("ip", ["netns", "exec", ns, PYTHON, TCP, "listen", ...ports.map(String)], { stdio: ["ignore", "pipe", "inherit"] });
    return new Promise((resolve, reject) => {
        child.stdout!.once("data", (d) => (String(d).startsWith("ready") ? resolve(child) : reject(new Error(String(d)))));
        child.once("exit", (code) => reject(new Error(`listener in ${ns} exited ${code}`)));
    });
}

maybe("host firewall against real traffic", () => {
    const listeners: ChildProcess[] = [];

    beforeAll(async () => {
        for (const ns of Object.values(NS)) ip("netns", "add", ns);
        // node <-> outside: one link; the outside namespace holds the stranger's, a peer node's and an admin's address
        ip("link", "add", "vpn-o", "netns", NS.node, "type", "veth", "peer", "name", "vpn-o", "netns", NS.outside);
        inNs(NS.node, "ip", "addr", "add", `${NODE_IP}/24`, "dev", "vpn-o");
        for (const a of [STRANGER, PEER, ADMIN]) inNs(NS.outside, "ip", "addr", "add", `${a}/24`, "dev", "vpn-o");
        // node <-> pod: the pod network, routed by the node
        ip("link", "add", "cni0", "netns", NS.node, "type", "veth", "peer", "name", "eth0", "netns", NS.pod);
        inNs(NS.node, "ip", "addr", "add", "10.42.0.1/24", "dev", "cni0");
        inNs(NS.pod, "ip", "addr", "add", `${POD_IP}/24`, "dev", "eth0");
        for (const [ns, dev] of [[NS.node, "vpn-o"], [NS.node, "cni0"], [NS.node, "lo"], [NS.outside, "vpn-o"], [NS.outside, "lo"], [NS.pod, "eth0"], [NS.pod, "lo"]]) {
            inNs(ns, "ip", "link", "set", dev, "up");
        }
        inNs(NS.pod, "ip", "route", "add", "default", "via", "10.42.0.1");
        inNs(NS.node, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        // what kube-proxy does for a NodePort: DNAT in prerouting, in its own table
        execFileSync("ip", ["netns", "exec", NS.node, "nft", "-f", "-"], {
            input: `table ip kube_proxy_standin {\n chain prerouting {\n  type nat hook prerouting priority dstnat;\n  tcp dport ${NODEPORT} dnat to ${POD_IP}:8080\n }\n}\n`,
        });
        listeners.push(await listen(NS.node, [22, 80, 2379, 6443, 10250]), await listen(NS.pod, [8080]));
    }, 30000);

    afterAll(() => {
        for (const l of listeners) l.kill();
        for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "del", ns]);
    });

    test("without the firewall every port answers, the NodePort included (the setup is sound)", () => {
        expect(probe(STRANGER, [22, 6443, 10250, NODEPORT])).toEqual({ "22": "open", "6443": "open", "10250": "open", [NODEPORT]: "open" });
    });

    test("with the firewall: strangers reach SSH only, nodes reach the cluster ports, admins the API", () => {
        const fw = nodeFirewall(spec({ name: "s1", role: "server", ingress: false }, false, "vxlan"));
        execFileSync("ip", ["netns", "exec", NS.node, "nft", "-f", "-"], { input: fw.ruleset });

        const ports = [22, 80, 2379, 6443, 10250, 12345, NODEPORT];
        expect(probe(STRANGER, ports)).toEqual({ "22": "open", "80": "dropped", "2379": "dropped", "6443": "dropped", "10250": "dropped", "12345": "dropped", [NODEPORT]: "dropped" });
        expect(probe(PEER, ports)).toEqual({ "22": "open", "80": "dropped", "2379": "open", "6443": "open", "10250": "open", "12345": "dropped", [NODEPORT]: "open" });
        expect(probe(ADMIN, ports)).toEqual({ "22": "open", "80": "dropped", "2379": "dropped", "6443": "open", "10250": "dropped", "12345": "dropped", [NODEPORT]: "dropped" });
        // pods reach the host (the pod network is trusted)
        expect(JSON.parse(inNs(NS.pod, PYTHON, TCP, "probe", POD_IP, "10.42.0.1", "10250", "6443"))).toEqual({ "10250": "open", "6443": "open" });
    });

    test("an ingress node opens 80/443 to everyone, the NodePort stays closed", () => {
        const fw = nodeFirewall(spec({ name: "a1", role: "agent", ingress: true }, true, "wireguard-native"));
        execFileSync("ip", ["netns", "exec", NS.node, "nft", "-f", "-"], { input: fw.ruleset });
        expect(probe(STRANGER, [22, 80, 6443, NODEPORT])).toEqual({ "22": "dropped", "80": "open", "6443": "dropped", [NODEPORT]: "dropped" });
        expect(probe(ADMIN, [22, 6443])).toEqual({ "22": "open", "6443": "dropped" });
    });

    test("the input chain alone would leave the NodePort open: the guard chain is what closes it", () => {
        inNs(NS.node, "nft", "delete", "chain", "inet", "private_faas", "guard");
        expect(probe(STRANGER, [6443, NODEPORT])).toEqual({ "6443": "dropped", [NODEPORT]: "open" });
    });
});
