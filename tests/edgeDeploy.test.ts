/**
 * scripts/edge-deploy.sh run for real in throwaway roots (tests/harness/sandbox.ts), against the real
 * nginx at its Debian paths (/etc/nginx/nginx.conf, /run/nginx.pid), serving in the sandbox's own
 * network namespace between two tiny upstreams (python3's http.server). A sandbox's processes end
 * with its run, so each run starts the upstreams and "the live edge" (nginx on whatever
 * /etc/nginx/nginx.conf holds, as a host runs it before a deploy), then runs the steps.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../components/config";
import { edgeSettings, renderNginxConfig } from "../components/nginxConfig";
import { Sandbox, sandboxSupport, SCRIPTS_MOUNT } from "./harness/sandbox";

const support = sandboxSupport();
if (!support.ok) console.log(`edge deploy tests not run: ${support.reason}`);
const maybe = support.ok ? describe : describe.skip;

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----";
const FIXTURE = "/mnt/edge-fixture";

/**
 * The edge configuration for the sandbox: nginx on port 80 of every address (as Debian's default site,
 * so the first reload can take over its sockets), upstreams on 8080 (monolith) and 8081 (gateway).
 */
function edgeConf(edge: Record<string, unknown> = {}): string {
    return renderNginxConfig(
        edgeSettings(
            parseStackConfig({
                nodes: [{ name: "n1", role: "server", host: "192.0.2.10", provider: "coolvds", region: "oslo", storage: "nvme", vcpu: 4, memoryGb: 8 }],
                ssh: { privateKey: KEY },
                k3s: { version: "v1.35.6+k3s1" },
                edge: {
                    host: "192.0.2.20",
                    serverName: "_",
                    legacyUpstream: "127.0.0.1:8080",
                    gatewayUpstream: "127.0.0.1:8081",
                    routes: [{ path: "/hello", function: "hello" }],
                    ...edge,
                },
            }),
        ),
    );
}

const CONFIGS: Record<string, string> = {
    a: edgeConf(),
    // A second route to the same function.
    b: edgeConf({ routes: [{ path: "/hello", function: "hello" }, { path: "/hi", function: "hello" }] }),
    // nginx -t refuses it: the monolith's name does not resolve.
    broken: edgeConf({ legacyUpstream: "monolith.invalid:8080" }),
    // nginx -t accepts it, but the reload cannot bind the port (the monolith holds 8080).
    busyPort: edgeConf({ listen: 8080 }),
};

/** Files the sandbox sees below FIXTURE: the configurations and what the two upstreams serve. */
function writeFixture(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-edge-fixture-"));
    for (const [name, text] of Object.entries(CONFIGS)) fs.writeFileSync(path.join(dir, `${name}.conf`), text);
    fs.mkdirSync(path.join(dir, "legacy"));
    fs.writeFileSync(path.join(dir, "legacy", "index.html"), "monolith\n");
    fs.mkdirSync(path.join(dir, "gateway", "function"), { recursive: true });
    fs.writeFileSync(path.join(dir, "gateway", "function", "hello"), "hello from the gateway\n");
    return dir;
}

const PREAMBLE = `
set -u
fx=${FIXTURE}
/usr/bin/python3 -m http.server --bind 127.0.0.1 8080 --directory "$fx/legacy" >/dev/null 2>&1 &
/usr/bin/python3 -m http.server --bind 127.0.0.1 8081 --directory "$fx/gateway" >/dev/null 2>&1 &
for port in 8080 8081; do
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
nginx
for _ in $(seq 100); do [ -s /run/nginx.pid ] && break; sleep 0.1; done
workers() { pgrep -P "$(cat /run/nginx.pid)" | sort | tr '\\n' ' '; }
# Deploys, then waits for the workers of before a reload to exit: they stop accepting at once, but a
# probe sent within those milliseconds could still meet one.
deploy() {
    local before rc=0 pid
    before=$(workers)
    EDGE_RELOAD_WAIT_SECONDS=3 bash ${SCRIPTS_MOUNT}/edge-deploy.sh <"$fx/$1.conf" || rc=$?
    for _ in $(seq 50); do
        for pid in $before; do kill -0 "$pid" 2>/dev/null && { sleep 0.1; continue 2; }; done
        break
    done
    return "$rc"
}
probe() { curl -s -w ' %{http_code}' "http://127.0.0.1$1"; }
same() { cmp -s "$1" "$fx/$2.conf" && echo same || echo different; }
`;

const EPILOGUE = `
nginx -s quit
for _ in $(seq 100); do [ -e /run/nginx.pid ] || break; sleep 0.1; done
`;

interface Step {
    rc: number;
    out: string;
}

/** Runs STEPS (name → bash) in order in one sandbox run; returns each step's exit status and output. */
function scenario(box: Sandbox, fixture: string, steps: [string, string][]): Record<string, Step> {
    const body = steps.map(([name, cmd]) => `echo "@@begin ${name}"\n{ ${cmd}\n} 2>&1\nprintf '\\n@@end ${name} %s\\n' $?`).join("\n");
    const r = box.run(["/bin/bash", "-c", PREAMBLE + body + EPILOGUE], { binds: { [fixture]: FIXTURE }, timeoutMs: 120000 });
    const results: Record<string, Step> = {};
    const re = /^@@begin (\S+)\n([\s\S]*?)\n@@end \1 (\d+)$/gm;
    for (const m of r.stdout.matchAll(re)) results[m[1]] = { rc: Number(m[3]), out: m[2] };
    for (const [name] of steps) {
        if (!results[name]) throw new Error(`step ${name} did not finish:\n${r.stdout}\n${r.stderr}`);
    }
    return results;
}

maybe("edge-deploy.sh in a throwaway root", () => {
    let fixture: string;
    beforeAll(() => (fixture = writeFixture()));
    afterAll(() => fs.rmSync(fixture, { recursive: true, force: true }));

    test("a configuration nginx rejects, or cannot apply, never takes the live edge down", () => {
        const box = Sandbox.create("edge-reload");
        try {
            const s = scenario(box, fixture, [
                ["deployA", "deploy a"],
                ["probeA", "probe /hello; probe /"],
                ["broken", "deploy broken"],
                ["afterBroken", "same /etc/nginx/nginx.conf a; probe /hello; probe /"],
                ["busyPort", "deploy busyPort"],
                ["afterBusy", "same /etc/nginx/nginx.conf a; probe /hello"],
                ["deployB", "deploy b"],
                ["afterB", "same /etc/nginx/nginx.conf b; same /etc/nginx/nginx.conf.previous a; probe /hi"],
            ]);
            expect(s.deployA).toEqual({ rc: 0, out: expect.stringMatching(/nginx reloaded/) });
            expect(s.probeA.out).toBe("hello from the gateway\n 200monolith\n 200");

            expect(s.broken.rc).toBe(1);
            expect(s.broken.out).toMatch(/host not found in upstream "monolith\.invalid:8080"/);
            expect(s.broken.out).toMatch(/nginx rejects the new configuration .*\/etc\/nginx\/nginx\.conf is unchanged/);
            expect(s.afterBroken.out).toBe("same\nhello from the gateway\n 200monolith\n 200");

            expect(s.busyPort.rc).toBe(1);
            expect(s.busyPort.out).toMatch(/did not apply the new configuration .* keeps serving the previous one, which is back in \/etc\/nginx\/nginx\.conf/);
            expect(s.afterBusy.out).toBe("same\nhello from the gateway\n 200");

            expect(s.deployB.rc).toBe(0);
            expect(s.afterB.out).toBe("same\nsame\nhello from the gateway\n 200");
            // Nothing left beside the live file but the previous one.
            expect(fs.readdirSync(path.join(box.upper, "etc", "nginx")).sort()).toEqual(["nginx.conf", "nginx.conf.previous"]);
        } finally {
            box.destroy();
        }
    });

    test("the same configuration twice: the second run writes nothing and reloads nothing", () => {
        const box = Sandbox.create("edge-idem");
        const exclude = [/^\/var\/log\//];
        try {
            const first = scenario(box, fixture, [["deploy", "deploy a"]]);
            expect(first.deploy).toEqual({ rc: 0, out: expect.stringMatching(/enabling nginx at boot[\s\S]*nginx reloaded/) });
            expect(box.systemctlCalls()).toEqual(["systemctl is-enabled --quiet nginx", "systemctl enable --quiet nginx"]);
            const after1 = box.snapshot(exclude);
            expect(after1["/etc/nginx/nginx.conf"]).toMatch(/^file 644 0:0 /);
            // Debian's own file is the previous one.
            expect(box.readFile("/etc/nginx/nginx.conf.previous")).toBe(fs.readFileSync("/etc/nginx/nginx.conf", "utf8"));

            box.clearSystemctlCalls();
            const second = scenario(box, fixture, [
                ["before", "workers"],
                ["deploy", "deploy a"],
                ["after", "workers; probe /hello"],
            ]);
            expect(second.deploy).toEqual({ rc: 0, out: "edge-deploy: /etc/nginx/nginx.conf unchanged; nginx keeps running\n" });
            expect(second.after.out).toBe(`${second.before.out}hello from the gateway\n 200`);
            expect(box.systemctlCalls()).toEqual(["systemctl is-enabled --quiet nginx"]);
            expect(box.snapshot(exclude)).toEqual(after1);
        } finally {
            box.destroy();
        }
    });

    test("nginx not running: the configuration is installed and the unit started", () => {
        const box = Sandbox.create("edge-start");
        try {
            const r = box.run(["/bin/bash", "-c", `bash ${SCRIPTS_MOUNT}/edge-deploy.sh <${FIXTURE}/a.conf`], { binds: { [fixture]: FIXTURE } });
            expect(r).toMatchObject({ code: 0, stdout: expect.stringMatching(/installed \/etc\/nginx\/nginx\.conf; starting nginx/) });
            expect(box.readFile("/etc/nginx/nginx.conf")).toBe(CONFIGS.a);
            expect(box.systemctlCalls()).toEqual(["systemctl is-enabled --quiet nginx", "systemctl enable --quiet nginx", "systemctl start nginx"]);
        } finally {
            box.destroy();
        }
    });

    test("no configuration on standard input is refused", () => {
        const box = Sandbox.create("edge-empty");
        try {
            const r = box.run(["/bin/bash", `${SCRIPTS_MOUNT}/edge-deploy.sh`], { stdin: "" });
            expect(r.code).toBe(1);
            expect(r.stderr).toMatch(/no configuration on standard input/);
            expect(box.readFile("/etc/nginx/nginx.conf")).toBe(fs.readFileSync("/etc/nginx/nginx.conf", "utf8"));
        } finally {
            box.destroy();
        }
    });
});
