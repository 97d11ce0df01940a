/**
 * `npm run edge:render -- [--stack NAME | --config FILE]`
 *
 * Prints the exact nginx configuration EdgeProxy would install on the edge host (/etc/nginx/nginx.conf)
 * for a stack: Pulumi.NAME.yaml (default prod) or FILE in the same format. Offline, like the plan.
 * Exit status: 0 printed; 2 configuration error (the plan's lines) or no edge configured.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, loadStackConfig, StackConfig } from "../components/config";
import { edgeSettings, renderNginxConfig } from "../components/nginxConfig";
import { readStack, readStackFile } from "./stackFile";
import { configErrorLines } from "./plan";

const USAGE = "usage: npm run edge:render -- [--stack NAME | --config FILE]";

function parseArgs(argv: string[]): { stack?: string; configFile?: string } {
    const args: { stack?: string; configFile?: string } = {};
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const v = argv[i + 1];
        if ((a !== "--stack" && a !== "--config") || v === undefined || v.startsWith("--")) {
            throw new Error(`${a === "--stack" || a === "--config" ? `${a} needs a value` : `unknown argument "${a}"`}\n${USAGE}`);
        }
        if (a === "--stack") args.stack = v;
        else args.configFile = v;
        i++;
    }
    if (args.stack && args.configFile) throw new Error(`--stack and --config exclude each other\n${USAGE}`);
    return args;
}

function main(argv: string[]): number {
    let args: ReturnType<typeof parseArgs>;
    try {
        args = parseArgs(argv);
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        return 2;
    }
    const input = args.configFile ? readStackFile(path.resolve(args.configFile)) : readStack(args.stack ?? "prod");
    pulumi.runtime.setAllConfig(input.config, input.secretKeys);
    let stack: StackConfig;
    try {
        stack = loadStackConfig();
    } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(configErrorLines(err.problems));
        return 2;
    }
    if (!stack.edge) {
        process.stderr.write(`edge:render: stack "${input.stack}" configures no edge (private-faas:edge is absent or {})\n`);
        return 2;
    }
    process.stdout.write(renderNginxConfig(edgeSettings(stack)));
    return 0;
}

if (require.main === module) {
    try {
        process.exitCode = main(process.argv.slice(2));
    } catch (err) {
        process.stderr.write(`edge:render failed: ${(err as Error)?.stack ?? String(err)}\n`);
        process.exitCode = 3;
    }
}
