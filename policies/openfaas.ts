/**
 * The OpenFaaS platform: openfaas-admin-not-public (the gateway's /system/ API and /ui/ never reach
 * the internet unfiltered) and openfaas-ce-limits (what Community Edition refuses or forbids).
 * They read the chart's Helm Release values, the Services and Ingresses of the OpenFaaS namespace, the
 * Traefik Middlewares those Ingresses name, and the platform's OpenFaasFunction components.
 */
import type { PolicyConfigSchema, PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { asRecord, FunctionFacts, known, Observations, Props, readFunction, TYPES } from "./facts";
import { either, PackPolicy, settingsOf } from "./settings";

export const ADMIN_NOT_PUBLIC = "openfaas-admin-not-public";
export const CE_LIMITS = "openfaas-ce-limits";

/** Traefik's annotation naming the middlewares of an Ingress's router. */
export const MIDDLEWARES_ANNOTATION = "traefik.ingress.kubernetes.io/router.middlewares";
const ADMIN_PREFIXES = ["/system", "/ui"];
const PUBLIC_SERVICE_TYPES = ["NodePort", "LoadBalancer"];

/** The value at a dotted PATH of an object, or undefined (also when it is not known yet). */
function at(obj: unknown, path: string): unknown {
    let cur: unknown = obj;
    for (const key of path.split(".")) {
        const rec = asRecord(cur);
        if (rec === undefined) return undefined;
        cur = known(() => rec[key]);
    }
    return cur;
}

/** Whether a Helm Release installs the openfaas chart (by name, repo/name, or a packaged .tgz). */
export function isOpenFaasRelease(props: Props): boolean {
    const chart = at(props, "chart");
    return typeof chart === "string" && /(^|\/)openfaas(-\d[^/]*\.tgz)?$/.test(chart);
}

function metadataOf(props: Props): { namespace?: string; name?: string; annotations: Props } {
    const namespace = at(props, "metadata.namespace");
    const name = at(props, "metadata.name");
    return {
        namespace: typeof namespace === "string" ? namespace : undefined,
        name: typeof name === "string" ? name : undefined,
        annotations: asRecord(at(props, "metadata.annotations")) ?? {},
    };
}

/**
 * Whether an Ingress path (with its pathType) matches requests for /system/ or /ui/. Prefix matches by
 * path element, Exact the whole path; Traefik treats ImplementationSpecific as a plain string prefix.
 */
export function coversAdminPath(path: string | undefined, pathType: string | undefined): boolean {
    if (path === undefined || path === "") return true;
    if (path === "/") return pathType !== "Exact";
    return ADMIN_PREFIXES.some((admin) => {
        const inside = path === admin || path.startsWith(`${admin}/`);
        if (pathType === "Exact") return inside;
        if (pathType === "Prefix") {
            const p = path.replace(/\/+$/, "");
            return p === "" || inside || admin.startsWith(`${p}/`) || p.startsWith(`${admin}/`);
        }
        return inside || admin.startsWith(path);
    });
}

/** The admin-reaching paths of an Ingress, as "PATH (TYPE)" labels; [] when it reaches none. */
export function adminPathsOf(props: Props): string[] {
    const found: string[] = [];
    if (at(props, "spec.defaultBackend") !== undefined) found.push("the default backend");
    const rules = at(props, "spec.rules");
    for (const rule of Array.isArray(rules) ? rules : []) {
        const paths = at(rule, "http.paths");
        for (const p of Array.isArray(paths) ? paths : []) {
            const path = at(p, "path");
            const type = at(p, "pathType");
            const pathText = typeof path === "string" ? path : undefined;
            const typeText = typeof type === "string" ? type : undefined;
            if (coversAdminPath(pathText, typeText)) found.push(`"${pathText ?? ""}" (${typeText ?? "ImplementationSpecific"})`);
        }
    }
    return found;
}

const adminSchema: PolicyConfigSchema = {
    properties: {
        namespaces: {
            type: "array",
            items: { type: "string" },
            minItems: 1,
            default: ["openfaas"],
            description: "Namespaces of the OpenFaaS gateway; their Services and Ingresses are checked.",
        },
    },
};

const ALLOW_LIST_FIX =
    `Route /system/ and /ui/ through an Ingress annotated ${MIDDLEWARES_ANNOTATION}: <namespace>-<name>@kubernetescrd, naming a Traefik ` +
    "Middleware whose spec.ipAllowList.sourceRange holds private-faas:adminCidrs.";

export function releaseExposureProblems(name: string, values: Props): string[] {
    const problems: string[] = [];
    const expose = at(values, "exposeServices");
    const type = at(values, "serviceType") ?? "NodePort";
    if (expose !== false && typeof type === "string" && PUBLIC_SERVICE_TYPES.includes(type)) {
        problems.push(
            `Helm release ${name} makes the chart create the Service gateway-external of type ${type} ` +
                `(exposeServices ${expose === undefined ? "defaults to true" : "is true"}, serviceType ${at(values, "serviceType") === undefined ? "defaults to NodePort" : type}): ` +
                `the gateway's /system/ API and /ui/ would answer anyone who reaches the nodes, behind basic auth alone (${ADMIN_NOT_PUBLIC}). ` +
                "Set exposeServices: false so the gateway stays a ClusterIP Service reached through the ingress.",
        );
    }
    if (at(values, "ingress.enabled") === true) {
        const annotations = asRecord(at(values, "ingress.annotations")) ?? {};
        if (typeof annotations[MIDDLEWARES_ANNOTATION] !== "string") {
            problems.push(
                `Helm release ${name} enables the chart's own Ingress (ingress.enabled), which routes every gateway path, /system/ and /ui/ included, ` +
                    `without an IP allow-list (${ADMIN_NOT_PUBLIC}). Set ingress.enabled: false. ${ALLOW_LIST_FIX}`,
            );
        }
    }
    return problems;
}

function middlewareRefs(annotations: Props): string[] {
    const value = annotations[MIDDLEWARES_ANNOTATION];
    return typeof value === "string" ? value.split(",").map((s) => s.trim()).filter((s) => s.length > 0) : [];
}

/** Why a Middleware does not restrict clients to admin ranges, or undefined when it does. */
export function allowListProblem(middleware: Props): string | undefined {
    const ranges = at(middleware, "spec.ipAllowList.sourceRange");
    if (!Array.isArray(ranges) || ranges.length === 0) return "it has no spec.ipAllowList.sourceRange";
    const open = ranges.filter((r) => typeof r === "string" && /\/0$/.test(r.trim()));
    if (open.length > 0) return `its sourceRange allows ${either(open as string[])}, the whole internet`;
    return undefined;
}

export function adminNotPublicPolicy(observations: Observations): PackPolicy {
    const namespacesOf = (args: { getConfig<T extends object>(): T }) => (settingsOf(adminSchema, args).namespaces as string[]) ?? ["openfaas"];
    const inScope = (props: Props, namespaces: string[]) => {
        const ns = metadataOf(props).namespace;
        return ns !== undefined && namespaces.includes(ns);
    };
    return {
        name: ADMIN_NOT_PUBLIC,
        displayName: "OpenFaaS admin API and UI not public",
        description:
            "The gateway's /system/ API and /ui/ are not reachable from the internet: no NodePort or LoadBalancer Service for it, and every Ingress path that reaches them goes through a Traefik IP allow-list of admin CIDRs.",
        enforcementLevel: "mandatory",
        severity: "critical",
        tags: ["security", "openfaas"],
        remediationSteps:
            "Keep the chart's exposeServices false and the gateway ClusterIP; publish /function/ and /async-function/ through an Ingress, and /system/ and /ui/ through one " +
            `with ${MIDDLEWARES_ANNOTATION} naming an ipAllowList Middleware of private-faas:adminCidrs.`,
        configSchema: adminSchema,
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            observations.see(args);
            const namespaces = namespacesOf(args);
            if (args.type === TYPES.helmRelease && isOpenFaasRelease(args.props)) {
                const values = asRecord(at(args.props, "values"));
                if (values !== undefined) for (const p of releaseExposureProblems(args.name, values)) report(p);
            } else if (args.type === TYPES.service && inScope(args.props, namespaces)) {
                const type = at(args.props, "spec.type");
                if (typeof type === "string" && PUBLIC_SERVICE_TYPES.includes(type)) {
                    const meta = metadataOf(args.props);
                    report(
                        `Service ${meta.namespace}/${meta.name ?? args.name} is of type ${type}: it opens the OpenFaaS gateway, /system/ and /ui/ included, ` +
                            `on ${type === "NodePort" ? "a port of every node" : "a public load balancer"} (${ADMIN_NOT_PUBLIC}). Make it ClusterIP and publish through the ingress. ${ALLOW_LIST_FIX}`,
                    );
                }
            } else if (args.type === TYPES.ingress && inScope(args.props, namespaces)) {
                const admin = adminPathsOf(args.props);
                const meta = metadataOf(args.props);
                if (admin.length > 0 && middlewareRefs(meta.annotations).length === 0) {
                    report(
                        `Ingress ${meta.namespace}/${meta.name ?? args.name} sends ${either(admin)} to the gateway, which covers /system/ or /ui/, ` +
                            `with no Traefik middleware: the admin API and UI would answer anyone on the internet (${ADMIN_NOT_PUBLIC}). ${ALLOW_LIST_FIX}`,
                    );
                }
            }
        },
        // The allow-list itself is another resource: check it once the whole stack is known.
        validateStack: (args: StackValidationArgs, report: ReportViolation) => {
            const namespaces = namespacesOf(args);
            const middlewares = new Map<string, PolicyResource>();
            for (const r of args.resources.filter((x) => x.type === TYPES.middleware)) {
                const meta = metadataOf(r.props);
                if (meta.name !== undefined) middlewares.set(`${meta.namespace ?? "default"}-${meta.name}`, r);
            }
            for (const r of args.resources.filter((x) => x.type === TYPES.ingress && inScope(x.props, namespaces))) {
                const admin = adminPathsOf(r.props);
                const meta = metadataOf(r.props);
                const refs = middlewareRefs(meta.annotations);
                if (admin.length === 0 || refs.length === 0) continue;
                const reasons: string[] = [];
                let restricted = false;
                for (const ref of refs) {
                    const key = ref.replace(/@kubernetescrd$/, "");
                    const mw = middlewares.get(key);
                    if (mw === undefined) {
                        reasons.push(`${ref} is not a Middleware of this stack`);
                        continue;
                    }
                    const problem = allowListProblem(mw.props);
                    if (problem === undefined) restricted = true;
                    else reasons.push(`${ref}: ${problem}`);
                }
                if (!restricted) {
                    report(
                        `Ingress ${meta.namespace}/${meta.name ?? r.name} sends ${either(admin)} to the gateway, but none of its middlewares is an IP allow-list ` +
                            `of admin ranges (${reasons.join("; ")}), so /system/ and /ui/ would answer anyone (${ADMIN_NOT_PUBLIC}). ${ALLOW_LIST_FIX}`,
                        r.urn,
                    );
                }
            }
        },
    };
}

// ---------------------------------------------------------------------------------------------------
// Community Edition limits
// ---------------------------------------------------------------------------------------------------

interface ProOnlyValue {
    path: string;
    set: (value: unknown) => boolean;
    what: string;
}

/** Chart values that only OpenFaaS Pro supports (faas-netes chart values.yaml and values-pro.yaml). */
export const PRO_ONLY_VALUES: readonly ProOnlyValue[] = [
    { path: "operator.create", set: (v) => v === true, what: "the Function CRD operator, which refuses to render without openfaasPro" },
    { path: "autoscaler.enabled", set: (v) => v === true, what: "the Pro autoscaler" },
    { path: "dashboard.enabled", set: (v) => v === true, what: "the Pro dashboard" },
    { path: "faasIdler.enabled", set: (v) => v === true, what: "scale to zero (faas-idler)" },
    { path: "oidcAuthPlugin.enabled", set: (v) => v === true, what: "single sign-on for the REST API" },
    { path: "iam.enabled", set: (v) => v === true, what: "OpenFaaS IAM" },
    { path: "queueMode", set: (v) => v === "jetstream", what: "the JetStream queue-worker" },
    { path: "jetstreamQueueWorker", set: (v) => v !== undefined, what: "the JetStream queue-worker's settings" },
    { path: "queueWorkerPro", set: (v) => v !== undefined, what: "the Pro queue-worker's settings (retries, maxInflight)" },
    { path: "functionNamespace", set: (v) => typeof v === "string" && v !== "openfaas-fn", what: "a function namespace other than openfaas-fn (CE has exactly one)" },
];

export function proOnlyProblems(name: string, values: Props): string[] {
    if (at(values, "openfaasPro") === true) return [];
    return PRO_ONLY_VALUES.filter((p) => p.set(at(values, p.path))).map(
        (p) =>
            `Helm release ${name} installs OpenFaaS Community Edition (openfaasPro is not true) but sets ${p.path} = ${JSON.stringify(at(values, p.path))}, ` +
            `${p.what}, which CE does not have (${CE_LIMITS}). Remove it, or set private-faas:openfaas.edition to pro with a licence key.`,
    );
}

const SCALE_LABELS = ["com.openfaas.scale.min", "com.openfaas.scale.max"];
const SCALE_TO_ZERO_LABELS = ["com.openfaas.scale.zero", "com.openfaas.scale.zero-duration"];

export function functionProblems(fn: FunctionFacts, maxReplicas: number): string[] {
    const problems: string[] = [];
    const tags = { ...fn.annotations, ...fn.labels };
    for (const label of SCALE_LABELS) {
        const value = tags[label];
        if (value !== undefined && !(Number(value) <= maxReplicas)) {
            problems.push(
                `function ${fn.name} sets ${label}=${value}: OpenFaaS CE runs at most ${maxReplicas} replicas of a function and faas-netes rejects the deployment (${CE_LIMITS}). ` +
                    `Use at most ${maxReplicas}, or OpenFaaS Pro.`,
            );
        }
    }
    for (const label of SCALE_TO_ZERO_LABELS) {
        const value = tags[label];
        if (value !== undefined && !(label === "com.openfaas.scale.zero" && value.toLowerCase() === "false")) {
            problems.push(
                `function ${fn.name} sets ${label}=${value}: scale to zero is an OpenFaaS Pro feature; CE rejects it (${CE_LIMITS}). Remove the label, or use OpenFaaS Pro.`,
            );
        }
    }
    return problems;
}

const ceSchema: PolicyConfigSchema = {
    properties: {
        maxFunctions: { type: "integer", minimum: 1, default: 15, description: "Functions OpenFaaS CE deploys at most." },
        maxReplicas: { type: "integer", minimum: 1, default: 5, description: "Replicas of one function OpenFaaS CE runs at most (scale labels)." },
    },
};

export function ceLimitsPolicy(observations: Observations): PackPolicy {
    return {
        name: CE_LIMITS,
        displayName: "OpenFaaS CE limits",
        description: "With OpenFaaS Community Edition: at most 15 functions, scale labels at most 5, no scale to zero, and no Pro-only chart values.",
        enforcementLevel: "mandatory",
        severity: "medium",
        tags: ["openfaas", "licence"],
        remediationSteps:
            "Stay within CE's limits (15 functions, 5 replicas, no scale to zero, no Pro components), or set private-faas:openfaas.edition to pro with a licence key. " +
            "CE's licence allows commercial use by one installation per company for at most 60 days.",
        configSchema: ceSchema,
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            observations.see(args);
            if (args.type !== TYPES.helmRelease || !isOpenFaasRelease(args.props)) return;
            const values = asRecord(at(args.props, "values"));
            if (values !== undefined) for (const p of proOnlyProblems(args.name, values)) report(p);
        },
        // Functions are judged against the edition, which only the whole stack shows.
        validateStack: (args: StackValidationArgs, report: ReportViolation) => {
            const releases = args.resources
                .filter((r) => r.type === TYPES.helmRelease)
                .map((r) => observations.facts(r, (props) => (isOpenFaasRelease(props) ? props : undefined)))
                .filter((p): p is Props => p !== undefined);
            if (releases.length === 0 || releases.some((p) => at(p, "values.openfaasPro") === true)) return;
            const settings = settingsOf(ceSchema, args);
            const functions = args.resources.filter((r) => r.type === TYPES.openFaasFunction);
            const maxFunctions = settings.maxFunctions as number;
            if (functions.length > maxFunctions) {
                const names = functions.map((r) => observations.facts(r, readFunction)?.name ?? r.name);
                report(
                    `the stack deploys ${functions.length} functions (${names.join(", ")}) on OpenFaaS Community Edition, which runs at most ${maxFunctions} (${CE_LIMITS}). ` +
                        "Remove some, or set private-faas:openfaas.edition to pro with a licence key.",
                );
            }
            for (const r of functions) {
                const fn = observations.facts(r, readFunction);
                if (fn !== undefined) for (const p of functionProblems(fn, settings.maxReplicas as number)) report(p, r.urn);
            }
        },
    };
}
