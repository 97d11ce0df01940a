/**
 * `npm run bench:edge -- [--duration SECONDS] [--connections N] [--threads N]`
 *
 * Requests per second and p50/p99 latency of one synchronous function route, on loopback, measured
 * with wrk (Debian package) three ways:
 *   direct     wrk → the stub gateway
 *   generated  wrk → nginx with the edge's generated configuration → the stub gateway
 *   seed       wrk → nginx with the seed article's configuration (HTTP/1.0 upstream) → the stub gateway
 * and how many TCP connections the stub gateway accepted during each run. Prints the machine, a table
 * and the ratios. Every run is bounded (warm-up 2 s, then --duration); nginx and the stubs are
 * stopped at the end, also on failure.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import { parseStackConfig } from "../components/config";
import { edgeSettings, renderNginxConfig } from "../components/nginxConfig";
import { startNginx, nginxMissing, NGINX, LocalNginx } from "../tests/helpers/localNginx";
import { startStub, StubServer } from "../tests/helpers/edgeStubs";
import { seedNaiveConfig } from "../tests/helpers/seedEdge";

interface Options {
    duration: number;
    connections: number;
    threads: number;
}

const USAGE = "usage: npm run bench:edge -- [--duration SECONDS (1-120, default 10)] [--connections N (1-1000, default 32)] [--threads N (1-16, default 1)]";
const WARMUP_SECONDS = 2;

function parseArgs(argv: string[]): Options {
    const opts: Options = { duration: 10, connections: 32, threads: 1 };
    const limits: Record<string, [keyof Options, number, number]> = {
        "--duration": ["duration", 1, 120],
        "--connections": ["connections", 1, 1000],
        "--threads": ["threads", 1, 16],
    };
    for (let i = 0; i < argv.length; i += 2) {
        const limit = limits[argv[i]];
        const value = Number(argv[i + 1]);
        if (!limit || !Number.isInteger(value) || value < limit[1] || value > limit[2]) throw new Error(`bad argument "${argv[i]} ${argv[i + 1] ?? ""}"\n${USAGE}`);
        opts[limit[0]] = value;
    }
    if (opts.connections < opts.threads) throw new Error(`--connections must be at least --threads\n${USAGE}`);
    return opts;
}

interface WrkResult {
    rps: number;
    p50Ms: number;
    p99Ms: number;
    requests: number;
    errors: string;
}

function toMs(value: string): number {
    const m = /^([\d.]+)(us|ms|s|m)$/.exec(value);
    if (!m) throw new Error(`unexpected wrk latency "${value}"`);
    const factor = { us: 0.001, ms: 1, s: 1000, m: 60000 }[m[2] as "us" | "ms" | "s" | "m"];
    return Number(m[1]) * factor;
}

function wrk(url: string, seconds: number, o: Options): Promise<WrkResult> {
    return new Promise((resolve, reject) => {
        const child = spawn("wrk", ["-t", String(o.threads), "-c", String(o.connections), "-d", `${seconds}s`, "--timeout", "5s", "--latency", url]);
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("error", reject);
        child.on("close", (code) => {
            const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
            const p50 = /^\s+50%\s+(\S+)/m.exec(out);
            const p99 = /^\s+99%\s+(\S+)/m.exec(out);
            const requests = /^\s+(\d+) requests in/m.exec(out);
            if (code !== 0 || !rps || !p50 || !p99 || !requests) return reject(new Error(`wrk failed (exit ${code}):\n${out}`));
            const errors = [/Socket errors:.*$/m.exec(out)?.[0], /Non-2xx or 3xx responses:.*$/m.exec(out)?.[0]].filter(Boolean).join("; ");
            resolve({ rps: Number(rps[1]), p50Ms: toMs(p50[1]), p99Ms: toMs(p99[1]), requests: Number(requests[1]), errors });
        });
    });
}

/** First line a command prints on stdout or stderr (`nginx -v` and `wrk -v` use stderr). */
function versionOf(cmd: string, args: string[]): string {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return ((r.stdout ?? "") + (r.stderr ?? "")).trim().split("\n")[0];
}

function machine(): string[] {
    const cpu = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown";
    return [
        `nproc: ${os.cpus().length}   cpu: ${cpu}   memory: ${Math.round(os.totalmem() / 2 ** 30)} GiB   kernel ${os.release()}`,
        `${versionOf(NGINX, ["-v"])}   ${versionOf("wrk", ["-v"])}   node ${process.version}`,
        // Other work on the machine skews every figure: say how busy it was.
        `load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`,
    ];
}

function generatedConfig(listen: number, legacy: StubServer, gateway: StubServer): ReturnType<typeof edgeSettings> {
    return edgeSettings(
        parseStackConfig({
            nodes: [{ name: "bench", role: "server", host: "127.0.0.1", provider: "other", country: "NO", storage: "nvme", vcpu: 2, memoryGb: 4 }],
            ssh: { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nbench\n-----END OPENSSH PRIVATE KEY-----" },
            k3s: { version: "v1.35.6+k3s1" },
            edge: {
                host: "127.0.0.1",
                serverName: "_",
                listen,
                listenAddresses: ["127.0.0.1"],
                legacyUpstream: `127.0.0.1:${legacy.port}`,
                gatewayUpstream: `127.0.0.1:${gateway.port}`,
                routes: [{ path: "/api/v2/image-resize", function: "image-resize" }],
            },
        }),
    );
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);

async function main(argv: string[]): Promise<number> {
    let o: Options;
    try {
        o = parseArgs(argv);
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        return 2;
    }
    const missing = nginxMissing();
    if (missing) throw new Error(missing);

    const legacy = await startStub("legacy", { record: false });
    const gateway = await startStub("gateway", { record: false });
    const edges: LocalNginx[] = [];
    try {
        const generated = await startNginx(([listen], layout) => renderNginxConfig(generatedConfig(listen, legacy, gateway), layout), 1, "bench-generated");
        edges.push(generated);
        const seed = await startNginx(([listen], layout) => seedNaiveConfig({ listen, legacy: legacy.port, gateway: gateway.port }, layout), 1, "bench-seed");
        edges.push(seed);
        const targets: [string, string][] = [
            ["direct", `http://127.0.0.1:${gateway.port}/function/image-resize`],
            ["generated", `http://127.0.0.1:${generated.ports[0]}/api/v2/image-resize`],
            ["seed", `http://127.0.0.1:${seed.ports[0]}/functions/function/image-resize`],
        ];
        const out: string[] = ["Edge benchmark: one synchronous function route on loopback", ...machine()];
        out.push(`wrk: ${o.threads} thread(s), ${o.connections} connections, ${WARMUP_SECONDS} s warm-up + ${o.duration} s per target`, "");
        const results: Record<string, WrkResult & { upstreamConnections: number }> = {};
        for (const [name, url] of targets) {
            await wrk(url, WARMUP_SECONDS, o);
            gateway.reset();
            const r = await wrk(url, o.duration, o);
            results[name] = { ...r, upstreamConnections: gateway.connections };
        }
        const header = ["target", "requests/s", "p50 ms", "p99 ms", "requests", "gateway TCP connections", "errors"];
        const rows = targets.map(([name]) => {
            const r = results[name];
            return [name, fmt(r.rps, 0), fmt(r.p50Ms), fmt(r.p99Ms), String(r.requests), String(r.upstreamConnections), r.errors || "none"];
        });
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
        for (const row of [header, widths.map((w) => "-".repeat(w)), ...rows]) out.push(row.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
        const g = results.generated;
        const s = results.seed;
        const d = results.direct;
        out.push(
            "",
            `generated / seed:   ${fmt(g.rps / s.rps)}x requests/s, p50 ${fmt(g.p50Ms / s.p50Ms)}x, p99 ${fmt(g.p99Ms / s.p99Ms)}x`,
            `generated / direct: ${fmt(g.rps / d.rps)}x requests/s, p50 ${fmt(g.p50Ms / d.p50Ms)}x, p99 ${fmt(g.p99Ms / d.p99Ms)}x`,
            `seed / direct:      ${fmt(s.rps / d.rps)}x requests/s, p50 ${fmt(s.p50Ms / d.p50Ms)}x, p99 ${fmt(s.p99Ms / d.p99Ms)}x`,
        );
        process.stdout.write(out.join("\n") + "\n");
        return 0;
    } finally {
        for (const e of edges) await e.stop();
        await legacy.close();
        await gateway.close();
    }
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`bench:edge failed: ${(err as Error)?.message ?? String(err)}\n`);
        process.exit(1);
    },
);
