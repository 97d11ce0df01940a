/**
 * Evaluates the policy pack on a recorded program run the way the Pulumi engine and the
 * @pulumi/policy analyzer do, without either:
 *
 * - policy config as `pulumi preview --policy-pack-config FILE` takes it: per policy an enforcement
 *   level or an object of settings (with an optional `enforcementLevel`), `"all"` setting every
 *   policy's level; the schema's defaults filled in, then the given values, then validated against
 *   the policy's configSchema (as the CLI's ReconcilePolicyPackConfig does);
 * - resource policies on every registered resource with its inputs (`props`: secrets unwrapped,
 *   unknown values undefined), in registration order, then stack policies once on all resources with
 *   their outputs (a component's registered outputs), parents and dependencies;
 * - `disabled` drops a policy; `remediate` reports as mandatory (this pack has no remediations).
 */
import type {
    EnforcementLevel,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import * as fs from "fs";
import type { PackPolicy } from "../policies/settings";
import { plain, ProgramRun, RecordedResource } from "./engine";

export type Enforcement = "mandatory" | "advisory";

export interface PolicyViolation {
    policy: string;
    enforcement: Enforcement;
    urn: string | null;
    message: string;
}

/** One problem with the policy config: which key, the bad value, what is expected. */
export interface PolicyConfigProblem {
    key: string;
    value: string;
    expected: string;
}

export class PolicyConfigError extends Error {
    constructor(readonly problems: PolicyConfigProblem[]) {
        super(problems.map((p) => `policy config ${p.key}: got ${p.value}; expected ${p.expected}`).join("\n"));
        this.name = "PolicyConfigError";
    }
}

/** The level and settings each policy runs with. */
export type EffectiveConfig = Map<string, { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }>;

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];
const LEVEL_EXPECTED = `an enforcement level (${LEVELS.map((l) => `"${l}"`).join(", ")})`;

const show = (v: unknown) => (v === undefined ? "nothing" : JSON.stringify(v));

// ---------------------------------------------------------------------------------------------------
// Policy config
// ---------------------------------------------------------------------------------------------------

/**
 * Checks VALUE against the subset of JSON Schema this pack's config schemas use. Throws on a keyword
 * it does not implement, so a schema can never be half-checked.
 */
export function schemaProblems(schema: PolicyConfigJSONSchema, value: unknown, key: string): PolicyConfigProblem[] {
    const known = new Set(["type", "items", "enum", "pattern", "minimum", "maximum", "exclusiveMinimum", "minItems", "uniqueItems", "properties", "required", "default", "description"]);
    for (const k of Object.keys(schema)) if (!known.has(k)) throw new Error(`policy config schema of ${key}: keyword "${k}" is not supported by the offline evaluator`);
    const problem = (expected: string) => [{ key, value: show(value), expected }];
    const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
    const typeOk = (t: string) =>
        t === "integer" ? Number.isInteger(value)
            : t === "number" ? typeof value === "number" && Number.isFinite(value)
            : t === "array" ? Array.isArray(value)
            : t === "object" ? value !== null && typeof value === "object" && !Array.isArray(value)
            : t === "null" ? value === null
            : typeof value === t;
    if (types.length > 0 && !types.some(typeOk)) return problem(types.map((t) => (t === "integer" ? "an integer" : t === "array" ? "a list" : `a ${t}`)).join(" or "));
    if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) return problem(`one of ${schema.enum.map(show).join(", ")}`);
    if (typeof value === "string" && schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return problem(`a string matching ${schema.pattern}`);
    if (typeof value === "number") {
        if (schema.minimum !== undefined && value < schema.minimum) return problem(`at least ${schema.minimum}`);
        if (schema.maximum !== undefined && value > schema.maximum) return problem(`at most ${schema.maximum}`);
        if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return problem(`more than ${schema.exclusiveMinimum}`);
    }
    if (Array.isArray(value)) {
        if (schema.minItems !== undefined && value.length < schema.minItems) return problem(`a list of at least ${schema.minItems} item(s)`);
        if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) return problem("a list without repeated items");
        if (schema.items !== undefined && typeof schema.items === "object" && !Array.isArray(schema.items)) {
            const items = schema.items;
            return value.flatMap((v, i) => schemaProblems(items, v, `${key}[${i}]`));
        }
    }
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        const obj = value as Record<string, unknown>;
        const missing = (schema.required ?? []).filter((r) => !(r in obj));
        if (missing.length > 0) return [{ key: `${key}.${missing[0]}`, value: "nothing (missing)", expected: "a value (required)" }];
        return Object.entries(schema.properties ?? {}).flatMap(([k, s]) =>
            k in obj && typeof s === "object" ? schemaProblems(s, obj[k], `${key}.${k}`) : [],
        );
    }
    return [];
}

/** Reads a policy config file; a missing or unreadable file is a policy config error. */
export function readPolicyConfigFile(file: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new PolicyConfigError([{ key: file, value: "a file that cannot be read", expected: `a readable JSON file (${(err as Error).message})` }]);
    }
}

/**
 * Reads policy config JSON (the format of `pulumi preview --policy-pack-config`) and reconciles it
 * with the policies' defaults. Throws a PolicyConfigError listing every problem.
 */
export function resolvePolicyConfig(policies: readonly PackPolicy[], text?: string, source = "policy config"): EffectiveConfig {
    const problems: PolicyConfigProblem[] = [];
    let given: Record<string, unknown> = {};
    if (text !== undefined && text.trim() !== "") {
        let parsed: unknown;
        try {
            parsed = JSON.parse(text);
        } catch (err) {
            throw new PolicyConfigError([{ key: source, value: "text that is not JSON", expected: `a JSON object (${(err as Error).message})` }]);
        }
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
            throw new PolicyConfigError([{ key: source, value: show(parsed), expected: 'a JSON object such as {"eu-eea-data-residency": {"allowedCountries": ["EEA", "CH"]}}' }]);
        }
        given = parsed as Record<string, unknown>;
    }

    const effective: EffectiveConfig = new Map();
    for (const p of policies) {
        const defaults: Record<string, unknown> = {};
        for (const [k, s] of Object.entries(p.configSchema?.properties ?? {})) if (s.default !== undefined) defaults[k] = s.default;
        effective.set(p.name, { enforcementLevel: p.enforcementLevel ?? "advisory", properties: defaults });
    }

    const levelOf = (key: string, v: unknown): EnforcementLevel | undefined => {
        if (typeof v === "string" && (LEVELS as readonly string[]).includes(v)) return v as EnforcementLevel;
        problems.push({ key, value: show(v), expected: LEVEL_EXPECTED });
        return undefined;
    };
    const entries = Object.entries(given).map(([name, v]) => {
        if (typeof v === "string") return { name, level: levelOf(name, v), properties: {} as Record<string, unknown> };
        if (v !== null && typeof v === "object" && !Array.isArray(v)) {
            const { enforcementLevel, ...properties } = v as Record<string, unknown>;
            const level = enforcementLevel === undefined ? undefined : levelOf(`${name}.enforcementLevel`, enforcementLevel);
            return { name, level, properties };
        }
        problems.push({ key: name, value: show(v), expected: `${LEVEL_EXPECTED} or an object of settings` });
        return undefined;
    });

    // "all" first (levels only), then each policy, as the CLI applies them.
    const all = entries.find((e) => e?.name === "all");
    if (all?.level !== undefined) for (const c of effective.values()) c.enforcementLevel = all.level;
    for (const e of entries) {
        if (e === undefined || e.name === "all") continue;
        const c = effective.get(e.name);
        if (c === undefined) {
            problems.push({ key: e.name, value: "settings for it", expected: `a policy of the pack (${[...effective.keys()].join(", ")}) or "all"` });
            continue;
        }
        if (e.level !== undefined) c.enforcementLevel = e.level;
        Object.assign(c.properties, e.properties);
    }
    for (const p of policies) {
        const c = effective.get(p.name)!;
        if (p.configSchema === undefined) {
            for (const k of Object.keys(c.properties)) problems.push({ key: `${p.name}.${k}`, value: show(c.properties[k]), expected: `no such setting (${p.name} has only enforcementLevel)` });
            continue;
        }
        const schema: PolicyConfigJSONSchema = { type: "object", properties: p.configSchema.properties, required: p.configSchema.required };
        problems.push(...schemaProblems(schema, c.properties, p.name));
        for (const k of Object.keys(c.properties)) {
            if (!(k in p.configSchema.properties)) problems.push({ key: `${p.name}.${k}`, value: show(c.properties[k]), expected: `a setting of ${p.name} (${["enforcementLevel", ...Object.keys(p.configSchema.properties)].join(", ")})` });
        }
    }
    if (problems.length > 0) throw new PolicyConfigError(problems);
    return effective;
}

// ---------------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------------

class NotApplicable extends Error {}

function isTypeOf(type: string, resourceClass: unknown): boolean {
    const cls = resourceClass as { __pulumiType?: string; isInstance?: (o: unknown) => boolean };
    if (typeof cls.__pulumiType === "string") return cls.__pulumiType === type;
    return typeof cls.isInstance === "function" && cls.isInstance({ __pulumiType: type }) === true;
}

/** isType/asType of a resource of TYPE with PROPS, as the analyzer gives them. */
function typeChecks(type: string, props: Record<string, any>) {
    return {
        isType: (cls: unknown) => isTypeOf(type, cls),
        asType: ((cls: unknown) => (isTypeOf(type, cls) ? props : undefined)) as ResourceValidationArgs["asType"] & PolicyResource["asType"],
    };
}

function optionsOf(r: RecordedResource): PolicyResourceOptions {
    return {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(r.parent ? { parent: r.parent } : {}),
    };
}

/** Runs every enabled policy of POLICIES on RUN; returns the violations in the order found. */
export async function evaluatePolicies(run: ProgramRun, policies: readonly PackPolicy[], config: EffectiveConfig): Promise<PolicyViolation[]> {
    const violations: PolicyViolation[] = [];
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const stackTags: ReadonlyMap<string, string> = new Map();
    const enabled = policies
        .map((p) => ({ policy: p, ...config.get(p.name)! }))
        .filter((p) => p.enforcementLevel !== "disabled");
    const enforcementOf = (level: EnforcementLevel): Enforcement => (level === "advisory" ? "advisory" : "mandatory");
    const notApplicable = (reason?: string): never => {
        throw new NotApplicable(reason);
    };
    const providerOf = (r: RecordedResource) => {
        // A provider reference is "URN::ID".
        const provider = r.provider ? byUrn.get(r.provider.split("::").slice(0, -1).join("::")) : undefined;
        return provider ? { type: provider.type, props: plain(provider.rawInputs) as Record<string, any>, urn: provider.urn, name: provider.name } : undefined;
    };
    /** What both phases show of a resource: identity, options, provider and the given props. */
    const view = (r: RecordedResource, props: Record<string, any>) => {
        const provider = providerOf(r);
        return { type: r.type, props, urn: r.urn, name: r.name, opts: optionsOf(r), ...(provider ? { provider } : {}), ...typeChecks(r.type, props) };
    };
    const run1 = async (fn: () => Promise<void> | void) => {
        try {
            await fn();
        } catch (err) {
            if (!(err instanceof NotApplicable)) throw err;
        }
    };

    for (const r of run.resources) {
        const props = plain(r.rawInputs) as Record<string, any>;
        for (const { policy, enforcementLevel, properties } of enabled) {
            if (policy.validateResource === undefined) continue;
            const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
            const args: ResourceValidationArgs = {
                ...view(r, props),
                stackTags,
                getConfig: <T extends object>() => ({ ...properties }) as T,
                notApplicable,
            };
            for (const validate of validations) {
                await run1(() =>
                    validate(args, (message) => violations.push({ policy: policy.name, enforcement: enforcementOf(enforcementLevel), urn: r.urn, message })),
                );
            }
        }
    }

    const resources: PolicyResource[] = run.resources.map((r) => ({ ...view(r, plain(r.rawOutputs) as Record<string, any>), dependencies: [], propertyDependencies: {} }));
    const resourceByUrn = new Map(resources.map((r) => [r.urn, r]));
    run.resources.forEach((r, i) => {
        const res = resources[i];
        if (r.parent) res.parent = resourceByUrn.get(r.parent);
        res.dependencies = r.dependsOn.map((u) => resourceByUrn.get(u)).filter((x): x is PolicyResource => x !== undefined);
        for (const [k, urns] of Object.entries(r.propertyDependencies)) {
            res.propertyDependencies[k] = urns.map((u) => resourceByUrn.get(u)).filter((x): x is PolicyResource => x !== undefined);
        }
    });
    for (const { policy, enforcementLevel, properties } of enabled) {
        if (policy.validateStack === undefined) continue;
        const validateStack = policy.validateStack;
        const args: StackValidationArgs = { resources, stackTags, getConfig: <T extends object>() => ({ ...properties }) as T, notApplicable };
        await run1(() =>
            validateStack(args, (message, urn) =>
                violations.push({ policy: policy.name, enforcement: enforcementOf(enforcementLevel), urn: urn ?? null, message }),
            ),
        );
    }
    return violations;
}
