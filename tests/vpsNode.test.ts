/** VpsNode under the mock engine in preview (index.ts with the HA stack): what the engine is asked to create. */
import { containsSecret, ProgramRun, redacted, runProgram, STACK_TYPE } from "../tools/engine";
import { TEST_PRIVATE_KEY } from "./helpers/plan";
import { byName, plainInputs, plainOutputs, stackInput } from "./helpers/program";
import { nodeFirewall } from "../components/firewall";
import { scriptCommand } from "./helpers/hostScripts";

const STEPS = ["facts", "packages", "disk-check", "harden", "firewall"];
const NODES = ["fsn-server-1", "nbg-server-2", "hel-server-3", "fsn-agent-1", "hel-agent-2"];
let run: ProgramRun;

beforeAll(async () => {
    run = await runProgram({ ...stackInput("ha"), preview: true });
    if (run.error) throw run.error;
});

test("one VpsNode per configured node, under the stack, each with its five steps as children", () => {
    const stack = run.resources.find((r) => r.type === STACK_TYPE)!;
    const nodes = run.resources.filter((r) => r.type === "private-faas:cluster:VpsNode");
    expect(nodes.map((n) => n.name)).toEqual(NODES);
    for (const node of nodes) {
        expect(node.parent).toBe(stack.urn);
        expect(node.custom).toBe(false);
        const children = run.resources.filter((r) => r.parent === node.urn);
        expect(children.map((c) => `${c.type} ${c.name}`)).toEqual(STEPS.map((s) => `command:remote:Command ${node.name}-${s}`));
    }
});

test("the steps run in order: facts, packages, disk check, harden, firewall", () => {
    for (const name of NODES) {
        expect(byName(run, `${name}-facts`).dependsOn).toEqual([]);
        for (let i = 1; i < STEPS.length; i++) {
            expect(byName(run, `${name}-${STEPS[i]}`).dependsOn).toEqual([byName(run, `${name}-${STEPS[i - 1]}`).urn]);
        }
    }
});

test("every connection carries the stack's key as a secret, never a password, with the dial limits", () => {
    const commands = run.resources.filter((r) => r.type === "command:remote:Command");
    expect(commands.filter((c) => STEPS.some((step) => c.name.endsWith(`-${step}`)))).toHaveLength(NODES.length * STEPS.length);
    for (const c of commands) {
        expect(containsSecret(c.rawInputs.connection)).toBe(true);
        const connection = plainInputs(c).connection;
        expect(connection).toEqual({ host: expect.any(String), port: 22, user: "root", privateKey: TEST_PRIVATE_KEY, dialErrorLimit: 40, perDialTimeout: 15 });
        expect(JSON.stringify(redacted(c.rawInputs))).not.toContain("test-key-not-real");
    }
    expect(plainInputs(byName(run, "hel-agent-2-facts")).connection.host).toBe("203.0.113.32");
});

test("the component's inputs carry what policies read, at the top level, and the key stays secret there", () => {
    const node = byName(run, "hel-server-3");
    expect(plainInputs(node)).toMatchObject({
        name: "hel-server-3",
        role: "server",
        host: "203.0.113.23",
        provider: "hetzner",
        region: "hel1",
        country: "FI",
        storage: "nvme",
        vcpu: 8,
        memoryGb: 16,
        flannelBackend: "vxlan",
        maxFsyncP99Ms: 10,
    });
    expect(plainInputs(byName(run, "hel-agent-2")).maxFsyncP99Ms).toBe(30);
    expect(containsSecret(node.rawInputs.ssh)).toBe(true);
    expect(JSON.stringify(redacted(node.rawInputs))).not.toContain("test-key-not-real");
});

test("registered outputs: identity and firewall known in preview, facts and measurements unknown", () => {
    const node = byName(run, "fsn-agent-1");
    const out = plainOutputs(node);
    expect(out).toMatchObject({
        name: "fsn-agent-1",
        role: "agent",
        host: "203.0.113.31",
        provider: "hetzner",
        region: "fsn1",
        country: "DE",
        storage: "nvme",
        vcpu: 8,
        memoryGb: 32,
        privateIp: "10.0.1.31",
        ingress: true,
    });
    const shown = redacted(node.rawOutputs) as Record<string, unknown>;
    expect(shown.facts).toBe("[unknown]");
    expect(shown.diskFsyncP99Ms).toBe("[unknown]");
    expect(out.firewall.table).toBe("inet private_faas");
    expect(out.firewall.publicRules.map((r: any) => r.name)).toEqual(["ssh", "ingress"]);
    expect(out.firewall.publicRules[0].from).toBe("admins"); // the HA stack restricts SSH
    expect(out.firewallRuleset).toMatch(/^#!\/usr\/sbin\/nft -f/);
});

test("the firewall step applies exactly the ruleset the output shows; the other steps get the declared facts", () => {
    const node = plainOutputs(byName(run, "nbg-server-2"));
    const create = (step: string) => plainInputs(byName(run, `nbg-server-2-${step}`)).create as string;
    expect(create("firewall")).toBe(scriptCommand("firewall.sh", { NFT_RULESET: node.firewallRuleset }));
    expect(create("facts")).toBe(scriptCommand("facts.sh", { NODE_NAME: "nbg-server-2", DECLARED_VCPU: 8, DECLARED_MEMORY_GB: 16, MEMORY_TOLERANCE_PERCENT: 12 }));
    expect(create("packages")).toBe(scriptCommand("packages.sh", { PACKAGES: "fio jq nftables fail2ban python3-systemd unattended-upgrades" }));
    expect(create("disk-check")).toBe(
        scriptCommand("disk-check.sh", { NODE_NAME: "nbg-server-2", MAX_P99_MS: 10, LIMIT_KEY: "private-faas:k3s.diskCheck.serverMaxP99Ms", K3S_DATA_DIR: "/var/lib/rancher/k3s" }),
    );
    expect(create("harden")).toBe(scriptCommand("harden.sh", { SSH_PORT: 22 }));
    // the ruleset is the pure function's, for this node and its peers
    const nodes = JSON.parse(stackInput("ha").config["private-faas:nodes"]) as { name: string; role: "server" | "agent"; host: string; privateIp: string }[];
    const self = nodes.find((n) => n.name === "nbg-server-2")!;
    const expected = nodeFirewall({
        node: { ...self, ingress: false, sshPort: 22 },
        peers: nodes.filter((n) => n !== self).map(({ name, role, host, privateIp }) => ({ name, role, host, privateIp })),
        adminCidrs: ["198.51.100.0/24"],
        restrictSshToAdminCidrs: true,
        flannelBackend: "vxlan",
        clusterCidr: "10.42.0.0/16",
        serviceCidr: "10.43.0.0/16",
    });
    expect(node.firewallRuleset).toBe(expected.ruleset);
});

test("the nodes' stack outputs hold nothing secret; the cluster's credentials are secret", () => {
    const outputs = run.stackOutputs!;
    expect(containsSecret(outputs.nodeFacts)).toBe(false);
    expect(containsSecret(outputs.nodeNames)).toBe(false);
    expect(containsSecret(outputs.kubeconfig)).toBe(true);
    expect(containsSecret(outputs.gatewayPassword)).toBe(true);
});
