/**
 * The fleet executor (tests/fleet/deploy.ts, executor.ts): a program's remote commands run over SSH on
 * the fleet as `pulumi up` would run them, tried on the fixture program tests/fleet/fixtures/program.ts
 * (an output flowing into stdin across hosts, environment, deletes, a failing check).
 */
import * as fs from "fs";
import * as path from "path";
import { Fleet, fleetSupport, destroyFleets } from "./fleet/fleet";
import { deploy, rerun, stepNames, Deployment } from "./fleet/deploy";
import { fleetStack, FleetNode } from "./fleet/stack";

const support = fleetSupport();
if (!support.ok) console.log(`fleet executor tests not run: ${support.reason}`);
const maybe = support.ok ? describe : describe.skip;

const program = path.join(__dirname, "fleet", "fixtures", "program.ts");
const NODES: FleetNode[] = [
    { host: "server-1", role: "server" },
    { host: "agent-1", role: "agent" },
    { host: "agent-2", role: "agent" },
];

maybe("fleet executor", () => {
    let fleet: Fleet;
    let first: Deployment;

    beforeAll(async () => {
        fleet = await Fleet.create({ hosts: ["server-1", "agent-1", "agent-2"] });
        first = await deploy(fleet, { program, config: fleetStack(fleet, NODES) });
    }, 180000);
    afterAll(() => destroyFleets());

    const read = async (host: string, file: string) => (await fleet.host(host).exec(`cat ${file}`)).stdout;

    test("runs every command over SSH in the order of the deployment graph, with real outputs", async () => {
        expect(first.error).toBeUndefined();
        expect(first.ok).toBe(true);
        const order = stepNames(first.steps);
        expect(order).toHaveLength(5);
        expect(order[0]).toBe("create token");
        for (const agent of ["agent-1", "agent-2"]) expect(order.indexOf(`create ${agent}-join`)).toBeLessThan(order.indexOf(`create ${agent}-register`));
        for (const s of first.steps) expect(s).toMatchObject({ exitCode: 0, port: 22 });
        expect(first.steps.find((s) => s.name === "agent-2-join")!.host).toBe(fleet.host("agent-2").address);
        expect(first.steps.find((s) => s.name === "agent-2-register")!.host).toBe(fleet.host("server-1").address);
        // The token made on the server reached both agents through stdin.
        const token = await read("server-1", "/var/lib/fleet-fixture/token");
        expect(token).toMatch(/^[0-9a-f]{32}$/);
        for (const agent of ["agent-1", "agent-2"]) expect(await read(agent, "/var/lib/fleet-fixture/joined")).toBe(`${token}\n`);
        expect(fleet.host("agent-1").root.mode("/var/lib/fleet-fixture/joined")).toBe(0o600);
        // A command's real stdout became the state dependants were built from.
        const join = first.state.find((r) => r.name === "agent-1-join")!;
        expect(join.outputs.stdout).toBe("agent-1 joined (joining agent-1) with a token of 32 characters");
        expect(await read("server-1", "/var/lib/fleet-fixture/members")).toBe(
            "agent-1: agent-1 joined (joining agent-1) with a token of 32 characters\nagent-2: agent-2 joined (joining agent-2) with a token of 32 characters\n",
        );
        // The state records explicit and output dependencies, and keeps the secret stdin for deletes.
        const register = first.state.find((r) => r.name === "agent-1-register")!;
        expect(register.dependsOn).toContain(join.urn);
        expect(join.inputs.stdin).toBe(`${token}\n`);
        expect(fs.statSync(first.file).mode & 0o777).toBe(0o600);
        expect(first.outputs).toEqual({ agents: ["agent-1", "agent-2"] });
    });

    test("a second run of every executed command changes nothing (the fixture's commands are idempotent)", async () => {
        const before = fleet.hosts.map((h) => h.snapshot());
        const again = await rerun(fleet, first);
        expect(again.ok).toBe(true);
        expect(stepNames(again.steps)).toEqual(stepNames(first.steps).map((s) => s.replace(/^create/, "rerun")));
        expect(fleet.hosts.map((h) => h.snapshot())).toEqual(before);
    });

    test("a second `pulumi up` without agent-2 deletes its commands in reverse dependency order and leaves the rest alone", async () => {
        const second = await deploy(fleet, { program, config: fleetStack(fleet, NODES.slice(0, 2)), previous: first });
        expect(second.error).toBeUndefined();
        expect(stepNames(second.steps)).toEqual(["delete agent-2-register", "delete agent-2-join"]);
        expect(second.steps.map((s) => s.host)).toEqual([fleet.host("server-1").address, fleet.host("agent-2").address]);
        expect(await read("server-1", "/var/lib/fleet-fixture/members")).toBe("agent-1: agent-1 joined (joining agent-1) with a token of 32 characters\n");
        expect(fleet.host("agent-2").root.readFile("/var/lib/fleet-fixture/joined")).toBeUndefined();
        // The hosts' own logs agree on the order (one clock: this machine's).
        const deregistered = Number((await read("server-1", "/var/log/fleet-fixture.log")).split(" ")[0]);
        const left = Number((await read("agent-2", "/var/log/fleet-fixture.log")).split(" ")[0]);
        expect(deregistered).toBeLessThan(left);
        expect(second.state.map((r) => r.name)).not.toContain("agent-2-join");

        // agent-2 back, but its disk check fails: the deployment stops there with the check's message.
        const third = await deploy(fleet, { program, config: fleetStack(fleet, NODES, { "fleet-fixture:failOn": "agent-2" }), previous: second });
        expect(third.ok).toBe(false);
        expect(third.error).toMatch(/^Process exited with status 3: running "exec \/bin\/bash -c /);
        expect(third.error).toContain("disk too slow on agent-2: fdatasync p99 95 ms");
        const failing = third.steps.findIndex((s) => s.name === "agent-2-check");
        expect(failing).toBe(third.steps.length - 1);
        expect(third.steps[failing]).toMatchObject({ exitCode: 3, stderr: "disk too slow on agent-2: fdatasync p99 95 ms" });
        expect(stepNames(third.steps)).not.toContain("create agent-2-join");
        expect(fleet.host("agent-2").root.readFile("/var/lib/fleet-fixture/joined")).toBeUndefined();
    }, 120000);

    test("a configuration error stops the program before any command runs", async () => {
        const config = fleetStack(fleet, NODES);
        (config["private-faas:nodes"] as Record<string, unknown>[])[1].role = "worker";
        const broken = await deploy(fleet, { program, config });
        expect(broken.ok).toBe(false);
        expect(broken.error).toContain('private-faas:nodes[1].role: got "worker"');
        expect(broken.steps).toEqual([]);
    });

    test("environment goes over SSH like the provider's Setenv: accepted names arrive, a refused one fails the command", async () => {
        const accepted = await fleet.ssh("agent-1", 'echo "$LC_FLEET_TEST"', { environment: { LC_FLEET_TEST: 'it\'s "quoted" \\ and spaced' } });
        expect(accepted).toMatchObject({ code: 0, stdout: 'it\'s "quoted" \\ and spaced' });
        const refused = await fleet.ssh("agent-1", "true", { environment: { FLEET_NOT_ACCEPTED: "1" } });
        expect(refused.error).toMatch(/^could not set environment variable "FLEET_NOT_ACCEPTED": ssh: setenv failed .*accepts LANG LC_\*/);
    });

    test("results as the provider stores them: one trailing newline removed, stdin passed, the exit status and combined output in the error", async () => {
        const r = await fleet.ssh("agent-1", "cat; echo to-stderr >&2; echo; exit 7", { stdin: "line one\nline two\n" });
        expect(r).toMatchObject({ code: 7, stdout: "line one\nline two\n", stderr: "to-stderr" });
        expect(r.error).toBe('Process exited with status 7: running "cat; echo to-stderr >&2; echo; exit 7":\n' + r.combined);
    });
});
