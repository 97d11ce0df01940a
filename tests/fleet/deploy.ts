/**
 * `pulumi up` against a fleet, with the commands taken from the program itself: the program (index.ts,
 * or a fixture) runs under the mock engine in a child process (tests/fleet/executor.ts; the Pulumi SDK
 * keeps its state per process), and every `command:remote:Command` it registers is executed over SSH
 * on the host of its `connection` as the command provider would, its real stdout/stderr becoming the
 * resource's state. Dependent resources therefore see real outputs, and the execution order is the
 * deployment graph's by construction.
 *
 * deploy() with `previous` is a second `pulumi up` on the state of the first: unchanged resources are
 * left alone, changed commands run their `update` (or `create`), commands whose connection or triggers
 * changed are replaced, and resources that disappeared are deleted after everything else, in reverse
 * dependency order, by running their `delete`. rerun() runs every executed command a second time
 * (idempotence checks).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import type { Diagnostic } from "../../tools/engine";
import { Fleet } from "./fleet";
import { SshConnection } from "./ssh";

export const COMMAND_TYPE = "command:remote:Command";

/** One resource of the state a deployment leaves (inputs and outputs plain: secrets unwrapped). */
export interface StateResource {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    custom: boolean;
    id?: string;
    dependsOn: string[];
    inputs: Record<string, any>;
    outputs: Record<string, any>;
}

export type StepOp = "create" | "update" | "replace" | "delete" | "rerun";

/** One command that ran over SSH. */
export interface Step {
    op: StepOp;
    urn: string;
    type: string;
    name: string;
    /** The host (address) and port it ran on. */
    host: string;
    port: number;
    /** Which of the resource's commands ran. */
    command: "create" | "update" | "delete";
    exitCode: number;
    /** As the provider stores them (one trailing newline removed). */
    stdout: string;
    stderr: string;
    /** The provider's error message when the step failed. */
    error?: string;
    durationMs: number;
}

export interface Deployment {
    /** False when a step failed or the program threw. */
    ok: boolean;
    /** What `pulumi up` would report: the failing command's message, or the program's error. */
    error?: string;
    /** Every command run, in order. */
    steps: Step[];
    /** Resources registered after a failure and therefore not created ("type::name"). */
    skipped: string[];
    /** The state after the deployment: the input of the next deploy({previous}). */
    state: StateResource[];
    /** Stack outputs (plain). */
    outputs: Record<string, unknown>;
    diagnostics: Diagnostic[];
    /** Where this deployment is kept (inside the fleet's directory). */
    file: string;
}

export interface DeployJob {
    program?: string;
    stackFile: string;
    /** Config keys ("ns:key") whose values are secrets (besides `secure:` ones). */
    secretKeys: string[];
    operatorNetns: string;
    sshDir: string;
    previous?: string;
}

export interface DeployOptions {
    /** The `config:` map of a stack file (see fleetStack()). */
    config: Record<string, unknown>;
    /** Entry module of the program; default: the repository's index.ts. */
    program?: string;
    stack?: string;
    /** The deployment whose state this one starts from (a second `pulumi up`). */
    previous?: Deployment;
    /** Config keys holding secrets given in plain text; default: private-faas:ssh (the private key). */
    secretKeys?: string[];
}

const TS_NODE = path.resolve(__dirname, "..", "..", "node_modules", "ts-node", "dist", "bin.js");
let counter = 0;

/** Runs the program against FLEET and executes its commands; resolves when the deployment is over. */
export async function deploy(fleet: Fleet, opts: DeployOptions): Promise<Deployment> {
    const stack = opts.stack ?? "fleet";
    const dir = path.join(fleet.dir, "deployments", String(++counter));
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stackFile = path.join(dir, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(stackFile, YAML.stringify({ config: opts.config }), { mode: 0o600 });
    const job: DeployJob = {
        program: opts.program,
        stackFile,
        secretKeys: opts.secretKeys ?? ["private-faas:ssh"],
        operatorNetns: fleet.operator.netns,
        sshDir: fleet.sshClient.workDir,
        previous: opts.previous?.file,
    };
    const jobFile = path.join(dir, "job.json");
    const resultFile = path.join(dir, "deployment.json");
    fs.writeFileSync(jobFile, JSON.stringify(job), { mode: 0o600 });
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [TS_NODE, "--transpile-only", path.join(__dirname, "executor.ts"), jobFile, resultFile], {
            stdio: ["ignore", "ignore", "pipe"],
            env: { ...process.env, PF_FLEET: fleet.id },
        });
        fleet.track(child);
        let err = "";
        child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
        child.on("error", reject);
        child.on("close", (c, sig) => resolve({ code: c ?? (sig ? 128 : 1), stderr: err }));
    });
    if (code !== 0 || !fs.existsSync(resultFile)) throw new Error(`the fleet executor failed (exit ${code}): ${stderr}`);
    return { ...JSON.parse(fs.readFileSync(resultFile, "utf8")), file: resultFile };
}

/**
 * Runs every command DEPLOYMENT executed (create, update, replace) a second time, in the same order,
 * with the same connection, text, stdin and environment, and stops at the first failure. A host
 * script that is idempotent changes nothing on this second run (compare snapshots around it).
 */
export async function rerun(fleet: Fleet, deployment: Deployment): Promise<{ ok: boolean; error?: string; steps: Step[] }> {
    const steps: Step[] = [];
    for (const step of deployment.steps) {
        if (step.op === "delete" || step.op === "rerun" || step.exitCode !== 0) continue;
        const resource = deployment.state.find((r) => r.urn === step.urn);
        if (!resource) throw new Error(`${step.urn} ran but is not in the state`);
        const inputs = resource.inputs;
        const text: string = step.command === "update" ? inputs.update ?? inputs.create : inputs.create;
        const started = Date.now();
        const r = await fleet.sshClient.run({ connection: inputs.connection as SshConnection, command: text, stdin: inputs.stdin, environment: inputs.environment });
        steps.push({ ...step, op: "rerun", exitCode: r.code, stdout: r.stdout, stderr: r.stderr, error: r.error, durationMs: Date.now() - started });
        if (r.error) return { ok: false, error: r.error, steps };
    }
    return { ok: true, steps };
}

/** The steps of DEPLOYMENT as "op name" lines, e.g. for toEqual() on the order. */
export function stepNames(steps: Step[]): string[] {
    return steps.map((s) => `${s.op} ${s.name}`);
}
