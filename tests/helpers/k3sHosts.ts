/**
 * Host-script runs for the K3s tests: a stack configuration whose install sources are the stand-ins,
 * and the command texts the component would render for it.
 */
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig, StackConfig } from "../../components/config";
import { renderHostCommand, SCRIPTS_DIR } from "../../components/hostCommand";
import { STANDIN_INSTALL_SCRIPT_URL, STANDIN_RELEASE_MIRROR } from "../harness/k3sStandin";

export const TEST_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest-key-not-real\n-----END OPENSSH PRIVATE KEY-----\n";

export interface TestNode {
    name: string;
    role: "server" | "agent";
    host: string;
    labels?: Record<string, string>;
}

/** The `private-faas:k3s` settings of a test cluster: stand-in install sources, short timeouts. */
export function standinK3s(version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        version,
        installScriptUrl: STANDIN_INSTALL_SCRIPT_URL,
        releaseMirror: STANDIN_RELEASE_MIRROR,
        readyTimeoutSeconds: 30,
        drainTimeoutSeconds: 30,
        ...extra,
    };
}

/** A stack configuration (as the CLI hands it over, before validation) of NODES. */
export function rawStack(nodes: TestNode[], k3s: Record<string, unknown>): Record<string, unknown> {
    return {
        nodes: nodes.map((n) => ({ provider: "other", country: "NO", storage: "nvme", vcpu: 4, memoryGb: 8, ...n })),
        ssh: { privateKey: TEST_KEY },
        k3s,
    };
}

export function testStack(nodes: TestNode[], k3s: Record<string, unknown>): StackConfig {
    return parseStackConfig(rawStack(nodes, k3s));
}

/** What hostCommand renders for scripts/NAME with ENV. */
export function scriptCommand(name: string, env: Record<string, string> = {}): string {
    return renderHostCommand(fs.readFileSync(path.join(SCRIPTS_DIR, name), "utf8"), env, `private-faas/${name}`);
}

/** systemctl calls that change something (start, restart, enable, ...), not the queries. */
export function changingCalls(calls: string[]): string[] {
    return calls.filter((c) => !/^systemctl (is-active|is-enabled|status)\b/.test(c));
}
