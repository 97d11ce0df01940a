/**
 * Runs the platform layer alone under the mock engine, in a child process (one program per process),
 * for a stack given as a `config:` map, and gives back what it registered.
 */
import * as path from "path";
import { plain, ProgramRun, RecordedResource } from "../../tools/engine";
import { runTsScript, writeStackFile } from "./plan";

export type PlatformRun = Omit<ProgramRun, "error"> & { error?: string };

/** Runs the platform layer for CONFIG; UPDATE: as an update with known outputs (see runPlatform.ts). */
export async function runPlatform(config: Record<string, unknown>, update = false): Promise<PlatformRun> {
    const r = await runTsScript(path.join(__dirname, "runPlatform.ts"), [writeStackFile(config), ...(update ? ["--update"] : [])]);
    if (r.code !== 0) throw new Error(`runPlatform exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as PlatformRun;
}

/** The resources of TYPE, in registration order. */
export function ofType(run: PlatformRun, type: string): RecordedResource[] {
    return run.resources.filter((r) => r.type === type);
}

/** The one resource of TYPE named NAME. */
export function resource(run: PlatformRun, type: string, name: string): RecordedResource {
    const found = run.resources.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}: ${run.resources.map((r) => `${r.type} ${r.name}`).join(", ")}`);
    return found[0];
}

/** The inputs of R as a policy sees them (secrets unwrapped, unknowns undefined). */
export function inputs(r: RecordedResource): any {
    return plain(r.rawInputs);
}
