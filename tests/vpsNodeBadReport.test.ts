/** A host script whose output is not what VpsNode expects fails the program, naming the node and the script. */
import { parseDiskCheck, parseHostFacts } from "../components/vpsNode";
import { runFixture } from "./helpers/program";
import { sampleDiskCheck, sampleFacts } from "./helpers/reports";

const runWithFacts = (node: string, stdout: string) => runFixture({ BROKEN_NODE: node, FACTS_STDOUT: stdout });

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
    expect(() => parseHostFacts("n1", JSON.stringify({ ...sampleFacts(), vcpus: "four" }))).toThrow(/^node "n1": facts\.sh printed an unexpected document \(vcpus: /);
    expect(() => parseDiskCheck("n1", JSON.stringify({ ...sampleDiskCheck(), fsyncP99Ms: undefined }))).toThrow(/^node "n1": disk-check\.sh printed an unexpected document \(fsyncP99Ms: /);
    expect(parseHostFacts("n1", JSON.stringify(sampleFacts()) + "\n")).toEqual(sampleFacts());
    expect(parseDiskCheck("n1", JSON.stringify(sampleDiskCheck({ rotational: null })))).toEqual(sampleDiskCheck({ rotational: null }));
});
