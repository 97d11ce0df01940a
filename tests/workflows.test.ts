/**
 * The GitHub workflows: parsed as YAML and checked for structure, and their shell steps run for real
 * (the checks' plan loop on a copy of the tree, the preview's gate with and without its settings).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "../tools/stackFile";
import { createPlanRoot } from "./helpers/planRoot";

const WORKFLOWS = path.join(REPO_ROOT, ".github", "workflows");
const read = (name: string) => fs.readFileSync(path.join(WORKFLOWS, name), "utf8");
const load = (name: string) => YAML.parse(read(name));

type Step = { name?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; id?: string; "working-directory"?: string };
const steps = (wf: any, job: string): Step[] => wf.jobs[job].steps;
const runs = (wf: any, job: string) => steps(wf, job).map((s) => s.run ?? "").join("\n");

function bash(script: string, env: NodeJS.ProcessEnv, cwd: string) {
    return spawnSync("bash", ["-e", "-c", script], { cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
}

describe("PR checks (every pull request, forks included)", () => {
    const wf = load("pr-checks.yml");

    test("runs on pull requests, read-only, and uses no secrets at all", () => {
        expect(Object.keys(wf.on)).toContain("pull_request");
        expect(wf.on).not.toHaveProperty("pull_request_target");
        expect(wf.permissions).toEqual({ contents: "read" });
        expect(read("pr-checks.yml")).not.toMatch(/secrets\./);
    });

    test("jobs: npm test (with the Debian test packages) and the offline plan of every stack", () => {
        expect(Object.keys(wf.jobs)).toEqual(["test", "plan"]);
        expect(runs(wf, "test")).toMatch(/sudo tools\/install-test-deps\.sh[\s\S]*npm ci[\s\S]*npm test/);
        expect(runs(wf, "plan")).toMatch(/for file in Pulumi\.\*\.yaml/);
        expect(runs(wf, "plan")).toMatch(/GITHUB_STEP_SUMMARY/);
        for (const job of ["test", "plan"]) for (const s of steps(wf, job)) if (s.uses) expect(s.uses).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
    });

    test("the plan step plans every stack file and writes the summary (run for real on a copy of the tree)", () => {
        const planStep = steps(wf, "plan").find((s) => s.name?.startsWith("Plan each"))!.run!;
        const root = createPlanRoot();
        const summary = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pf-summary-")), "summary.md");
        try {
            const r = bash(planStep, { GITHUB_STEP_SUMMARY: summary }, root);
            expect(r.stderr).not.toMatch(/error/i);
            expect(r.status).toBe(0);
            const text = fs.readFileSync(summary, "utf8");
            for (const stack of ["prod", "ha"]) expect(text).toContain(`### Stack \`${stack}\`: ✅ passes (exit 0)`);
            expect(text).toMatch(/\| `private-faas:cluster:VpsNode` \| `osl-server-1` \|/);

            // A stack with a mandatory violation fails the job and shows the violation.
            const bad = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8").replace("region: oslo\n      storage: nvme", "region: oslo\n      storage: ssd");
            fs.writeFileSync(path.join(root, "Pulumi.broken.yaml"), bad);
            const r2 = bash(planStep, { GITHUB_STEP_SUMMARY: summary }, root);
            expect(r2.status).toBe(1);
            expect(fs.readFileSync(summary, "utf8")).toMatch(/### Stack `broken`: ❌ has mandatory policy violations \(exit 1\)[\s\S]*\| `nvme-storage-required` \| mandatory \| private-faas:cluster:VpsNode `osl-server-1` \|/);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    }, 120_000);
});

describe("PR preview (pulumi preview with the policy pack on a self-managed backend)", () => {
    const wf = load("pr-preview.yml");
    const gate = steps(wf, "configured").find((s) => s.id === "check")!;

    test("structure: a gate job, then pulumi/actions preview with the pack, commented on the PR", () => {
        expect(Object.keys(wf.on)).toEqual(["pull_request"]);
        expect(Object.keys(wf.jobs)).toEqual(["configured", "preview"]);
        expect(wf.permissions).toEqual({ contents: "read", "pull-requests": "write" });
        const preview = wf.jobs.preview;
        expect(preview.needs).toBe("configured");
        expect(preview.if).toBe("needs.configured.outputs.enabled == 'true'");
        expect(preview.strategy.matrix.stack).toBe("${{ fromJSON(needs.configured.outputs.stacks) }}");
        const action = steps(wf, "preview").find((s) => s.uses?.startsWith("pulumi/actions@"))!;
        expect(action.uses).toMatch(/^pulumi\/actions@v\d+$/);
        expect(action.with).toMatchObject({
            command: "preview",
            "stack-name": "${{ matrix.stack }}",
            "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
            "comment-on-pr": true,
            policyPacks: "policies",
        });
        expect(action.env?.PULUMI_CONFIG_PASSPHRASE).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
        const policyDeps = steps(wf, "preview").find((s) => s["working-directory"] === "policies");
        expect(policyDeps?.run).toMatch(/npm ci/);
    });

    test("the gate skips cleanly without settings, and enables the preview with them", () => {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pf-gate-")), "output");
        const gateRun = (env: Record<string, string>) => {
            fs.writeFileSync(out, "");
            const r = bash(gate.run!, { GITHUB_OUTPUT: out, BACKEND_URL: "", STACKS: "", HAS_PASSPHRASE: "false", ...env }, REPO_ROOT);
            return { status: r.status, stdout: r.stdout, output: fs.readFileSync(out, "utf8") };
        };
        const skipped = gateRun({});
        expect(skipped.status).toBe(0);
        expect(skipped.output).toBe("enabled=false\n");
        expect(skipped.stdout).toMatch(/::notice title=PR preview skipped::/);
        expect(gateRun({ BACKEND_URL: "s3://state?endpoint=s3.fr-par.scw.cloud", STACKS: '["prod"]' }).output).toBe("enabled=false\n");
        const enabled = gateRun({ BACKEND_URL: "s3://state?endpoint=s3.fr-par.scw.cloud", STACKS: '["prod", "ha"]', HAS_PASSPHRASE: "true" });
        expect(enabled).toMatchObject({ status: 0, output: 'enabled=true\nstacks=["prod","ha"]\n' });
        const bad = gateRun({ BACKEND_URL: "s3://state", STACKS: "prod", HAS_PASSPHRASE: "true" });
        expect(bad.status).toBe(1);
        expect(bad.stdout).toMatch(/::error title=PULUMI_PREVIEW_STACKS::/);
    });
});

describe("workflow shell", () => {
    const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0;
    (hasShellcheck ? test : test.skip)("every run step passes shellcheck", () => {
        for (const file of fs.readdirSync(WORKFLOWS)) {
            const wf = load(file);
            for (const [job, def] of Object.entries<any>(wf.jobs)) {
                for (const s of def.steps as Step[]) {
                    if (!s.run) continue;
                    const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: s.run, encoding: "utf8" });
                    expect([`${file} ${job} ${s.name ?? s.id ?? s.run.split("\n")[0]}`, r.stdout]).toEqual([expect.any(String), ""]);
                }
            }
        }
    });
});
