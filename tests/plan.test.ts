import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planConfig, prodConfig, runPlan, TEST_PRIVATE_KEY } from "./helpers/plan";

describe("npm run plan", () => {
    test("the prod stack plans offline, exit 0, with the tree and a summary", async () => {
        const r = await runPlan(["--stack", "prod"]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/^Resources:$/m);
        expect(r.stdout).toMatch(/pulumi:pulumi:Stack {2}private-faas-prod/);
        expect(r.stdout).toMatch(/^Summary: \d+ resources, 0 mandatory violation\(s\), \d+ advisory violation\(s\)$/m);
    });

    test("--json prints one document of the contract's shape", async () => {
        const r = await runPlan(["--stack", "prod", "--json"]);
        expect(r.code).toBe(0);
        const doc = r.doc!;
        expect(doc.project).toBe("private-faas");
        expect(doc.stack).toBe("prod");
        expect(Array.isArray(doc.resources)).toBe(true);
        for (const res of doc.resources) {
            expect(Object.keys(res).sort()).toEqual(["custom", "dependsOn", "inputs", "name", "parent", "type", "urn"]);
        }
        expect(doc.violations).toEqual(expect.any(Array));
        expect(doc.summary).toEqual({ resources: expect.any(Number), mandatory: expect.any(Number), advisory: expect.any(Number) });
    });

    test("secure values are placeholders the output never shows", async () => {
        const r = await runPlan(["--stack", "prod", "--json"]);
        expect(r.stdout).not.toContain("not decrypted offline");
        expect(r.stdout).not.toContain("v1:placeholder");
    });

    test("a secret set in plain text is still never printed", async () => {
        const config = prodConfig();
        config["private-faas:ssh"] = { user: "root", privateKey: TEST_PRIVATE_KEY };
        const r = await planConfig(config);
        expect(r.code).toBe(0);
        expect(r.stdout + r.stderr).not.toContain("test-key-not-real");
    });

    test("--graph writes .dot and .mmd", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-graph-"));
        for (const ext of ["dot", "mmd"]) {
            const file = path.join(dir, `g.${ext}`);
            const r = await runPlan(["--stack", "prod", "--graph", file]);
            expect(r.code).toBe(0);
            expect(fs.readFileSync(file, "utf8")).toMatch(ext === "dot" ? /^digraph deployment \{/ : /^flowchart LR/);
        }
    });

    test("bad arguments are refused with usage", async () => {
        const r = await runPlan(["--stack", "prod", "--bogus"]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/unknown argument "--bogus"/);
    });
});

/** Each case breaks the prod stack one way; the plan must exit 2 and name the key. */
const badConfigs: [string, (c: Record<string, any>) => void, RegExp][] = [
    ["unknown role", (c) => (c["private-faas:nodes"][0].role = "master"), /private-faas:nodes\[0\]\.role: got "master"; expected one of "server", "agent"/],
    ["unknown storage word", (c) => (c["private-faas:nodes"][1].storage = "spinning-rust"), /private-faas:nodes\[1\]\.storage: got "spinning-rust"/],
    ["duplicate node name", (c) => (c["private-faas:nodes"][2].name = "osl-agent-1"), /private-faas:nodes\[2\]\.name: got "osl-agent-1"; expected a name no other node has/],
    ["bad IPv4 address", (c) => (c["private-faas:nodes"][0].host = "192.0.2.300"), /private-faas:nodes\[0\]\.host: got "192\.0\.2\.300"/],
    ["node name not a DNS label", (c) => (c["private-faas:nodes"][0].name = "Osl_Server"), /private-faas:nodes\[0\]\.name: got "Osl_Server"/],
    ["vcpu not an integer", (c) => (c["private-faas:nodes"][0].vcpu = 2.5), /private-faas:nodes\[0\]\.vcpu: got 2\.5/],
    ["memory as text", (c) => (c["private-faas:nodes"][0].memoryGb = "eight"), /private-faas:nodes\[0\]\.memoryGb: got "eight"/],
    ["missing provider", (c) => delete c["private-faas:nodes"][0].provider, /private-faas:nodes\[0\]\.provider: got nothing \(missing\)/],
    ["provider other without country", (c) => Object.assign(c["private-faas:nodes"][0], { provider: "other", region: undefined }), /private-faas:nodes\[0\]\.country: got nothing \(missing\)/],
    ["no nodes at all", (c) => (c["private-faas:nodes"] = []), /private-faas:nodes: got \[\]; expected a list of at least one node/],
    ["no server", (c) => c["private-faas:nodes"].forEach((n: any) => (n.role = "agent")), /private-faas:nodes: .*expected at least one node with role "server"/],
    ["missing k3s version", (c) => (c["private-faas:k3s"] = {}), /private-faas:k3s\.version: got nothing \(missing\)/],
    ["missing ssh key", (c) => (c["private-faas:ssh"] = { user: "root" }), /private-faas:ssh\.privateKey: got nothing \(missing\)/],
    ["pro without licence", (c) => (c["private-faas:openfaas"] = { edition: "pro" }), /private-faas:openfaas\.licenseKey: got nothing \(missing\)/],
    ["unknown edition", (c) => (c["private-faas:openfaas"] = { edition: "enterprise" }), /private-faas:openfaas\.edition: got "enterprise"; expected one of "ce", "pro"/],
    ["bad admin CIDR", (c) => (c["private-faas:adminCidrs"] = ["198.51.100.0/33"]), /private-faas:adminCidrs\[0\]: got "198\.51\.100\.0\/33"/],
    ["typo in a key", (c) => (c["private-faas:k3s"].verison = "v1"), /private-faas:k3s\.verison: got "v1"; expected no such key/],
    ["unknown top-level key", (c) => (c["private-faas:node"] = []), /private-faas:node: got \[\]; expected no such key/],
    ["edge upstream without port", (c) => (c["private-faas:edge"] = { host: "192.0.2.50", serverName: "_", legacyUpstream: "10.0.0.5" }), /private-faas:edge\.legacyUpstream: got "10\.0\.0\.5"/],
    ["edge route path without slash", (c) => (c["private-faas:edge"] = { host: "192.0.2.50", serverName: "_", legacyUpstream: "10.0.0.5:80", routes: [{ path: "api", function: "f" }] }), /private-faas:edge\.routes\[0\]\.path: got "api"/],
    ["max duration too short", (c) => (c["private-faas:openfaas"].maxDurationSeconds = 1), /private-faas:openfaas\.maxDurationSeconds: got 1; expected at least 10/],
];

describe("configuration errors exit 2, name the key and register nothing", () => {
    test.each(badConfigs)("%s", async (_label, breakIt, message) => {
        const config = prodConfig();
        breakIt(config);
        const r = await planConfig(config);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.doc?.resources).toEqual([]);
    });

    test("all problems of one file are reported together", async () => {
        const config = prodConfig();
        config["private-faas:nodes"][1].role = "master";
        config["private-faas:k3s"] = {};
        const r = await planConfig(config);
        expect(r.code).toBe(2);
        expect(r.stderr.trim().split("\n")).toHaveLength(2);
    });
});
