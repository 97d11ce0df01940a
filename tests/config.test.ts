import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, ConfigError, parseStackConfig, parseHostPort, isHost, UNDECRYPTED_SECRET } from "../components/config";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----";

function node(overrides: Record<string, unknown> = {}) {
    return { name: "n1", role: "server", host: "192.0.2.10", provider: "coolvds", region: "oslo", storage: "nvme", vcpu: 4, memoryGb: 8, ...overrides };
}

function base(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return { nodes: [node()], ssh: { privateKey: KEY }, k3s: { version: "v1.35.6+k3s1" }, ...overrides };
}

function problems(raw: Record<string, unknown>) {
    try {
        parseStackConfig(raw);
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
    }
    throw new Error("expected a ConfigError");
}

describe("parseStackConfig", () => {
    test("a minimal valid stack gets the documented defaults", () => {
        const c = parseStackConfig(base());
        expect(c.ssh.user).toBe("root");
        expect(c.ssh.dialErrorLimit).toBe(40);
        expect(c.k3s.secretsEncryption).toBe(true);
        expect(c.k3s.installScriptUrl).toBe("https://get.k3s.io");
        expect(c.k3s.diskCheck).toEqual({ serverMaxP99Ms: 10, agentMaxP99Ms: 30 });
        expect(c.openfaas.edition).toBe("ce");
        expect(c.openfaas.maxDurationSeconds).toBe(300);
        expect(c.adminCidrs).toEqual([]);
        expect(c.edge).toBeUndefined();
        expect(c.nodes[0].sshPort).toBe(22);
    });

    test("secret fields come back as secret Outputs", async () => {
        const c = parseStackConfig(base({ openfaas: { edition: "pro", licenseKey: "lic" } }));
        expect(pulumi.Output.isInstance(c.ssh.privateKey)).toBe(true);
        expect(await (c.ssh.privateKey as any).isSecret).toBe(true);
        expect(await (c.openfaas.licenseKey as any).isSecret).toBe(true);
    });

    test("ingress defaults to agents, or to the servers when there are no agents", () => {
        const single = parseStackConfig(base());
        expect(single.nodes[0].ingress).toBe(true);
        const withAgents = parseStackConfig(base({ nodes: [node(), node({ name: "a1", role: "agent", host: "192.0.2.11" })] }));
        expect(withAgents.nodes.map((n) => n.ingress)).toEqual([false, true]);
    });

    test("an empty edge object means no edge", () => {
        expect(parseStackConfig(base({ edge: {} })).edge).toBeUndefined();
    });

    test("the offline placeholder passes the private key check", () => {
        expect(() => parseStackConfig(base({ ssh: { privateKey: UNDECRYPTED_SECRET } }))).not.toThrow();
    });

    test("every problem is reported at once, with key, value and expectation", () => {
        const p = problems(base({
            nodes: [node({ role: "master", vcpu: 2.5 }), node({ host: "192.0.2.99", storage: "tape" })],
            k3s: {},
        }));
        const keys = p.map((x) => x.key);
        expect(keys).toEqual(expect.arrayContaining([
            "private-faas:nodes[0].role",
            "private-faas:nodes[0].vcpu",
            "private-faas:nodes[1].storage",
            "private-faas:nodes[1].name",
            "private-faas:k3s.version",
        ]));
        const role = p.find((x) => x.key === "private-faas:nodes[0].role")!;
        expect(role.value).toBe('"master"');
        expect(role.expected).toBe('one of "server", "agent"');
        expect(p.find((x) => x.key === "private-faas:nodes[1].name")!.expected).toMatch(/nodes\[0\] has it/);
    });

    test("secret values are never echoed in errors", () => {
        const p = problems(base({ ssh: { privateKey: "hunter2-not-a-key" } }));
        expect(p[0].key).toBe("private-faas:ssh.privateKey");
        expect(p[0].value).toBe("[secret]");
        expect(JSON.stringify(p)).not.toContain("hunter2");
    });

    test("pro without a licence key is a configuration error", () => {
        expect(problems(base({ openfaas: { edition: "pro" } })).map((x) => x.key)).toEqual(["private-faas:openfaas.licenseKey"]);
    });

    test("provider other needs a country; a catalogue provider refuses one", () => {
        const p = problems(base({ nodes: [node({ provider: "other", region: undefined }), node({ name: "n2", host: "192.0.2.12", country: "DE" })] }));
        expect(p.map((x) => x.key).sort()).toEqual(["private-faas:nodes[0].country", "private-faas:nodes[1].country"]);
    });

    test("restricting SSH to admin CIDRs with none configured is refused (it would lock everyone out)", () => {
        expect(problems(base({ ssh: { privateKey: KEY, restrictToAdminCidrs: true } })).map((x) => x.key)).toEqual(["private-faas:ssh.restrictToAdminCidrs"]);
    });

    test("unknown keys are typos, at every level", () => {
        const p = problems(base({ nodez: [], k3s: { version: "v1.35.6+k3s1", verison: "x" } }));
        expect(p.map((x) => x.key).sort()).toEqual(["private-faas:k3s.verison", "private-faas:nodez"]);
    });
});

describe("address parsing", () => {
    test.each([
        ["192.0.2.1", true], ["2001:db8::1", true], ["node-1.example.eu", true],
        ["999.1.1.1", false], ["10.0.0", false], ["bad host", false], ["-x.example", false],
    ])("isHost(%s) = %s", (v, ok) => expect(isHost(v)).toBe(ok));

    test.each([
        ["10.0.0.5:80", { host: "10.0.0.5", port: 80 }],
        ["[2001:db8::5]:8080", { host: "2001:db8::5", port: 8080 }],
        ["legacy.internal:8080", { host: "legacy.internal", port: 8080 }],
        ["10.0.0.5", undefined], ["10.0.0.5:0", undefined], ["10.0.0.5:70000", undefined], ["2001:db8::5:80", undefined],
    ])("parseHostPort(%s)", (v, expected) => expect(parseHostPort(v)).toEqual(expected));
});

describe("Pulumi.yaml declares the namespace", () => {
    const fs = require("fs") as typeof import("fs");
    const YAML = require("yaml") as typeof import("yaml");
    const project = YAML.parse(fs.readFileSync(require("path").join(__dirname, "..", "Pulumi.yaml"), "utf8"));

    test("project name and runtime are the contract's", () => {
        expect(project.name).toBe("private-faas");
        expect(project.runtime.name).toBe("nodejs");
    });

    test("every config key the program reads is declared with a description, and nothing else", () => {
        const declared = Object.keys(project.config).sort();
        expect(declared).toEqual([...CONFIG_KEYS].sort());
        for (const key of declared) expect(typeof project.config[key].description).toBe("string");
    });

    test("the declared defaults are valid values of their keys", () => {
        const defaults: Record<string, unknown> = {};
        for (const [key, decl] of Object.entries<any>(project.config)) if ("default" in decl) defaults[key] = decl.default;
        expect(() => parseStackConfig({ ...base(), ...defaults })).not.toThrow();
    });
});
