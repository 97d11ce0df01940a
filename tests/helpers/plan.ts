/**
 * Runs `npm run plan` the way a user does (a child process: the Pulumi SDK keeps its state per
 * process) on a stack file written from a JS object, and returns the exit status and the JSON plan.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "../../tools/stackFile";
import type { PlanDocument } from "../../tools/plan";
import type { ConfigProblem } from "../../components/config";

export interface PlanRun {
    code: number;
    stdout: string;
    stderr: string;
    /** The parsed JSON document (with --json). */
    doc?: PlanDocument & { configErrors?: ConfigProblem[] };
}

const TS_NODE = path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js");

/** Runs the TypeScript file SCRIPT with ARGS in a child process (cwd: ROOT, default the repository). */
export function runTsScript(script: string, args: string[], env: NodeJS.ProcessEnv = {}, root = REPO_ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [TS_NODE, "--transpile-only", script, ...args], { cwd: root, env: { ...process.env, ...env } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
}

/**
 * Runs tools/plan.ts with ARGS (cwd: the repository, or ROOT: a tree laid out like it) and parses
 * stdout when --json is among them.
 */
export async function runPlan(args: string[], env: NodeJS.ProcessEnv = {}, root = REPO_ROOT): Promise<PlanRun> {
    const r = await runTsScript(path.join(root, "tools", "plan.ts"), args, env, root);
    let doc: PlanRun["doc"];
    if (args.includes("--json") && r.stdout.trim().startsWith("{")) doc = JSON.parse(r.stdout);
    return { ...r, doc };
}

/** Writes CONFIG (the `config:` map of a stack file) to a temporary Pulumi.NAME.yaml and returns its path. */
export function writeStackFile(config: Record<string, unknown>, name = "test"): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-stack-"));
    const file = path.join(dir, `Pulumi.${name}.yaml`);
    fs.writeFileSync(file, YAML.stringify({ config }));
    return file;
}

/** Plans a stack given as a `config:` map, with --json. */
export function planConfig(config: Record<string, unknown>, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}, root = REPO_ROOT): Promise<PlanRun> {
    return runPlan(["--config", writeStackFile(config), "--json", ...extraArgs], env, root);
}

/** The prod stack's `config:` map, as a base for variations. */
export function prodConfig(): Record<string, any> {
    const doc = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8"));
    return doc.config;
}

/** An OpenSSH-looking test key (never a real one). */
export const TEST_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest-key-not-real\n-----END OPENSSH PRIVATE KEY-----\n";
