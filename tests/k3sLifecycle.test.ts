/**
 * K3sCluster's own commands, executed for real. The program (index.ts) runs under the mock engine
 * as an update; the mock creates each remote.Command by running its create text in the throwaway
 * root of its host (K3s stand-ins), with its stdin, when the SDK registers it — that is, after what
 * it depends on, as the engine would. Then an agent leaves: its resources are deleted in the order
 * their recorded dependencies give (drain and delete through the server, then uninstall on the
 * agent), and the workloads it ran move to the other nodes.
 */
import * as YAML from "yaml";
import { ProgramRun, RecordedResource, plain, runProgram } from "../tools/engine";
import { StandinCluster } from "./harness/k3sStandin";
import { sandboxSupport } from "./harness/sandbox";
import { deletionWaves } from "./helpers/graphOrder";
import { changingCalls, rawStack, standinK3s, TestNode } from "./helpers/k3sHosts";
import { vpsNodeStepStdout } from "./helpers/reports";

const support = sandboxSupport();
if (!support.ok) console.log(`K3s lifecycle test not run: ${support.reason}`);
const maybe = support.ok ? describe : describe.skip;

const V35 = "v1.35.6+k3s1";
const TOKEN = "LifecycleToken0123456789abcdefghijklmnopqrstuv";
const NODES: TestNode[] = [
    { name: "srv-1", role: "server", host: "10.79.0.1" },
    { name: "agt-1", role: "agent", host: "10.79.0.2" },
    { name: "agt-2", role: "agent", host: "10.79.0.3" },
];
const hostName = (connection: unknown) => NODES.find((n) => n.host === (plain(connection) as { host: string }).host)!.name;

maybe("K3sCluster's commands on stand-in hosts", () => {
    let cluster: StandinCluster;
    let run: ProgramRun;
    const ran: string[] = [];
    /** K3s's own commands (the hosts' VpsNode steps are the VpsNode and fleet tests' business). */
    const commands = () => run.resources.filter((r) => r.type === "command:remote:Command" && vpsNodeStepStdout(r.name) === undefined);
    const byName = (name: string) => run.resources.find((r) => r.name === name)!;
    const execute = (r: RecordedResource, field: "create" | "delete") => {
        const result = cluster.run(hostName(r.rawInputs.connection), plain(r.rawInputs[field]) as string, { stdin: (plain(r.rawInputs.stdin) as string | undefined) ?? "" });
        if (result.code !== 0) throw new Error(`${r.name} ${field} failed (${result.code}): ${result.stderr}`);
        return result;
    };

    beforeAll(async () => {
        cluster = new StandinCluster([V35]);
        const raw = rawStack(NODES, standinK3s(V35));
        const config = Object.fromEntries(Object.entries(raw).map(([k, v]) => [`private-faas:${k}`, JSON.stringify(v)]));
        run = await runProgram({
            stack: "lifecycle",
            config,
            secretKeys: ["private-faas:ssh"],
            preview: false,
            newResource: async (args) => {
                const state: Record<string, unknown> = { ...args.inputs };
                if (args.type === "random:index/randomPassword:RandomPassword") state.result = TOKEN;
                const vpsNodeStdout = vpsNodeStepStdout(args.name);
                if (args.type === "command:remote:Command" && vpsNodeStdout !== undefined) {
                    // The hosts' own steps run for real in the VpsNode and fleet tests; here only K3s's.
                    Object.assign(state, { stdout: vpsNodeStdout, stderr: "" });
                } else if (args.type === "command:remote:Command") {
                    const host = hostName(args.inputs.connection);
                    const result = cluster.run(host, plain(args.inputs.create) as string, { stdin: (plain(args.inputs.stdin) as string | undefined) ?? "" });
                    if (result.code !== 0) throw new Error(`${args.name} on ${host} failed (${result.code}): ${result.stderr}`);
                    ran.push(args.name);
                    Object.assign(state, { stdout: result.stdout, stderr: result.stderr });
                }
                return { id: `${args.name}-id`, state };
            },
        });
        if (run.error) throw run.error;
    });
    afterAll(() => cluster?.destroy());

    test("`up`: every command ran once, after its dependencies, and the cluster is Ready", () => {
        expect([...ran].sort()).toEqual(commands().map((r) => r.name).sort());
        for (const r of commands()) {
            for (const dep of r.dependsOn) {
                const d = run.resources.find((x) => x.urn === dep)!;
                if (d.type === "command:remote:Command") expect([r.name, ran.indexOf(d.name) < ran.indexOf(r.name)]).toEqual([r.name, true]);
            }
        }
        const state = cluster.state();
        expect(Object.fromEntries(Object.entries(state.nodes).map(([n, s]) => [n, [s.role, s.ready, s.version]]))).toEqual({
            "srv-1": ["server", true, V35],
            "agt-1": ["agent", true, V35],
            "agt-2": ["agent", true, V35],
        });
        expect(plain(byName("k3s-ready").rawOutputs.stdout)).toMatch(/^srv-1 +Ready[\s\S]*agt-2 +Ready/);
    });

    test("the stack's kubeconfig is the server's, pointing at its address, named after the stack", () => {
        const kubeconfig = YAML.parse(plain(run.stackOutputs!.kubeconfig) as string);
        expect(kubeconfig.clusters[0]).toMatchObject({ name: "lifecycle", cluster: { server: "https://10.79.0.1:6443" } });
        const k3sYaml = YAML.parse(cluster.host("srv-1").readFile("/etc/rancher/k3s/k3s.yaml")!);
        expect(kubeconfig.users[0].user).toEqual(k3sYaml.users[0].user);
    });

    test("a second `up` of the same commands changes nothing on any host", () => {
        const hosts = NODES.map((n) => cluster.host(n.name));
        const before = hosts.map((h) => h.snapshot());
        hosts.forEach((h) => h.clearSystemctlCalls());
        for (const r of commands()) execute(r, "create");
        expect(hosts.map((h) => h.snapshot())).toEqual(before);
        expect(hosts.flatMap((h) => changingCalls(h.systemctlCalls()))).toEqual([]);
    });

    test("an agent leaves: drained and deleted through the server, then uninstalled; its workloads move", () => {
        cluster.addPods([
            { namespace: "openfaas-fn", name: "figlet-1", node: "agt-2", owner: "ReplicaSet" },
            { namespace: "openfaas", name: "nats-0", node: "agt-2", owner: "ReplicaSet", emptyDir: true },
            { namespace: "kube-system", name: "svclb-traefik-agt-2", node: "agt-2", owner: "DaemonSet" },
        ]);
        const events = cluster.events().length;
        const leaving = new Set(["k3s-agt-2-member", "k3s-agt-2-install"]);
        const kept = new Set(run.resources.filter((r) => !leaving.has(r.name)).map((r) => r.urn));
        const waves = deletionWaves(run.resources, kept);
        expect(waves.map((w) => w.map((r) => r.name))).toEqual([["k3s-agt-2-member"], ["k3s-agt-2-install"]]);
        expect(hostName(waves[0][0].rawInputs.connection)).toBe("srv-1");
        expect(hostName(waves[1][0].rawInputs.connection)).toBe("agt-2");
        for (const wave of waves) for (const r of wave) execute(r, "delete");

        const state = cluster.state();
        expect(cluster.events().slice(events)).toEqual(["drained agt-2", "deleted node agt-2", "k3s-agent.service stopped on agt-2", "uninstalled on agt-2"]);
        expect(Object.keys(state.nodes).sort()).toEqual(["agt-1", "srv-1"]);
        const pods = Object.fromEntries(state.pods.map((p) => [p.name, p.node]));
        expect(pods).not.toHaveProperty("svclb-traefik-agt-2");
        expect(["agt-1", "srv-1"]).toContain(pods["figlet-1"]);
        expect(["agt-1", "srv-1"]).toContain(pods["nats-0"]);
        const agent = cluster.host("agt-2");
        for (const gone of ["/usr/local/bin/k3s", "/etc/systemd/system/k3s-agent.service", "/etc/rancher/k3s/config.yaml", "/etc/rancher/k3s/cluster-token"]) {
            expect([gone, agent.readFile(gone)]).toEqual([gone, undefined]);
        }
    });

    test("deleting again (a retried `up`) changes nothing", () => {
        const hosts = ["srv-1", "agt-2"].map((n) => cluster.host(n));
        const before = hosts.map((h) => h.snapshot());
        const events = cluster.events().length;
        expect(execute(byName("k3s-agt-2-member"), "delete").stdout).toBe("node agt-2 is not in the cluster: nothing to remove\n");
        expect(execute(byName("k3s-agt-2-install"), "delete").stdout).toBe("K3s is not installed on this host: nothing to uninstall\n");
        expect(hosts.map((h) => h.snapshot())).toEqual(before);
        expect(cluster.events().slice(events)).toEqual([]);
    });
});
