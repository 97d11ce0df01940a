/**
 * Markdown summary of one stack's offline plan, for a CI job summary ($GITHUB_STEP_SUMMARY):
 *   npx ts-node --transpile-only tools/planSummary.ts STACK EXIT_CODE PLAN.json STDERR.txt
 * The plan's output never holds secret values, so neither does the summary.
 */
import * as fs from "fs";
import type { PlanDocument } from "./plan";

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");

/** The resource's type and name from its URN (`...$type::name`). */
function where(urn: string | null): string {
    if (urn === null) return "stack";
    const m = /([^$:]+:[^$:]*:[^$:]+)::([^$]+)$/.exec(urn);
    return m ? `${m[1]} \`${m[2]}\`` : urn;
}

export function renderPlanSummary(stack: string, exitCode: number, doc: PlanDocument | undefined, stderr: string): string {
    const out: string[] = [];
    const verdict =
        exitCode === 0 ? "passes" : exitCode === 1 ? "has mandatory policy violations" : exitCode === 2 ? "has configuration errors" : "failed to plan";
    out.push(`### Stack \`${stack}\`: ${exitCode === 0 ? "✅" : "❌"} ${verdict} (exit ${exitCode})`, "");
    if (doc !== undefined && exitCode <= 1) {
        const s = doc.summary;
        out.push(`${s.resources} resources, ${s.mandatory} mandatory and ${s.advisory} advisory policy violation(s).`, "");
        if (doc.violations.length > 0) {
            out.push("| policy | level | resource | message |", "|---|---|---|---|");
            for (const v of doc.violations) out.push(`| \`${v.policy}\` | ${v.enforcement} | ${cell(where(v.urn))} | ${cell(v.message)} |`);
            out.push("");
        }
        out.push("<details><summary>Resources</summary>", "", "| type | name |", "|---|---|");
        for (const r of doc.resources) out.push(`| \`${r.type}\` | \`${cell(r.name)}\` |`);
        out.push("", "</details>", "");
    }
    if (stderr.trim() !== "") out.push("```", stderr.trim(), "```", "");
    return out.join("\n");
}

if (require.main === module) {
    const [stack, code, planFile, stderrFile] = process.argv.slice(2);
    if (stack === undefined || code === undefined || planFile === undefined) {
        process.stderr.write("usage: planSummary.ts STACK EXIT_CODE PLAN.json [STDERR.txt]\n");
        process.exit(2);
    }
    const text = fs.existsSync(planFile) ? fs.readFileSync(planFile, "utf8") : "";
    let doc: PlanDocument | undefined;
    try {
        doc = text.trim().startsWith("{") ? (JSON.parse(text) as PlanDocument) : undefined;
    } catch {
        doc = undefined;
    }
    const stderr = stderrFile && fs.existsSync(stderrFile) ? fs.readFileSync(stderrFile, "utf8") : "";
    process.stdout.write(renderPlanSummary(stack, Number(code), doc, stderr) + "\n");
}
