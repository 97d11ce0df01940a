/** A host script whose output is not what VpsNode expects fails the program, naming the node and the script. */
import { spawnSync } from "child_process";
import * as path from "path";
import { parseDiskCheck, parseHostFacts } from "../components/vpsNode";
import { REPO_ROOT } from "../tools/stackFile";

const TS_NODE = path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js");

function runWithFacts(node: string, stdout: string) {
    return spawnSync(process.execPath, [TS_NODE, "--transpile-only", path.join(__dirname, "fixtures", "reportedRun.ts")], {
        cwd: REPO_ROOT,
        env: { ...process.env, BROKEN_NODE: node, FACTS_STDOUT: stdout },
        encoding: "utf8",
        timeout: 60000,
    });
}

test("valid reports: the program succeeds (the fixture itself is sound)", () => {
    const r = runWithFacts("none", "");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
});

test("a banner ahead of the document: the program fails, naming the node, the script and what it printed", () => {
    const r = runWithFacts("osl-agent-1", "Welcome to Ubuntu 24.04 LTS\n{}");
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('node "osl-agent-1": facts.sh printed no JSON document: "Welcome to Ubuntu 24.04 LTS\\n{}"');
});

test("a document of the wrong shape names the field", () => {
    const facts = {
        os: { id: "debian", versionId: "12", prettyName: "Debian GNU/Linux 12 (bookworm)" },
        kernel: "6.1.0-41-amd64",
        arch: "x86_64",
        vcpus: 4,
        memoryKiB: 8136632,
        disks: [],
    };
    const disk = { dataDir: "/var/lib/rancher/k3s", testedDir: "/var/lib", filesystem: { source: "/dev/vda1", fstype: "ext4" }, rotational: null, fsyncP99Ms: 1, limitMs: 30, fdatasyncs: 10 };
    expect(() => parseHostFacts("n1", JSON.stringify({ ...facts, vcpus: "four" }))).toThrow(/^node "n1": facts\.sh printed an unexpected document \(vcpus: /);
    expect(() => parseDiskCheck("n1", JSON.stringify({ ...disk, fsyncP99Ms: undefined }))).toThrow(/^node "n1": disk-check\.sh printed an unexpected document \(fsyncP99Ms: /);
    expect(parseHostFacts("n1", JSON.stringify(facts) + "\n")).toEqual(facts);
    expect(parseDiskCheck("n1", JSON.stringify(disk))).toEqual(disk);
});
