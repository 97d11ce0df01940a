/**
 * VpsNode under the mock engine in update mode (index.ts with the prod stack): the commands "run" and
 * print what the real scripts print, and the component turns that into its outputs.
 */
import { plain, ProgramRun, runProgram } from "../tools/engine";
import { byName, plainOutputs, stackInput } from "./helpers/program";
import { sampleDiskCheck, sampleFacts, sampleStdout } from "./helpers/reports";

const P99: Record<string, number> = { "osl-server-1": 1.234, "osl-agent-1": 2.5, "osl-agent-2": 0.871 };
let run: ProgramRun;

beforeAll(async () => {
    run = await runProgram({
        ...stackInput("prod"),
        preview: false,
        newResource: async ({ name, inputs, custom }) => {
            const node = name.replace(/-(facts|packages|disk-check|harden|firewall)$/, "");
            const stdout = name.endsWith("-disk-check") ? JSON.stringify(sampleDiskCheck({ fsyncP99Ms: P99[node] })) + "\n" : sampleStdout(name);
            return { id: custom ? `${name}-id` : undefined, state: { ...inputs, stdout, stderr: "" } };
        },
    });
    if (run.error) throw run.error;
});

test("the facts the host reported become the component's facts output", () => {
    expect(plainOutputs(byName(run, "osl-agent-2")).facts).toEqual(sampleFacts());
});

test("the measured p99 is an output of each node and of the stack", () => {
    for (const [name, p99] of Object.entries(P99)) {
        const out = plainOutputs(byName(run, name));
        expect(out.diskFsyncP99Ms).toBe(p99);
        expect(out.diskCheck).toEqual(sampleDiskCheck({ fsyncP99Ms: p99 }));
    }
    const stackFacts = plain(run.stackOutputs!.nodeFacts) as Record<string, { diskFsyncP99Ms: number }>;
    expect(Object.fromEntries(Object.entries(stackFacts).map(([n, f]) => [n, f.diskFsyncP99Ms]))).toEqual(P99);
    expect(stackFacts["osl-server-1"]).toEqual({ os: "Debian GNU/Linux 12 (bookworm)", kernel: "6.1.0-41-amd64", arch: "x86_64", vcpus: 4, memoryKiB: 8136632, diskFsyncP99Ms: 1.234 });
});

test("identity outputs are unchanged by what the host said", () => {
    expect(plainOutputs(byName(run, "osl-server-1"))).toMatchObject({ role: "server", provider: "coolvds", region: "oslo", country: "NO", vcpu: 4, memoryGb: 8, ingress: false });
});
