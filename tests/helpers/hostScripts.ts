/**
 * Runs host scripts in throwaway roots exactly as VpsNode sends them (renderHostCommand of the
 * script's text with its environment), twice, and collects what an idempotence check needs.
 */
import * as fs from "fs";
import * as path from "path";
import { renderHostCommand, SCRIPTS_DIR } from "../../components/hostCommand";
import { RunOptions, RunResult, Sandbox, sandboxSupport } from "../harness/sandbox";

/** The command text VpsNode would run for scripts/NAME with ENV. */
export function scriptCommand(name: string, env: Record<string, string | number>): string {
    const text = fs.readFileSync(path.join(SCRIPTS_DIR, name), "utf8");
    return renderHostCommand(text, Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])), `private-faas/${name}`);
}

/** systemctl calls that change something (as opposed to is-enabled / is-active queries). */
export const CHANGING_SYSTEMCTL = /^systemctl (enable|disable|start|stop|restart|reload|reload-or-restart|try-restart|try-reload-or-restart|daemon-reload|mask|unmask)\b/;

export interface TwoRuns {
    first: RunResult;
    second: RunResult;
    /** What run 1 changed: upper-layer entries added or different compared to before it. */
    changed: Record<string, string>;
    /** Upper layer after run 1 and after run 2. */
    afterFirst: Record<string, string>;
    afterSecond: Record<string, string>;
    /** systemctl calls of each run. */
    firstCalls: string[];
    secondCalls: string[];
}

export function runTwice(box: Sandbox, text: string, opts: RunOptions = {}): TwoRuns {
    // bash reads ~/.bashrc when its stdin is a socket, as with sshd and with node's stdio pipes; what
    // this machine's .bashrc writes (pyenv's shims) is not the script's doing.
    box.run(["/bin/bash", "-c", "true"], opts);
    const before = box.snapshot();
    box.clearSystemctlCalls();
    const first = box.run(["/bin/bash", "-c", text], opts);
    const afterFirst = box.snapshot();
    const changed = Object.fromEntries(Object.entries(afterFirst).filter(([p, v]) => before[p] !== v));
    const firstCalls = box.systemctlCalls();
    box.clearSystemctlCalls();
    const second = box.run(["/bin/bash", "-c", text], opts);
    return { first, second, changed, afterFirst, afterSecond: box.snapshot(), firstCalls, secondCalls: box.systemctlCalls() };
}

/** `describe` where throwaway roots work, else a one-line notice and nothing runs. */
export function describeInSandbox(title: string, body: () => void): void {
    const support = sandboxSupport();
    if (!support.ok) {
        console.log(`${title}: not run (${support.reason})`);
        describe.skip(title, body);
        return;
    }
    describe(title, body);
}
