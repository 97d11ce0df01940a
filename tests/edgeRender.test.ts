/**
 * `npm run edge:render`: prints exactly what the stack deploys (the EdgeProxy's deploy command gets
 * the same text), nginx accepts it at its Debian paths, and bad configuration gives the plan's lines.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../tools/stackFile";
import { prodConfig, runPlan, writeStackFile } from "./helpers/plan";
import { Sandbox, sandboxSupport } from "./harness/sandbox";

const TS_NODE = path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js");

function render(args: string[]): { code: number; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [TS_NODE, "--transpile-only", path.join(REPO_ROOT, "tools", "edge-render.ts"), ...args], { cwd: REPO_ROOT, encoding: "utf8" });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe("npm run edge:render", () => {
    let prod: ReturnType<typeof render>;
    beforeAll(() => (prod = render(["--stack", "prod"])));

    test("prints the prod stack's nginx.conf: the same text the plan hands the deploy command", async () => {
        expect(prod).toMatchObject({ code: 0, stderr: "" });
        expect(prod.stdout).toMatch(/^ {8}location = \/api\/v2\/image-resize \{$/m);
        const plan = await runPlan(["--stack", "prod", "--json"]);
        expect(plan.code).toBe(0);
        const deploy = plan.doc!.resources.find((r) => r.type === "command:remote:Command" && r.name === "edge-deploy");
        expect(deploy).toBeDefined();
        expect(deploy!.inputs.stdin).toBe(prod.stdout);
    });

    const sandbox = sandboxSupport();
    (sandbox.ok ? test : test.skip)("nginx -t accepts it at its Debian paths, with the flags of the Debian unit", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-edge-render-"));
        fs.writeFileSync(path.join(dir, "nginx.conf"), prod.stdout);
        const box = Sandbox.create("edge-render");
        try {
            const r = box.run(["nginx", "-t", "-g", "daemon on; master_process on;", "-c", "/mnt/edge-render/nginx.conf"], { binds: { [dir]: "/mnt/edge-render" } });
            expect(r.stderr).toMatch(/test is successful/);
            expect(r.code).toBe(0);
        } finally {
            box.destroy();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("a bad configuration: exit 2 and the plan's lines, word for word", async () => {
        const config = prodConfig();
        config["private-faas:edge"].routes[1].path = "/api/v2/invoices/pdf/";
        config["private-faas:edge"].legacyUpstream = "127.0.0.1";
        config["private-faas:nodes"][1].role = "master";
        const file = writeStackFile(config);
        const r = render(["--config", file]);
        expect(r.code).toBe(2);
        expect(r.stdout).toBe("");
        const plan = await runPlan(["--config", file]);
        expect(plan.code).toBe(2);
        expect(r.stderr).toBe(plan.stderr);
        expect(r.stderr.trim().split("\n")).toHaveLength(3);
        expect(r.stderr).toMatch(/^configuration error: private-faas:edge\.routes\[1\]\.path: got "\/api\/v2\/invoices\/pdf\/"; expected a URL path/m);
    });

    test("a stack without an edge, and bad arguments, exit 2", () => {
        const config = prodConfig();
        delete config["private-faas:edge"];
        const none = render(["--config", writeStackFile(config, "noedge")]);
        expect(none).toMatchObject({ code: 2, stdout: "", stderr: 'edge:render: stack "noedge" configures no edge (private-faas:edge is absent or {})\n' });
        expect(render(["--stack"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--stack needs a value\nusage: npm run edge:render/) });
        expect(render(["--bogus"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown argument "--bogus"/) });
        expect(render(["--stack", "prod", "--config", "x.yaml"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/exclude each other/) });
    });
});

describe("EdgeProxy in the plan", () => {
    test("registered with the edge host's location, deploying over SSH with the key", async () => {
        const plan = await runPlan(["--stack", "prod", "--json"]);
        const resources = plan.doc!.resources;
        const edge = resources.find((r) => r.type === "private-faas:edge:EdgeProxy")!;
        expect(edge.name).toBe("edge");
        expect(edge.inputs).toMatchObject({ host: "192.0.2.20", provider: "coolvds", region: "oslo", sshPort: 22, nginxConfigSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
        const deploy = resources.find((r) => r.name === "edge-deploy")!;
        expect(deploy.parent).toBe(edge.urn);
        expect(deploy.inputs.create).toMatch(/^exec \/bin\/bash -c '#!\/usr\/bin\/env bash\n# Installs the strangler-fig edge/);
        expect(deploy.inputs.create).toMatch(/'private-faas\/edge-deploy\.sh'$/);
        expect(JSON.stringify(deploy.inputs)).not.toMatch(/password/);
        expect(plan.doc!.outputs.edgeNginxConfigSha256).toBe(edge.inputs.nginxConfigSha256);
    });

    test("no edge configured: no EdgeProxy", async () => {
        const config = prodConfig();
        config["private-faas:edge"] = {};
        const plan = await runPlan(["--config", writeStackFile(config), "--json"]);
        expect(plan.code).toBe(0);
        expect(plan.doc!.resources.filter((r) => r.type === "private-faas:edge:EdgeProxy" || r.name === "edge-deploy")).toEqual([]);
    });
});
