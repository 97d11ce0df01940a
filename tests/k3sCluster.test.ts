/**
 * K3sCluster under the Pulumi mock engine: the HA stack's program (index.ts) run once as an update
 * (not a preview), so that the token and the kubeconfig have values and their path through the
 * program can be followed in the recorded wire form.
 */
import * as YAML from "yaml";
import { containsSecret, plain, ProgramRun, RecordedResource, redacted, runProgram } from "../tools/engine";
import { readStack } from "../tools/stackFile";
import { SAMPLE_CLIENT_KEY, sampleK3sKubeconfig, vpsNodeStepStdout } from "./helpers/reports";

const TOKEN = "tokenvalue0123456789abcdefghijklmnopqrstuvwxyzAB";
const CLIENT_KEY = SAMPLE_CLIENT_KEY;
const K3S_YAML = sampleK3sKubeconfig();

let run: ProgramRun;
const byName = (name: string): RecordedResource => {
    const r = run.resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource ${name}; have ${run.resources.map((x) => x.name).join(", ")}`);
    return r;
};
const urn = (name: string) => byName(name).urn;
const SERVERS = ["fsn-server-1", "nbg-server-2", "hel-server-3"];
const AGENTS = ["fsn-agent-1", "hel-agent-2"];

beforeAll(async () => {
    const input = readStack("ha");
    run = await runProgram({
        stack: input.stack,
        config: input.config,
        secretKeys: input.secretKeys,
        preview: false,
        newResource: async (args) => {
            const state: Record<string, unknown> = { ...args.inputs };
            if (args.type === "random:index/randomPassword:RandomPassword") state.result = TOKEN;
            if (args.type === "command:remote:Command") state.stdout = args.name.endsWith("-kubeconfig") ? K3S_YAML : vpsNodeStepStdout(args.name) ?? "";
            return { id: `${args.name}-id`, state };
        },
    });
    if (run.error) throw run.error;
});

describe("K3sCluster (mock engine)", () => {
    test("one component with the token, an install and a member per node, readiness, kubeconfig and provider", () => {
        const component = byName("k3s");
        expect(component.type).toBe("private-faas:cluster:K3sCluster");
        const children = run.resources.filter((r) => r.parent === component.urn).map((r) => `${r.type} ${r.name}`);
        expect(children.sort()).toEqual(
            [
                "random:index/randomPassword:RandomPassword k3s-token",
                ...[...SERVERS, ...AGENTS].flatMap((n) => [`command:remote:Command k3s-${n}-install`, `command:remote:Command k3s-${n}-member`]),
                "command:remote:Command k3s-ready",
                "command:remote:Command k3s-kubeconfig",
                "pulumi:providers:kubernetes k3s-provider",
            ].sort(),
        );
        expect(run.diagnostics.filter((d) => d.severity !== "info")).toEqual([]);
    });

    test("servers install one after the other; agents after every server and not after each other", () => {
        const install = (n: string) => byName(`k3s-${n}-install`);
        // The first server waits for the token and for its own host's steps (VpsNode, ending with the firewall).
        expect([...install("fsn-server-1").dependsOn].sort()).toEqual([urn("fsn-server-1-firewall"), urn("k3s-token")].sort());
        expect(install("nbg-server-2").dependsOn).toContain(urn("k3s-fsn-server-1-install"));
        expect(install("hel-server-3").dependsOn).toContain(urn("k3s-nbg-server-2-install"));
        for (const agent of AGENTS) {
            const deps = install(agent).dependsOn;
            for (const server of SERVERS) expect(deps).toContain(urn(`k3s-${server}-install`));
            for (const other of AGENTS.filter((a) => a !== agent)) {
                expect(deps).not.toContain(urn(`k3s-${other}-install`));
                expect(byName(`k3s-${agent}-member`).dependsOn).not.toContain(urn(`k3s-${other}-install`));
                expect(byName(`k3s-${agent}-member`).dependsOn).not.toContain(urn(`k3s-${other}-member`));
            }
        }
    });

    test("each member runs on a server that stays, after the node's install; it goes with the token on destroy", () => {
        for (const node of [...SERVERS, ...AGENTS]) {
            const m = byName(`k3s-${node}-member`);
            expect(m.dependsOn).toContain(urn(`k3s-${node}-install`));
            expect(m.deletedWith).toBe(urn("k3s-token"));
            const via = node === "fsn-server-1" ? "203.0.113.22" : "203.0.113.21";
            expect((plain(m.rawInputs.connection) as { host: string }).host).toBe(via);
            expect(plain(m.rawInputs.delete)).toMatch(new RegExp(`export NODE_NAME='\\\\''${node}'\\\\''`));
        }
        // Servers leave one at a time, the agents before any of them.
        expect(byName("k3s-hel-server-3-member").dependsOn).toContain(urn("k3s-nbg-server-2-member"));
        for (const agent of AGENTS) for (const s of SERVERS) expect(byName(`k3s-${agent}-member`).dependsOn).toContain(urn(`k3s-${s}-member`));
    });

    test("readiness waits for every member; the kubeconfig is read after it, unlogged, stdout secret", () => {
        const ready = byName("k3s-ready");
        expect(ready.dependsOn.sort()).toEqual([...SERVERS, ...AGENTS].map((n) => urn(`k3s-${n}-member`)).sort());
        expect(plain(ready.rawInputs.create)).toMatch(/NODE_NAMES='\\''fsn-server-1 nbg-server-2 hel-server-3 fsn-agent-1 hel-agent-2'\\''/);
        expect(plain(ready.rawInputs.create)).toMatch(/EXPECTED_VERSION='\\''v1\.35\.6\+k3s1'\\''/);
        const kc = byName("k3s-kubeconfig");
        expect(kc.dependsOn).toEqual([ready.urn]);
        expect(plain(kc.rawInputs.logging)).toBe("none");
        expect(kc.additionalSecretOutputs).toContain("stdout");
        expect(byName("k3s-token").additionalSecretOutputs).toContain("result");
    });

    test("the token reaches the hosts only as secret stdin; no command text holds it", () => {
        for (const node of [...SERVERS, ...AGENTS]) {
            const install = byName(`k3s-${node}-install`);
            expect(containsSecret(install.rawInputs.stdin)).toBe(true);
            expect(plain(install.rawInputs.stdin)).toBe(`${TOKEN}\n`);
        }
        for (const r of run.resources) {
            for (const field of ["create", "delete", "update"]) expect(String(plain(r.rawInputs[field]) ?? "")).not.toContain(TOKEN);
            expect(JSON.stringify(redacted(r.rawInputs))).not.toContain(TOKEN);
        }
    });

    test("the kubeconfig's key shows nowhere but in secrets", () => {
        // The mock echoes the kubeconfig command's stdout in its state; the engine stores it as a
        // secret (additionalSecretOutputs, checked above). Everything the program derives must be secret.
        for (const r of run.resources.filter((x) => x.name !== "k3s-kubeconfig")) {
            expect(JSON.stringify(redacted(r.rawInputs))).not.toContain(CLIENT_KEY);
            expect(JSON.stringify(redacted(r.rawOutputs))).not.toContain(CLIENT_KEY);
        }
        expect(JSON.stringify(redacted(run.stackOutputs))).not.toContain(CLIENT_KEY);
    });

    test("the kubeconfig is a secret everywhere it flows: component output, provider input, stack output", () => {
        const component = byName("k3s");
        const provider = byName("k3s-provider");
        expect(containsSecret(component.rawOutputs.kubeconfig)).toBe(true);
        expect(containsSecret(provider.rawInputs.kubeconfig)).toBe(true);
        expect(containsSecret(run.stackOutputs!.kubeconfig)).toBe(true);
        const kubeconfig = YAML.parse(plain(run.stackOutputs!.kubeconfig) as string);
        expect(kubeconfig.clusters[0].cluster.server).toBe("https://k8s.example.eu:6443");
        expect(kubeconfig["current-context"]).toBe("ha");
        expect(kubeconfig.users[0]).toEqual({ name: "ha", user: { "client-certificate-data": "Q0VSVA==", "client-key-data": CLIENT_KEY } });
        expect(containsSecret(component.rawInputs.ssh)).toBe(true); // the SSH key in the component's inputs
    });

    test("registered outputs the policies read", () => {
        const outputs = plain(byName("k3s").rawOutputs) as Record<string, unknown>;
        expect(outputs).toMatchObject({
            version: "v1.35.6+k3s1",
            servers: 3,
            serverNames: SERVERS,
            agentNames: AGENTS,
            secretsEncryption: true,
            apiEndpoint: "k8s.example.eu",
        });
        const serverConfig = outputs.serverConfig as Record<string, unknown>;
        expect(serverConfig).toMatchObject({ "node-name": "fsn-server-1", "cluster-init": true, "secrets-encryption": true, "token-file": "/etc/rancher/k3s/cluster-token" });
        expect(serverConfig).not.toHaveProperty("token");
        expect(containsSecret(byName("k3s").rawOutputs.serverConfig)).toBe(false);
    });
});
