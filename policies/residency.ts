/**
 * Where data lives: eu-eea-data-residency (every node, and the edge when it declares a location, is
 * in an allowed country; unknown locations fail closed) and no-us-cloud-act-providers (nodes at
 * providers headquartered under US jurisdiction, whatever the region).
 */
import type { PolicyConfigSchema, ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { CATALOGUE, EEA, EU27, expandCountries, findProvider, providerKey } from "./locations";
import { EdgeFacts, NodeFacts, Observations, perComponent, Props, readEdge, readNode, Subject, TYPES } from "./facts";
import { allOf, either, PackPolicy, settingsOf } from "./settings";

export const RESIDENCY = "eu-eea-data-residency";
export const CLOUD_ACT = "no-us-cloud-act-providers";

/** A located thing: a node or the edge. */
type Located = Pick<NodeFacts, "name" | "provider" | "region" | "country">;

const residencySchema: PolicyConfigSchema = {
    properties: {
        allowedCountries: {
            type: "array",
            items: { type: "string", pattern: "^([A-Z]{2}|EU27|EEA)$" },
            minItems: 1,
            uniqueItems: true,
            default: [...EEA],
            description:
                'Countries where nodes may run: ISO 3166-1 alpha-2 codes, or the named sets "EU27" and "EEA" ' +
                '(e.g. ["EEA", "CH"]). Default: the EU-27 and Iceland, Liechtenstein and Norway.',
        },
    },
};

/** "the EU/EEA", "the EU/EEA or CH", "the EU", or the codes. */
export function describeCountries(allowed: readonly string[]): string {
    for (const [label, set] of [["the EU/EEA", EEA], ["the EU", EU27]] as const) {
        if (set.every((c) => allowed.includes(c))) {
            const extra = allowed.filter((c) => !set.includes(c)).sort();
            return extra.length === 0 ? label : `${label} or ${either(extra)}`;
        }
    }
    return either([...allowed].sort());
}

const providerList = () => Object.keys(CATALOGUE).join(", ");

/** Same-provider regions in the allowed set, as "hetzner/fsn1, nbg1 or hel1" (at most six). */
function allowedRegionsOf(provider: string, allowed: readonly string[]): string | undefined {
    const key = providerKey(provider)!;
    const regions = Object.entries(CATALOGUE[key].regions)
        .filter(([, r]) => allowed.includes(r.country))
        .map(([name]) => name);
    if (regions.length === 0) return undefined;
    const shown = regions.slice(0, 6);
    const list = [`${key}/${shown[0]}`, ...shown.slice(1)];
    return regions.length > shown.length ? `${list.join(", ")} or another of its regions there` : either(list);
}

/** Providers headquartered in an allowed country that have a region in one. */
function localProviders(allowed: readonly string[]): string[] {
    return Object.entries(CATALOGUE)
        .filter(([, p]) => allowed.includes(p.jurisdiction) && Object.values(p.regions).some((r) => allowed.includes(r.country)))
        .map(([key]) => key);
}

/** Why a location is refused, or undefined when it is allowed. */
export function residencyProblem(what: string, at: Located, allowedEntries: readonly string[]): string | undefined {
    const allowed = expandCountries(allowedEntries);
    const where = describeCountries(allowed);
    const failClosed = `so where its data lives cannot be decided and ${RESIDENCY} fails closed`;
    if (at.provider === undefined) {
        if (at.country === undefined) return `${what} declares no provider and region, ${failClosed}. Set its provider and region (a key of policies/locations.ts), or provider "other" with the country.`;
    } else if (at.provider !== "other") {
        const provider = findProvider(at.provider);
        if (provider === undefined) {
            return `${what} is at provider "${at.provider}", which the location catalogue does not know, ${failClosed}. ` +
                `Use one of ${providerList()} with one of its regions, or provider "other" with the country of the data centre, or add the provider to policies/locations.ts with the page that lists its regions.`;
        }
        const region = at.region === undefined ? undefined : provider.regions[at.region];
        if (region === undefined) {
            const known = Object.entries(provider.regions).map(([k, r]) => `${k} (${r.country})`).join(", ");
            return `${what} is in ${at.provider}/${at.region ?? "(no region)"}, a region the location catalogue does not know, ${failClosed}. ` +
                `${provider.displayName} regions it knows: ${known}. Use one of them, or add the region to policies/locations.ts.`;
        }
        if (allowed.includes(region.country)) return undefined;
        const move = allowedRegionsOf(at.provider, allowed) ?? `a provider with data centres in ${where} (${either(localProviders(allowed).slice(0, 6))})`;
        return `${what} is in ${at.provider}/${at.region} (${region.country}): data must stay in ${where} (${RESIDENCY}). ` +
            `Move it to ${move}, or widen allowedCountries in the policy config.`;
    }
    if (at.country === undefined) return `${what} declares provider "other" without a country, ${failClosed}. Set its country (ISO 3166-1 alpha-2).`;
    if (allowed.includes(at.country)) return undefined;
    return `${what} is in ${at.country} (provider "other"): data must stay in ${where} (${RESIDENCY}). ` +
        `Move it to a host in ${where}, or widen allowedCountries in the policy config.`;
}

const nodeLabel = (facts: NodeFacts) => `node ${facts.name}`;
const edgeLabel = (facts: EdgeFacts) => `edge ${facts.host ?? facts.name}`;
const allowedOf = (config: Props) => (config.allowedCountries as string[] | undefined) ?? [...EEA];

/** The resource and stack phases of a rule about where nodes, and the edge, are. */
function nodesAndEdge(
    observations: Observations,
    problem: (what: string, at: Located, config: Props) => string | undefined,
    config: (args: { getConfig<T extends object>(): T }) => Props,
    invisibleNode?: (s: Subject) => string,
) {
    const rule = <F extends Located>(type: string, read: (props: Props, name: string) => F | undefined, label: (f: F) => string, invisible?: (s: Subject) => string) =>
        perComponent(observations, {
            type,
            read,
            check: (facts, _s, report, c) => {
                const found = problem(label(facts), facts, c);
                if (found) report(found);
            },
            invisible,
        }, config);
    const nodes = rule(TYPES.vpsNode, readNode, nodeLabel, invisibleNode);
    const edge = rule(TYPES.edgeProxy, readEdge, edgeLabel);
    return {
        validateResource: allOf(nodes.validateResource, edge.validateResource),
        validateStack: async (args: StackValidationArgs, report: ReportViolation) => {
            await nodes.validateStack(args, report);
            await edge.validateStack(args, report);
        },
    };
}

export function residencyPolicy(observations: Observations): PackPolicy {
    const phases = nodesAndEdge(
        observations,
        (what, at, c) => residencyProblem(what, at, allowedOf(c)),
        (args) => settingsOf(residencySchema, args),
        (s: Subject) =>
            `node ${s.name} (${TYPES.vpsNode}) shows its provider, region and country neither as inputs nor as registered outputs, ` +
            `so where its data lives cannot be decided and ${RESIDENCY} fails closed. The VpsNode component must register them as outputs.`,
    );
    return {
        name: RESIDENCY,
        displayName: "Data stays in the EU/EEA",
        description: "Every node, and the edge when it declares a location, runs in an allowed country (default: EU-27 + EEA). An unknown provider or region fails closed.",
        enforcementLevel: "mandatory",
        severity: "critical",
        tags: ["gdpr", "residency"],
        remediationSteps:
            "Move the node to a region of the location catalogue (policies/locations.ts) in an allowed country, " +
            'or widen allowedCountries in the policy config (e.g. {"eu-eea-data-residency": {"allowedCountries": ["EEA", "CH"]}}). ' +
            'A provider the catalogue lacks: use provider "other" with the country, or add it to the catalogue.',
        configSchema: residencySchema,
        ...phases,
    };
}

const cloudActSchema: PolicyConfigSchema = {
    properties: {
        jurisdictions: {
            type: "array",
            items: { type: "string", pattern: "^[A-Z]{2}$" },
            uniqueItems: true,
            default: ["US"],
            description: "Jurisdictions (ISO 3166-1 alpha-2) of provider headquarters to flag. Default: the US (CLOUD Act).",
        },
    },
};

/** Why a provider's headquarters are a concern, or undefined. */
export function cloudActProblem(what: string, at: Located, jurisdictions: readonly string[]): string | undefined {
    if (at.provider === undefined || at.provider === "other") return undefined;
    const provider = findProvider(at.provider);
    if (provider === undefined || !jurisdictions.includes(provider.jurisdiction)) return undefined;
    const region = at.region === undefined ? undefined : provider.regions[at.region];
    const where = region ? `, even in ${at.region} (${region.country})` : "";
    const local = Object.entries(CATALOGUE)
        .filter(([, p]) => EEA.includes(p.jurisdiction) || p.jurisdiction === "CH")
        .map(([key]) => key);
    const law = provider.jurisdiction === "US"
        ? "the US CLOUD Act lets US authorities compel a US company to hand over data it controls wherever the data is stored"
        : `the law of ${provider.jurisdiction} governs the company that controls the data`;
    const seat = provider.jurisdiction === "US" ? "the US" : provider.jurisdiction;
    return `${what} runs at ${at.provider} (${provider.displayName}, headquartered in ${seat})${where}: ` +
        `${law}, so residency in the EU/EEA alone does not keep it out of reach (${CLOUD_ACT}). ` +
        `Prefer a provider headquartered in Europe (${either(local)}), or set this policy to "disabled" in the policy config if you accept the risk.`;
}

export function cloudActPolicy(observations: Observations): PackPolicy {
    const phases = nodesAndEdge(
        observations,
        (what, at, c) => cloudActProblem(what, at, (c.jurisdictions as string[] | undefined) ?? ["US"]),
        (args) => settingsOf(cloudActSchema, args),
    );
    return {
        name: CLOUD_ACT,
        displayName: "No providers under the US CLOUD Act",
        description: "Flags nodes (and the edge) whose provider is headquartered under US jurisdiction (aws, azure, gcp, digitalocean, linode/akamai, vultr, oracle), whatever the region.",
        enforcementLevel: "advisory",
        severity: "medium",
        tags: ["gdpr", "sovereignty"],
        remediationSteps:
            "Run the node at a provider headquartered in Europe (coolvds, exoscale, hetzner, ovh, scaleway, upcloud), " +
            'or accept the risk: {"no-us-cloud-act-providers": "disabled"} in the policy config.',
        configSchema: cloudActSchema,
        ...phases,
    };
}
