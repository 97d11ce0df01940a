/**
 * The K3s host scripts, run for real in throwaway roots (one per host) with the K3s stand-ins
 * (tests/harness/k3s-standin: install script, k3s binary, shared cluster registry). Each describe
 * block is one cluster's life, its tests in order.
 */
import * as YAML from "yaml";
import { auditPolicy, apiUrl, nodeConfig, podSecurityAdmissionConfig, toYaml } from "../components/k3sConfig";
import { installEnvironment, removalEnvironment, waitEnvironment } from "../components/k3sCluster";
import { rewriteKubeconfig } from "../components/kubeconfig";
import { StackConfig } from "../components/config";
import { StandinCluster } from "./harness/k3sStandin";
import { sandboxSupport } from "./harness/sandbox";
import { changingCalls, scriptCommand, standinK3s, testStack, TestNode } from "./helpers/k3sHosts";

const support = sandboxSupport();
if (!support.ok) console.log(`K3s host script tests not run: ${support.reason}`);
const maybe = support.ok ? describe : describe.skip;

const V34 = "v1.34.3+k3s1";
const V35 = "v1.35.6+k3s1";
const V36 = "v1.36.1+k3s1";
const TOKEN = "K3sTestToken0123456789abcdefghijklmnopqrstuvwx";

function node(stack: StackConfig, name: string) {
    return stack.nodes.find((n) => n.name === name)!;
}

maybe("k3s-install.sh, k3s-nodes-wait.sh, k3s-kubeconfig.sh: a server and an agent", () => {
    const nodes: TestNode[] = [
        { name: "srv-1", role: "server", host: "10.77.0.1" },
        { name: "agt-1", role: "agent", host: "10.77.0.2", labels: { "example.com/pool": "fast" } },
        { name: "agt-bad", role: "agent", host: "10.77.0.3" },
    ];
    let cluster: StandinCluster;
    const install = (stack: StackConfig, name: string, stdin = `${TOKEN}\n`) =>
        cluster.run(name, scriptCommand("k3s-install.sh", installEnvironment(node(stack, name), stack.nodes, stack.k3s)), { stdin });
    const wait = (names: string[], waitFor: "registered" | "ready", version: string, timeout = "2") =>
        cluster.run("srv-1", scriptCommand("k3s-nodes-wait.sh", { ...waitEnvironment(names, waitFor, testStack(nodes, standinK3s(version)).k3s), TIMEOUT_SECONDS: timeout, POLL_SECONDS: "1" }));

    beforeAll(() => {
        cluster = new StandinCluster([V34, V35, V36]);
    });
    afterAll(() => cluster?.destroy());

    test("a server installs with its files, and a second run changes nothing and restarts nothing", () => {
        const stack = testStack(nodes, standinK3s(V35));
        const box = cluster.host("srv-1");
        const first = install(stack, "srv-1");
        expect(first.stderr).toBe("");
        expect(first).toMatchObject({ code: 0 });
        expect(first.stdout).toMatch(/installing K3s v1\.35\.6\+k3s1 \(server\)/);
        expect(first.stdout).toMatch(/node srv-1 is Ready \(v1\.35\.6\+k3s1\)\nk3s v1\.35\.6\+k3s1 on srv-1: install\n$/);
        expect(first.stdout + first.stderr).not.toContain(TOKEN);

        expect(box.readFile("/etc/rancher/k3s/config.yaml")).toBe(toYaml(nodeConfig(node(stack, "srv-1"), stack.nodes, stack.k3s)));
        expect(box.readFile("/etc/rancher/k3s/cluster-token")).toBe(TOKEN);
        expect(box.readFile("/var/lib/rancher/k3s/server/psa.yaml")).toBe(podSecurityAdmissionConfig());
        expect(box.readFile("/var/lib/rancher/k3s/server/audit.yaml")).toBe(auditPolicy());
        for (const file of ["/etc/rancher/k3s/config.yaml", "/etc/rancher/k3s/cluster-token", "/var/lib/rancher/k3s/server/psa.yaml", "/var/lib/rancher/k3s/server/audit.yaml", "/etc/rancher/k3s/k3s.yaml"]) {
            expect([file, box.mode(file)]).toEqual([file, 0o600]);
        }
        expect(box.mode("/var/lib/rancher/k3s/server/logs")).toBe(0o700);
        expect(box.run(["/usr/local/bin/k3s", "--version"]).stdout).toMatch(/^k3s version v1\.35\.6\+k3s1 /);
        expect(cluster.state().nodes["srv-1"]).toMatchObject({ role: "server", ready: true, version: V35, member: true });

        const after = box.snapshot();
        box.clearSystemctlCalls();
        const second = install(stack, "srv-1");
        expect(second).toMatchObject({ code: 0, stdout: "k3s v1.35.6+k3s1 on srv-1: unchanged\n", stderr: "" });
        expect(box.snapshot()).toEqual(after);
        expect(changingCalls(box.systemctlCalls())).toEqual([]);
    });

    test("an agent joins the server, labelled for ServiceLB, and a second run changes nothing", () => {
        const stack = testStack(nodes, standinK3s(V35));
        const box = cluster.host("agt-1");
        const first = install(stack, "agt-1");
        expect(first).toMatchObject({ code: 0 });
        expect(first.stdout).toMatch(/k3s v1\.35\.6\+k3s1 on agt-1: install\n$/);
        expect(YAML.parse(box.readFile("/etc/rancher/k3s/config.yaml")!)).toMatchObject({ server: "https://10.77.0.1:6443", "token-file": "/etc/rancher/k3s/cluster-token" });
        expect(box.readFile("/var/lib/rancher/k3s/server/psa.yaml")).toBeUndefined();
        expect(cluster.state().nodes["agt-1"]).toMatchObject({
            role: "agent",
            ready: true,
            labels: { "example.com/pool": "fast", "svccontroller.k3s.cattle.io/enablelb": "true" },
        });

        const after = box.snapshot();
        box.clearSystemctlCalls();
        expect(install(stack, "agt-1")).toMatchObject({ code: 0, stdout: "k3s v1.35.6+k3s1 on agt-1: unchanged\n" });
        expect(box.snapshot()).toEqual(after);
        expect(changingCalls(box.systemctlCalls())).toEqual([]);
    });

    test("an agent with another token is turned away, and the install says why", () => {
        const stack = testStack(nodes, standinK3s(V35));
        const r = install(stack, "agt-bad", "not-the-cluster-token\n");
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/k3s-agent\.service on agt-bad failed: token rejected by the cluster/);
        expect(r.stderr).toMatch(/k3s-install: the K3s install script .* failed installing v1\.35\.6\+k3s1 on agt-bad/);
        expect(cluster.state().nodes).not.toHaveProperty("agt-bad");
    });

    test("bad input is refused before anything changes: no token, a role change, a version that is not a release", () => {
        const stack = testStack(nodes, standinK3s(V35));
        const box = cluster.host("agt-1");
        const before = box.snapshot();
        expect(install(stack, "agt-1", "")).toMatchObject({ code: 1, stderr: "k3s-install: no cluster token on standard input\n" });
        const asServer = installEnvironment({ ...node(stack, "agt-1"), role: "server" }, stack.nodes, stack.k3s);
        expect(cluster.run("agt-1", scriptCommand("k3s-install.sh", asServer), { stdin: TOKEN }).stderr).toMatch(
            /agt-1 runs K3s as an agent \(k3s-agent\.service\); changing a node's role in place is not supported/,
        );
        const latest = installEnvironment(node(stack, "agt-1"), stack.nodes, { ...stack.k3s, version: "latest" });
        expect(cluster.run("agt-1", scriptCommand("k3s-install.sh", latest), { stdin: TOKEN }).stderr).toMatch(/TARGET_VERSION 'latest' is not an exact K3s release/);
        expect(box.snapshot()).toEqual(before);
    });

    test("a changed configuration is written and K3s restarted, once; nodes it does not concern stay untouched", () => {
        const stack = testStack(nodes, standinK3s(V35, { tlsSans: ["k8s.example.eu"] }));
        const server = cluster.host("srv-1");
        server.clearSystemctlCalls();
        const r = install(stack, "srv-1");
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/^wrote \/etc\/rancher\/k3s\/config\.yaml\nrestarted k3s: configuration changed\nnode srv-1 is Ready/);
        expect(changingCalls(server.systemctlCalls())).toEqual(["systemctl restart k3s"]);
        expect(YAML.parse(server.readFile("/etc/rancher/k3s/config.yaml")!)["tls-san"]).toContain("k8s.example.eu");

        const after = server.snapshot();
        server.clearSystemctlCalls();
        expect(install(stack, "srv-1").stdout).toBe("k3s v1.35.6+k3s1 on srv-1: unchanged\n");
        expect(server.snapshot()).toEqual(after);
        expect(changingCalls(server.systemctlCalls())).toEqual([]);
        expect(install(stack, "agt-1").stdout).toBe("k3s v1.35.6+k3s1 on agt-1: unchanged\n"); // agents have no tls-san
    });

    test("a new minor version is installed, the server Ready at it before the script returns; then nothing changes", () => {
        const stack = testStack(nodes, standinK3s(V36, { tlsSans: ["k8s.example.eu"] }));
        for (const name of ["srv-1", "agt-1"]) {
            const r = install(stack, name);
            expect(r.code).toBe(0);
            expect(r.stdout).toMatch(new RegExp(`upgrading K3s v1\\.36\\.1\\+k3s1 \\((server|agent)\\), replacing v1\\.35\\.6\\+k3s1`));
            expect(r.stdout).toMatch(new RegExp(`k3s v1\\.36\\.1\\+k3s1 on ${name}: upgrade\\n$`));
            expect(cluster.state().nodes[name]).toMatchObject({ ready: true, version: V36 });
        }
        for (const name of ["srv-1", "agt-1"]) {
            const box = cluster.host(name);
            const after = box.snapshot();
            box.clearSystemctlCalls();
            expect(install(stack, name).stdout).toBe(`k3s v1.36.1+k3s1 on ${name}: unchanged\n`);
            expect(box.snapshot()).toEqual(after);
            expect(changingCalls(box.systemctlCalls())).toEqual([]);
        }
    });

    test("skipping a minor version or downgrading is refused on the host, before anything changes", () => {
        const box = cluster.host("srv-1");
        const before = box.snapshot();
        box.clearSystemctlCalls();
        const skip = install(testStack(nodes, standinK3s("v1.38.0+k3s1", { tlsSans: ["k8s.example.eu"] })), "srv-1");
        expect(skip.code).toBe(1);
        expect(skip.stderr).toBe(
            "k3s-install: refusing to upgrade K3s on srv-1 from v1.36.1+k3s1 to v1.38.0+k3s1: that skips minor version v1.37; " +
                "upgrade one minor version at a time (set k3s.version to a v1.37 release, pulumi up, then go on); nothing was changed\n",
        );
        const down = install(testStack(nodes, standinK3s(V35, { tlsSans: ["k8s.example.eu"] })), "srv-1");
        expect(down.code).toBe(1);
        expect(down.stderr).toMatch(/refusing to downgrade K3s on srv-1 from v1\.36\.1\+k3s1 to v1\.35\.6\+k3s1/);
        expect(install(testStack(nodes, standinK3s(V34)), "agt-1").stderr).toMatch(/refusing to downgrade K3s on agt-1/);
        expect(box.snapshot()).toEqual(before);
        expect(changingCalls(box.systemctlCalls())).toEqual([]);
        expect(cluster.state().nodes["srv-1"].version).toBe(V36);
    });

    test("readiness: the API answers and every node is Ready at the version; read-only, so twice is the same", () => {
        const box = cluster.host("srv-1");
        const before = box.snapshot();
        for (let i = 0; i < 2; i++) {
            const r = wait(["srv-1", "agt-1"], "ready", V36);
            expect(r).toMatchObject({ code: 0, stderr: "" });
            expect(r.stdout).toMatch(/^srv-1 +Ready +control-plane,etcd,master +\S+ +v1\.36\.1\+k3s1\nagt-1 +Ready +<none> +\S+ +v1\.36\.1\+k3s1\n$/);
        }
        expect(box.snapshot()).toEqual(before);
    });

    test("readiness fails after its timeout naming each node that is not, and why", () => {
        expect(wait(["srv-1", "agt-1"], "ready", V35).stderr).toBe(
            "k3s-nodes-wait: not ready after 2s: srv-1 (runs v1.36.1+k3s1, expected v1.35.6+k3s1), agt-1 (runs v1.36.1+k3s1, expected v1.35.6+k3s1)\n",
        );
        expect(cluster.run("agt-1", "systemctl stop k3s-agent").code).toBe(0);
        const r = wait(["srv-1", "agt-1", "ghost"], "ready", V36);
        expect(r.code).toBe(1);
        expect(r.stderr).toBe("k3s-nodes-wait: not ready after 2s: agt-1 (NotReady), ghost (not registered)\n");
        expect(wait(["agt-1"], "registered", V36).code).toBe(0);
        expect(cluster.run("agt-1", "systemctl start k3s-agent").code).toBe(0);
        expect(cluster.run("srv-1", "systemctl stop k3s").code).toBe(0);
        expect(wait(["srv-1"], "ready", V36).stderr).toMatch(/^k3s-nodes-wait: not ready after 2s: the Kubernetes API \(The connection to the server 127\.0\.0\.1:6443 was refused/);
        expect(cluster.run("srv-1", "systemctl start k3s").code).toBe(0);
        expect(wait(["srv-1", "agt-1"], "ready", V36).code).toBe(0);
    });

    test("the kubeconfig is read from the server as K3s wrote it, and rewrites for outside use", () => {
        const box = cluster.host("srv-1");
        const before = box.snapshot();
        const first = cluster.run("srv-1", scriptCommand("k3s-kubeconfig.sh"));
        expect(first.code).toBe(0);
        expect(first.stdout).toBe(box.readFile("/etc/rancher/k3s/k3s.yaml"));
        expect(cluster.run("srv-1", scriptCommand("k3s-kubeconfig.sh")).stdout).toBe(first.stdout);
        expect(box.snapshot()).toEqual(before);
        const rewritten = YAML.parse(rewriteKubeconfig(first.stdout, { server: apiUrl("10.77.0.1"), name: "test" }));
        expect(rewritten.clusters[0]).toMatchObject({ name: "test", cluster: { server: "https://10.77.0.1:6443" } });
        expect(cluster.run("agt-1", scriptCommand("k3s-kubeconfig.sh")).stderr).toMatch(/k3s\.yaml is missing or empty: is K3s running as a server here\?/);
    });
});

maybe("k3s-node-remove.sh, k3s-uninstall.sh: three servers and etcd quorum", () => {
    const nodes: TestNode[] = [1, 2, 3].map((i) => ({ name: `srv-${i}`, role: "server" as const, host: `10.78.0.${i}` }));
    const stack = testStack(nodes, standinK3s(V35));
    let cluster: StandinCluster;
    const remove = (name: string, env: Record<string, string> = {}) => {
        const vars = { ...removalEnvironment(node(stack, name), stack.nodes, stack.k3s), ...env };
        return cluster.run(vars.VIA_NODE, scriptCommand("k3s-node-remove.sh", vars));
    };
    const eventsSince = (count: number) => cluster.events().slice(count);

    beforeAll(() => {
        cluster = new StandinCluster([V35]);
        for (const n of stack.nodes) {
            const r = cluster.run(n.name, scriptCommand("k3s-install.sh", installEnvironment(n, stack.nodes, stack.k3s)), { stdin: TOKEN });
            if (r.code !== 0) throw new Error(`installing ${n.name}: ${r.stderr}`);
        }
    });
    afterAll(() => cluster?.destroy());

    test("the servers joined one etcd cluster through the first", () => {
        const state = cluster.state();
        expect(Object.keys(state.nodes).sort()).toEqual(["srv-1", "srv-2", "srv-3"]);
        expect(Object.values(state.nodes).every((n) => n.member && n.ready)).toBe(true);
        expect(cluster.events().filter((e) => e.startsWith("cluster created"))).toEqual(["cluster created by srv-1"]);
    });

    test("a server is not removed through itself", () => {
        const r = remove("srv-1", { VIA_NODE: "srv-1" });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/server srv-1 cannot be removed through itself .* nothing was changed/);
    });

    test("a removal that would break quorum is refused, and changes nothing", () => {
        expect(cluster.run("srv-3", "systemctl stop k3s").code).toBe(0);
        const events = cluster.events().length;
        const r = remove("srv-2");
        expect(r.code).toBe(1);
        expect(r.stderr).toBe(
            "k3s-node-remove: refusing to remove server srv-2: the 2 remaining etcd member(s) need 2 healthy for quorum, but only 1 are Ready " +
                "(not Ready: srv-3 (NotReady)); bring them back first; nothing was changed\n",
        );
        expect(eventsSince(events)).toEqual([]);
        expect(cluster.state().nodes["srv-2"].unschedulable).toBe(false);
        expect(cluster.run("srv-3", "systemctl start k3s").code).toBe(0);
    });

    test("with quorum kept, the server is drained and deleted, its etcd member going with it; twice is once", () => {
        const via = cluster.host("srv-1");
        const before = via.snapshot();
        const events = cluster.events().length;
        const r = remove("srv-2");
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/^etcd: 3 members; after removing srv-2, 2 of 2 Ready \(quorum 2\)\nnode\/srv-2 cordoned\n[\s\S]*node "srv-2" deleted\nnode srv-2 removed from the cluster\n$/);
        expect(eventsSince(events)).toEqual(["drained srv-2", "etcd member srv-2 removed", "deleted node srv-2"]);
        expect(remove("srv-2")).toMatchObject({ code: 0, stdout: "node srv-2 is not in the cluster: nothing to remove\n" });
        expect(via.snapshot()).toEqual(before);
        // Its API is gone with its etcd member, and K3s there cannot start again on the old data.
        expect(cluster.run("srv-2", "k3s kubectl get nodes").code).not.toBe(0);
        expect(cluster.run("srv-2", "systemctl restart k3s").stderr).toMatch(/etcd member was removed .* data directory must be removed/);
    });

    test("uninstalling removes K3s from the host; a second run does nothing; the host can join again", () => {
        const box = cluster.host("srv-2");
        const first = cluster.run("srv-2", scriptCommand("k3s-uninstall.sh"));
        expect(first.code).toBe(0);
        expect(first.stdout).toMatch(/^running \/usr\/local\/bin\/k3s-uninstall\.sh\n/);
        for (const gone of ["/usr/local/bin/k3s", "/usr/local/bin/k3s-uninstall.sh", "/etc/systemd/system/k3s.service", "/etc/rancher/k3s/config.yaml", "/etc/rancher/k3s/cluster-token", "/var/lib/rancher/k3s/server/psa.yaml"]) {
            expect([gone, box.readFile(gone)]).toEqual([gone, undefined]);
        }
        const after = box.snapshot();
        expect(cluster.run("srv-2", scriptCommand("k3s-uninstall.sh"))).toMatchObject({ code: 0, stdout: "K3s is not installed on this host: nothing to uninstall\n" });
        expect(box.snapshot()).toEqual(after);
        expect(cluster.events().slice(-1)).toEqual(["uninstalled on srv-2"]);

        const again = cluster.run("srv-2", scriptCommand("k3s-install.sh", installEnvironment(node(stack, "srv-2"), stack.nodes, stack.k3s)), { stdin: TOKEN });
        expect(again.code).toBe(0);
        expect(cluster.state().nodes["srv-2"]).toMatchObject({ ready: true, member: true });
    });
});
