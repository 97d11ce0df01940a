/**
 * The policy pack end to end: whole stacks through `npm run plan --json` (tools/plan.ts in a child
 * process), one per rule broken, combinations, boundaries and policy config.
 *
 * Each scenario runs against the repository's program (index.ts) once it registers the component types
 * the scenario needs (probed once, below). Until then it runs against the stand-in
 * (tests/fixtures/standInProgram.ts), which registers exactly what docs/architecture.md says the
 * components expose, and the test's name says so: "[stand-in until the program registers ...]".
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { EEA } from "../policies/locations";
import { REPO_ROOT } from "../tools/stackFile";
import { planConfig, prodConfig, PlanRun, runPlan, writeStackFile } from "./helpers/plan";
import { createStandInRoot, inPool } from "./helpers/standIn";

type Config = Record<string, any>;
type Expected = [policy: string, enforcement: "mandatory" | "advisory", count: number][];

interface Scenario {
    label: string;
    build: (c: Config) => void;
    policyConfig?: Record<string, unknown>;
    env?: NodeJS.ProcessEnv;
    /** Component types the program must register for the scenario to mean anything. */
    needs: string[];
    /** Exit status and the exact multiset of (policy, enforcement) violations (omitted: `check` judges them). */
    exit: 0 | 1;
    violations?: Expected;
    check?: (r: PlanRun) => void;
    /** Only for the stand-in: the scenario depends on how the stand-in wires a setting. */
    standInOnly?: boolean;
}

const T = {
    node: "private-faas:cluster:VpsNode",
    cluster: "private-faas:cluster:K3sCluster",
    command: "command:remote:Command",
    release: "kubernetes:helm.sh/v3:Release",
    fn: "private-faas:platform:OpenFaasFunction",
    edge: "private-faas:edge:EdgeProxy",
};

let hostSeq = 100;
function node(name: string, role: "server" | "agent", where: Record<string, string>, extra: Config = {}): Config {
    return { name, role, host: `192.0.2.${hostSeq++}`, ...where, storage: "nvme", vcpu: 4, memoryGb: 8, ...extra };
}
const addNode = (c: Config, n: Config) => c["private-faas:nodes"].push(n);
const servers = (count: number) => (c: Config) => {
    c["private-faas:nodes"] = [
        ...Array.from({ length: count }, (_, i) => node(`srv-${i + 1}`, "server", { provider: "hetzner", region: ["fsn1", "nbg1", "hel1"][i % 3] }, { vcpu: 8, memoryGb: 16 })),
        node("agent-1", "agent", { provider: "hetzner", region: "fsn1" }),
    ];
};
const functions = (count: number, labels: Record<string, string> = {}) =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`fn-${i + 1}`, { image: `ghcr.io/example/fn-${i + 1}:1.0.0`, labels }]));
const proEdition = (c: Config) => {
    c["private-faas:openfaas"] = { ...c["private-faas:openfaas"], edition: "pro", licenseKey: { secure: "v1:placeholder:licence" } };
};
const edge = (where: Record<string, string>) => (c: Config) => {
    c["private-faas:edge"] = { host: "192.0.2.200", serverName: "api.example.no", legacyUpstream: "10.0.0.5:8080", ...where };
};

const RESIDENCY = "eu-eea-data-residency";
const NVME = "nvme-storage-required";
const CLOUD_ACT = "no-us-cloud-act-providers";
const PINNED = "k3s-version-pinned";
const QUORUM = "etcd-quorum-odd";
const SSH = "ssh-key-auth-only";
const ENCRYPTION = "secrets-encryption-at-rest";
const ADMIN = "openfaas-admin-not-public";
const CE = "openfaas-ce-limits";
const MIN_SIZE = "min-node-size";

const violationsOf = (r: PlanRun) => r.doc!.violations;

const scenarios: Scenario[] = [
    { label: "prod as committed passes", build: () => undefined, needs: [T.node, T.cluster], exit: 0, violations: [] },
    {
        label: "ha as committed passes",
        build: (c) => Object.assign(c, YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.ha.yaml"), "utf8")).config),
        needs: [T.node, T.cluster], exit: 0, violations: [],
    },
    {
        label: "a node in hetzner/ash (US) is refused, with the same-provider regions to move to",
        build: (c) => addNode(c, node("osl-agent-3", "agent", { provider: "hetzner", region: "ash" })),
        needs: [T.node], exit: 1, violations: [[RESIDENCY, "mandatory", 1]],
        check: (r) => {
            const v = violationsOf(r)[0];
            expect(v.message).toBe(
                "node osl-agent-3 is in hetzner/ash (US): data must stay in the EU/EEA (eu-eea-data-residency). " +
                    "Move it to hetzner/fsn1, nbg1 or hel1, or widen allowedCountries in the policy config.",
            );
            expect(v.urn).toMatch(/private-faas:cluster:VpsNode::osl-agent-3$/);
        },
    },
    { label: "Norway (upcloud/no-svg1) is allowed", build: (c) => addNode(c, node("svg-agent", "agent", { provider: "upcloud", region: "no-svg1" })), needs: [T.node], exit: 0, violations: [] },
    { label: "Iceland (provider other, IS) is allowed", build: (c) => addNode(c, node("rey-agent", "agent", { provider: "other", country: "IS" })), needs: [T.node], exit: 0, violations: [] },
    { label: "Liechtenstein (provider other, LI) is allowed", build: (c) => addNode(c, node("vaduz-agent", "agent", { provider: "other", country: "LI" })), needs: [T.node], exit: 0, violations: [] },
    {
        label: "Switzerland (exoscale/ch-gva-2) is refused by default",
        build: (c) => addNode(c, node("gva-agent", "agent", { provider: "exoscale", region: "ch-gva-2" })),
        needs: [T.node], exit: 1, violations: [[RESIDENCY, "mandatory", 1]],
        check: (r) => expect(violationsOf(r)[0].message).toContain("is in exoscale/ch-gva-2 (CH): data must stay in the EU/EEA (eu-eea-data-residency). Move it to exoscale/de-fra-1, de-muc-1, at-vie-1, at-vie-2 or bg-sof-1"),
    },
    {
        label: "Switzerland is allowed through policy config (named set + code)",
        build: (c) => addNode(c, node("gva-agent", "agent", { provider: "exoscale", region: "ch-gva-2" })),
        policyConfig: { [RESIDENCY]: { allowedCountries: ["EEA", "CH"] } },
        needs: [T.node], exit: 0, violations: [],
    },
    {
        label: "the UK (upcloud/uk-lon1) is refused by default",
        build: (c) => addNode(c, node("lon-agent", "agent", { provider: "upcloud", region: "uk-lon1" })),
        needs: [T.node], exit: 1, violations: [[RESIDENCY, "mandatory", 1]],
        check: (r) => expect(violationsOf(r)[0].message).toMatch(/^node lon-agent is in upcloud\/uk-lon1 \(GB\)/),
    },
    {
        label: "the UK is allowed through policy config (explicit codes)",
        build: (c) => addNode(c, node("lon-agent", "agent", { provider: "upcloud", region: "uk-lon1" })),
        policyConfig: { [RESIDENCY]: { allowedCountries: [...EEA, "GB"] } },
        needs: [T.node], exit: 0, violations: [],
    },
    {
        label: "aws/eu-north-1 passes residency but is flagged advisory (CLOUD Act)",
        build: (c) => addNode(c, node("sto-agent", "agent", { provider: "aws", region: "eu-north-1" })),
        needs: [T.node], exit: 0, violations: [[CLOUD_ACT, "advisory", 1]],
        check: (r) => expect(violationsOf(r)[0].message).toMatch(/^node sto-agent runs at aws \(Amazon Web Services, headquartered in the US\), even in eu-north-1 \(SE\): the US CLOUD Act/),
    },
    {
        label: "an unknown region fails closed",
        build: (c) => addNode(c, node("fra-agent", "agent", { provider: "hetzner", region: "fra9" })),
        needs: [T.node], exit: 1, violations: [[RESIDENCY, "mandatory", 1]],
        check: (r) => expect(violationsOf(r)[0].message).toMatch(/hetzner\/fra9, a region the location catalogue does not know, so where its data lives cannot be decided and eu-eea-data-residency fails closed/),
    },
    {
        label: "an unknown provider fails closed",
        build: (c) => addNode(c, node("acme-agent", "agent", { provider: "acme", region: "x1" })),
        needs: [T.node], exit: 1, violations: [[RESIDENCY, "mandatory", 1]],
        check: (r) => expect(violationsOf(r)[0].message).toMatch(/provider "acme", which the location catalogue does not know/),
    },
    { label: "provider other in the US is refused", build: (c) => addNode(c, node("us-agent", "agent", { provider: "other", country: "US" })), needs: [T.node], exit: 1, violations: [[RESIDENCY, "mandatory", 1]] },
    { label: "an SSD node is refused", build: (c) => (c["private-faas:nodes"][1].storage = "ssd"), needs: [T.node], exit: 1, violations: [[NVME, "mandatory", 1]] },
    { label: "HDD on every node: one violation per node", build: (c) => c["private-faas:nodes"].forEach((n: Config) => (n.storage = "hdd")), needs: [T.node], exit: 1, violations: [[NVME, "mandatory", 3]] },
    { label: "1 server passes quorum", build: servers(1), needs: [T.node], exit: 0, violations: [] },
    { label: "2 servers fail quorum", build: servers(2), needs: [T.node], exit: 1, violations: [[QUORUM, "mandatory", 1]], check: (r) => expect(violationsOf(r)[0].message).toMatch(/has 2 K3s servers \(srv-1, srv-2\): etcd needs 2 of 2 members/) },
    { label: "3 servers pass quorum", build: servers(3), needs: [T.node], exit: 0, violations: [] },
    { label: "4 servers fail quorum", build: servers(4), needs: [T.node], exit: 1, violations: [[QUORUM, "mandatory", 1]], check: (r) => expect(violationsOf(r)[0].message).toMatch(/survives losing 1 server\(s\), no more than with 3/) },
    { label: "5 servers pass quorum", build: servers(5), needs: [T.node], exit: 0, violations: [] },
    { label: "K3s \"latest\" fails pinning", build: (c) => (c["private-faas:k3s"].version = "latest"), needs: [T.cluster], exit: 1, violations: [[PINNED, "mandatory", 1]] },
    { label: "K3s \"stable\" fails pinning", build: (c) => (c["private-faas:k3s"].version = "stable"), needs: [T.cluster], exit: 1, violations: [[PINNED, "mandatory", 1]] },
    { label: "K3s minor channel v1.35 fails pinning", build: (c) => (c["private-faas:k3s"].version = "v1.35"), needs: [T.cluster], exit: 1, violations: [[PINNED, "mandatory", 1]] },
    {
        label: "an SSH password is refused on every remote connection and never printed",
        build: (c) => (c["private-faas:ssh"].password = "hunter2-not-a-real-password"),
        needs: [T.node, T.command], exit: 1,
        check: (r) => {
            const vs = violationsOf(r);
            const commands = r.doc!.resources.filter((x) => x.type.startsWith("command:remote:"));
            expect(commands.length).toBeGreaterThan(0);
            expect(vs.length).toBe(commands.length);
            expect(new Set(vs.map((v) => v.urn))).toEqual(new Set(commands.map((x) => x.urn)));
            expect(vs.every((v) => v.policy === SSH && v.enforcement === "mandatory")).toBe(true);
            expect(r.stdout + r.stderr).not.toContain("hunter2");
        },
    },
    { label: "secrets encryption off is refused", build: (c) => (c["private-faas:k3s"].secretsEncryption = false), needs: [T.cluster], exit: 1, violations: [[ENCRYPTION, "mandatory", 1]] },
    {
        label: "a small server is flagged advisory only",
        build: (c) => Object.assign(c["private-faas:nodes"][0], { vcpu: 2, memoryGb: 4 }),
        needs: [T.node], exit: 0, violations: [[MIN_SIZE, "advisory", 1]],
        check: (r) => expect(violationsOf(r)[0].message).toMatch(/^server osl-server-1 has 2 vCPU \(at least 4\) and 4 GB of memory \(at least 8\)/),
    },
    { label: "min-node-size thresholds from policy config (servers only)", build: () => undefined, policyConfig: { [MIN_SIZE]: { minVcpu: 8 } }, needs: [T.node], exit: 0, violations: [[MIN_SIZE, "advisory", 1]] },
    { label: "CE with 16 functions is refused", build: (c) => (c["private-faas:openfaas"].functions = functions(16)), needs: [T.release, T.fn], exit: 1, violations: [[CE, "mandatory", 1]] },
    { label: "CE with 15 functions passes", build: (c) => (c["private-faas:openfaas"].functions = functions(15)), needs: [T.release, T.fn], exit: 0, violations: [] },
    {
        label: "CE scale labels above 5 and scale to zero are refused",
        build: (c) => (c["private-faas:openfaas"].functions = { ...functions(1, { "com.openfaas.scale.max": "10" }), zero: { image: "ghcr.io/example/zero:1.0.0", labels: { "com.openfaas.scale.zero": "true" } } }),
        needs: [T.release, T.fn], exit: 1, violations: [[CE, "mandatory", 2]],
    },
    {
        label: "Pro has no CE limits",
        build: (c) => {
            proEdition(c);
            c["private-faas:openfaas"].functions = functions(16, { "com.openfaas.scale.max": "20", "com.openfaas.scale.zero": "true" });
        },
        needs: [T.release, T.fn], exit: 0, violations: [],
    },
    { label: "an edge in the EU passes", build: edge({ provider: "hetzner", region: "fsn1" }), needs: [T.edge], exit: 0, violations: [] },
    {
        label: "an edge at vultr/ewr (US) is refused and flagged",
        build: edge({ provider: "vultr", region: "ewr" }),
        needs: [T.edge], exit: 1, violations: [[RESIDENCY, "mandatory", 1], [CLOUD_ACT, "advisory", 1]],
        check: (r) => expect(violationsOf(r).find((v) => v.policy === RESIDENCY)!.message).toMatch(/^edge \S+ is in vultr\/ewr \(US\)/),
    },
    {
        label: "disabled drops a policy",
        build: (c) => addNode(c, node("osl-agent-3", "agent", { provider: "hetzner", region: "ash" })),
        policyConfig: { [RESIDENCY]: "disabled" }, needs: [T.node], exit: 0, violations: [],
    },
    {
        label: "a policy lowered to advisory no longer fails the plan",
        build: (c) => (c["private-faas:nodes"][1].storage = "ssd"),
        policyConfig: { [NVME]: { enforcementLevel: "advisory" } }, needs: [T.node], exit: 0, violations: [[NVME, "advisory", 1]],
    },
    {
        label: "\"all\" sets every level, a policy's own entry wins",
        build: (c) => {
            addNode(c, node("osl-agent-3", "agent", { provider: "hetzner", region: "ash" }, { storage: "ssd" }));
        },
        policyConfig: { all: "advisory", [NVME]: "mandatory" }, needs: [T.node], exit: 1, violations: [[RESIDENCY, "advisory", 1], [NVME, "mandatory", 1]],
    },
    {
        label: "every rule of the nodes and cluster broken at once, each reported once",
        build: (c) => {
            servers(2)(c);
            addNode(c, node("osl-agent-3", "agent", { provider: "hetzner", region: "ash" }, { storage: "ssd" }));
            c["private-faas:k3s"].version = "latest";
            c["private-faas:k3s"].secretsEncryption = false;
        },
        needs: [T.node, T.cluster], exit: 1,
        violations: [[RESIDENCY, "mandatory", 1], [NVME, "mandatory", 1], [QUORUM, "mandatory", 1], [PINNED, "mandatory", 1], [ENCRYPTION, "mandatory", 1]],
    },
    {
        label: "PULUMI_NODEJS_SKIP_COMPONENT_INPUTS: node and cluster facts still seen (registered outputs), each once",
        build: (c) => {
            addNode(c, node("osl-agent-3", "agent", { provider: "hetzner", region: "ash" }, { storage: "ssd" }));
            c["private-faas:k3s"].version = "stable";
        },
        env: { PULUMI_NODEJS_SKIP_COMPONENT_INPUTS: "1" },
        needs: [T.node, T.cluster], exit: 1, violations: [[RESIDENCY, "mandatory", 1], [NVME, "mandatory", 1], [PINNED, "mandatory", 1]],
        check: (r) => {
            const nodeInputs = r.doc!.resources.filter((x) => x.type === T.node).map((x) => x.inputs);
            expect(nodeInputs.every((i) => Object.keys(i).length === 0)).toBe(true);
        },
    },
    {
        label: "PULUMI_NODEJS_SKIP_COMPONENT_INPUTS: quorum from the registered outputs",
        build: servers(4), env: { PULUMI_NODEJS_SKIP_COMPONENT_INPUTS: "1" },
        needs: [T.node], exit: 1, violations: [[QUORUM, "mandatory", 1]],
    },
    {
        label: "an empty admin allow-list leaves /system/ public",
        build: (c) => (c["private-faas:adminCidrs"] = []),
        needs: [T.release], exit: 1, violations: [[ADMIN, "mandatory", 1]], standInOnly: true,
        check: (r) => expect(violationsOf(r)[0].message).toMatch(/openfaas-admin-allowlist@kubernetescrd: it has no spec\.ipAllowList\.sourceRange/),
    },
];

function tally(r: PlanRun): Expected {
    const counts = new Map<string, number>();
    for (const v of r.doc!.violations) counts.set(`${v.policy}|${v.enforcement}`, (counts.get(`${v.policy}|${v.enforcement}`) ?? 0) + 1);
    return [...counts].map(([k, n]) => [...(k.split("|") as [string, "mandatory" | "advisory"]), n] as Expected[number]).sort();
}

function runScenario(s: Scenario, root: string): Promise<PlanRun> {
    const config = prodConfig();
    s.build(config);
    const extra = s.policyConfig ? ["--policy-config", path.join(path.dirname(writeStackFile({})), "policy.json")] : [];
    if (s.policyConfig) fs.writeFileSync(extra[1], JSON.stringify(s.policyConfig));
    return planConfig(config, extra, s.env ?? {}, root);
}

/** The component types the repository's program registers (a probe stack with a function and an edge). */
function programTypes(): Set<string> {
    const config = prodConfig();
    config["private-faas:openfaas"].functions = functions(1);
    edge({ provider: "hetzner", region: "fsn1" })(config);
    const ts = path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js");
    const r = spawnSync(process.execPath, [ts, "--transpile-only", path.join(REPO_ROOT, "tools", "plan.ts"), "--config", writeStackFile(config), "--json"], { cwd: REPO_ROOT, encoding: "utf8" });
    try {
        return new Set((JSON.parse(r.stdout).resources as { type: string }[]).map((x) => x.type));
    } catch {
        return new Set();
    }
}

const registered = programTypes();

/** Why a scenario runs on the stand-in rather than the program, or undefined when the program can run it. */
function standInReason(s: Scenario): string | undefined {
    if (s.standInOnly) return "stand-in only: depends on how the stand-in wires the setting";
    const missing = s.needs.filter((t) => !registered.has(t));
    return missing.length > 0 ? `stand-in until the program registers ${missing.join(", ")}` : undefined;
}

describe("policies end to end through npm run plan", () => {
    let standInRoot: string | undefined;
    const results = new Map<Scenario, PlanRun>();
    beforeAll(async () => {
        if (scenarios.some((s) => standInReason(s) !== undefined)) standInRoot = createStandInRoot();
        const runs = await inPool(scenarios, 2, (s) => runScenario(s, standInReason(s) === undefined ? REPO_ROOT : standInRoot!));
        scenarios.forEach((s, i) => results.set(s, runs[i]));
    }, 300_000);
    afterAll(() => {
        if (standInRoot) fs.rmSync(standInRoot, { recursive: true, force: true });
    });
    for (const s of scenarios) {
        const reason = standInReason(s);
        test(reason === undefined ? `${s.label} [program]` : `${s.label} [${reason}]`, () => {
            const r = results.get(s)!;
            if (r.doc === undefined) throw new Error(`no JSON plan (exit ${r.code}): ${r.stderr}`);
            if (s.violations) expect(tally(r)).toEqual([...s.violations].sort());
            expect(r.code).toBe(s.exit);
            expect(r.doc.summary.mandatory).toBe(r.doc.violations.filter((v) => v.enforcement === "mandatory").length);
            s.check?.(r);
        });
    }
});

describe("policy output of npm run plan", () => {
    test("human output names each violation's policy and enforcement level", async () => {
        const root = createStandInRoot();
        try {
            const config = prodConfig();
            config["private-faas:nodes"][2].storage = "ssd";
            const r = await runPlan(["--config", writeStackFile(config)], {}, root);
            expect(r.code).toBe(1);
            expect(r.stdout).toMatch(/^ {2}\[mandatory\] nvme-storage-required {2}\(urn:pulumi:test::private-faas::pulumi:pulumi:Stack\$private-faas:cluster:VpsNode::osl-agent-2\)$/m);
            expect(r.stdout).toMatch(/^ {4}node osl-agent-2 declares storage "ssd"/m);
            expect(r.stdout).toMatch(/^Summary: \d+ resources, 1 mandatory violation\(s\), 0 advisory violation\(s\)$/m);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    test.each([
        ["a level that does not exist", { [NVME]: "strict" }, /policy configuration error: nvme-storage-required: got "strict"; expected an enforcement level/],
        ["a policy that does not exist", { "eu-residency": "advisory" }, /policy configuration error: eu-residency: got settings for it; expected a policy of the pack/],
        ["a country that is not a code", { [RESIDENCY]: { allowedCountries: ["Norway"] } }, /eu-eea-data-residency\.allowedCountries\[0\]: got "Norway"; expected a string matching/],
        ["a setting the policy does not have", { [QUORUM]: { servers: 2 } }, /etcd-quorum-odd\.servers: got 2; expected no such setting/],
        ["a threshold of the wrong type", { [MIN_SIZE]: { minVcpu: "four" } }, /min-node-size\.minVcpu: got "four"; expected an integer/],
    ])("bad policy config exits 2: %s", async (_label, policyConfig, message) => {
        const file = path.join(path.dirname(writeStackFile({})), "policy.json");
        fs.writeFileSync(file, JSON.stringify(policyConfig));
        const r = await planConfig(prodConfig(), ["--policy-config", file]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(message);
    });

    test("a policy config file that does not exist exits 2", async () => {
        const r = await planConfig(prodConfig(), ["--policy-config", "/nonexistent/policy.json"]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/policy configuration error: \/nonexistent\/policy\.json: got a file that cannot be read/);
    });
});
