/**
 * The pack as the Pulumi CLI loads it: policies/index.ts runs as its own process under the
 * @pulumi/policy runtime, serves the analyzer gRPC protocol on loopback and prints its port; the test
 * then plays the engine's part (GetAnalyzerInfo, Configure, Analyze, AnalyzeStack) with the protocol's
 * own messages, including the wire forms of secrets and of values unknown during a preview.
 */
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { REPO_ROOT } from "../tools/stackFile";

/* The protocol modules @pulumi/pulumi ships (plain JS, no typings). */
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const grpc = require("@grpc/grpc-js");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const VPS_NODE = "private-faas:cluster:VpsNode";

const urn = (type: string, name: string) => `urn:pulumi:prod::private-faas::pulumi:pulumi:Stack$${type}::${name}`;

interface Diagnostic {
    policy: string;
    level: number;
    message: string;
    urn: string;
}

let pack: ChildProcess;
let client: any;

function call<T>(method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => client[method](request, (err: Error | null, resp: T) => (err ? reject(err) : resolve(resp))));
}

function resourceMessage(Type: any, type: string, name: string, props: Record<string, unknown>): any {
    const m = new Type();
    m.setType(type);
    m.setName(name);
    m.setUrn(urn(type, name));
    m.setProperties(Struct.fromJavaScript(props));
    m.setOptions(new analyzerPb.AnalyzerResourceOptions());
    return m;
}

const diagnostics = (resp: any): Diagnostic[] =>
    resp.getDiagnosticsList().map((d: any) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage(), urn: d.getUrn() }));

function analyze(type: string, name: string, props: Record<string, unknown>): Promise<Diagnostic[]> {
    return call("analyze", resourceMessage(analyzerPb.AnalyzeRequest, type, name, props)).then(diagnostics);
}

function analyzeStack(resources: [string, string, Record<string, unknown>][]): Promise<Diagnostic[]> {
    const req = new analyzerPb.AnalyzeStackRequest();
    req.setResourcesList(resources.map(([type, name, props]) => resourceMessage(analyzerPb.AnalyzerResource, type, name, props)));
    return call("analyzeStack", req).then(diagnostics);
}

const node = (name: string, where: Record<string, unknown>) => ({ name, role: "agent", host: "192.0.2.10", storage: "nvme", vcpu: 4, memoryGb: 8, ...where });

beforeAll(async () => {
    const tsNode = path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js");
    pack = spawn(process.execPath, [tsNode, "--transpile-only", "index.ts"], { cwd: path.join(REPO_ROOT, "policies"), stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    pack.stderr!.on("data", (d) => (stderr += d));
    const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        pack.stdout!.on("data", (d) => {
            out += d;
            const m = /^(\d+)\s*$/m.exec(out);
            if (m) resolve(Number(m[1]));
        });
        pack.on("exit", (code) => reject(new Error(`the policy pack exited (${code}) before serving: ${stderr}`)));
    });
    client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 60_000);

afterAll(() => {
    client?.close();
    pack?.kill();
});

describe("the policy pack served by the @pulumi/policy runtime", () => {
    test("GetAnalyzerInfo lists the ten policies, their levels, remediation and config schemas", async () => {
        const info: any = await call("getAnalyzerInfo", new analyzerGrpc.AnalyzerService.getAnalyzerInfo.requestType());
        expect(info.getName()).toBe("private-faas");
        expect(info.getVersion()).toBe("0.1.0");
        const { ADVISORY, MANDATORY } = analyzerPb.EnforcementLevel;
        const policies = info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()]);
        expect(policies).toEqual([
            ["eu-eea-data-residency", MANDATORY], ["nvme-storage-required", MANDATORY], ["no-us-cloud-act-providers", ADVISORY],
            ["k3s-version-pinned", MANDATORY], ["etcd-quorum-odd", MANDATORY], ["ssh-key-auth-only", MANDATORY],
            ["secrets-encryption-at-rest", MANDATORY], ["openfaas-admin-not-public", MANDATORY], ["openfaas-ce-limits", MANDATORY],
            ["min-node-size", ADVISORY],
        ]);
        const residency = info.getPoliciesList()[0];
        expect(residency.getRemediationSteps()).toMatch(/allowedCountries/);
        expect(residency.getConfigschema().getProperties().toJavaScript().allowedCountries.default).toContain("NO");
    });

    test("Analyze: a node in hetzner/ash is a mandatory violation; Configure widens the allowed countries", async () => {
        const ash = await analyze(VPS_NODE, "osl-agent-3", node("osl-agent-3", { provider: "hetzner", region: "ash" }));
        expect(ash).toEqual([{
            policy: "eu-eea-data-residency",
            level: analyzerPb.EnforcementLevel.MANDATORY,
            message: expect.stringContaining("node osl-agent-3 is in hetzner/ash (US): data must stay in the EU/EEA (eu-eea-data-residency). Move it to hetzner/fsn1, nbg1 or hel1"),
            urn: "",
        }]);
        expect(await analyze(VPS_NODE, "gva", node("gva", { provider: "exoscale", region: "ch-gva-2" }))).toHaveLength(1);

        const req = new analyzerPb.ConfigureAnalyzerRequest();
        const config = new analyzerPb.PolicyConfig();
        config.setEnforcementlevel(analyzerPb.EnforcementLevel.MANDATORY);
        config.setProperties(Struct.fromJavaScript({ allowedCountries: ["EEA", "CH"] }));
        req.getPolicyconfigMap().set("eu-eea-data-residency", config);
        await call("configure", req);
        expect(await analyze(VPS_NODE, "gva", node("gva", { provider: "exoscale", region: "ch-gva-2" }))).toEqual([]);
    });

    test("Analyze sees a secret connection unwrapped and an unknown provider as unknown", async () => {
        const connection = { [SIG]: SECRET, value: { host: "192.0.2.10", user: "root", password: "hunter2" } };
        const ssh = await analyze("command:remote:Command", "n1-install", { connection, create: "true" });
        expect(ssh.map((d) => d.policy)).toEqual(["ssh-key-auth-only"]);
        expect(ssh[0].message).not.toContain("hunter2");
        const unknown = await analyze(VPS_NODE, "n2", node("n2", { provider: UNKNOWN_STRING, region: "fsn1" }));
        expect(unknown.map((d) => [d.policy, d.message])).toEqual([["eu-eea-data-residency", expect.stringMatching(/declares no provider and region.*fails closed/)]]);
    });

    test("AnalyzeStack decides a node whose inputs were not sent on its registered outputs, and no node twice", async () => {
        expect(await analyze(VPS_NODE, "late", {})).toEqual([]);
        const found = await analyzeStack([
            [VPS_NODE, "late", node("late", { role: "server", provider: "hetzner", region: "sin", storage: "ssd" })],
            [VPS_NODE, "osl-agent-3", node("osl-agent-3", { provider: "hetzner", region: "ash" })],
        ]);
        expect(found.map((d) => [d.policy, d.urn])).toEqual([
            ["eu-eea-data-residency", urn(VPS_NODE, "late")],
            ["nvme-storage-required", urn(VPS_NODE, "late")],
        ]);
    });
});
