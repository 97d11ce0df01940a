/**
 * Reads a stack's configuration the way the Pulumi CLI hands it to a program, without the CLI:
 * project defaults from Pulumi.yaml, overridden by the stack file (Pulumi.<stack>.yaml or any file of
 * that format). Objects and lists become JSON text, scalars strings. A `secure:` value cannot be
 * decrypted offline: it becomes UNDECRYPTED_SECRET and its key is listed as secret, so the program
 * sees a secret as it would under the CLI.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { CONFIG_NAMESPACE, UNDECRYPTED_SECRET } from "../components/config";

export const REPO_ROOT = path.resolve(__dirname, "..");

export interface StackConfigInput {
    stack: string;
    /** "ns:key" → value as the CLI passes it. */
    config: Record<string, string>;
    secretKeys: string[];
}

function replaceSecure(value: unknown): { value: unknown; secret: boolean } {
    if (Array.isArray(value)) {
        const items = value.map(replaceSecure);
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        const keys = Object.keys(obj);
        if (keys.length === 1 && keys[0] === "secure") return { value: UNDECRYPTED_SECRET, secret: true };
        let secret = false;
        const out: Record<string, unknown> = {};
        for (const k of keys) {
            const r = replaceSecure(obj[k]);
            out[k] = r.value;
            secret ||= r.secret;
        }
        return { value: out, secret };
    }
    return { value, secret: false };
}

function toCliValue(value: unknown): string {
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}

/** "key" (project-local) or "ns:key" → "ns:key", the form the CLI gives a program. */
function qualify(key: string): string {
    return key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`;
}

function readYaml(file: string): Record<string, unknown> {
    const doc = YAML.parse(fs.readFileSync(file, "utf8"));
    return doc !== null && typeof doc === "object" ? (doc as Record<string, unknown>) : {};
}

/** Project-level defaults declared in Pulumi.yaml (`config: {key: {default: ...}}`). */
export function projectDefaults(projectFile = path.join(REPO_ROOT, "Pulumi.yaml")): Record<string, unknown> {
    const declared = (readYaml(projectFile).config ?? {}) as Record<string, unknown>;
    const defaults: Record<string, unknown> = {};
    for (const [key, decl] of Object.entries(declared)) {
        if (decl !== null && typeof decl === "object" && !Array.isArray(decl)) {
            const d = decl as Record<string, unknown>;
            if ("default" in d) defaults[qualify(key)] = d.default;
            else if ("value" in d) defaults[qualify(key)] = d.value;
        } else {
            defaults[qualify(key)] = decl;
        }
    }
    return defaults;
}

/** Reads the stack file FILE (Pulumi.<stack>.yaml format) merged over the project defaults. */
export function readStackFile(file: string, stack?: string): StackConfigInput {
    const name = stack ?? path.basename(file).replace(/^Pulumi\./, "").replace(/\.ya?ml$/, "");
    const stackValues = (readYaml(file).config ?? {}) as Record<string, unknown>;
    const merged: Record<string, unknown> = { ...projectDefaults() };
    for (const [key, value] of Object.entries(stackValues)) merged[qualify(key)] = value;

    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(merged)) {
        const r = replaceSecure(value);
        config[key] = toCliValue(r.value);
        if (r.secret) secretKeys.push(key);
    }
    return { stack: name, config, secretKeys };
}

/** Reads Pulumi.NAME.yaml of this repository. */
export function readStack(name: string): StackConfigInput {
    return readStackFile(path.join(REPO_ROOT, `Pulumi.${name}.yaml`), name);
}
