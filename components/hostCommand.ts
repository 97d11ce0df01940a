/**
 * Turns a host script (scripts/*.sh, testable on its own, parameterised by environment) into the text
 * of a remote.Command: `export NAME='value'` lines, then the script, run by bash whatever the login
 * shell is. Secrets never go into this text (it is stored in the state and shown by previews): pass
 * them on the command's stdin and let the script read them there.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

export const SCRIPTS_DIR = path.resolve(__dirname, "..", "scripts");

/** Quotes a value for POSIX shells: 'it'\''s'. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** The script's text with its environment, as one `bash -c` command line. Pure: tested directly. */
export function renderHostCommand(scriptText: string, env: Record<string, string>, label: string): string {
    const exports = Object.entries(env).map(([k, v]) => {
        if (!ENV_NAME.test(k)) throw new Error(`host script environment name "${k}" is not a shell variable name`);
        return `export ${k}=${shellQuote(v)}`;
    });
    const body = [...exports, scriptText].join("\n");
    return `exec /bin/bash -c ${shellQuote(body)} ${shellQuote(label)}`;
}

/** Reads scripts/NAME and renders it with ENV (Inputs allowed; never pass a secret). */
export function hostCommand(
    name: string,
    env: Record<string, pulumi.Input<string | number | boolean>> = {},
): pulumi.Output<string> {
    const text = fs.readFileSync(path.join(SCRIPTS_DIR, name), "utf8");
    return pulumi.output(env).apply((resolved) => {
        const asText: Record<string, string> = {};
        for (const [k, v] of Object.entries(resolved)) asText[k] = String(v);
        return renderHostCommand(text, asText, `private-faas/${name}`);
    });
}
