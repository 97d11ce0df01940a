/**
 * Runs the real nginx (Debian package) on loopback for tests and the edge benchmark: a temporary
 * prefix holds the configuration, pid file, logs and temp directories; free ports are picked by
 * binding port 0; the master runs in the foreground (`daemon off`) as our child and is always stopped.
 */
import { spawn, spawnSync, ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { NginxLayout } from "../../components/nginxConfig";

export const NGINX = "/usr/sbin/nginx";

/** Why nginx cannot run here, or undefined when it can. */
export function nginxMissing(): string | undefined {
    return fs.existsSync(NGINX) ? undefined : `${NGINX} is missing: run tools/install-test-deps.sh`;
}

/** A port nobody listens on right now (bound on port 0, then released). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const { port } = srv.address() as net.AddressInfo;
            srv.close(() => resolve(port));
        });
    });
}

/**
 * A temporary directory workers can reach (mkdtemp makes 0700; workers run as www-data under root),
 * with the parent of nginx's temp directories (tempLayout) in it.
 */
export function tempDir(label: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pf-edge-${label}-`));
    fs.chmodSync(dir, 0o755);
    fs.mkdirSync(path.join(dir, "temp"), { mode: 0o755 });
    return dir;
}

/** File locations below DIR, for renderNginxConfig. */
export function tempLayout(dir: string): NginxLayout {
    return {
        user: process.getuid?.() === 0 ? "www-data" : os.userInfo().username,
        pidFile: path.join(dir, "nginx.pid"),
        errorLog: path.join(dir, "error.log"),
        accessLog: path.join(dir, "access.log"),
        tempDir: path.join(dir, "temp"),
    };
}

/** `nginx -t` of a configuration text; returns the exit status and nginx's output. */
export function nginxTest(configText: string, dir: string): { ok: boolean; output: string } {
    const file = path.join(dir, "nginx-test.conf");
    fs.writeFileSync(file, configText);
    const r = spawnSync(NGINX, ["-t", "-p", dir, "-e", path.join(dir, "error.log"), "-c", file], { encoding: "utf8" });
    return { ok: r.status === 0, output: (r.stdout ?? "") + (r.stderr ?? "") };
}

export interface LocalNginx {
    dir: string;
    /** The ports the configuration was rendered with. */
    ports: number[];
    errorLog(): string;
    /** Stops nginx and removes its directory. */
    stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
    for (const child of running) child.kill("SIGTERM");
});

function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
        const attempt = () => {
            if (child.exitCode !== null || child.signalCode !== null) return reject(new Error("nginx exited"));
            const sock = net.connect(port, "127.0.0.1");
            sock.once("connect", () => {
                sock.destroy();
                resolve();
            });
            sock.once("error", () => {
                sock.destroy();
                if (Date.now() > deadline) reject(new Error(`nginx did not listen on ${port} within ${timeoutMs} ms`));
                else setTimeout(attempt, 50);
            });
        };
        attempt();
    });
}

/**
 * Starts nginx on the configuration RENDER gives for PORTCOUNT free ports (the first is waited for).
 * A port taken between picking and binding is retried with new ports.
 */
export async function startNginx(render: (ports: number[], layout: NginxLayout) => string, portCount = 1, label = "nginx"): Promise<LocalNginx> {
    let lastError = "";
    for (let attempt = 0; attempt < 3; attempt++) {
        const dir = tempDir(label);
        const layout = tempLayout(dir);
        const ports: number[] = [];
        for (let i = 0; i < portCount; i++) ports.push(await freePort());
        const conf = path.join(dir, "nginx.conf");
        fs.writeFileSync(conf, render(ports, layout));
        const child = spawn(NGINX, ["-p", dir, "-e", layout.errorLog, "-c", conf, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr!.on("data", (d) => (stderr += d));
        running.add(child);
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        const stop = async () => {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill("SIGTERM");
                await exited;
            }
            running.delete(child);
            fs.rmSync(dir, { recursive: true, force: true });
        };
        try {
            await waitForPort(ports[0], child, 10000);
            return { dir, ports, stop, errorLog: () => fs.readFileSync(layout.errorLog, "utf8") };
        } catch (err) {
            await stop();
            const log = fs.existsSync(layout.errorLog) ? fs.readFileSync(layout.errorLog, "utf8") : "";
            lastError = `${(err as Error).message}\n${stderr}${log}`;
            if (!/Address already in use/.test(lastError)) break;
        }
    }
    throw new Error(`nginx did not start: ${lastError}`);
}
