/**
 * The fleet executor: `ts-node executor.ts JOB.json RESULT.json` (spawned by deploy(), one program run
 * per process). Runs the program under the mock engine (tools/engine.ts, preview=false) with a
 * newResource that does what the engine and the providers would do in `pulumi up`:
 *
 * - command:remote:Command: runs `create` over SSH (tests/fleet/ssh.ts) and returns the real stdout and
 *   stderr as its state; with a previous state, an unchanged command is left alone (its old outputs
 *   are returned), a changed one runs `update` (or `create`) with PULUMI_COMMAND_STDOUT/STDERR offered
 *   as the provider does, and one whose `connection` or `triggers` changed is replaced (created anew,
 *   the old one deleted at the end, as Pulumi's default create-before-delete does);
 * - random:*: a fresh random result (kept while the inputs stay the same);
 * - everything else (components, Kubernetes resources, providers): the inputs echoed as state.
 *
 * Commands run one at a time, in the order the program registers them (a resource is only registered
 * once the outputs it depends on exist). The first failing command stops the deployment like `pulumi
 * up`: later resources are not created (listed as skipped) and nothing is deleted. After a successful
 * program run, the resources of the previous state that are gone (and the replaced ones) are deleted
 * in reverse order of the previous state (a valid reverse dependency order), running their `delete`
 * with their old stdin and environment.
 *
 * Resources are matched between runs by type and name (the mock engine does not pass the parent to
 * newResource); a program with two resources of one type and one name is refused.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { specialSigKey, specialSecretSig } from "@pulumi/pulumi/runtime/rpc";
import { runProgram, plain, RecordedResource } from "../../tools/engine";
import { readStackFile } from "../../tools/stackFile";
import type { Deployment, DeployJob, StateResource, Step, StepOp } from "./deploy";
import { SshClient, SshConnection } from "./ssh";

const COMMAND = "command:remote:Command";
const UNSUPPORTED = new Set(["command:local:Command", "command:remote:CopyToRemote", "command:remote:CopyFile"]);

const keyOf = (type: string, name: string) => `${type}::${name}`;

function deepEqual(a: unknown, b: unknown): boolean {
    return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(canonical);
    if (v !== null && typeof v === "object") {
        return Object.fromEntries(Object.keys(v as object).sort().filter((k) => (v as any)[k] !== undefined).map((k) => [k, canonical((v as any)[k])]));
    }
    return v;
}

const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });

function randomText(length: number, inputs: Record<string, any>): string {
    let chars = "";
    if (inputs.upper !== false) chars += "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if (inputs.lower !== false) chars += "abcdefghijklmnopqrstuvwxyz";
    if (inputs.numeric !== false && inputs.number !== false) chars += "0123456789";
    if (inputs.special !== false) chars += inputs.overrideSpecial ?? "!@#$%&*()-_=+[]{}<>:?";
    if (!chars) throw new Error("a random string with no characters to choose from");
    return Array.from(crypto.randomBytes(length), (b) => chars[b % chars.length]).join("");
}

/** Plausible outputs of the random provider's resources. */
function randomOutputs(type: string, inputs: Record<string, any>): Record<string, unknown> {
    switch (type) {
        case "random:index/randomPassword:RandomPassword":
            return { result: secret(randomText(inputs.length ?? 16, inputs)) };
        case "random:index/randomString:RandomString":
            return { result: randomText(inputs.length ?? 16, inputs) };
        case "random:index/randomId:RandomId": {
            const bytes = crypto.randomBytes(inputs.byteLength ?? 8);
            return { hex: bytes.toString("hex"), b64Std: bytes.toString("base64"), b64Url: bytes.toString("base64url"), dec: BigInt("0x" + bytes.toString("hex")).toString() };
        }
        case "random:index/randomUuid:RandomUuid":
            return { result: crypto.randomUUID() };
        case "random:index/randomInteger:RandomInteger":
            return { result: crypto.randomInt(inputs.min ?? 0, (inputs.max ?? 100) + 1) };
        default:
            throw new Error(`the fleet executor has no outputs for ${type}`);
    }
}

interface Created {
    id?: string;
    inputs: Record<string, any>;
}

class Executor {
    readonly steps: (Step & { key: string })[] = [];
    readonly skipped: string[] = [];
    failure?: string;
    private readonly previous: Map<string, StateResource>;
    private readonly replaced: StateResource[] = [];
    private readonly created = new Map<string, Created>();
    private queue: Promise<unknown> = Promise.resolve();

    constructor(
        private readonly client: SshClient,
        private readonly previousState: StateResource[],
    ) {
        this.previous = new Map(previousState.map((r) => [keyOf(r.type, r.name), r]));
    }

    /** The mock monitor's newResource: one at a time, in registration order. */
    newResource = (args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> => {
        const key = keyOf(args.type, args.name);
        if (this.created.has(key)) {
            return Promise.reject(new Error(`two resources of type ${args.type} are named "${args.name}": the fleet executor tells resources apart by type and name`));
        }
        this.created.set(key, { inputs: plain(args.inputs) as Record<string, any> });
        if (!args.custom) return Promise.resolve({ id: undefined, state: args.inputs });
        const result = this.queue.then(() => this.create(key, args));
        this.queue = result.catch(() => undefined);
        return result;
    };

    private async create(key: string, args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
        if (this.failure !== undefined) {
            this.skipped.push(key);
            throw new Error(`${key} not created: an earlier resource failed`);
        }
        if (UNSUPPORTED.has(args.type)) throw this.fail(`the fleet executor does not run ${args.type} (${args.name})`);
        const inputs = this.created.get(key)!.inputs;
        const prev = this.previous.get(key);
        const same = prev !== undefined && deepEqual(prev.inputs, inputs);
        let id = same ? prev.id : `${args.name}-${crypto.randomBytes(4).toString("hex")}`;
        let outputs: Record<string, unknown>;
        if (same) {
            // Unchanged: the engine keeps the old state and calls no provider.
            outputs = Object.fromEntries(Object.entries(prev.outputs).filter(([k]) => !(k in inputs)));
        } else if (args.type === COMMAND) {
            const r = await this.command(key, args.name, inputs, prev);
            outputs = r.outputs;
            if (r.keepId && prev) id = prev.id;
        } else if (args.type.startsWith("random:")) {
            outputs = randomOutputs(args.type, inputs);
        } else {
            outputs = {};
        }
        this.created.get(key)!.id = id;
        return { id, state: { ...args.inputs, ...outputs } };
    }

    private fail(message: string): Error {
        this.failure ??= message;
        return new Error(message);
    }

    private async command(key: string, name: string, inputs: Record<string, any>, prev?: StateResource): Promise<{ outputs: Record<string, unknown>; keepId: boolean }> {
        let op: StepOp = "create";
        let which: Step["command"] = "create";
        let optional: Record<string, string> = {};
        if (prev) {
            if (!deepEqual(prev.inputs.connection, inputs.connection) || !deepEqual(prev.inputs.triggers, inputs.triggers)) {
                op = "replace";
                this.replaced.push(prev);
            } else {
                op = "update";
                which = inputs.update !== undefined ? "update" : "create";
                optional = previousOutputsEnv(inputs, prev);
            }
        }
        const text: string | undefined = inputs[which];
        if (text === undefined) return { outputs: { stdout: prev?.outputs.stdout ?? "", stderr: prev?.outputs.stderr ?? "" }, keepId: op === "update" };
        const step = await this.runStep(key, name, op, which, inputs, text, optional);
        if (step.error) throw this.fail(step.error);
        return { outputs: { stdout: step.stdout, stderr: step.stderr }, keepId: op === "update" };
    }

    private async runStep(key: string, name: string, op: StepOp, which: Step["command"], inputs: Record<string, any>, text: string, optional: Record<string, string>): Promise<Step> {
        const connection = inputs.connection as SshConnection;
        const started = Date.now();
        let step: Step & { key: string };
        try {
            const r = await this.client.run({ connection, command: text, stdin: inputs.stdin, environment: inputs.environment, optionalEnvironment: optional });
            step = { key, op, urn: "", type: key.split("::")[0], name, host: connection.host, port: connection.port ?? 22, command: which, exitCode: r.code, stdout: r.stdout, stderr: r.stderr, error: r.error, durationMs: Date.now() - started };
        } catch (err) {
            const message = (err as Error).message;
            step = { key, op, urn: "", type: key.split("::")[0], name, host: connection?.host, port: connection?.port ?? 22, command: which, exitCode: -1, stdout: "", stderr: "", error: message, durationMs: Date.now() - started };
        }
        this.steps.push(step);
        return step;
    }

    /** The deletions of `pulumi up` after the program: gone and replaced resources, newest first. */
    async deleteGone(): Promise<void> {
        const doomed = this.previousState.filter((r) => !this.created.has(keyOf(r.type, r.name)) || this.replaced.includes(r));
        for (const r of doomed.reverse()) {
            if (r.type !== COMMAND || r.inputs.delete === undefined) continue;
            const step = await this.runStep(keyOf(r.type, r.name), r.name, "delete", "delete", r.inputs, r.inputs.delete, previousOutputsEnv(r.inputs, r));
            step.urn = r.urn;
            if (step.error) {
                this.fail(step.error);
                return;
            }
        }
    }

    /** The state after this deployment. */
    state(resources: RecordedResource[]): StateResource[] {
        const now: StateResource[] = resources.map((r) => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            parent: r.parent,
            custom: r.custom,
            id: this.created.get(keyOf(r.type, r.name))?.id,
            dependsOn: r.dependsOn,
            inputs: plain(r.rawInputs) as Record<string, any>,
            outputs: plain(r.rawOutputs) as Record<string, any>,
        }));
        if (this.failure === undefined) return now;
        // A failed deployment deletes nothing: what the previous state had and this run did not
        // replace stays.
        const kept = new Set(now.map((r) => keyOf(r.type, r.name)));
        return [...now, ...this.previousState.filter((r) => !kept.has(keyOf(r.type, r.name)))];
    }
}

/** What the provider offers an update or delete: the previous stdout/stderr (addPreviousOutputInEnv). */
function previousOutputsEnv(inputs: Record<string, any>, prev: StateResource): Record<string, string> {
    if (inputs.addPreviousOutputInEnv === false) return {};
    const env: Record<string, string> = {};
    if (prev.outputs.stdout) env.PULUMI_COMMAND_STDOUT = prev.outputs.stdout;
    if (prev.outputs.stderr) env.PULUMI_COMMAND_STDERR = prev.outputs.stderr;
    return env;
}

async function main(jobFile: string, resultFile: string): Promise<void> {
    const job: DeployJob = JSON.parse(fs.readFileSync(jobFile, "utf8"));
    const input = readStackFile(job.stackFile);
    const previous: StateResource[] = job.previous ? JSON.parse(fs.readFileSync(job.previous, "utf8")).state : [];
    const executor = new Executor(new SshClient(job.operatorNetns, job.sshDir), previous);
    const run = await runProgram({
        program: job.program,
        stack: input.stack,
        config: input.config,
        secretKeys: [...new Set([...input.secretKeys, ...job.secretKeys])],
        preview: false,
        newResource: executor.newResource,
    });
    if (executor.failure === undefined && run.error === undefined) await executor.deleteGone();
    const urns = new Map(run.resources.map((r) => [keyOf(r.type, r.name), r.urn]));
    const steps: Step[] = executor.steps.map(({ key, ...s }) => ({ ...s, urn: s.urn || urns.get(key) || key }));
    const programError = run.error === undefined ? undefined : (run.error as Error)?.message ?? String(run.error);
    const error = executor.failure ?? programError;
    const result: Omit<Deployment, "file"> = {
        ok: error === undefined,
        error,
        steps,
        skipped: executor.skipped,
        state: executor.state(run.resources),
        outputs: (plain(run.stackOutputs ?? {}) as Record<string, unknown>) ?? {},
        diagnostics: run.diagnostics,
    };
    fs.writeFileSync(resultFile, JSON.stringify(result, null, 2), { mode: 0o600 });
}

main(process.argv[2], process.argv[3]).then(
    () => process.exit(0),
    (err) => {
        process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
        process.exit(1);
    },
);
