/**
 * Key paths of a Helm values document, for catching typos in the values we set:
 *
 *   npm run values:paths -- path/to/values.yaml > tests/data/CHART-VERSION.values-paths
 *
 * One dotted path per leaf (a scalar, a list, or null). An empty map in the chart's defaults (`{}`)
 * becomes `PATH.*`: the chart takes any keys below it (it passes the map through `toYaml`).
 * tests/helmValues.test.ts compares every path our values functions set against these lists.
 */
import * as fs from "fs";
import * as YAML from "yaml";

function isMap(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Every leaf path of VALUE, sorted; empty maps end in ".*". */
export function valuePaths(value: unknown): string[] {
    const walk = (v: unknown, prefix: string): string[] => {
        if (!isMap(v)) return [prefix];
        const keys = Object.keys(v);
        if (keys.length === 0) return [`${prefix}.*`];
        return keys.flatMap((k) => walk(v[k], `${prefix}.${k}`));
    };
    if (!isMap(value)) return [];
    return Object.keys(value).flatMap((k) => walk(value[k], k)).sort();
}

/** Reads a paths file: one path a line, `#` comments and blank lines ignored. */
export function readPathsFile(file: string): string[] {
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"));
}

/**
 * Chart values the charts hand to Kubernetes unchanged (`toYaml`): anything below them is a Kubernetes
 * field, not a chart key, so only the value itself has to exist in the chart.
 */
export const PASS_THROUGH = new Set(["resources", "securityContext", "nodeSelector", "affinity", "tolerations", "spec"]);

/** The paths of SET that the chart (KNOWN, from readPathsFile) does not have. */
export function unknownPaths(set: string[], known: string[]): string[] {
    const exact = new Set(known);
    const openMaps = known.filter((k) => k.endsWith(".*")).map((k) => k.slice(0, -2));
    const exists = (p: string) => exact.has(p) || exact.has(`${p}.*`) || known.some((k) => k.startsWith(`${p}.`));
    return set.filter((path) => {
        if (exact.has(path)) return false;
        if (openMaps.some((m) => path.startsWith(`${m}.`))) return false;
        const parts = path.split(".");
        for (let i = 1; i < parts.length; i++) {
            if (PASS_THROUGH.has(parts[i - 1]) && exists(parts.slice(0, i).join("."))) return false;
        }
        return true;
    });
}

if (require.main === module) {
    const file = process.argv[2];
    if (!file) {
        process.stderr.write("usage: npm run values:paths -- VALUES.yaml\n");
        process.exit(2);
    }
    process.stdout.write(valuePaths(YAML.parse(fs.readFileSync(file, "utf8"))).join("\n") + "\n");
}
