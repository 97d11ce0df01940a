/**
 * A throwaway tree laid out like the repository, so `tools/plan.ts` runs unchanged on it while a test
 * adds stack files or swaps the program: tools/ is copied (the engine finds the program beside its own
 * directory), everything else is a symlink to the repository. Its index.ts is the real program, or
 * imports FIXTURE (a module path relative to the repository, e.g. "tests/fixtures/openAdminProgram").
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../tools/stackFile";

export function createPlanRoot(fixture?: string): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "pf-plan-root-"));
    const stackFiles = fs.readdirSync(REPO_ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f));
    for (const entry of ["components", "policies", "node_modules", "tests", "Pulumi.yaml", "tsconfig.json", "package.json", ...stackFiles]) {
        fs.symlinkSync(path.join(REPO_ROOT, entry), path.join(root, entry));
    }
    fs.cpSync(path.join(REPO_ROOT, "tools"), path.join(root, "tools"), { recursive: true });
    if (fixture === undefined) fs.symlinkSync(path.join(REPO_ROOT, "index.ts"), path.join(root, "index.ts"));
    else fs.writeFileSync(path.join(root, "index.ts"), `import "./${fixture}";\n`);
    return root;
}

/** Runs FN on every item with at most LIMIT at once; results in the order of ITEMS. */
export async function inPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await fn(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}
