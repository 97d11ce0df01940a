/**
 * Throwaway roots for tests that run host scripts for real (see sandbox.sh): a private mount namespace
 * with an overlay of /, its own network namespace, /proc/sys read-only, stand-ins for what cannot exist
 * here (tests/harness/standins). The overlay's upper layer is what the runs changed; comparing it after
 * two runs proves a script idempotent.
 */
import { spawnSync, execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
const SANDBOX_SH = path.join(__dirname, "sandbox.sh");
/** Where a sandbox sees this repository's scripts/ (read-only). */
export const SCRIPTS_MOUNT = "/mnt/private-faas/scripts";

let support: { ok: boolean; reason?: string } | undefined;

/** Whether this machine can make throwaway roots (root, unshare, overlayfs); says why not. */
export function sandboxSupport(): { ok: boolean; reason?: string } {
    if (support) return support;
    if (process.getuid?.() !== 0) return (support = { ok: false, reason: "not root" });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-probe-"));
    try {
        execFileSync(SANDBOX_SH, ["create", dir], { stdio: "pipe" });
        execFileSync(SANDBOX_SH, ["run", dir, "--", "/bin/true"], { stdio: "pipe", timeout: 20000 });
        support = { ok: true };
    } catch (err) {
        const e = err as { stderr?: Buffer; message: string };
        support = { ok: false, reason: (e.stderr?.toString() || e.message).trim().split("\n")[0] };
    } finally {
        spawnSync(SANDBOX_SH, ["destroy", dir]);
    }
    return support;
}

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

export interface RunOptions {
    /** Text on the command's standard input (how secrets reach host scripts). */
    stdin?: string;
    /** Read-only bind mounts: host path → path below /mnt inside the sandbox. */
    binds?: Record<string, string>;
    /** Read-write bind mounts: host path → path below /mnt inside the sandbox. */
    shares?: Record<string, string>;
    /** Run inside this existing network namespace instead of a fresh, empty one. */
    netns?: string;
    hostname?: string;
    timeoutMs?: number;
    /** What systemd-journald needs (sandbox.sh run --system-dev): a /dev of its own, cgroup2 read-only. */
    systemDev?: boolean;
}

/**
 * What the systemctl stand-in does with units: "record" the calls and keep enabled/active state only
 * (the default), or "run" the units' ExecStart/ExecReload/ExecStop for real (tests/harness/units.py;
 * the fleet's hosts use it, so services started by a script keep running).
 */
export type UnitMode = "record" | "run";

export interface SandboxOptions {
    units?: UnitMode;
    /** Where to make the sandbox (a new directory); default: a fresh one under the system's temp dir. */
    dir?: string;
}

export class Sandbox {
    private constructor(readonly dir: string) {}

    static create(label: string, opts: SandboxOptions = {}): Sandbox {
        const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), `pf-sandbox-${label}-`));
        execFileSync(SANDBOX_SH, ["create", dir, "--units", opts.units ?? "record"], { stdio: "pipe" });
        return new Sandbox(dir);
    }

    /** A sandbox made before (sandbox.sh create), e.g. a fleet host's root. */
    static open(dir: string): Sandbox {
        if (!fs.existsSync(path.join(dir, "state", "systemctl.mode"))) throw new Error(`${dir} is not a sandbox`);
        return new Sandbox(dir);
    }

    get upper(): string {
        return path.join(this.dir, "upper");
    }

    /** Runs ARGV inside the sandbox (scripts/ is mounted at SCRIPTS_MOUNT). */
    run(argv: string[], opts: RunOptions = {}): RunResult {
        const args = ["run", this.dir, "--hostname", opts.hostname ?? "sandbox"];
        const scripts = path.join(REPO_ROOT, "scripts");
        if (fs.existsSync(scripts)) args.push("--bind", `${scripts}:${SCRIPTS_MOUNT}`);
        for (const [src, dst] of Object.entries(opts.binds ?? {})) args.push("--bind", `${src}:${dst}`);
        for (const [src, dst] of Object.entries(opts.shares ?? {})) args.push("--share", `${src}:${dst}`);
        if (opts.netns) args.push("--netns", opts.netns);
        if (opts.systemDev) args.push("--system-dev");
        args.push("--", ...argv);
        const r = spawnSync(SANDBOX_SH, args, { input: opts.stdin ?? "", timeout: opts.timeoutMs ?? 120000, encoding: "utf8" });
        return { code: r.status ?? (r.signal ? 128 : 1), stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? `\n${r.error.message}` : "") };
    }

    /** Runs a remote.Command's create text exactly as sshd would: the login shell (bash) with -c. */
    runCommandText(text: string, opts: RunOptions = {}): RunResult {
        return this.run(["/bin/bash", "-c", text], opts);
    }

    /**
     * What the runs changed: every entry of the upper layer with its kind, mode, owner and content hash
     * (deleted files show as whiteouts). Modification times are left out: rewriting a file with the same
     * content is no change to the host.
     */
    snapshot(exclude: RegExp[] = []): Record<string, string> {
        const out: Record<string, string> = {};
        const walk = (rel: string) => {
            const abs = path.join(this.upper, rel);
            for (const name of fs.readdirSync(abs)) {
                const r = path.join(rel, name);
                const p = "/" + r;
                if (exclude.some((re) => re.test(p))) continue;
                const st = fs.lstatSync(path.join(this.upper, r));
                const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
                if (st.isDirectory()) {
                    out[p] = `dir ${meta}`;
                    walk(r);
                } else if (st.isSymbolicLink()) {
                    out[p] = `link -> ${fs.readlinkSync(path.join(this.upper, r))}`;
                } else if (st.isCharacterDevice() && st.rdev === 0) {
                    out[p] = "deleted";
                } else if (st.isFile()) {
                    const hash = crypto.createHash("sha256").update(fs.readFileSync(path.join(this.upper, r))).digest("hex");
                    out[p] = `file ${meta} ${hash}`;
                } else {
                    out[p] = `other ${meta}`;
                }
            }
        };
        walk("");
        return out;
    }

    /** A file as the sandbox sees it now (undefined when absent or deleted). */
    readFile(p: string): string | undefined {
        const inUpper = path.join(this.upper, p);
        if (fs.existsSync(inUpper)) {
            const st = fs.lstatSync(inUpper);
            if (st.isCharacterDevice() && st.rdev === 0) return undefined;
            return fs.readFileSync(inUpper, "utf8");
        }
        return fs.existsSync(p) ? fs.readFileSync(p, "utf8") : undefined;
    }

    /** Mode bits (e.g. 0o600) of a file the runs wrote. */
    mode(p: string): number {
        return fs.statSync(path.join(this.upper, p)).mode & 0o7777;
    }

    /** Every systemctl call the stand-in received, oldest first. */
    systemctlCalls(): string[] {
        const log = path.join(this.dir, "state", "systemctl.log");
        return fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
    }

    /** Forgets the systemctl calls so far (to look at one run's calls alone). */
    clearSystemctlCalls(): void {
        fs.rmSync(path.join(this.dir, "state", "systemctl.log"), { force: true });
    }

    destroy(): void {
        spawnSync(SANDBOX_SH, ["destroy", this.dir]);
    }
}
