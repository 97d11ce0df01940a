/**
 * The simulated fleet itself (tests/fleet/fleet.ts): hosts with their own sshd, key and address, real
 * connections between them and from outside, throwaway roots, services that outlive the SSH session
 * that started them, and nothing of it reaching this machine.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Fleet, fleetSupport, destroyFleets, leftovers, GATEWAY, INTERNET_ADDRESS, OPERATOR_ADDRESS, SHARED_MOUNT } from "./fleet/fleet";

const support = fleetSupport();
if (!support.ok) console.log(`fleet tests not run: ${support.reason}`);
const maybe = support.ok ? describe : describe.skip;

const rootLinks = () => execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" }).split("\n").map((l) => l.split(":")[1]?.trim()).filter(Boolean).sort();
const rootRoutes = () => execFileSync("ip", ["route", "show"], { encoding: "utf8" });

maybe("simulated fleet", () => {
    let fleet: Fleet;
    let linksBefore: string[];
    let routesBefore: string;

    beforeAll(async () => {
        linksBefore = rootLinks();
        routesBefore = rootRoutes();
        fleet = await Fleet.create({ hosts: ["server-1", "agent-1", "agent-2"], privateNetwork: true });
    }, 60000);
    afterAll(() => destroyFleets());

    test("each host answers SSH with its own fresh host key, pinned; the operator's key is the way in", async () => {
        const keys = fleet.hosts.map((h) => h.hostKey);
        expect(new Set(keys).size).toBe(3);
        for (const k of keys) expect(k).toMatch(/^ssh-ed25519 AAAA[A-Za-z0-9+/=]+$/);
        const machineKey = fs.readFileSync("/etc/ssh/ssh_host_ed25519_key.pub", "utf8").split(" ").slice(0, 2).join(" ");
        expect(keys).not.toContain(machineKey);
        for (const h of fleet.hosts) {
            const r = await fleet.ssh(h.name, "hostname; id -u; ls /etc/ssh/ | grep ssh_host_");
            expect(r).toMatchObject({ code: 0, stdout: `${h.name}\n0\nssh_host_ed25519_key\nssh_host_ed25519_key.pub` });
        }
        // Another host's key pinned: the client refuses to talk.
        const wrongKey = await fleet.sshClient.run({ connection: { ...fleet.connection("agent-1"), hostKey: fleet.host("agent-2").hostKey }, command: "true" });
        expect(wrongKey.code).toBe(255);
        expect(wrongKey.error).toMatch(/Host key verification failed/);
        // A key that is not authorised: the host refuses.
        const other = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pf-key-")), "k");
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
        const stranger = await fleet.sshClient.run({ connection: { ...fleet.connection("agent-1"), privateKey: fs.readFileSync(other, "utf8") }, command: "true" });
        expect(stranger.error).toMatch(/Permission denied \(publickey/);
    });

    test("addresses: public and private networks between hosts, the internet and the operator behind a router", async () => {
        const r = await fleet.host("agent-1").exec("ip -o -4 addr show | awk '{print $2, $4}'; ip route");
        expect(r.stdout).toContain("eth0 198.18.0.12/24");
        expect(r.stdout).toContain("eth1 198.18.1.12/24");
        expect(r.stdout).toContain(`default via ${GATEWAY} dev eth0`);
        // Real TCP connections: sshd answers on every address of every host.
        expect(await fleet.probe("agent-1", fleet.host("server-1").address, 22)).toBe("open");
        expect(await fleet.probe("agent-2", fleet.host("server-1").privateAddress!, 22)).toBe("open");
        expect(await fleet.probe("internet", fleet.host("agent-2").address, 22)).toBe("open");
        expect(await fleet.probe("operator", fleet.host("agent-2").address, 22)).toBe("open");
        // Nothing listens on 80 yet: the packet arrives and is answered with a reset.
        expect(await fleet.probe("internet", fleet.host("agent-2").address, 80)).toBe("closed");
        // The private network is not routed: the internet cannot reach it.
        expect(await fleet.probe("internet", fleet.host("agent-2").privateAddress!, 22)).toBe("unreachable");
        // Connections arrive from the internet's, the operator's and the other hosts' own addresses.
        const listener = await fleet.listen("agent-2", 7002);
        expect(await fleet.probe("internet", fleet.host("agent-2").address, 7002)).toBe("open");
        expect(await fleet.probe("operator", fleet.host("agent-2").address, 7002)).toBe("open");
        expect(await fleet.probe("server-1", fleet.host("agent-2").privateAddress!, 7002)).toBe("open");
        expect(await listener.peers()).toEqual([INTERNET_ADDRESS, OPERATOR_ADDRESS, fleet.host("server-1").privateAddress]);
        await listener.stop();
    });

    test("nothing reaches this machine's network: no links or routes added, nothing routed beyond the fleet", async () => {
        expect(rootLinks()).toEqual(linksBefore);
        expect(rootRoutes()).toEqual(routesBefore);
        // Addresses outside the fleet's ranges are unreachable from a host and from the internet side.
        expect(await fleet.probe("server-1", "192.0.2.1", 80)).toBe("unreachable");
        expect(await fleet.probe("internet", "10.0.0.1", 80)).toBe("unreachable");
        const resolv = await fleet.host("server-1").exec("ip route get 192.0.2.1");
        expect(resolv.stdout).toContain(`via ${GATEWAY}`);
    });

    test("throwaway roots: each host writes its own upper layer; /proc/sys is read-only; the shared directory is shared", async () => {
        const marker = `/etc/pf-fleet-${fleet.id}`;
        expect((await fleet.ssh("agent-1", `echo one > ${marker}; echo shared > ${SHARED_MOUNT}/from-agent-1`)).code).toBe(0);
        expect((await fleet.ssh("agent-1", `cat ${marker}`)).stdout).toBe("one");
        expect((await fleet.ssh("agent-2", `cat ${marker}`)).code).not.toBe(0);
        expect(fs.existsSync(marker)).toBe(false);
        expect(fleet.host("agent-1").root.readFile(marker)).toBe("one\n");
        expect(fleet.host("agent-1").snapshot()[marker]).toMatch(/^file 644 0:0 /);
        expect((await fleet.ssh("server-1", `cat ${SHARED_MOUNT}/from-agent-1`)).stdout).toBe("shared");
        const sysctl = await fleet.ssh("server-1", "echo 1 > /proc/sys/vm/overcommit_memory");
        expect(sysctl.stderr).toMatch(/Read-only file system/);
    });

    test("each host has its own /dev and a real journal: sshd logs there, nothing reaches this machine's kernel log", async () => {
        const devices = (await fleet.ssh("agent-1", "ls /dev")).stdout.split("\n");
        expect(devices).toEqual(expect.arrayContaining(["null", "zero", "urandom", "pts", "ptmx", "log", "shm"]));
        expect(devices).not.toContain("kmsg");
        expect(devices.filter((d) => /^(vd|sd|nvme|loop)/.test(d))).toEqual([]);
        expect((await fleet.ssh("agent-1", "readlink /dev/log")).stdout).toBe("/run/systemd/journal/dev-log");
        const journal = (await fleet.ssh("agent-1", "journalctl --no-pager -o cat _COMM=sshd _HOSTNAME=agent-1")).stdout;
        expect(journal).toMatch(new RegExp(`^Accepted publickey for root from ${OPERATOR_ADDRESS.replace(/\./g, "\\.")} port \\d+ ssh2: ED25519 `, "m"));
        expect(await fleet.ssh("agent-1", "systemctl is-active systemd-journald")).toMatchObject({ stdout: "active" });
        // Each host's journal is its own.
        expect((await fleet.ssh("server-1", "journalctl --no-pager -o cat _HOSTNAME=agent-1 | wc -l")).stdout).toBe("0");
    });

    test("names: a host finds its own in /etc/hosts; the fleet's nameserver knows no others and says so at once", async () => {
        const own = await fleet.host("agent-2").exec("getent hosts agent-2");
        expect(own.stdout).toMatch(/^127\.0\.1\.1\s+agent-2$/m);
        const started = Date.now();
        const other = await fleet.host("agent-2").exec("getent ahosts get.k3s.io");
        expect(other.code).toBe(2);
        expect(Date.now() - started).toBeLessThan(3000);
        expect((await fleet.host("agent-2").exec("cat /etc/resolv.conf")).stdout).toBe(`nameserver ${GATEWAY}\n`);
    });

    test("a service started over SSH outlives the session, in the host's namespaces, and serves other hosts", async () => {
        const unit = `[Unit]
Description=fleet test web server
[Service]
ExecStart=/usr/bin/python3 -m http.server 8080 --directory /srv/fleet-web
`;
        const start = await fleet.ssh(
            "agent-1",
            "mkdir -p /srv/fleet-web && echo 'hello from agent-1' > /srv/fleet-web/index.html && cat > /etc/systemd/system/fleet-web.service && systemctl daemon-reload && systemctl start fleet-web",
            { stdin: unit },
        );
        expect(start).toMatchObject({ code: 0 });
        // The session is over; the server is still there, a child of the host's PID 1.
        const ps = await fleet.host("agent-1").exec("ps -o ppid=,args= -C python3");
        expect(ps.stdout).toMatch(/^\s*1 \/usr\/bin\/python3 -m http\.server 8080/m);
        for (let i = 0; i < 50 && (await fleet.probe("agent-2", fleet.host("agent-1").address, 8080)) !== "open"; i++) await new Promise((r) => setTimeout(r, 100));
        const get = await fleet.host("agent-2").exec(`curl -sS --max-time 5 http://${fleet.host("agent-1").address}:8080/`);
        expect(get.stdout).toBe("hello from agent-1\n");
        // It lives in agent-1's network namespace only.
        expect(await fleet.probe("agent-1", "127.0.0.1", 8080)).toBe("open");
        expect(await fleet.probe("agent-2", "127.0.0.1", 8080)).toBe("closed");
        expect((await fleet.ssh("agent-1", "systemctl is-active fleet-web; systemctl stop fleet-web; systemctl is-active fleet-web")).stdout).toBe("active\ninactive");
        expect(await fleet.probe("agent-2", fleet.host("agent-1").address, 8080)).toBe("closed");
    });

    test("UDP and TCP listeners for probing cluster ports", async () => {
        const vxlan = await fleet.listen("server-1", 8472, "udp");
        expect(await fleet.probe("agent-1", fleet.host("server-1").privateAddress!, 8472, "udp")).toBe("open");
        await vxlan.stop();
        expect(await fleet.probe("agent-1", fleet.host("server-1").privateAddress!, 8472, "udp")).toBe("closed");
        const kubelet = await fleet.listen("server-1", 10250, "tcp");
        expect(await fleet.probe("agent-2", fleet.host("server-1").address, 10250)).toBe("open");
        await kubelet.stop();
    });

    test("a mirror on the internet side serves files to the hosts (e.g. a stand-in installer)", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-mirror-"));
        fs.writeFileSync(path.join(dir, "install.sh"), "#!/bin/sh\necho installed\n");
        const url = await fleet.serve(dir);
        const r = await fleet.ssh("agent-2", `curl -sfL ${url}/install.sh | sh -`);
        expect(r).toMatchObject({ code: 0, stdout: "installed" });
    });

    test("destroy removes the fleet completely", async () => {
        const small = await Fleet.create({ hosts: ["solo"] });
        expect((await small.ssh("solo", "systemctl start nginx")).code).toBe(0);
        const namespaces = small.namespaceIds();
        expect(leftovers(small.id, namespaces).length).toBeGreaterThan(0);
        small.destroy();
        expect(leftovers(small.id, namespaces)).toEqual([]);
        expect(fs.existsSync(small.dir)).toBe(false);
        expect(spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout).not.toContain(`fleet-${small.id}-`);
        expect(rootLinks()).toEqual(linksBefore);
    }, 30000);
});
