/**
 * Offline plan: `npm run plan -- [--stack NAME | --config FILE] [--json] [--graph FILE] [--policy-config FILE]`
 *
 * Runs index.ts under the Pulumi mock engine with a stack's configuration (no CLI, no credentials, no
 * network), evaluates the policy pack on what the program registered, and prints the resource tree and
 * the violations (or one JSON document with --json). Exit status: 0 no mandatory violation,
 * 1 at least one mandatory violation, 2 configuration error (nothing registered), 3 the program failed.
 */
import * as path from "path";
import { ConfigProblem } from "../components/config";
import { makePolicies } from "../policies/pack";
import { runProgram, redacted, STACK_TYPE, ProgramRun, Diagnostic } from "./engine";
import { readStack, readStackFile } from "./stackFile";
import { writeGraph } from "./graph";
import { EffectiveConfig, evaluatePolicies, PolicyConfigError, PolicyViolation, readPolicyConfigFile, resolvePolicyConfig } from "./policyEval";

export interface PlanResource {
    urn: string;
    type: string;
    name: string;
    parent: string | null;
    custom: boolean;
    dependsOn: string[];
    inputs: Record<string, unknown>;
}

export type Violation = PolicyViolation;

export interface PlanDocument {
    project: string;
    stack: string;
    resources: PlanResource[];
    violations: Violation[];
    diagnostics: Diagnostic[];
    outputs: Record<string, unknown>;
    summary: { resources: number; mandatory: number; advisory: number };
}

interface Args {
    stack?: string;
    configFile?: string;
    json: boolean;
    graph?: string;
    policyConfig?: string;
}

const USAGE = "usage: npm run plan -- [--stack NAME | --config FILE] [--json] [--graph FILE.dot|.mmd|.svg] [--policy-config FILE]";

function parseArgs(argv: string[]): Args {
    const args: Args = { json: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new Error(`${a} needs a value\n${USAGE}`);
            return v;
        };
        if (a === "--stack") args.stack = value();
        else if (a === "--config") args.configFile = value();
        else if (a === "--json") args.json = true;
        else if (a === "--graph") args.graph = value();
        else if (a === "--policy-config") args.policyConfig = value();
        else throw new Error(`unknown argument "${a}"\n${USAGE}`);
    }
    if (args.stack && args.configFile) throw new Error(`--stack and --config exclude each other\n${USAGE}`);
    return args;
}

export function toPlanResources(run: ProgramRun): PlanResource[] {
    return run.resources.map((r) => ({
        urn: r.urn,
        type: r.type,
        name: r.name,
        parent: r.parent ?? null,
        custom: r.custom,
        dependsOn: r.dependsOn,
        inputs: redacted(r.rawInputs) as Record<string, unknown>,
    }));
}

/** One stderr line per bad key: what every command that reads the configuration prints (exit 2). */
export function configErrorLines(problems: ConfigProblem[]): string {
    return problems.map((p) => `configuration error: ${p.key}: got ${p.value}; expected ${p.expected}\n`).join("");
}

function isConfigError(err: unknown): err is Error & { problems: ConfigProblem[] } {
    return err instanceof Error && err.name === "ConfigError" && Array.isArray((err as { problems?: unknown }).problems);
}

function renderTree(resources: PlanResource[]): string[] {
    const children = new Map<string | null, PlanResource[]>();
    const known = new Set(resources.map((r) => r.urn));
    for (const r of resources) {
        const p = r.parent && known.has(r.parent) ? r.parent : null;
        children.set(p, [...(children.get(p) ?? []), r]);
    }
    const lines: string[] = [];
    const walk = (parent: string | null, prefix: string) => {
        const kids = children.get(parent) ?? [];
        kids.forEach((r, i) => {
            const last = i === kids.length - 1;
            const branch = parent === null ? "" : last ? "└─ " : "├─ ";
            lines.push(`${prefix}${branch}${r.type}  ${r.name}`);
            walk(r.urn, parent === null ? prefix : prefix + (last ? "   " : "│  "));
        });
    };
    walk(null, "");
    return lines;
}

function printHuman(doc: PlanDocument): void {
    const out: string[] = [];
    out.push(`Plan of stack "${doc.stack}" (project ${doc.project}), offline under the mock engine`);
    out.push("");
    out.push("Resources:");
    out.push(...renderTree(doc.resources).map((l) => "  " + l));
    if (doc.diagnostics.length > 0) {
        out.push("");
        out.push("Diagnostics:");
        for (const d of doc.diagnostics) out.push(`  ${d.severity}: ${d.message.replace(/\n/g, "\n    ")}`);
    }
    const outputNames = Object.keys(doc.outputs);
    if (outputNames.length > 0) {
        out.push("");
        out.push("Outputs:");
        for (const k of outputNames) {
            const v = doc.outputs[k];
            out.push(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
        }
    }
    out.push("");
    if (doc.violations.length === 0) {
        out.push("Policy violations: none");
    } else {
        out.push("Policy violations:");
        for (const v of doc.violations) {
            out.push(`  [${v.enforcement}] ${v.policy}${v.urn ? `  (${v.urn})` : ""}`);
            out.push(`    ${v.message.replace(/\n/g, "\n    ")}`);
        }
    }
    out.push("");
    out.push(
        `Summary: ${doc.summary.resources} resources, ${doc.summary.mandatory} mandatory violation(s), ` +
            `${doc.summary.advisory} advisory violation(s)`,
    );
    process.stdout.write(out.join("\n") + "\n");
}

async function main(argv: string[]): Promise<number> {
    let args: Args;
    try {
        args = parseArgs(argv);
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        return 2;
    }
    const policies = makePolicies();
    let policyConfig: EffectiveConfig;
    try {
        const text = args.policyConfig === undefined ? undefined : readPolicyConfigFile(path.resolve(args.policyConfig));
        policyConfig = resolvePolicyConfig(policies, text, args.policyConfig);
    } catch (err) {
        if (!(err instanceof PolicyConfigError)) throw err;
        for (const p of err.problems) process.stderr.write(`policy configuration error: ${p.key}: got ${p.value}; expected ${p.expected}\n`);
        return 2;
    }
    const input = args.configFile ? readStackFile(path.resolve(args.configFile)) : readStack(args.stack ?? "prod");

    const run = await runProgram({ stack: input.stack, config: input.config, secretKeys: input.secretKeys });

    if (isConfigError(run.error)) {
        process.stderr.write(configErrorLines(run.error.problems));
        if (args.json) {
            process.stdout.write(JSON.stringify({ project: run.project, stack: run.stack, configErrors: run.error.problems, resources: [], violations: [], summary: { resources: 0, mandatory: 0, advisory: 0 } }, null, 2) + "\n");
        }
        return 2;
    }
    if (run.error !== undefined) {
        const e = run.error as Error;
        process.stderr.write(`the program failed: ${e?.stack ?? String(e)}\n`);
        return 3;
    }

    const resources = toPlanResources(run);
    const violations = await evaluatePolicies(run, policies, policyConfig);
    const doc: PlanDocument = {
        project: run.project,
        stack: run.stack,
        resources,
        violations,
        diagnostics: run.diagnostics,
        outputs: (redacted(run.stackOutputs ?? {}) as Record<string, unknown>),
        summary: {
            resources: resources.filter((r) => r.type !== STACK_TYPE).length,
            mandatory: violations.filter((v) => v.enforcement === "mandatory").length,
            advisory: violations.filter((v) => v.enforcement === "advisory").length,
        },
    };
    if (args.graph) writeGraph(path.resolve(args.graph), resources);
    if (args.json) process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
    else printHuman(doc);
    return doc.summary.mandatory > 0 ? 1 : 0;
}

/** Exits once stdout and stderr are flushed: a large JSON plan on a pipe is written asynchronously. */
function exitAfterFlush(code: number): void {
    process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

if (require.main === module) {
    main(process.argv.slice(2)).then(exitAfterFlush, (err) => {
        process.stderr.write(`plan failed: ${(err as Error)?.message ?? String(err)}\n`);
        exitAfterFlush(3);
    });
}
