/**
 * A simulated VPS fleet on this machine (tests/fleet/fleet.sh does the namespace work): N hosts, each a
 * network namespace on a shared switch with its own public address (and optionally a private one), a
 * throwaway root (tests/harness/sandbox.sh: overlay of /, /proc/sys read-only, stand-ins, units run
 * for real, a /dev of its own) whose PID 1 keeps the host's services, a real systemd-journald, and a
 * real sshd on port 22 with a fresh ed25519 host key that authorises the operator's key (made per
 * fleet). The operator and "the internet" are two
 * more namespaces behind a router, so what comes from outside has an address no node has.
 *
 * Teardown is complete (namespaces, links, mounts, processes) on destroy(), on process exit and on
 * SIGINT/SIGTERM/SIGHUP; a watchdog process does it when the test process dies without a word.
 */
import { ChildProcess, execFile, execFileSync, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { Sandbox, sandboxSupport, RunResult } from "../harness/sandbox";
import { SshClient, SshConnection, SshResult } from "./ssh";

const execFileAsync = promisify(execFile);
export const FLEET_SH = path.join(__dirname, "fleet.sh");
const NETPROBE = fs.readFileSync(path.join(__dirname, "netprobe.py"), "utf8");
const PYTHON = "/usr/bin/python3";
const HOST_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8", "TERM=dumb"];

/**
 * What a host's PID 1 starts at boot, in order: the journal (Debian's systemd-journald, for what reads
 * it, e.g. fail2ban's systemd backend; syslog(3) reaches it through /dev/log) and sshd.
 */
export const BOOT_UNITS = ["systemd-journald.service", "ssh.service"];

/** Where every host sees the fleet's shared directory (read-write), e.g. for a registry of nodes. */
export const SHARED_MOUNT = "/mnt/fleet/shared";
/** The router's address on the hosts' public network (their default gateway). */
export const GATEWAY = "198.18.0.1";
export const OPERATOR_ADDRESS = "198.19.0.10";
export const INTERNET_ADDRESS = "198.19.0.20";
/** The internet side's second address, where serve() publishes directories (a release mirror). */
export const MIRROR_ADDRESS = "198.19.0.30";

/**
 * Paths of a host's upper layer that change by merely using the host (SSH logins, daemons' logs and
 * databases): leave them out of snapshots that prove a script idempotent.
 */
export const VOLATILE_PATHS: RegExp[] = [
    /^\/var\/log\//,
    /^\/var\/lib\/fail2ban\/fail2ban\.sqlite3$/,
    /^\/var\/lib\/nginx\//,
    /^\/root\/\.bash_history$/,
];

export type ProbeResult = "open" | "closed" | "filtered" | "unreachable";
export type Protocol = "tcp" | "udp";
/** Where a probe comes from: a host's name, the operator, or the internet side. */
export type ProbeSource = string | "operator" | "internet";

let support: { ok: boolean; reason?: string } | undefined;

/**
 * Whether this machine can make a fleet (root, throwaway roots with a /dev of their own and the cgroup2
 * hierarchy, network namespaces, sshd, journald); says why not.
 */
export function fleetSupport(): { ok: boolean; reason?: string } {
    if (support) return support;
    const box = sandboxSupport();
    if (!box.ok) return (support = box);
    for (const tool of ["/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen", "/usr/bin/nsenter", "/lib/systemd/systemd-journald", PYTHON]) {
        if (!fs.existsSync(tool)) return (support = { ok: false, reason: `${tool} is missing (tools/install-test-deps.sh)` });
    }
    const systemDev = Sandbox.create("fleet-probe");
    try {
        const r = systemDev.run(["/bin/true"], { systemDev: true, timeoutMs: 20000 });
        if (r.code !== 0) return (support = { ok: false, reason: `no /dev of its own for a host: ${r.stderr.trim().split("\n")[0]}` });
    } finally {
        systemDev.destroy();
    }
    const probe = `fleet-probe-${crypto.randomBytes(3).toString("hex")}`;
    const r = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8" });
    if (r.status !== 0) return (support = { ok: false, reason: `no network namespaces: ${(r.stderr || r.error?.message || "").trim()}` });
    spawnSync("ip", ["netns", "del", probe]);
    return (support = { ok: true });
}

export interface FleetOptions {
    /** Host names (DNS labels, e.g. node names); the n-th (from 1) gets 198.18.0.(10+n). */
    hosts: string[];
    /** Also a private network: eth1 with 198.18.1.(10+n) on a switch without a router. */
    privateNetwork?: boolean;
}

export class FleetHost {
    /** PID (in this machine's PID namespace) of the host's PID 1 (standin-units init). */
    initPid = 0;
    /** The host's network and PID namespaces as the kernel names them ("net:[4026532...]"). */
    netnsId = "";
    pidnsId = "";

    constructor(
        readonly name: string,
        /** Network namespace of the host. */
        readonly netns: string,
        /** Public address (eth0): the one the operator and the internet reach. */
        readonly address: string,
        /** Address on the private network (eth1), when the fleet has one. */
        readonly privateAddress: string | undefined,
        /** The host's SSH key, "ssh-ed25519 AAAA..." (what nodes[].hostKey pins). */
        readonly hostKey: string,
        /** The host's throwaway root: snapshot(), readFile(), mode(), systemctlCalls(). */
        readonly root: Sandbox,
    ) {}

    /** Runs bash -c COMMAND as root inside the host (its namespaces and root; no SSH). */
    exec(command: string, opts: { stdin?: string; timeoutMs?: number } = {}): Promise<RunResult> {
        return this.execArgv(["/bin/bash", "-c", command], opts);
    }

    /** Runs ARGV as root inside the host, with a clean environment (no SSH). */
    execArgv(argv: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<RunResult> {
        const enter = ["--target", String(this.initPid), "--mount", "--uts", "--ipc", "--net", "--pid", "--root", "--wd", "--"];
        return run("nsenter", [...enter, "/usr/bin/env", "-i", ...HOST_ENV, ...argv], opts);
    }

    /** What the units started by the systemctl stand-in wrote (the journal's stand-in). */
    unitLog(unit: string): string {
        const name = unit.includes(".") ? unit : `${unit}.service`;
        const p = path.join(this.root.dir, "state", "systemd", "log", `${name}.log`);
        return fs.existsSync(p) ? fs.readFileSync(p, "utf8") : "";
    }

    /** The host's snapshot without VOLATILE_PATHS (and EXCLUDE). */
    snapshot(exclude: RegExp[] = []): Record<string, string> {
        return this.root.snapshot([...VOLATILE_PATHS, ...exclude]);
    }
}

const live = new Set<Fleet>();
let handlersInstalled = false;

function installHandlers(): void {
    if (handlersInstalled) return;
    handlersInstalled = true;
    process.on("exit", destroyFleets);
    for (const [sig, n] of [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]] as const) {
        process.once(sig, () => {
            destroyFleets();
            process.exit(128 + n);
        });
    }
}

/** Destroys every fleet this process made, finished or still being made. */
export function destroyFleets(): void {
    for (const f of [...live]) f.destroy();
}

/** Ids of the fleets this process made (or is making) and has not destroyed. */
export function liveFleetIds(): string[] {
    return [...live].map((f) => f.id);
}

function run(cmd: string, args: string[], opts: { stdin?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: opts.env ?? process.env });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        const timer = opts.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : undefined;
        child.on("error", reject);
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.stdin ?? "");
        child.on("close", (code, sig) => {
            if (timer) clearTimeout(timer);
            resolve({ code: code ?? 128, stdout, stderr: stderr + (sig ? `\n(killed by ${sig})` : "") });
        });
    });
}

/** Waits for every promise (nothing of a half-made fleet may still be running), then fails with the first error. */
async function allSettled(work: Promise<unknown>[]): Promise<void> {
    const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
}

export class Fleet {
    readonly hosts: FleetHost[] = [];
    /** The operator: where `pulumi up` runs. Its key is authorised on every host. */
    readonly operator: { netns: string; address: string; privateKey: string; publicKey: string };
    /** The internet side: where probes "from outside" come from. */
    readonly internet: { netns: string; address: string };
    /** SSH client of the operator (the command provider's behaviour). */
    readonly sshClient: SshClient;
    private destroyed = false;
    private readonly children = new Set<ChildProcess>();
    private mirrorDir?: string;

    private constructor(
        readonly id: string,
        /** The fleet's directory (a tmpfs): hosts' roots, the operator's key, deployments. */
        readonly dir: string,
    ) {
        const keyDir = path.join(dir, "operator");
        this.operator = {
            netns: `fleet-${id}-op`,
            address: OPERATOR_ADDRESS,
            privateKey: fs.readFileSync(path.join(keyDir, "id_ed25519"), "utf8"),
            publicKey: fs.readFileSync(path.join(keyDir, "id_ed25519.pub"), "utf8").trim(),
        };
        this.internet = { netns: `fleet-${id}-inet`, address: INTERNET_ADDRESS };
        this.sshClient = new SshClient(this.operator.netns, path.join(dir, "ssh"));
    }

    /** Makes the fleet and waits until every host's sshd answers with its pinned key. */
    static async create(opts: FleetOptions): Promise<Fleet> {
        const names = new Set<string>();
        for (const n of opts.hosts) {
            if (!/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/.test(n) || names.has(n)) throw new Error(`fleet host name "${n}" is not a unique DNS label`);
            names.add(n);
        }
        if (opts.hosts.length < 1 || opts.hosts.length > 200) throw new Error("a fleet has 1 to 200 hosts");
        installHandlers();
        const id = crypto.randomBytes(3).toString("hex");
        const dir = `/tmp/pf-fleet-${id}`;
        fs.mkdirSync(dir, { mode: 0o700 });
        try {
            execFileSync("mount", ["-t", "tmpfs", "-o", "mode=0700", `pf-fleet-${id}`, dir], { stdio: "pipe" });
            fs.writeFileSync(path.join(dir, "id"), id + "\n");
            // The watchdog first: from here on, whatever happens to this process, the fleet goes away.
            const watchdog = spawn(FLEET_SH, ["watch", dir, String(process.pid)], { detached: true, stdio: "ignore" });
            watchdog.unref();
            fs.mkdirSync(path.join(dir, "operator"), { mode: 0o700 });
            fs.mkdirSync(path.join(dir, "shared"), { mode: 0o755 });
            execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `operator@fleet-${id}`, "-f", path.join(dir, "operator", "id_ed25519")]);
        } catch (err) {
            spawnSync(FLEET_SH, ["destroy", dir]);
            throw err;
        }
        // Registered before the first await: destroyFleets() (an afterAll after a timeout) finds it.
        const fleet = new Fleet(id, dir);
        live.add(fleet);
        const step = async <T>(work: Promise<T>): Promise<T> => {
            const result = await work.catch((err) => {
                if (fleet.destroyed) throw new Error(`fleet ${id} was destroyed while being made`);
                throw err;
            });
            if (fleet.destroyed) throw new Error(`fleet ${id} was destroyed while being made`);
            return result;
        };
        try {
            await step(execFileAsync(FLEET_SH, ["network", dir]));
            await step(allSettled(opts.hosts.map((name, i) => fleet.addHost(name, i + 1, opts.privateNetwork ?? false))));
            await step(allSettled(fleet.hosts.map((h) => fleet.waitForSsh(h))));
        } catch (err) {
            fleet.destroy();
            throw err;
        }
        return fleet;
    }

    private async addHost(name: string, index: number, privateNetwork: boolean): Promise<void> {
        const r = await execFileAsync(FLEET_SH, ["host", this.dir, name, String(index), ...(privateNetwork ? ["--private"] : [])]);
        const hostKey = r.stdout.trim().split("\n").pop()!;
        const hostDir = path.join(this.dir, "hosts", name);
        const netns = `fleet-${this.id}-host-${name}`;
        const host = new FleetHost(name, netns, `198.18.0.${10 + index}`, privateNetwork ? `198.18.1.${10 + index}` : undefined, hostKey, Sandbox.open(hostDir));
        this.hosts[index - 1] = host;
        const consoleFd = fs.openSync(path.join(this.dir, "hosts", `${name}.console`), "a");
        const boot = spawn(
            path.join(__dirname, "..", "harness", "sandbox.sh"),
            [
                "run", hostDir, "--netns", netns, "--hostname", name, "--share", `${this.sharedDir}:${SHARED_MOUNT}`, "--system-dev",
                "--", "/usr/local/sbin/standin-units", "init", ...BOOT_UNITS,
            ],
            { detached: true, stdio: ["ignore", consoleFd, consoleFd] },
        );
        fs.closeSync(consoleFd);
        boot.unref();
        host.initPid = await this.initPidOf(boot.pid!, name);
        host.netnsId = fs.readlinkSync(`/proc/${host.initPid}/ns/net`);
        host.pidnsId = fs.readlinkSync(`/proc/${host.initPid}/ns/pid`);
    }

    /** The PID 1 of a host: the child `unshare --fork` made. */
    private async initPidOf(unsharePid: number, name: string): Promise<number> {
        for (let i = 0; i < 200; i++) {
            try {
                const exe = fs.readlinkSync(`/proc/${unsharePid}/exe`);
                const children = fs.readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, "utf8").trim();
                if (exe.endsWith("/unshare") && children) return Number(children.split(/\s+/)[0]);
            } catch {
                throw new Error(`host ${name} did not boot: ${this.console(name)}`);
            }
            await new Promise((res) => setTimeout(res, 25));
        }
        throw new Error(`host ${name} did not boot: ${this.console(name)}`);
    }

    /** What a host's PID 1 printed (boot messages, failures of units started at boot). */
    console(name: string): string {
        const p = path.join(this.dir, "hosts", `${name}.console`);
        return fs.existsSync(p) ? fs.readFileSync(p, "utf8") : "";
    }

    private async waitForSsh(host: FleetHost): Promise<void> {
        const deadline = Date.now() + 20000;
        let last: SshResult | undefined;
        while (Date.now() < deadline) {
            last = await this.ssh(host.name, "true");
            if (last.code === 0) return;
            await new Promise((res) => setTimeout(res, 100));
        }
        throw new Error(`sshd of ${host.name} does not answer: ${last?.stderr}\nconsole: ${this.console(host.name)}`);
    }

    /** The directory every host sees at SHARED_MOUNT, as this machine sees it. */
    get sharedDir(): string {
        return path.join(this.dir, "shared");
    }

    host(name: string): FleetHost {
        const h = this.hosts.find((x) => x.name === name);
        if (!h) throw new Error(`no fleet host "${name}" (hosts: ${this.hosts.map((x) => x.name).join(", ")})`);
        return h;
    }

    /** The connection a remote.Command would have for HOST (root, the operator's key, the pinned host key). */
    connection(name: string): SshConnection {
        const h = this.host(name);
        return { host: h.address, port: 22, user: "root", privateKey: this.operator.privateKey, hostKey: h.hostKey, dialErrorLimit: 3, perDialTimeout: 5 };
    }

    /** Runs COMMAND on HOST over SSH from the operator, as the command provider would. */
    ssh(name: string, command: string, opts: { stdin?: string; environment?: Record<string, string> } = {}): Promise<SshResult> {
        return this.sshClient.run({ connection: this.connection(name), command, stdin: opts.stdin, environment: opts.environment });
    }

    /** Runs ARGV in the operator's or the internet's namespace (this machine's files). */
    execIn(where: "operator" | "internet", argv: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<RunResult> {
        const netns = where === "operator" ? this.operator.netns : this.internet.netns;
        return run("ip", ["netns", "exec", netns, ...argv], { ...opts, env: { ...process.env, PF_FLEET: this.id } });
    }

    private execFrom(from: ProbeSource, argv: string[]): Promise<RunResult> {
        return from === "operator" || from === "internet" ? this.execIn(from, argv) : this.host(from).execArgv(argv);
    }

    /**
     * A real connection attempt from FROM to ADDRESS:PORT. "open": answered; "closed": the packet got
     * there and nothing listens (TCP reset, ICMP port unreachable); "filtered": no answer (dropped);
     * "unreachable": an ICMP unreachable/prohibited answer or a local refusal. UDP needs a listener
     * (listen()) to say "open".
     */
    async probe(from: ProbeSource, address: string, port: number, proto: Protocol = "tcp", timeoutSeconds = 1.5): Promise<ProbeResult> {
        const r = await this.execFrom(from, [PYTHON, "-c", NETPROBE, "probe", proto, address, String(port), String(timeoutSeconds)]);
        const word = r.stdout.trim();
        if (r.code !== 0 || !["open", "closed", "filtered", "unreachable"].includes(word)) {
            throw new Error(`probe from ${from} to ${address}:${port}/${proto} failed: ${r.stderr.trim()}`);
        }
        return word as ProbeResult;
    }

    /**
     * Starts an echo server on PORT in host NAME (every address). peers() lists the source address of
     * every connection or datagram it received, oldest first; stop() ends it.
     */
    async listen(name: string, port: number, proto: Protocol = "tcp"): Promise<{ peers(): Promise<string[]>; stop(): Promise<void> }> {
        const host = this.host(name);
        const log = `/run/fleet-listen-${proto}-${port}.peers`;
        const r = await host.execArgv([PYTHON, "-c", NETPROBE, "listen", proto, String(port), log]);
        const pid = Number(r.stdout.trim());
        if (r.code !== 0 || !pid) throw new Error(`listen on ${name}:${port}/${proto} failed: ${r.stderr.trim()}`);
        return {
            peers: async () => (await host.exec(`cat ${log} 2>/dev/null || true`)).stdout.split("\n").filter(Boolean),
            stop: async () => void (await host.exec(`kill ${pid}; rm -f ${log}`)),
        };
    }

    /**
     * Publishes DIR over HTTP on the internet side (MIRROR_ADDRESS, port 80), e.g. a stand-in installer
     * and release files for k3s.installScriptUrl and k3s.releaseMirror. Returns the base URL.
     */
    async serve(dir: string): Promise<string> {
        if (this.mirrorDir !== undefined) throw new Error(`fleet ${this.id} serves ${this.mirrorDir} already (one mirror per fleet)`);
        this.mirrorDir = dir;
        const server = spawn("ip", ["netns", "exec", this.internet.netns, PYTHON, "-m", "http.server", "80", "--bind", MIRROR_ADDRESS, "--directory", dir], {
            detached: true,
            stdio: "ignore",
            env: { ...process.env, PF_FLEET: this.id },
        });
        server.unref();
        for (let i = 0; i < 100; i++) {
            if ((await this.probe("operator", MIRROR_ADDRESS, 80, "tcp", 0.5)) === "open") return `http://${MIRROR_ADDRESS}`;
            await new Promise((res) => setTimeout(res, 50));
        }
        throw new Error(`the mirror for ${dir} did not start`);
    }

    /** Ends CHILD (e.g. a deployment's executor) when the fleet is destroyed. */
    track(child: ChildProcess): void {
        this.children.add(child);
        child.on("exit", () => this.children.delete(child));
    }

    /**
     * Removes everything the fleet made. Synchronous, so it also works in exit and signal handlers; safe
     * to repeat (a fleet destroyed while being made is swept again when its making stops).
     */
    destroy(): void {
        this.destroyed = true;
        for (const child of this.children) child.kill("SIGKILL");
        const r = spawnSync(FLEET_SH, ["destroy", this.dir], { encoding: "utf8" });
        live.delete(this);
        if (r.status !== 0) throw new Error(`fleet ${this.id} teardown failed: ${r.stderr}`);
    }

    /**
     * The fleet's namespaces as the kernel names them ("net:[4026532...]", "pid:[...]"): every host's
     * network and PID namespace and the lan, operator and internet namespaces. A process in one of them
     * after destroy() would be a leftover, whatever its command line.
     */
    namespaceIds(): string[] {
        const ids = this.hosts.flatMap((h) => [h.netnsId, h.pidnsId]);
        for (const ns of [`fleet-${this.id}-lan`, this.operator.netns, this.internet.netns]) ids.push(`net:[${fs.statSync(`/run/netns/${ns}`).ino}]`);
        return ids;
    }
}

/**
 * What is left of fleet ID, one line each, empty when clean: its named network namespaces, mounts of
 * its directory, processes naming it or started for it (fleet.sh leftovers), and processes in any of
 * NAMESPACES (see Fleet.namespaceIds()).
 */
export function leftovers(id: string, namespaces: string[] = []): string[] {
    const r = spawnSync(FLEET_SH, ["leftovers", id], { encoding: "utf8" });
    const found = r.stdout.split("\n").filter(Boolean);
    const wanted = new Set(namespaces);
    for (const pid of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
        for (const kind of ["net", "pid"]) {
            let ns: string;
            try {
                ns = fs.readlinkSync(`/proc/${pid}/ns/${kind}`);
            } catch {
                continue;
            }
            if (wanted.has(ns)) {
                let cmd = "";
                try {
                    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
                } catch {
                    // gone meanwhile
                }
                found.push(`process ${pid} in ${ns}: ${cmd.slice(0, 120)}`);
                break;
            }
        }
    }
    return found;
}
