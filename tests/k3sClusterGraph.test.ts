/**
 * The deployment graph of K3sCluster, from whole-program plans (`npm run plan -- --json`, one child
 * process per plan): how deep it is, and in which order Pulumi updates and deletes its resources
 * when the configuration changes.
 */
import { graphDepth } from "../tools/graph";
import type { PlanResource } from "../tools/plan";
import { deletionWaves } from "./helpers/graphOrder";
import { planConfig, prodConfig } from "./helpers/plan";

function agent(i: number) {
    return { name: `osl-agent-${i}`, role: "agent", host: `192.0.2.${100 + i}`, provider: "coolvds", region: "oslo", storage: "nvme", vcpu: 4, memoryGb: 8 };
}

function withAgents(count: number): Record<string, any> {
    const c = prodConfig();
    c["private-faas:nodes"] = [c["private-faas:nodes"][0], ...Array.from({ length: count }, (_, i) => agent(i + 1))];
    return c;
}

async function resources(config: Record<string, any>): Promise<PlanResource[]> {
    const r = await planConfig(config);
    // Exit 1 (a mandatory policy, e.g. quorum with two servers) still plans every resource.
    if (r.code > 1) throw new Error(`plan failed (${r.code}): ${r.stderr}`);
    return r.doc!.resources;
}

/**
 * Names of K3sCluster's resources of OLD that NOW no longer has, in the waves Pulumi deletes them (the
 * removed host's VpsNode steps follow them; they change nothing on the host when deleted).
 */
function deleted(old: PlanResource[], now: PlanResource[]): string[][] {
    return deletionWaves(old, new Set(now.map((r) => r.urn)))
        .map((wave) => wave.filter((r) => r.name.startsWith("k3s-")).map((r) => r.name).sort())
        .filter((wave) => wave.length > 0);
}

/** Names of the custom resources whose inputs differ between two plans (an update of each). */
function updated(old: PlanResource[], now: PlanResource[]): string[] {
    const before = new Map(old.map((r) => [r.urn, JSON.stringify(r.inputs)]));
    return now.filter((r) => r.custom && before.has(r.urn) && before.get(r.urn) !== JSON.stringify(r.inputs)).map((r) => r.name).sort();
}

/** Names in the order Pulumi can run them: each after everything it depends on. */
function dependencyRank(rs: PlanResource[]): Map<string, number> {
    const byUrn = new Map(rs.map((r) => [r.urn, r]));
    const rank = new Map<string, number>();
    const visit = (r: PlanResource): number => {
        if (rank.has(r.name)) return rank.get(r.name)!;
        const n = 1 + Math.max(0, ...r.dependsOn.map((u) => byUrn.get(u)).filter((d): d is PlanResource => !!d).map(visit));
        rank.set(r.name, n);
        return n;
    };
    rs.forEach(visit);
    return rank;
}

describe("K3sCluster deployment graph", () => {
    test("the depth does not grow with the number of agents", async () => {
        const [two, eight] = await Promise.all([resources(withAgents(2)), resources(withAgents(8))]);
        expect(eight.filter((r) => r.name.endsWith("-install"))).toHaveLength(9);
        expect(graphDepth(eight)).toBe(graphDepth(two));
    });

    test("removing an agent: drain and delete through a server first, then uninstall on the agent", async () => {
        const config = withAgents(3);
        const fewer = withAgents(3);
        fewer["private-faas:nodes"].splice(2, 1); // osl-agent-2
        const [old, now] = await Promise.all([resources(config), resources(fewer)]);
        expect(deleted(old, now)).toEqual([["k3s-osl-agent-2-member"], ["k3s-osl-agent-2-install"]]);
        const member = old.find((r) => r.name === "k3s-osl-agent-2-member")!;
        expect(member.inputs.delete).toMatch(/k3s-node-remove\.sh/);
        expect(old.find((r) => r.name === "k3s-osl-agent-2-install")!.inputs.delete).toMatch(/k3s-uninstall\.sh/);
    });

    test("removing a server: its etcd member leaves through a server that stays, then K3s is uninstalled", async () => {
        const config = withAgents(1);
        const server = (name: string, i: number) => ({ ...config["private-faas:nodes"][0], name, host: `192.0.2.${10 + i}` });
        config["private-faas:nodes"] = [server("osl-server-1", 0), server("osl-server-2", 1), server("osl-server-3", 2), agent(1)];
        const fewer = { ...config, "private-faas:nodes": config["private-faas:nodes"].slice(1) }; // without the first server
        const [old, now] = await Promise.all([resources(config), resources(fewer)]);
        expect(deleted(old, now)).toEqual([["k3s-osl-server-1-member"], ["k3s-osl-server-1-install"]]);
        const member = old.find((r) => r.name === "k3s-osl-server-1-member")!;
        expect(member.inputs.connection).toBe("[secret]");
        expect(member.inputs.delete).toMatch(/VIA_NODE='\\''osl-server-2'\\''/);
        // osl-server-2 now initialises the cluster; the others' members move to the next server.
        expect(now.find((r) => r.name === "k3s-osl-server-2-install")!.inputs.create).toMatch(/cluster-init: true/);
        expect(now.find((r) => r.name === "k3s-osl-server-2-member")!.inputs.delete).toMatch(/VIA_NODE='\\''osl-server-3'\\''/);
    });

    test("a version change updates the installs, servers one after the other before the agents, then readiness", async () => {
        const config = withAgents(2);
        const newer = { ...config, "private-faas:k3s": { ...config["private-faas:k3s"], version: "v1.36.1+k3s1" } };
        const [old, now] = await Promise.all([resources(config), resources(newer)]);
        // (The platform's namespaces follow too: their Pod Security version label names the cluster's minor.)
        expect(updated(old, now).filter((n) => n.startsWith("k3s-"))).toEqual(["k3s-osl-agent-1-install", "k3s-osl-agent-2-install", "k3s-osl-server-1-install", "k3s-ready"]);
        const rank = dependencyRank(now);
        expect(rank.get("k3s-osl-agent-1-install")).toBeGreaterThan(rank.get("k3s-osl-server-1-install")!);
        expect(rank.get("k3s-osl-agent-1-install")).toBe(rank.get("k3s-osl-agent-2-install"));
        expect(rank.get("k3s-ready")).toBeGreaterThan(rank.get("k3s-osl-agent-2-install")!);
    });

    test("a single server's member goes through itself, which its removal script refuses", async () => {
        const prod = await resources(prodConfig());
        expect(prod.find((r) => r.name === "k3s-osl-server-1-member")!.inputs.delete).toMatch(/NODE_NAME='\\''osl-server-1'\\''\nexport NODE_ROLE='\\''server'\\''\nexport NODE_ADDRESSES='\\''192\.0\.2\.10'\\''\nexport VIA_NODE='\\''osl-server-1'\\''/);
    });
});

describe("K3s configuration errors through npm run plan", () => {
    test("a kubelet-reserved node label and an unknown download scheme exit 2, named, with nothing registered", async () => {
        const config = prodConfig();
        config["private-faas:nodes"][1].labels = { "node-role.kubernetes.io/ingress": "true" };
        config["private-faas:k3s"].releaseMirror = "ftp://mirror.example.eu/k3s";
        const r = await planConfig(config);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/private-faas:nodes\[1\]\.labels\.node-role\.kubernetes\.io\/ingress: got "node-role\.kubernetes\.io\/ingress"; expected a label key/);
        expect(r.stderr).toMatch(/private-faas:k3s\.releaseMirror: got "ftp:\/\/mirror\.example\.eu\/k3s"; expected an http\(s\) or file:\/\/ URL/);
        expect(r.doc?.resources).toEqual([]);
    });
});
