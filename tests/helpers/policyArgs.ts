/**
 * Builds the arguments a policy receives the way the @pulumi/policy analyzer builds them from the
 * engine's requests (sdk/nodejs/policy/server.ts): props wrapped in the analyzer's unknown-checking
 * proxy, default resource options, parent and dependencies as resource objects, getConfig returning
 * the policy's config without enforcementLevel, notApplicable throwing.
 */
import * as path from "path";
import type { PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import type { PackPolicy } from "../../policies/settings";
import { REPO_ROOT } from "../../tools/stackFile";

/**
 * The @pulumi/policy copy the pack itself resolves (policies/node_modules after `cd policies && npm ci`,
 * else the repository's), so its proxy throws the UnknownValueError the policies recognise.
 */
const { unknownCheckingProxy } = require(require.resolve("@pulumi/policy", { paths: [path.join(REPO_ROOT, "policies")] })) as typeof import("@pulumi/policy");

/** The engine's marker for a string it does not know during a preview. */
export const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const STACK_URN = "urn:pulumi:prod::private-faas::pulumi:pulumi:Stack::private-faas-prod";

export function urnOf(type: string, name: string, parentType?: string): string {
    return `urn:pulumi:prod::private-faas::pulumi:pulumi:Stack$${parentType ? `${parentType}$` : ""}${type}::${name}`;
}

class NotApplicable extends Error {}
const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
};

const options = (parent?: string) => ({
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    parent: parent ?? STACK_URN,
});

export function resourceArgs(type: string, name: string, props: Record<string, unknown>, config: Record<string, unknown> = {}): ResourceValidationArgs {
    const proxied = unknownCheckingProxy(props) as Record<string, any>;
    return {
        type,
        props: proxied,
        urn: urnOf(type, name),
        name,
        opts: options(),
        stackTags: new Map(),
        isType: () => false,
        asType: (() => undefined) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => ({ ...config }) as T,
        notApplicable,
    };
}

export interface StackEntry {
    type: string;
    name: string;
    /** Outputs (a component's registered outputs). */
    props: Record<string, unknown>;
    parent?: string;
}

export function stackArgs(entries: StackEntry[], config: Record<string, unknown> = {}): StackValidationArgs {
    const resources: PolicyResource[] = entries.map((e) => ({
        type: e.type,
        props: unknownCheckingProxy(e.props) as Record<string, any>,
        urn: urnOf(e.type, e.name),
        name: e.name,
        opts: options(),
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: (() => undefined) as PolicyResource["asType"],
    }));
    return { resources, stackTags: new Map(), getConfig: <T extends object>() => ({ ...config }) as T, notApplicable };
}

export interface Reported {
    message: string;
    urn?: string;
}

async function collect(run: (report: ReportViolation) => Promise<void> | void): Promise<Reported[]> {
    const out: Reported[] = [];
    try {
        await run((message, urn) => out.push(urn === undefined ? { message } : { message, urn }));
    } catch (err) {
        if (!(err instanceof NotApplicable)) throw err;
    }
    return out;
}

/** Runs POLICY's resource phase on ARGS; returns what it reported. */
export function validateResource(policy: PackPolicy, args: ResourceValidationArgs): Promise<Reported[]> {
    const validations = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    return collect(async (report) => {
        for (const v of validations) await v(args, report);
    });
}

/** Runs POLICY's stack phase on ARGS; returns what it reported. */
export function validateStack(policy: PackPolicy, args: StackValidationArgs): Promise<Reported[]> {
    return collect((report) => policy.validateStack?.(args, report));
}
