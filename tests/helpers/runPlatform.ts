/**
 * Runs tests/fixtures/platformProgram.ts under the mock engine with the stack file given as argument
 * and prints the recorded run as JSON (raw wire form, secrets as markers). One run per process: the
 * Pulumi SDK keeps its state per process (tests/helpers/platform.ts spawns this).
 *
 * `--update` runs it as an update instead of a preview, with known outputs: every generated password
 * is FAKE_PASSWORD, so a test can look for it wherever it must not be.
 */
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { runProgram } from "../../tools/engine";
import { readStackFile } from "../../tools/stackFile";

export const FAKE_PASSWORD = "generated-password-not-real-4f1d";

async function newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    const generated = args.type === "random:index/randomPassword:RandomPassword" ? { result: FAKE_PASSWORD } : {};
    return { id: args.custom ? `${args.name}-id` : undefined, state: { ...args.inputs, ...generated } };
}

async function main(file: string, update: boolean): Promise<void> {
    const input = readStackFile(path.resolve(file));
    const run = await runProgram({
        ...(update ? { preview: false, newResource } : {}),
        program: path.resolve(__dirname, "..", "fixtures", "platformProgram.ts"),
        stack: input.stack,
        config: input.config,
        secretKeys: input.secretKeys,
    });
    const error = run.error === undefined ? undefined : String((run.error as Error)?.stack ?? run.error);
    process.stdout.write(JSON.stringify({ ...run, error }) + "\n");
}

if (require.main === module) {
    main(process.argv[2], process.argv.includes("--update")).catch((err) => {
        process.stderr.write(String(err?.stack ?? err) + "\n");
        process.exit(3);
    });
}
