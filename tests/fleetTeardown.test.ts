/**
 * A fleet leaves nothing behind — no namespaces, links, mounts or processes — however its test ends:
 * destroy(), SIGINT/SIGTERM to the test process (handlers), SIGKILL (the watchdog), or a teardown that
 * comes while the fleet is still being made (an afterAll after a jest timeout).
 */
import { spawn, execFileSync } from "child_process";
import * as path from "path";
import { Fleet, fleetSupport, destroyFleets, leftovers, liveFleetIds } from "./fleet/fleet";

const support = fleetSupport();
if (!support.ok) console.log(`fleet teardown tests not run: ${support.reason}`);
const maybe = support.ok ? describe : describe.skip;

const TS_NODE = path.resolve(__dirname, "..", "node_modules", "ts-node", "dist", "bin.js");
const rootLinks = () => execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" }).split("\n").map((l) => l.split(":")[1]?.trim()).filter(Boolean).sort();

async function clean(id: string, namespaces: string[], withinMs: number): Promise<string[]> {
    const deadline = Date.now() + withinMs;
    let left = leftovers(id, namespaces);
    while (left.length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        left = leftovers(id, namespaces);
    }
    return left;
}

/** Starts tests/fleet/fixtures/hold.ts (a fleet with a running nginx, a listener, a child process). */
function hold(): Promise<{ pid: number; id: string; namespaces: string[] }> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [TS_NODE, "--transpile-only", path.join(__dirname, "fleet", "fixtures", "hold.ts")], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
            out += d;
            if (out.includes("\n")) {
                const { id, namespaces } = JSON.parse(out.split("\n")[0]);
                resolve({ pid: child.pid!, id, namespaces });
            }
        });
        child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
        child.on("exit", (code) => reject(new Error(`hold.ts exited (${code}) before its fleet was up: ${err}`)));
    });
}

maybe("fleet teardown", () => {
    let linksBefore: string[];
    beforeAll(() => (linksBefore = rootLinks()));
    afterAll(() => destroyFleets());

    test.each(["SIGINT", "SIGTERM", "SIGKILL"] as const)("the test process gets %s: everything goes", async (signal) => {
        const { pid, id, namespaces } = await hold();
        expect(leftovers(id, namespaces).length).toBeGreaterThan(0);
        process.kill(pid, signal);
        expect(await clean(id, namespaces, 20000)).toEqual([]);
        expect(rootLinks()).toEqual(linksBefore);
    }, 90000);

    test("a teardown while the fleet is still being made (an afterAll after a jest timeout)", async () => {
        const making = Fleet.create({ hosts: ["early-1", "early-2"] });
        const [id] = liveFleetIds();
        await new Promise((r) => setTimeout(r, 400));
        destroyFleets();
        await expect(making).rejects.toThrow(`fleet ${id} was destroyed while being made`);
        expect(await clean(id, [], 10000)).toEqual([]);
        expect(rootLinks()).toEqual(linksBefore);
    }, 60000);
});
