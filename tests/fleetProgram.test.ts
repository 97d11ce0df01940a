/**
 * The real program (index.ts) deployed to a simulated fleet: one K3s server, two agents and the edge
 * host, each a network namespace with its own sshd (tests/fleet). Every `command:remote:Command` the
 * program registers runs over SSH with the host key pinned, in the deployment graph's order, as
 * `pulumi up` would run it; the K3s binary and installer are the stand-ins (tests/harness/k3s-standin)
 * served from the fleet's mirror. Every assertion looks at the hosts themselves: files and modes, the
 * daemons' behaviour (sshd, fail2ban, nftables, nginx, K3s's port), real connections between the hosts
 * and from outside, and the K3s stand-in's registry with its timestamped events.
 *
 * One fleet and a few deployments serve every test, in order: a first `up` with a disk-check limit no
 * disk meets (it must stop before K3s), the `up` with a generous limit, a second run of every command,
 * then an `up` without agent-2.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { Fleet, FleetHost, fleetSupport, destroyFleets, INTERNET_ADDRESS, ProbeResult, ProbeSource, Protocol } from "./fleet/fleet";
import { deploy, rerun, stepNames, Deployment, COMMAND_TYPE } from "./fleet/deploy";
import { fleetHostSize, fleetK3sStandin, fleetStack, FleetK3s, FleetNode } from "./fleet/stack";
import { changingCalls } from "./helpers/k3sHosts";

const support = fleetSupport();
if (!support.ok) console.log(`fleet program tests not run: ${support.reason}`);
const maybe = support.ok ? describe : describe.skip;

const VERSION = "v1.35.6+k3s1";
const NODES: FleetNode[] = [
    { host: "server-1", role: "server" },
    { host: "agent-1", role: "agent" },
    { host: "agent-2", role: "agent" },
];
const NODE_HOSTS = NODES.map((n) => n.host);
/** Far above what fdatasync costs on any disk (and on this VM's overlay): the check must pass. */
const GENEROUS_LIMIT_MS = 50;
/** Below what a single fdatasync system call can take: the check must fail. */
const IMPOSSIBLE_LIMIT_MS = 0.00001;
const MONOLITH_PORT = 8080;
const TESTER = "fleet-tester";
const TESTER_PASSWORD = `Fleet-${crypto.randomBytes(6).toString("hex")}`;

maybe("index.ts on a fleet of one server, two agents and the edge", () => {
    let fleet: Fleet;
    let k3s: FleetK3s;
    /** The first `up`, with the impossible disk-check limit. */
    let slowDisk: Deployment;
    /** The second, from the first one's state, with the generous limit. */
    let up: Deployment;
    /** sshd's main PID on each host when it booted. */
    const bootSshd: Record<string, string> = {};
    /** What the hosts held right after the failed `up`: files written, and whether the K3s registry existed. */
    const afterSlowDisk: { files: Record<string, string[]>; registry: boolean } = { files: {}, registry: false };

    const stack = (nodes: FleetNode[], diskLimitMs: number) => {
        const edge = fleet.host("edge");
        return fleetStack(fleet, nodes, {
            "private-faas:k3s": {
                version: VERSION,
                installScriptUrl: k3s.installScriptUrl,
                releaseMirror: k3s.releaseMirror,
                readyTimeoutSeconds: 60,
                drainTimeoutSeconds: 60,
                diskCheck: { serverMaxP99Ms: diskLimitMs, agentMaxP99Ms: diskLimitMs },
            },
            "private-faas:edge": {
                host: edge.address,
                hostKey: edge.hostKey,
                provider: "coolvds",
                region: "oslo",
                serverName: "api.example.no",
                legacyUpstream: `127.0.0.1:${MONOLITH_PORT}`,
                routes: [{ path: "/api/v2/image-resize", function: "image-resize" }],
            },
        });
    };
    const sh = async (host: string, command: string) => {
        const r = await fleet.host(host).exec(command);
        if (r.code !== 0) throw new Error(`${command} on ${host} failed (${r.code}): ${r.stderr}`);
        return r.stdout;
    };
    const mainPid = (host: string, unit: string) => sh(host, `cut -d' ' -f1 /run/standin/systemd/pid/${unit}`).then((s) => s.trim());
    const step = (d: Deployment, name: string) => {
        const s = d.steps.find((x) => x.name === name);
        if (!s) throw new Error(`no step ${name} in ${stepNames(d.steps).join(", ")}`);
        return s;
    };

    beforeAll(async () => {
        fleet = await Fleet.create({ hosts: [...NODE_HOSTS, "edge"] });
        k3s = await fleetK3sStandin(fleet, [VERSION]);
        for (const h of fleet.hosts) bootSshd[h.name] = await mainPid(h.name, "ssh.service");
        slowDisk = await deploy(fleet, { config: stack(NODES, IMPOSSIBLE_LIMIT_MS) });
        for (const h of fleet.hosts) afterSlowDisk.files[h.name] = Object.keys(h.snapshot());
        afterSlowDisk.registry = fs.existsSync(path.join(k3s.registry.dir, "state.json"));
        up = await deploy(fleet, { config: stack(NODES, GENEROUS_LIMIT_MS), previous: slowDisk });
    }, 240000);
    afterAll(() => destroyFleets());

    test("a disk slower than the limit stops `up` at its disk check, before hardening and before any K3s step", async () => {
        expect(slowDisk.ok).toBe(false);
        expect(stepNames(slowDisk.steps)).toEqual([
            ...NODE_HOSTS.map((h) => `create ${h}-facts`),
            ...NODE_HOSTS.map((h) => `create ${h}-packages`),
            "create server-1-disk-check",
        ]);
        const failed = step(slowDisk, "server-1-disk-check");
        expect(failed.exitCode).toBe(1);
        expect(failed.stderr).toMatch(
            /^disk check \(server-1\): fdatasync p99 is [0-9.]+ ms on \/var\/lib \(overlay, overlay\), above the limit of 0\.00001 ms \(private-faas:k3s\.diskCheck\.serverMaxP99Ms\)\. etcd needs/,
        );
        expect(slowDisk.error).toContain(failed.stderr);
        // Nothing after the check happened on any host: no hardening, no firewall, no K3s, no cluster.
        for (const h of fleet.hosts.map((x) => x.name)) {
            expect([h, afterSlowDisk.files[h].filter((f) => /sshd_config\.d|fail2ban|sysctl\.d|private-faas|rancher|k3s|nginx/.test(f))]).toEqual([h, []]);
        }
        expect(afterSlowDisk.registry).toBe(false);
    });

    test("`up` runs every remote command of index.ts over SSH on its host, in the deployment graph's order", async () => {
        expect(up.error).toBeUndefined();
        expect(up.ok).toBe(true);
        const commands = up.state.filter((r) => r.type === COMMAND_TYPE);
        // Every command of the program ran, once, on the host of its connection (facts and packages in the first `up`).
        const ran = [...slowDisk.steps.filter((s) => s.exitCode === 0), ...up.steps];
        expect(ran.map((s) => s.name).sort()).toEqual(commands.map((r) => r.name).sort());
        for (const s of ran) expect([s.name, s.host]).toEqual([s.name, commands.find((r) => r.name === s.name)!.inputs.connection.host]);
        expect(commands.map((r) => r.name)).toEqual(expect.arrayContaining(["k3s-server-1-install", "k3s-agent-2-member", "k3s-ready", "k3s-kubeconfig", "edge-deploy"]));
        const at = (name: string) => stepNames(up.steps).indexOf(`create ${name}`);
        for (const h of NODE_HOSTS) {
            const chain = [`${h}-disk-check`, `${h}-harden`, `${h}-firewall`, `k3s-${h}-install`, `k3s-${h}-member`].map(at);
            expect([h, chain]).toEqual([h, [...chain].sort((a, b) => a - b)]);
        }
        for (const agent of ["agent-1", "agent-2"]) expect(at("k3s-server-1-install")).toBeLessThan(at(`k3s-${agent}-install`));
        expect(Math.max(...NODE_HOSTS.map((h) => at(`k3s-${h}-member`)))).toBeLessThan(at("k3s-ready"));
        expect(at("k3s-ready")).toBeLessThan(at("k3s-kubeconfig"));
        // The kubeconfig is the server's, read back over SSH and rewritten for the API's public address.
        const kubeconfig = YAML.parse(up.outputs.kubeconfig as string);
        expect(kubeconfig.clusters[0].cluster.server).toBe(`https://${fleet.host("server-1").address}:6443`);
        const onServer = YAML.parse(await sh("server-1", "cat /etc/rancher/k3s/k3s.yaml"));
        expect(kubeconfig.users[0].user).toEqual(onServer.users[0].user);
        expect(up.outputs.nodeFacts).toMatchObject({ "server-1": { vcpus: fleetHostSize().vcpu, os: "Debian GNU/Linux 12 (bookworm)" } });
    });

    test("files and modes on the hosts: sshd drop-in, sysctl file, fail2ban jail, nftables file and unit, K3s configuration and token, nginx.conf", async () => {
        const modes = (host: FleetHost, files: string[]) => files.map((f) => [f, host.root.mode(f).toString(8)]);
        for (const h of NODE_HOSTS) {
            const host = fleet.host(h);
            expect(modes(host, ["/etc/ssh/sshd_config.d/01-private-faas.conf", "/etc/sysctl.d/90-kubelet.conf", "/etc/fail2ban/jail.d/private-faas-sshd.local", "/etc/private-faas/firewall.nft", "/etc/systemd/system/private-faas-firewall.service"])).toEqual([
                ["/etc/ssh/sshd_config.d/01-private-faas.conf", "644"],
                ["/etc/sysctl.d/90-kubelet.conf", "644"],
                ["/etc/fail2ban/jail.d/private-faas-sshd.local", "644"],
                ["/etc/private-faas/firewall.nft", "644"],
                ["/etc/systemd/system/private-faas-firewall.service", "644"],
            ]);
            expect(modes(host, ["/etc/rancher/k3s/config.yaml", "/etc/rancher/k3s/cluster-token"])).toEqual([
                ["/etc/rancher/k3s/config.yaml", "600"],
                ["/etc/rancher/k3s/cluster-token", "600"],
            ]);
            expect(host.root.readFile("/etc/ssh/sshd_config.d/01-private-faas.conf")).toMatch(/^PasswordAuthentication no$/m);
            // The ruleset file is loaded in the host's network namespace: the nodes' addresses, and only
            // they, are its cluster sources.
            const isNode = async (address: string) => (await host.exec(`nft get element inet private_faas nodes_v4 '{ ${address} }'`)).code === 0;
            expect(await Promise.all(fleet.hosts.map((x) => isNode(x.address)))).toEqual(fleet.hosts.map((x) => x.name !== "edge"));
            expect(await sh(h, "systemctl is-active private-faas-firewall")).toBe("active\n");
            const k3sConfig = YAML.parse(host.root.readFile("/etc/rancher/k3s/config.yaml")!);
            expect(k3sConfig).toMatchObject({ "node-name": h, "token-file": "/etc/rancher/k3s/cluster-token" });
            if (h !== "server-1") expect(k3sConfig.server).toBe(`https://${fleet.host("server-1").address}:6443`);
            expect(host.root.readFile("/etc/rancher/k3s/cluster-token")).toMatch(/^[A-Za-z0-9]{48}$/);
        }
        // The same token on every node, and never in a command text or an output.
        const tokens = new Set(NODE_HOSTS.map((h) => fleet.host(h).root.readFile("/etc/rancher/k3s/cluster-token")));
        expect(tokens.size).toBe(1);
        const token = [...tokens][0]!;
        for (const s of up.steps) expect([s.name, `${s.stdout}${s.stderr}`.includes(token)]).toEqual([s.name, false]);
        expect(fleet.host("server-1").root.mode("/etc/rancher/k3s/k3s.yaml").toString(8)).toBe("600");
        // The edge: the nginx.conf the stack renders, the distribution's file kept beside it.
        const edge = fleet.host("edge");
        const nginxConf = edge.root.readFile("/etc/nginx/nginx.conf")!;
        expect(crypto.createHash("sha256").update(nginxConf).digest("hex")).toBe(up.outputs.edgeNginxConfigSha256);
        expect(edge.root.mode("/etc/nginx/nginx.conf").toString(8)).toBe("644");
        expect(edge.root.readFile("/etc/nginx/nginx.conf.previous")).toBe(fs.readFileSync("/etc/nginx/nginx.conf", "utf8"));
        // The edge is no node: nothing of the node steps there.
        expect(Object.keys(edge.snapshot()).filter((f) => /sshd_config\.d|private-faas|rancher/.test(f))).toEqual([]);
    });

    test("kernel settings: the sysctl file is written, /proc/sys stays read-only and the harden step says so loudly", async () => {
        for (const h of NODE_HOSTS) {
            expect(fleet.host(h).root.readFile("/etc/sysctl.d/90-kubelet.conf")).toBe(
                "# private-faas: kernel settings kubelet checks with protect-kernel-defaults (K3s CIS hardening guide).\n" +
                    "vm.panic_on_oom=0\nvm.overcommit_memory=1\nkernel.panic=10\nkernel.panic_on_oops=1\nkernel.keys.root_maxkeys=1000000\nkernel.keys.root_maxbytes=25000000\n",
            );
            const harden = step(up, `${h}-harden`);
            expect(harden.exitCode).toBe(0);
            expect(harden.stderr).toMatch(/^WARNING: \/proc\/sys is read-only here \(a container VPS\?\)\. Written to$/m);
            expect(harden.stderr).toMatch(/^WARNING: K3s runs with protect-kernel-defaults and will refuse to start until these$/m);
            // The values were not applied: the kernel is this machine's, untouched.
            expect((await fleet.host(h).exec("echo 1 > /proc/sys/kernel/panic_on_oops")).stderr).toMatch(/Read-only file system/);
            expect(harden.stderr).toMatch(/NOT applied: .*\S/);
        }
    });

    test("a second run of every command changes nothing on any host and restarts nothing", async () => {
        const hosts = fleet.hosts;
        const pids = async () =>
            Object.fromEntries(
                await Promise.all(
                    [...NODE_HOSTS.flatMap((h) => ["ssh", "fail2ban", "k3s", "k3s-agent"].map((u) => [h, u])), ["edge", "ssh"], ["edge", "nginx"]].map(async ([h, u]) => [
                        `${h} ${u}`,
                        (await fleet.host(h).exec(`cat /run/standin/systemd/pid/${u}.service 2>/dev/null || echo none`)).stdout.trim(),
                    ]),
                ),
            );
        const before = hosts.map((h) => h.snapshot());
        const pidsBefore = await pids();
        const eventsBefore = k3s.registry.events();
        hosts.forEach((h) => h.root.clearSystemctlCalls());
        // Both deployments' commands: facts and packages ran in the first, the rest in the second.
        for (const d of [slowDisk, up]) {
            const again = await rerun(fleet, d);
            expect(again.error).toBeUndefined();
        }
        expect(hosts.map((h) => h.snapshot())).toEqual(before);
        expect(hosts.flatMap((h) => changingCalls(h.root.systemctlCalls()).map((c) => `${h.name}: ${c}`))).toEqual([]);
        expect(await pids()).toEqual(pidsBefore);
        expect(k3s.registry.events()).toEqual(eventsBefore);
    }, 120000);

    /** ssh from the internet side to HOST as USER, the hosts' keys pinned, with OPTIONS (-o values). */
    const sshFromInternet = (host: FleetHost, user: string, options: string[], prefix: string[] = []) => {
        const knownHosts = path.join(fleet.dir, "internet-known-hosts");
        if (!fs.existsSync(knownHosts)) fs.writeFileSync(knownHosts, fleet.hosts.map((h) => `${h.address} ${h.hostKey}\n`).join(""), { mode: 0o600 });
        const common = ["StrictHostKeyChecking=yes", `UserKnownHostsFile=${knownHosts}`, "GlobalKnownHostsFile=/dev/null", "ConnectTimeout=5", "LogLevel=ERROR"];
        const args = [...common, ...options].flatMap((o) => ["-o", o]);
        return fleet.execIn("internet", [...prefix, "ssh", "-F", "none", ...args, "-l", user, host.address, "id -un"], { timeoutMs: 20000 });
    };

    test("sshd refuses a password login after hardening (the same image accepts it on the unhardened edge); key login still works", async () => {
        const passwordLogin = (host: FleetHost) =>
            sshFromInternet(host, TESTER, ["PubkeyAuthentication=no", "PreferredAuthentications=password,keyboard-interactive", "NumberOfPasswordPrompts=1"], [
                "env", `SSHPASS=${TESTER_PASSWORD}`, "sshpass", "-e",
            ]);
        for (const h of fleet.hosts) await sh(h.name, `useradd -m -s /bin/bash ${TESTER} && echo '${TESTER}:${TESTER_PASSWORD}' | chpasswd`);
        // Control: the unhardened host (same image, same sshd) lets the password in.
        expect(await passwordLogin(fleet.host("edge"))).toMatchObject({ code: 0, stdout: `${TESTER}\n` });
        for (const h of NODE_HOSTS) {
            const r = await passwordLogin(fleet.host(h));
            expect([h, r.code, r.stdout, r.stderr.trim()]).toEqual([h, 255, "", `${TESTER}@${fleet.host(h).address}: Permission denied (publickey).`]);
            // The sshd that booted with passwords allowed refuses them now: reloaded (SIGHUP, which it
            // logged), not restarted.
            expect(await mainPid(h, "ssh.service")).toBe(bootSshd[h]);
            expect(await sh(h, `journalctl --no-pager -o cat _PID=${bootSshd[h]}`)).toMatch(/^Received SIGHUP; restarting\.$/m);
            expect(await fleet.ssh(h, "id -un")).toMatchObject({ code: 0, stdout: "root" });
        }
        expect(await mainPid("edge", "ssh.service")).toBe(bootSshd.edge);
        expect(await sh("edge", `journalctl --no-pager -o cat _PID=${bootSshd.edge}`)).not.toMatch(/SIGHUP/);
    });

    test("fail2ban runs with the sshd jail, on the systemd journal backend", async () => {
        for (const h of NODE_HOSTS) {
            const r = await fleet.ssh(h, "fail2ban-client status sshd; systemctl is-active fail2ban");
            expect(r.code).toBe(0);
            expect(r.stdout).toMatch(/^Status for the jail: sshd$/m);
            expect(r.stdout).toMatch(/Journal matches:\s+_SYSTEMD_UNIT=ssh\.service \+ _SYSTEMD_UNIT=sshd\.service \+ _COMM=sshd \+ _COMM=sshd-session$/m);
            expect(r.stdout).toMatch(/^active$/m);
            expect((await fleet.ssh(h, "fail2ban-client get sshd maxretry; fail2ban-client get sshd bantime")).stdout).toBe("5\n3600");
        }
    });

    test("fail2ban bans an address after five invalid logins (sshd → journal → fail2ban → nftables); unbanned, it gets in again", async () => {
        const agent1 = fleet.host("agent-1");
        const jail = async () => (await fleet.ssh("agent-1", "fail2ban-client status sshd")).stdout;
        expect(await fleet.probe("internet", agent1.address, 22)).toBe("open");
        for (let i = 1; i <= 5; i++) {
            const r = await sshFromInternet(agent1, `intruder-${i}`, ["BatchMode=yes", "IdentitiesOnly=yes", "IdentityFile=none"]);
            expect(r.stderr.trim()).toBe(`intruder-${i}@${agent1.address}: Permission denied (publickey).`);
        }
        let status = await jail();
        for (let i = 0; i < 60 && !status.includes(INTERNET_ADDRESS); i++) {
            await new Promise((r) => setTimeout(r, 500));
            status = await jail();
        }
        expect(status).toMatch(new RegExp(`Banned IP list:\\s+${INTERNET_ADDRESS.replace(/\./g, "\\.")}$`, "m"));
        expect(status).toMatch(/Total failed:\s+5$/m);
        // sshd logged each attempt to the host's journal (with no systemd unit there, matched by _COMM=sshd).
        const journal = await sh("agent-1", "journalctl --no-pager -o cat _COMM=sshd");
        for (let i = 1; i <= 5; i++) expect(journal).toContain(`Invalid user intruder-${i} from ${INTERNET_ADDRESS} port `);
        // The ban is a rule in the host's network namespace: the internet is turned away, the operator is not.
        expect(await sh("agent-1", "nft list set inet f2b-table addr-set-sshd")).toContain(`elements = { ${INTERNET_ADDRESS} }`);
        expect(await fleet.probe("internet", agent1.address, 22)).toBe("closed");
        expect(await fleet.probe("operator", agent1.address, 22)).toBe("open");
        expect(await fleet.probe("internet", fleet.host("agent-2").address, 22)).toBe("open");
        await sh("agent-1", `fail2ban-client set sshd unbanip ${INTERNET_ADDRESS}`);
        expect(await fleet.probe("internet", agent1.address, 22)).toBe("open");
    }, 60000);

    test("the firewall passes the cluster ports between nodes, drops the others, and shows only 22 (and 80/443 on ingress nodes) outside", async () => {
        const server = fleet.host("server-1");
        const agent1 = fleet.host("agent-1");
        const agent2 = fleet.host("agent-2");
        // Something listens on every port probed (K3s's stand-in server is on 6443 already), so "filtered"
        // can only be the firewall's doing and "open" means it passed.
        const listeners = await Promise.all([
            ...[server, agent1, agent2].flatMap((h) =>
                ([[10250, "tcp"], [2379, "tcp"], [8080, "tcp"], [30080, "tcp"], [80, "tcp"], [443, "tcp"], [51820, "udp"], [8472, "udp"]] as [number, Protocol][]).map(([port, proto]) =>
                    fleet.listen(h.name, port, proto),
                ),
            ),
        ]);
        const cases: [ProbeSource, FleetHost, number, Protocol, ProbeResult][] = [
            // Node to node: the cluster ports of the port matrix.
            ["agent-1", server, 6443, "tcp", "open"],
            ["agent-2", server, 6443, "tcp", "open"],
            ["agent-1", server, 10250, "tcp", "open"],
            ["server-1", agent2, 10250, "tcp", "open"],
            ["agent-1", agent2, 51820, "udp", "open"],
            ["agent-2", server, 51820, "udp", "open"],
            // ... and nothing else: no etcd with a single server, no vxlan with WireGuard, no stray service.
            ["agent-1", server, 2379, "tcp", "filtered"],
            ["agent-1", server, 8472, "udp", "filtered"],
            ["agent-1", server, 8080, "tcp", "filtered"],
            ["server-1", agent1, 30080, "tcp", "filtered"],
            // From the internet: SSH everywhere, HTTP(S) on the ingress agents only.
            ["internet", server, 22, "tcp", "open"],
            ["internet", agent1, 22, "tcp", "open"],
            ["internet", agent1, 80, "tcp", "open"],
            ["internet", agent2, 443, "tcp", "open"],
            ["internet", server, 80, "tcp", "filtered"],
            ["internet", server, 443, "tcp", "filtered"],
            ["internet", server, 6443, "tcp", "filtered"],
            ["internet", agent1, 10250, "tcp", "filtered"],
            ["internet", agent1, 30080, "tcp", "filtered"],
            ["internet", agent2, 51820, "udp", "filtered"],
            ["internet", agent1, 8080, "tcp", "filtered"],
            // The operator's address is the admin CIDR: the API answers it.
            ["operator", server, 6443, "tcp", "open"],
            ["operator", agent1, 10250, "tcp", "filtered"],
            // The edge host is no node: it reaches the ingress, not the cluster ports.
            ["edge", agent1, 443, "tcp", "open"],
            ["edge", server, 6443, "tcp", "filtered"],
            ["edge", agent1, 10250, "tcp", "filtered"],
        ];
        const results = await Promise.all(cases.map(([from, to, port, proto]) => fleet.probe(from, to.address, port, proto, 1)));
        expect(cases.map(([from, to, port, proto], i) => `${from} → ${to.name}:${port}/${proto} ${results[i]}`)).toEqual(
            cases.map(([from, to, port, proto, want]) => `${from} → ${to.name}:${port}/${proto} ${want}`),
        );
        // What passed arrived with the sender's own address (no NAT in between).
        expect(await listeners[0].peers()).toEqual([agent1.address]);
        await Promise.all(listeners.map((l) => l.stop()));
    }, 60000);

    test("K3s: the server's process listens on 6443, agents joined it over the network, and a firewall dropping 6443 makes a join fail", async () => {
        const server = fleet.host("server-1");
        const agent1 = fleet.host("agent-1");
        expect(await sh("server-1", "ss -Hltnp 'sport = :6443'")).toMatch(/"k3s",pid=\d+/);
        const serverPid = await mainPid("server-1", "k3s.service");
        expect(await sh("server-1", `tr '\\0' ' ' < /proc/${serverPid}/cmdline`)).toBe("/usr/bin/python3 -B /usr/local/bin/k3s server ");
        const state = k3s.registry.state();
        expect(Object.fromEntries(Object.entries(state.nodes).map(([n, s]) => [n, [s.role, s.ready, s.version]]))).toEqual({
            "server-1": ["server", true, VERSION],
            "agent-1": ["agent", true, VERSION],
            "agent-2": ["agent", true, VERSION],
        });
        for (const agent of ["agent-1", "agent-2"]) {
            expect(state.events).toContainEqual(expect.objectContaining({ host: "server-1", text: `${agent} admitted by server-1 from ${fleet.host(agent).address}` }));
        }
        expect(step(up, "k3s-ready").stdout).toMatch(/^server-1 +Ready +control-plane,etcd,master .*\nagent-1 +Ready .*\nagent-2 +Ready /);

        // A firewall on the server that drops agent-1's packets to 6443 (its own table, ahead of the program's).
        await sh("server-1", `nft -f - <<'EOF'
table inet fleet_test {
    chain input {
        type filter hook input priority filter - 10; policy accept;
        ip saddr ${agent1.address} tcp dport 6443 drop
    }
}
EOF`);
        const blocked = await fleet.ssh("agent-1", "systemctl restart k3s-agent");
        await sh("server-1", "nft delete table inet fleet_test");
        expect(blocked.code).not.toBe(0);
        expect(blocked.stderr).toContain("Job for k3s-agent.service failed because the main process exited before it reported readiness");
        expect(agent1.unitLog("k3s-agent")).toMatch(/cannot reach a running server at https:\/\/198\.18\.0\.11:6443: timed out \(tried for 10s\)/);
        expect(k3s.registry.state().nodes["agent-1"].ready).toBe(false);
        // With the rule back, the same restart joins again.
        const again = await fleet.ssh("agent-1", "systemctl restart k3s-agent");
        expect(again).toMatchObject({ code: 0 });
        expect(k3s.registry.state().nodes["agent-1"].ready).toBe(true);
        expect(server.unitLog("k3s")).toMatch(new RegExp(`join of agent-1 from ${agent1.address.replace(/\./g, "\\.")}: admitted\\n[^]*join of agent-1 from ${agent1.address.replace(/\./g, "\\.")}: admitted`));
    }, 60000);

    test("the edge serves the monolith through the deployed nginx.conf", async () => {
        const edge = fleet.host("edge");
        await sh("edge", `mkdir -p /srv/monolith && echo 'legacy page' > /srv/monolith/index.html && (setsid python3 -m http.server ${MONOLITH_PORT} --bind 127.0.0.1 --directory /srv/monolith >/dev/null 2>&1 &)`);
        for (let i = 0; i < 50 && (await fleet.probe("edge", "127.0.0.1", MONOLITH_PORT)) !== "open"; i++) await new Promise((r) => setTimeout(r, 100));
        const get = await fleet.execIn("internet", ["curl", "-sS", "--max-time", "5", "-D", "-", "-H", "Host: api.example.no", `http://${edge.address}/index.html`]);
        expect(get.stdout).toMatch(/^HTTP\/1\.1 200 OK\r$/m);
        expect(get.stdout).toMatch(/^X-Request-Id: [0-9a-f]{32}\r$/im);
        expect(get.stdout).toMatch(/legacy page\n$/);
        // Requests for other host names get no answer (server_name is set).
        const other = await fleet.execIn("internet", ["curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: elsewhere.example", `http://${edge.address}/`]);
        expect(other.stdout).toBe("000");
        expect(await fleet.probe("internet", edge.address, 80)).toBe("open");
        expect(step(up, "edge-deploy").stdout).toMatch(/installed \/etc\/nginx\/nginx\.conf/);
    });

    test("an `up` without agent-2 drains it and deletes its Node through the server, then uninstalls K3s on it: in that order, as the hosts recorded it", async () => {
        k3s.registry.addPods([
            { namespace: "openfaas-fn", name: "figlet-1", node: "agent-2", owner: "ReplicaSet" },
            { namespace: "kube-system", name: "svclb-traefik-agent-2", node: "agent-2", owner: "DaemonSet" },
        ]);
        const eventsBefore = k3s.registry.state().events.length;
        const agent2Pid = await mainPid("agent-2", "k3s-agent.service");
        const removal = await deploy(fleet, { config: stack(NODES.filter((n) => n.host !== "agent-2"), GENEROUS_LIMIT_MS), previous: up });
        expect(removal.error).toBeUndefined();
        const deletes = removal.steps.filter((s) => s.op === "delete");
        expect(stepNames(deletes)).toEqual(["delete k3s-agent-2-member", "delete k3s-agent-2-install"]);
        expect(deletes.map((s) => s.host)).toEqual([fleet.host("server-1").address, fleet.host("agent-2").address]);
        expect(removal.steps.slice(-2)).toEqual(deletes);

        // What the hosts recorded, with their times: the server drained and deleted, then agent-2 stopped K3s and uninstalled it.
        // The server's firewall (already updated without agent-2) admitted it again while it drained.
        const events = k3s.registry.state().events.slice(eventsBefore);
        expect(events.map((e) => `${e.host}: ${e.text}`)).toEqual([
            `server-1: firewall admits agent-2 (${fleet.host("agent-2").address}) during its drain`,
            "server-1: drained agent-2",
            "server-1: deleted node agent-2",
            "agent-2: k3s-agent.service stopped on agent-2",
            "agent-2: uninstalled on agent-2",
        ]);
        const times = events.map((e) => e.at);
        expect(times).toEqual([...times].sort((a, b) => a - b));
        expect(new Set(times).size).toBe(5);
        expect(deletes[0].stdout).toContain(`firewall: agent-2 (${fleet.host("agent-2").address}) admitted again while it leaves`);
        // The workload moved; agent-2's K3s process is gone and its files with it.
        const pods = Object.fromEntries(k3s.registry.state().pods.map((p) => [p.name, p.node]));
        expect(["server-1", "agent-1"]).toContain(pods["figlet-1"]);
        expect(pods).not.toHaveProperty("svclb-traefik-agent-2");
        expect(Object.keys(k3s.registry.state().nodes).sort()).toEqual(["agent-1", "server-1"]);
        expect((await fleet.host("agent-2").exec(`kill -0 ${agent2Pid}`)).code).not.toBe(0);
        expect(fleet.host("agent-2").unitLog("k3s-agent")).toMatch(/agent-2 stopping\n$/);
        for (const gone of ["/usr/local/bin/k3s", "/usr/local/bin/k3s-agent-uninstall.sh", "/etc/systemd/system/k3s-agent.service", "/etc/rancher/k3s/config.yaml", "/etc/rancher/k3s/cluster-token"]) {
            expect([gone, fleet.host("agent-2").root.readFile(gone)]).toEqual([gone, undefined]);
        }
        // The remaining nodes' firewalls no longer admit agent-2 to the cluster ports.
        expect(await fleet.probe("agent-2", fleet.host("server-1").address, 6443, "tcp", 1)).toBe("filtered");
        expect(await fleet.probe("agent-1", fleet.host("server-1").address, 6443, "tcp", 1)).toBe("open");
    }, 120000);
});
