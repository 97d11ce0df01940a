import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import { Sandbox } from "../harness/sandbox";
import { CHANGING_SYSTEMCTL, describeInSandbox, runTwice, scriptCommand } from "../helpers/hostScripts";
import { FirewallSpec, nodeFirewall } from "../../components/firewall";

const spec = (overrides: Partial<FirewallSpec> = {}): FirewallSpec => ({
    node: { name: "s1", role: "server", host: "203.0.113.21", privateIp: "10.0.1.21", ingress: false, sshPort: 22 },
    peers: [
        { name: "s2", role: "server", host: "203.0.113.22", privateIp: "10.0.1.22" },
        { name: "a1", role: "agent", host: "203.0.113.31", privateIp: "10.0.1.31" },
    ],
    adminCidrs: ["198.51.100.0/24"],
    restrictSshToAdminCidrs: false,
    flannelBackend: "vxlan",
    clusterCidr: "10.42.0.0/16",
    serviceCidr: "10.43.0.0/16",
    ...overrides,
});
const command = (s: FirewallSpec) => scriptCommand("firewall.sh", { NFT_RULESET: nodeFirewall(s).ruleset });
const RULESET_FILE = "/etc/private-faas/firewall.nft";
const UNIT_FILE = "/etc/systemd/system/private-faas-firewall.service";

describeInSandbox("scripts/firewall.sh in a throwaway root with its own network namespace", () => {
    let box: Sandbox;
    let netns: string;
    const nft = (...args: string[]) => execFileSync("ip", ["netns", "exec", netns, "nft", ...args], { encoding: "utf8" });
    /** The loaded table with rule handles: a reload renumbers them. */
    const loaded = () => nft("-a", "list", "table", "inet", "private_faas");

    beforeEach(() => {
        box = Sandbox.create("vpsnode-firewall");
        netns = `vpsnode-fw-${crypto.randomBytes(3).toString("hex")}`;
        execFileSync("ip", ["netns", "add", netns]);
    });
    afterEach(() => {
        box.destroy();
        spawnSync("ip", ["netns", "del", netns]);
    });

    test("run twice: the first installs, persists and loads the table; the second writes, reloads and restarts nothing", () => {
        const runs = runTwice(box, command(spec()), { netns });
        expect(runs.first.stderr).toBe("");
        expect(runs.first.stdout).toBe(`firewall: wrote ${RULESET_FILE}\nfirewall: wrote ${UNIT_FILE}\nfirewall: applied table inet private_faas\n`);
        expect(box.readFile(RULESET_FILE)).toBe(nodeFirewall(spec()).ruleset);
        expect(Object.keys(runs.changed).filter((p) => runs.changed[p].startsWith("file")).sort()).toEqual([RULESET_FILE, UNIT_FILE]);
        expect(runs.firstCalls.filter((c) => CHANGING_SYSTEMCTL.test(c))).toEqual([
            "systemctl daemon-reload",
            "systemctl enable private-faas-firewall.service",
            "systemctl start private-faas-firewall.service",
        ]);
        const unit = box.readFile(UNIT_FILE)!;
        expect(unit).toMatch(/^ExecStart=\/usr\/sbin\/nft -f \/etc\/private-faas\/firewall.nft$/m);
        expect(unit).toMatch(/^Before=network-pre.target shutdown.target$/m);
        expect(unit).toMatch(/^WantedBy=sysinit.target$/m);

        const table = loaded();
        expect(table).toMatch(/chain input \{ # handle \d+\n\t\ttype filter hook input priority filter; policy drop;/);
        expect(table).toMatch(/ip saddr @servers_v4 tcp dport 2379-2380 accept comment "embedded etcd client and peer traffic between servers" # handle \d+/);

        expect(runs.second.code).toBe(0);
        expect(runs.second.stdout).toBe("firewall: table inet private_faas unchanged\n");
        expect(runs.secondCalls.filter((c) => CHANGING_SYSTEMCTL.test(c))).toEqual([]);
        expect(runs.afterSecond).toEqual(runs.afterFirst);
        expect(loaded()).toBe(table);
    });

    test("a changed ruleset is written and loaded; the unit stays as it was", () => {
        expect(box.runCommandText(command(spec()), { netns }).code).toBe(0);
        box.clearSystemctlCalls();
        const r = box.runCommandText(command(spec({ node: { ...spec().node, ingress: true } })), { netns });
        expect(r.stdout).toBe(`firewall: wrote ${RULESET_FILE}\nfirewall: applied table inet private_faas\n`);
        expect(loaded()).toMatch(/tcp dport \{ 80, 443 \} accept comment "HTTP\/HTTPS ingress \(Traefik\)"/);
        expect(box.systemctlCalls().filter((c) => CHANGING_SYSTEMCTL.test(c))).toEqual([]);
    });

    test("a table gone from the kernel (flushed by hand) is loaded again, without rewriting anything", () => {
        expect(box.runCommandText(command(spec()), { netns }).code).toBe(0);
        nft("delete", "table", "inet", "private_faas");
        const r = box.runCommandText(command(spec()), { netns });
        expect(r.stdout).toBe("firewall: applied table inet private_faas\n");
        expect(loaded()).toContain("chain guard");
    });

    test("other tables (kube-proxy's, fail2ban's) are left alone", () => {
        execFileSync("ip", ["netns", "exec", netns, "nft", "-f", "-"], {
            input: "table ip kube_proxy_standin {\n chain prerouting {\n  type nat hook prerouting priority dstnat;\n  tcp dport 30080 dnat to 10.42.0.5:8080\n }\n}\n",
        });
        expect(box.runCommandText(command(spec()), { netns }).code).toBe(0);
        expect(box.runCommandText(command(spec({ adminCidrs: [] })), { netns }).code).toBe(0);
        expect(nft("list", "table", "ip", "kube_proxy_standin")).toContain("tcp dport 30080 dnat to 10.42.0.5:8080");
        expect(nft("list", "tables").trim().split("\n").sort()).toEqual(["table inet private_faas", "table ip kube_proxy_standin"]);
    });

    test("a ruleset nft refuses is not installed, and the loaded table stays", () => {
        expect(box.runCommandText(command(spec()), { netns }).code).toBe(0);
        const before = loaded();
        const broken = nodeFirewall(spec()).ruleset.replace("policy drop;", "policy drpo;");
        const r = box.runCommandText(scriptCommand("firewall.sh", { NFT_RULESET: broken }), { netns });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/^firewall: nft refuses the ruleset, nothing applied: .*syntax error/s);
        expect(box.readFile(RULESET_FILE)).toBe(nodeFirewall(spec()).ruleset);
        expect(loaded()).toBe(before);
    });
});
