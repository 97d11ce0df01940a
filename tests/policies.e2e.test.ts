/**
 * The policy pack end to end: whole stacks through `npm run plan --json` (tools/plan.ts in a child
 * process), one per rule broken, combinations, boundaries and policy config.
 *
 * Every scenario runs against the repository's program (index.ts), except the one rule no configuration
 * of the program can break: its ingress never exposes /system/ or /ui/ without the admin allow-list.
 * That scenario runs the program plus a deliberately open admin ingress
 * (tests/fixtures/openAdminProgram.ts) to prove the rule still bites end to end; its test name says
 * "[stand-in]".
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { EEA } from "../policies/locations";
import { REPO_ROOT } from "../tools/stackFile";
import { planConfig, prodConfig, PlanRun, runPlan, writeStackFile } from "./helpers/plan";
import { createPlanRoot, inPool } from "./helpers/planRoot";

type Config = Record<string, any>;
type Expected = [policy: string, enforcement: "mandatory" | "advisory", count: number][];

interface Scenario {
    label: string;
    build: (c: Config) => void;
    policyConfig?: Record<string, unknown>;
    env?: NodeJS.ProcessEnv;
    /** Exit status and the exact multiset of (policy, enforcement) violations (omitted: `check` judges them). */
    exit: 0 | 1;
    violations?: Expected;
    check?: (r: PlanRun) => void;
    /** Runs the deliberately wrong stand-in program instead of index.ts (see the header). */
    onStandIn?: boolean;
}

const VPS_NODE = "private-faas:cluster:VpsNode";

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
    { label: "prod as committed passes", build: () => undefined, exit: 0, violations: [] },
    {
        label: "ha as committed passes",
        build: (c) => Object.assign(c, YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.ha.yaml"), "utf8")).config), exit: 0, violations: [],
    },
    {
        label: "a node in hetzner/ash (US) is refused, with the same-provider regions to move to",
        build: (c) => addNode(c, node("osl-agent-3", "agent", { provider: "hetzner", region: "ash" })), exit: 1, violations: [[RESIDENCY, "mandatory", 1]],
        check: (r) => {
            const v = violationsOf(r)[0];
            expect(v.message).toBe(
                "node osl-agent-3 is in hetzner/ash (US): data must stay in the EU/EEA (eu-eea-data-residency). " +
                    "Move it to hetzner/fsn1, nbg1 or hel1, or widen allowedCountries in the policy config.",
            );
            expect(v.urn).toMatch(/private-faas:cluster:VpsNode::osl-agent-3$/);
        },
    },
    { label: "Norway (upcloud/no-svg1) is allowed", build: (c) => addNode(c, node("svg-agent", "agent", { provider: "upcloud", region: "no-svg1" })), exit: 0, violations: [] },
    { label: "Iceland (provider other, IS) is allowed", build: (c) => addNode(c, node("rey-agent", "agent", { provider: "other", country: "IS" })), exit: 0, violations: [] },
    { label: "Liechtenstein (provider other, LI) is allowed", build: (c) => addNode(c, node("vaduz-agent", "agent", { provider: "other", country: "LI" })), exit: 0, violations: [] },
    {
        label: "Switzerland (exoscale/ch-gva-2) is refused by default",
        build: (c) => addNode(c, node("gva-agent", "agent", { provider: "exoscale", region: "ch-gva-2" })), exit: 1, violations: [[RESIDENCY, "mandatory", 1]],
        check: (r) => expect(violationsOf(r)[0].message).toContain("is in exoscale/ch-gva-2 (CH): data must stay in the EU/EEA (eu-eea-data-residency). Move it to exoscale/de-fra-1, de-muc-1, at-vie-1, at-vie-2 or bg-sof-1"),
    },
    {
        label: "Switzerland is allowed through policy config (named set + code)",
        build: (c) => addNode(c, node("gva-agent", "agent", { provider: "exoscale", region: "ch-gva-2" })),
        policyConfig: { [RESIDENCY]: { allowedCountries: ["EEA", "CH"] } }, exit: 0, violations: [],
    },
    {
        label: "the UK (upcloud/uk-lon1) is refused by default",
        build: (c) => addNode(c, node("lon-agent", "agent", { provider: "upcloud", region: "uk-lon1" })), exit: 1, violations: [[RESIDENCY, "mandatory", 1]],
        check: (r) => expect(violationsOf(r)[0].message).toMatch(/^node lon-agent is in upcloud\/uk-lon1 \(GB\)/),
    },
    {
        label: "the UK is allowed through policy config (explicit codes)",
        build: (c) => addNode(c, node("lon-agent", "agent", { provider: "upcloud", region: "uk-lon1" })),
        policyConfig: { [RESIDENCY]: { allowedCountries: [...EEA, "GB"] } }, exit: 0, violations: [],
    },
    {
        label: "aws/eu-north-1 passes residency but is flagged advisory (CLOUD Act)",
        build: (c) => addNode(c, node("sto-agent", "agent", { provider: "aws", region: "eu-north-1" })), exit: 0, violations: [[CLOUD_ACT, "advisory", 1]],
        check: (r) => expect(violationsOf(r)[0].message).toMatch(/^node sto-agent runs at aws \(Amazon Web Services, headquartered in the US\), even in eu-north-1 \(SE\): the US CLOUD Act/),
    },
    {
        label: "an unknown region fails closed",
        build: (c) => addNode(c, node("fra-agent", "agent", { provider: "hetzner", region: "fra9" })), exit: 1, violations: [[RESIDENCY, "mandatory", 1]],
        check: (r) => expect(violationsOf(r)[0].message).toMatch(/hetzner\/fra9, a region the location catalogue does not know, so where its data lives cannot be decided and eu-eea-data-residency fails closed/),
    },
    {
        label: "an unknown provider fails closed",
        build: (c) => addNode(c, node("acme-agent", "agent", { provider: "acme", region: "x1" })), exit: 1, violations: [[RESIDENCY, "mandatory", 1]],
        check: (r) => expect(violationsOf(r)[0].message).toMatch(/provider "acme", which the location catalogue does not know/),
    },
    { label: "provider other in the US is refused", build: (c) => addNode(c, node("us-agent", "agent", { provider: "other", country: "US" })), exit: 1, violations: [[RESIDENCY, "mandatory", 1]] },
    { label: "an SSD node is refused", build: (c) => (c["private-faas:nodes"][1].storage = "ssd"), exit: 1, violations: [[NVME, "mandatory", 1]] },
    { label: "HDD on every node: one violation per node", build: (c) => c["private-faas:nodes"].forEach((n: Config) => (n.storage = "hdd")), exit: 1, violations: [[NVME, "mandatory", 3]] },
    { label: "1 server passes quorum", build: servers(1), exit: 0, violations: [] },
    { label: "2 servers fail quorum", build: servers(2), exit: 1, violations: [[QUORUM, "mandatory", 1]], check: (r) => expect(violationsOf(r)[0].message).toMatch(/has 2 K3s servers \(srv-1, srv-2\): etcd needs 2 of 2 members/) },
    { label: "3 servers pass quorum", build: servers(3), exit: 0, violations: [] },
    { label: "4 servers fail quorum", build: servers(4), exit: 1, violations: [[QUORUM, "mandatory", 1]], check: (r) => expect(violationsOf(r)[0].message).toMatch(/survives losing 1 server\(s\), no more than with 3/) },
    { label: "5 servers pass quorum", build: servers(5), exit: 0, violations: [] },
    { label: "K3s \"latest\" fails pinning", build: (c) => (c["private-faas:k3s"].version = "latest"), exit: 1, violations: [[PINNED, "mandatory", 1]] },
    { label: "K3s \"stable\" fails pinning", build: (c) => (c["private-faas:k3s"].version = "stable"), exit: 1, violations: [[PINNED, "mandatory", 1]] },
    { label: "K3s minor channel v1.35 fails pinning", build: (c) => (c["private-faas:k3s"].version = "v1.35"), exit: 1, violations: [[PINNED, "mandatory", 1]] },
    {
        label: "an SSH password is refused on every remote connection and never printed",
        build: (c) => (c["private-faas:ssh"].password = "hunter2-not-a-real-password"), exit: 1,
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
    { label: "secrets encryption off is refused", build: (c) => (c["private-faas:k3s"].secretsEncryption = false), exit: 1, violations: [[ENCRYPTION, "mandatory", 1]] },
    {
        label: "a small server is flagged advisory only",
        build: (c) => Object.assign(c["private-faas:nodes"][0], { vcpu: 2, memoryGb: 4 }), exit: 0, violations: [[MIN_SIZE, "advisory", 1]],
        check: (r) => expect(violationsOf(r)[0].message).toMatch(/^server osl-server-1 has 2 vCPU \(at least 4\) and 4 GB of memory \(at least 8\)/),
    },
    { label: "min-node-size thresholds from policy config (servers only)", build: () => undefined, policyConfig: { [MIN_SIZE]: { minVcpu: 8 } }, exit: 0, violations: [[MIN_SIZE, "advisory", 1]] },
    { label: "CE with 16 functions is refused", build: (c) => (c["private-faas:openfaas"].functions = functions(16)), exit: 1, violations: [[CE, "mandatory", 1]] },
    { label: "CE with 15 functions passes", build: (c) => (c["private-faas:openfaas"].functions = functions(15)), exit: 0, violations: [] },
    {
        label: "CE scale labels above 5 and scale to zero are refused",
        build: (c) => (c["private-faas:openfaas"].functions = { ...functions(1, { "com.openfaas.scale.max": "10" }), zero: { image: "ghcr.io/example/zero:1.0.0", labels: { "com.openfaas.scale.zero": "true" } } }), exit: 1, violations: [[CE, "mandatory", 2]],
    },
    {
        label: "Pro has no CE limits",
        build: (c) => {
            proEdition(c);
            c["private-faas:openfaas"].functions = functions(16, { "com.openfaas.scale.max": "20", "com.openfaas.scale.zero": "true" });
        }, exit: 0, violations: [],
    },
    { label: "an edge in the EU passes", build: edge({ provider: "hetzner", region: "fsn1" }), exit: 0, violations: [] },
    {
        label: "an edge at vultr/ewr (US) is refused and flagged",
        build: edge({ provider: "vultr", region: "ewr" }), exit: 1, violations: [[RESIDENCY, "mandatory", 1], [CLOUD_ACT, "advisory", 1]],
        check: (r) => expect(violationsOf(r).find((v) => v.policy === RESIDENCY)!.message).toMatch(/^edge \S+ is in vultr\/ewr \(US\)/),
    },
    {
        label: "disabled drops a policy",
        build: (c) => addNode(c, node("osl-agent-3", "agent", { provider: "hetzner", region: "ash" })),
        policyConfig: { [RESIDENCY]: "disabled" }, exit: 0, violations: [],
    },
    {
        label: "a policy lowered to advisory no longer fails the plan",
        build: (c) => (c["private-faas:nodes"][1].storage = "ssd"),
        policyConfig: { [NVME]: { enforcementLevel: "advisory" } }, exit: 0, violations: [[NVME, "advisory", 1]],
    },
    {
        label: "\"all\" sets every level, a policy's own entry wins",
        build: (c) => {
            addNode(c, node("osl-agent-3", "agent", { provider: "hetzner", region: "ash" }, { storage: "ssd" }));
        },
        policyConfig: { all: "advisory", [NVME]: "mandatory" }, exit: 1, violations: [[RESIDENCY, "advisory", 1], [NVME, "mandatory", 1]],
    },
    {
        label: "every rule of the nodes and cluster broken at once, each reported once",
        build: (c) => {
            servers(2)(c);
            addNode(c, node("osl-agent-3", "agent", { provider: "hetzner", region: "ash" }, { storage: "ssd" }));
            c["private-faas:k3s"].version = "latest";
            c["private-faas:k3s"].secretsEncryption = false;
        }, exit: 1,
        violations: [[RESIDENCY, "mandatory", 1], [NVME, "mandatory", 1], [QUORUM, "mandatory", 1], [PINNED, "mandatory", 1], [ENCRYPTION, "mandatory", 1]],
    },
    {
        label: "PULUMI_NODEJS_SKIP_COMPONENT_INPUTS: node and cluster facts still seen (registered outputs), each once",
        build: (c) => {
            addNode(c, node("osl-agent-3", "agent", { provider: "hetzner", region: "ash" }, { storage: "ssd" }));
            c["private-faas:k3s"].version = "stable";
        },
        env: { PULUMI_NODEJS_SKIP_COMPONENT_INPUTS: "1" }, exit: 1, violations: [[RESIDENCY, "mandatory", 1], [NVME, "mandatory", 1], [PINNED, "mandatory", 1]],
        check: (r) => {
            const nodeInputs = r.doc!.resources.filter((x) => x.type === VPS_NODE).map((x) => x.inputs);
            expect(nodeInputs.every((i) => Object.keys(i).length === 0)).toBe(true);
        },
    },
    {
        label: "PULUMI_NODEJS_SKIP_COMPONENT_INPUTS: quorum from the registered outputs",
        build: servers(4), env: { PULUMI_NODEJS_SKIP_COMPONENT_INPUTS: "1" }, exit: 1, violations: [[QUORUM, "mandatory", 1]],
    },
    {
        label: "no admin CIDRs: the program exposes no admin path at all, and passes",
        build: (c) => (c["private-faas:adminCidrs"] = []), exit: 0, violations: [],
    },
    {
        label: "an admin ingress without an allow-list is refused",
        build: (c) => (c["private-faas:adminCidrs"] = []), exit: 1, violations: [[ADMIN, "mandatory", 1]], onStandIn: true,
        check: (r) => expect(violationsOf(r)[0].message).toMatch(/^Ingress openfaas\/open-admin sends .* with no Traefik middleware: the admin API and UI would answer anyone/),
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

describe("policies end to end through npm run plan", () => {
    let standInRoot: string | undefined;
    const results = new Map<Scenario, PlanRun>();
    beforeAll(async () => {
        standInRoot = createPlanRoot("tests/fixtures/openAdminProgram");
        const runs = await inPool(scenarios, 2, (s) => runScenario(s, s.onStandIn ? standInRoot! : REPO_ROOT));
        scenarios.forEach((s, i) => results.set(s, runs[i]));
    }, 300_000);
    afterAll(() => {
        if (standInRoot) fs.rmSync(standInRoot, { recursive: true, force: true });
    });
    for (const s of scenarios) {
        test(s.onStandIn ? `${s.label} [stand-in]` : s.label, () => {
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
        const config = prodConfig();
        config["private-faas:nodes"][2].storage = "ssd";
        const r = await runPlan(["--config", writeStackFile(config)]);
        expect(r.code).toBe(1);
        expect(r.stdout).toMatch(/^ {2}\[mandatory\] nvme-storage-required {2}\(urn:pulumi:test::private-faas::pulumi:pulumi:Stack\$private-faas:cluster:VpsNode::osl-agent-2\)$/m);
        expect(r.stdout).toMatch(/^ {4}node osl-agent-2 declares storage "ssd"/m);
        expect(r.stdout).toMatch(/^Summary: \d+ resources, 1 mandatory violation\(s\), 0 advisory violation\(s\)$/m);
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
