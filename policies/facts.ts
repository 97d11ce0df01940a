/**
 * What the policies read, and from where. The type tokens and field names are those of
 * docs/architecture.md ("Resource types and what they expose").
 *
 * A component's facts reach a policy two ways: as its inputs (the args passed to `super`, which the
 * engine analyses with validateResource before the component's children run) and as its registered
 * outputs (which validateStack sees at the end of a preview or update). Inputs are the early and
 * preferred view: a violation there stops `pulumi up` before a host is touched. With
 * PULUMI_NODEJS_SKIP_COMPONENT_INPUTS set, the SDK sends no component inputs; the registered outputs
 * then carry the same facts. `Observations` remembers, per pack process, which components were
 * checked on their inputs, so the stack phase checks the others and nothing is reported twice.
 */
import type { PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { UnknownValueError } from "@pulumi/policy";

export const TYPES = {
    vpsNode: "private-faas:cluster:VpsNode",
    k3sCluster: "private-faas:cluster:K3sCluster",
    remoteCommand: "command:remote:Command",
    copyToRemote: "command:remote:CopyToRemote",
    helmRelease: "kubernetes:helm.sh/v3:Release",
    service: "kubernetes:core/v1:Service",
    ingress: "kubernetes:networking.k8s.io/v1:Ingress",
    middleware: "kubernetes:traefik.io/v1alpha1:Middleware",
    openFaasFunction: "private-faas:platform:OpenFaasFunction",
    edgeProxy: "private-faas:edge:EdgeProxy",
} as const;

export type Props = Record<string, unknown>;

/**
 * Reads FN's result, or undefined when it touches a value the engine does not know yet (during a
 * preview the engine hands policies a proxy that throws on unknown values).
 */
export function known<T>(fn: () => T): T | undefined {
    try {
        return fn();
    } catch (err) {
        if (err instanceof UnknownValueError) return undefined;
        throw err;
    }
}

export function asRecord(value: unknown): Props | undefined {
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Props) : undefined;
}

function str(props: Props, key: string): string | undefined {
    const v = known(() => props[key]);
    return typeof v === "string" && v.length > 0 ? v : undefined;
}

function num(props: Props, key: string): number | undefined {
    const v = known(() => props[key]);
    return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function strings(props: Props, key: string): string[] | undefined {
    const v = known(() => props[key]);
    return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : undefined;
}

function stringMap(props: Props, key: string): Record<string, string> {
    const v = asRecord(known(() => props[key]));
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v ?? {})) if (typeof x === "string") out[k] = x;
    return out;
}

// ---------------------------------------------------------------------------------------------------
// Component facts
// ---------------------------------------------------------------------------------------------------

export interface NodeFacts {
    name: string;
    role?: string;
    host?: string;
    provider?: string;
    region?: string;
    country?: string;
    storage?: string;
    vcpu?: number;
    memoryGb?: number;
}

/** A VpsNode's facts, or undefined when these props carry none (inputs skipped, outputs not registered). */
export function readNode(props: Props, resourceName: string): NodeFacts | undefined {
    const facts: NodeFacts = {
        name: str(props, "name") ?? resourceName,
        role: str(props, "role"),
        host: str(props, "host"),
        provider: str(props, "provider"),
        region: str(props, "region"),
        country: str(props, "country"),
        storage: str(props, "storage"),
        vcpu: num(props, "vcpu"),
        memoryGb: num(props, "memoryGb"),
    };
    const { name: _name, ...rest } = facts;
    return Object.values(rest).some((v) => v !== undefined) ? facts : undefined;
}

export interface ClusterFacts {
    version?: string;
    /** Number of K3s servers (etcd members). */
    servers?: number;
    serverNames?: string[];
    agentNames?: string[];
    secretsEncryption?: boolean;
    /** The servers' rendered /etc/rancher/k3s/config.yaml, without the token. */
    serverConfig?: string;
}

export function readCluster(props: Props): ClusterFacts | undefined {
    const serverNames = strings(props, "serverNames");
    const encryption = known(() => props.secretsEncryption);
    const facts: ClusterFacts = {
        version: str(props, "version"),
        servers: num(props, "servers") ?? serverNames?.length,
        serverNames,
        agentNames: strings(props, "agentNames"),
        secretsEncryption: typeof encryption === "boolean" ? encryption : undefined,
        serverConfig: str(props, "serverConfig"),
    };
    return Object.values(facts).some((v) => v !== undefined) ? facts : undefined;
}

export interface EdgeFacts {
    name: string;
    host?: string;
    provider?: string;
    region?: string;
    country?: string;
}

/** The edge's declared location; undefined when it declares none (the residency rule then does not apply). */
export function readEdge(props: Props, resourceName: string): EdgeFacts | undefined {
    const facts: EdgeFacts = {
        name: resourceName,
        host: str(props, "host"),
        provider: str(props, "provider"),
        region: str(props, "region"),
        country: str(props, "country"),
    };
    return facts.provider !== undefined || facts.country !== undefined ? facts : undefined;
}

export interface FunctionFacts {
    name: string;
    image?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
}

export function readFunction(props: Props, resourceName: string): FunctionFacts | undefined {
    const name = str(props, "name");
    const image = str(props, "image");
    if (name === undefined && image === undefined) return undefined;
    return { name: name ?? resourceName, image, labels: stringMap(props, "labels"), annotations: stringMap(props, "annotations") };
}

// ---------------------------------------------------------------------------------------------------
// Inputs first, registered outputs as the fallback
// ---------------------------------------------------------------------------------------------------

/**
 * One pack process's memory of the inputs the engine showed it, by URN. The stack phase sees only
 * outputs; rules about several components (quorum, the CE function count) fall back to the inputs
 * of a component that registers no outputs.
 */
export class Observations {
    private readonly inputs = new Map<string, Props>();

    see(args: ResourceValidationArgs): void {
        this.inputs.set(args.urn, args.props);
    }

    /** The facts of a component at the end of the run: from its registered outputs, else its inputs. */
    facts<F>(resource: PolicyResource, read: (props: Props, name: string) => F | undefined): F | undefined {
        const fromOutputs = read(resource.props, resource.name);
        if (fromOutputs !== undefined) return fromOutputs;
        const inputs = this.inputs.get(resource.urn);
        return inputs === undefined ? undefined : read(inputs, resource.name);
    }
}

/** Where a fact was found, for messages. */
export interface Subject {
    urn: string;
    /** The resource's name. */
    name: string;
}

export interface ComponentRule<F> {
    type: string;
    /** The facts this rule decides on, or undefined when these props do not carry them. */
    read: (props: Props, resourceName: string) => F | undefined;
    check: (facts: F, subject: Subject, report: (message: string) => void, config: Props) => void;
    /** Message when a component shows the facts neither as inputs nor as outputs (fail closed); omit to skip it. */
    invisible?: (subject: Subject) => string;
}

/**
 * validateResource + validateStack for a rule about one component at a time: decided on the inputs
 * when the engine sends them, else on the registered outputs at the end of the run, never both.
 * The memory of what was decided lives as long as the pack process: one preview or update.
 */
export function perComponent<F>(observations: Observations, rule: ComponentRule<F>, config: (args: { getConfig<T extends object>(): T }) => Props) {
    const decided = new Set<string>();
    return {
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            observations.see(args);
            if (args.type !== rule.type) return;
            const facts = rule.read(args.props, args.name);
            if (facts === undefined) return;
            decided.add(args.urn);
            rule.check(facts, { urn: args.urn, name: args.name }, (m) => report(m), config(args));
        },
        validateStack: (args: StackValidationArgs, report: ReportViolation) => {
            for (const r of args.resources) {
                if (r.type !== rule.type || decided.has(r.urn)) continue;
                const subject = { urn: r.urn, name: r.name };
                const facts = rule.read(r.props, r.name);
                if (facts !== undefined) rule.check(facts, subject, (m) => report(m, r.urn), config(args));
                else if (rule.invisible) report(rule.invisible(subject), r.urn);
            }
        },
    };
}
