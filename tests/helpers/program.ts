/**
 * A stack's configuration as runProgram (tools/engine.ts) takes it, with a recognisable test key in
 * place of the undecryptable `secure:` private key, and small views of the recorded registrations.
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as path from "path";
import { readStack, REPO_ROOT } from "../../tools/stackFile";
import { plain, ProgramRun, RecordedResource } from "../../tools/engine";
import { TEST_PRIVATE_KEY } from "./plan";

export function stackInput(name: string): { stack: string; config: Record<string, string>; secretKeys: string[] } {
    const input = readStack(name);
    const ssh = JSON.parse(input.config["private-faas:ssh"]);
    input.config["private-faas:ssh"] = JSON.stringify({ ...ssh, privateKey: TEST_PRIVATE_KEY });
    return input;
}

export function byName(run: ProgramRun, name: string): RecordedResource {
    const found = run.resources.find((r) => r.name === name);
    if (!found) throw new Error(`no resource named ${name}; have ${run.resources.map((r) => r.name).join(", ")}`);
    return found;
}

export const plainOutputs = (r: RecordedResource) => plain(r.rawOutputs) as Record<string, any>;
export const plainInputs = (r: RecordedResource) => plain(r.rawInputs) as Record<string, any>;

const TS_NODE = path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js");

/** Runs tests/fixtures/runProgram.ts (a program under the mock engine, in its own process) with ENV. */
export function runFixture(env: Record<string, string>): SpawnSyncReturns<string> {
    return spawnSync(process.execPath, [TS_NODE, "--transpile-only", path.join(REPO_ROOT, "tests", "fixtures", "runProgram.ts")], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
        encoding: "utf8",
        timeout: 60000,
    });
}
