/**
 * Runs the Pulumi program (index.ts) in this process under the SDK's mock engine and records what it
 * registers, the way the engine would see it: every resource with its type, name, parent, custom flag,
 * provider, dependencies (explicit and property) and inputs, each component's registered outputs, the
 * stack outputs, and the diagnostics the program logged.
 *
 * Secret and unknown values are kept as markers in the raw wire form, so callers choose the view:
 * `plain` (secrets unwrapped, unknowns undefined: what a policy sees) or `redacted` ("[secret]",
 * "[unknown]": what may be printed).
 *
 * The same runner serves the offline plan (tools/plan.ts), the mock-engine tests and the fleet tests,
 * which pass their own `newResource` to execute remote commands for real.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

/** Wire-format markers of the Pulumi RPC layer (sdk/nodejs/runtime/rpc.ts). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const STACK_TYPE = "pulumi:pulumi:Stack";

export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    custom: boolean;
    /** Provider reference ("urn::id") for custom resources with an explicit provider. */
    provider?: string;
    /** Explicit and property dependencies, de-duplicated, in registration order. */
    dependsOn: string[];
    propertyDependencies: Record<string, string[]>;
    /** Raw wire-form inputs (markers kept). */
    rawInputs: Record<string, unknown>;
    /** Raw wire-form outputs: a custom resource's state, a component's registered outputs. */
    rawOutputs: Record<string, unknown>;
    /** Resource options the engine acts on: outputs it stores as secrets, the resource it is deleted with. */
    additionalSecretOutputs: string[];
    deletedWith?: string;
}

export interface Diagnostic {
    severity: "info" | "warning" | "error";
    message: string;
}

export interface ProgramRun {
    project: string;
    stack: string;
    resources: RecordedResource[];
    /** Raw wire-form stack outputs (undefined when the program failed). */
    stackOutputs?: Record<string, unknown>;
    diagnostics: Diagnostic[];
    /** The error that stopped the program, if any. */
    error?: unknown;
}

export interface RunOptions {
    /** Absolute path of the program's entry module. Default: this repository's index.ts. */
    program?: string;
    project?: string;
    stack: string;
    /** Config as Pulumi hands it to a program: "ns:key" → JSON text or plain string. */
    config: Record<string, string>;
    /** Config keys ("ns:key") whose values are secrets. */
    secretKeys?: string[];
    /** Preview (unknown outputs, applies on them do not run) or update. Default: true. */
    preview?: boolean;
    /** Creates a resource; default: echo the inputs as state (what a preview shows). */
    newResource?: (args: pulumi.runtime.MockResourceArgs) => Promise<pulumi.runtime.MockResourceResult>;
    call?: (args: pulumi.runtime.MockCallArgs) => Promise<Record<string, unknown>>;
}

/** Converts a wire value to what a policy sees: secrets unwrapped, unknowns undefined. */
export function plain(value: unknown): unknown {
    return view(value, (v) => plain(v), () => undefined);
}

/** Converts a wire value to what may be printed: secrets "[secret]", unknowns "[unknown]". */
export function redacted(value: unknown): unknown {
    return view(value, () => "[secret]", () => "[unknown]");
}

/** True when the wire value is, or contains, a secret. */
export function containsSecret(value: unknown): boolean {
    if (Array.isArray(value)) return value.some(containsSecret);
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (obj[SIG_KEY] === SECRET_SIG) return true;
        if (obj[SIG_KEY] === OUTPUT_SIG && obj.secret === true) return true;
        return Object.values(obj).some(containsSecret);
    }
    return false;
}

function view(value: unknown, onSecret: (inner: unknown) => unknown, onUnknown: () => unknown): unknown {
    if (value === UNKNOWN) return onUnknown();
    if (Array.isArray(value)) return value.map((v) => view(v, onSecret, onUnknown));
    if (value === null || typeof value !== "object") return value;
    const obj = value as Record<string, unknown>;
    switch (obj[SIG_KEY]) {
        case SECRET_SIG:
            return onSecret(obj.value);
        case OUTPUT_SIG:
            if (!("value" in obj)) return onUnknown();
            return obj.secret === true ? onSecret(obj.value) : view(obj.value, onSecret, onUnknown);
        case RESOURCE_SIG:
            return obj.urn;
        case ASSET_SIG:
        case ARCHIVE_SIG: {
            const { [SIG_KEY]: _sig, ...rest } = obj;
            return view(rest, onSecret, onUnknown);
        }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = view(v, onSecret, onUnknown);
    return out;
}

/** A MockMonitor that also records what each registration carried. */
class RecordingMonitor extends MockMonitor {
    readonly recorded = new Map<string, RecordedResource>();
    readonly order: string[] = [];

    async registerResource(req: any, callback: (err: any, resp: any) => void): Promise<void> {
        await super.registerResource(req, (err: any, resp: any) => {
            if (!err && resp) {
                const urn: string = resp.getUrn();
                const propertyDependencies: Record<string, string[]> = {};
                req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
                    propertyDependencies[key] = deps.getUrnsList();
                });
                const dependsOn = unique([
                    ...req.getDependenciesList(),
                    ...Object.values(propertyDependencies).flat(),
                ]);
                this.recorded.set(urn, {
                    urn,
                    type: req.getType(),
                    name: req.getName(),
                    parent: req.getParent() || undefined,
                    custom: req.getCustom(),
                    provider: req.getProvider() || undefined,
                    dependsOn,
                    propertyDependencies,
                    rawInputs: req.getObject()?.toJavaScript() ?? {},
                    rawOutputs: resp.getObject()?.toJavaScript() ?? {},
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                    deletedWith: req.getDeletedwith() || undefined,
                });
                this.order.push(urn);
            }
            callback(err, resp);
        });
    }

    registerResourceOutputs(req: any, callback: (err: any, resp: any) => void): void {
        const urn: string = req.getUrn();
        const rec = this.recorded.get(urn);
        if (rec) rec.rawOutputs = req.getOutputs()?.toJavaScript() ?? {};
        super.registerResourceOutputs(req, callback);
    }
}

/** Waits until every outstanding registration has finished (internal to the SDK, stable since 3.x). */
function waitForRPCs(): Promise<void> {
    return (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

function unique<T>(items: T[]): T[] {
    return [...new Set(items)];
}

const CONSOLE_PREFIXES: [string, Diagnostic["severity"]][] = [
    ["info: [runtime] ", "info"],
    ["warning: [runtime] ", "warning"],
    ["error: [runtime] ", "error"],
];

/**
 * Runs the program once. The Pulumi SDK keeps its state per process, so run one program per process
 * (the plan does; jest gives every test file its own module registry and state).
 */
export async function runProgram(opts: RunOptions): Promise<ProgramRun> {
    const project = opts.project ?? "private-faas";
    const program = opts.program ?? path.resolve(__dirname, "..", "index.ts");
    const monitor = new RecordingMonitor({
        newResource: opts.newResource ?? (async (args) => ({ id: args.custom ? `${args.name}-id` : undefined, state: args.inputs })),
        call: opts.call ?? (async (args) => args.inputs),
    });

    pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
    pulumi.runtime.setMockOptions(monitor, project, opts.stack, opts.preview ?? true);
    // What setMocks enables, except outputValues (see the SDK's mocks.ts).
    const { getStore } = require("@pulumi/pulumi/runtime/state") as { getStore(): Record<string, unknown> };
    const store = getStore();
    Object.assign(store, {
        supportsSecrets: true,
        supportsResourceReferences: true,
        supportsOutputValues: false,
        supportsDeletedWith: true,
        supportsAliasSpecs: true,
        supportsTransforms: true,
        supportsInvokeTransforms: true,
    });

    const diagnostics: Diagnostic[] = [];
    const saved = { log: console.log, warn: console.warn, error: console.error };
    const capture = (fallback: (...a: unknown[]) => void) => (...args: unknown[]) => {
        const text = args.map(String).join(" ");
        const hit = CONSOLE_PREFIXES.find(([prefix]) => text.startsWith(prefix));
        if (hit) diagnostics.push({ severity: hit[1], message: text.slice(hit[0].length) });
        else fallback(...args);
    };
    console.log = capture(saved.log);
    console.warn = capture(saved.warn);
    console.error = capture(saved.error);

    let stackOutputs: Record<string, unknown> | undefined;
    let error: unknown;
    // An apply that throws on an output nobody awaits surfaces only as an unhandled rejection; the
    // language host reports it as the program's failure, and so does this run (not a crashed process).
    const onUnhandled = (reason: unknown) => {
        error ??= reason;
    };
    process.on("unhandledRejection", onUnhandled);
    try {
        await pulumi.runtime.runInPulumiStack(async () => require(program));
        await waitForRPCs();
        const root = [...monitor.recorded.values()].find((r) => r.type === STACK_TYPE);
        stackOutputs = root?.rawOutputs;
    } catch (err) {
        error ??= err;
        await waitForRPCs().catch(() => undefined);
    } finally {
        Object.assign(console, saved);
        // Rejections of this run may still be queued: let them arrive before the handler goes.
        await new Promise((resolve) => setImmediate(resolve));
        process.off("unhandledRejection", onUnhandled);
    }
    return {
        project,
        stack: opts.stack,
        resources: monitor.order.map((urn) => monitor.recorded.get(urn)!),
        stackOutputs,
        diagnostics,
        error,
    };
}
