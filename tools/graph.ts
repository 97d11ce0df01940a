/**
 * The deployment graph of a plan: one node per resource, solid edges for dependencies (explicit and
 * property: what orders the deployment), dashed edges from parent to child (the component tree).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface GraphResource {
    urn: string;
    type: string;
    name: string;
    parent?: string | null;
    dependsOn: string[];
}

function ids(resources: GraphResource[]): Map<string, string> {
    return new Map(resources.map((r, i) => [r.urn, `r${i}`]));
}

function label(r: GraphResource): string {
    return `${r.name}\\n${r.type}`;
}

export function toDot(resources: GraphResource[]): string {
    const id = ids(resources);
    const lines = ["digraph deployment {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica", fontsize=10];'];
    for (const r of resources) lines.push(`  ${id.get(r.urn)} [label="${label(r).replace(/"/g, '\\"')}"];`);
    for (const r of resources) {
        if (r.parent && id.has(r.parent)) lines.push(`  ${id.get(r.parent)} -> ${id.get(r.urn)} [style=dashed, arrowhead=none, color=gray];`);
        for (const d of r.dependsOn) if (id.has(d)) lines.push(`  ${id.get(d)} -> ${id.get(r.urn)};`);
    }
    lines.push("}");
    return lines.join("\n") + "\n";
}

export function toMermaid(resources: GraphResource[]): string {
    const id = ids(resources);
    const lines = ["flowchart LR"];
    for (const r of resources) lines.push(`  ${id.get(r.urn)}["${r.name}<br/><small>${r.type}</small>"]`);
    for (const r of resources) {
        if (r.parent && id.has(r.parent)) lines.push(`  ${id.get(r.parent)} -.- ${id.get(r.urn)}`);
        for (const d of r.dependsOn) if (id.has(d)) lines.push(`  ${id.get(d)} --> ${id.get(r.urn)}`);
    }
    return lines.join("\n") + "\n";
}

/** Writes FILE in the format its extension names (.dot, .mmd, .svg with Graphviz's `dot`). */
export function writeGraph(file: string, resources: GraphResource[]): void {
    const ext = path.extname(file).toLowerCase();
    if (ext === ".dot" || ext === ".gv") {
        fs.writeFileSync(file, toDot(resources));
    } else if (ext === ".mmd") {
        fs.writeFileSync(file, toMermaid(resources));
    } else if (ext === ".svg") {
        try {
            fs.writeFileSync(file, execFileSync("dot", ["-Tsvg"], { input: toDot(resources) }));
        } catch (err) {
            throw new Error(`--graph ${file}: SVG needs Graphviz's \`dot\` (apt-get install graphviz); write .dot or .mmd instead (${(err as Error).message})`);
        }
    } else {
        throw new Error(`--graph ${file}: unknown format "${ext}"; expected .dot, .mmd or .svg`);
    }
}

/** Length of the longest dependency chain (number of resources on it). */
export function graphDepth(resources: GraphResource[]): number {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const memo = new Map<string, number>();
    const depth = (urn: string): number => {
        const known = memo.get(urn);
        if (known !== undefined) return known;
        memo.set(urn, 1); // cycle guard
        const r = byUrn.get(urn);
        const d = 1 + Math.max(0, ...(r?.dependsOn ?? []).filter((u) => byUrn.has(u)).map(depth));
        memo.set(urn, d);
        return d;
    };
    return Math.max(0, ...resources.map((r) => depth(r.urn)));
}
