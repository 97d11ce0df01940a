/**
 * The systemctl stand-in: "record" mode (the default of a throwaway root, used by the host-script tests)
 * runs nothing; "run" mode (the fleet's hosts) runs the units' commands for real (tests/harness/units.py),
 * tried here on Debian's own units: ssh, nginx, fail2ban, nftables, and on units written for the test.
 */
import { execFileSync } from "child_process";
import { Sandbox } from "./harness/sandbox";
import { Fleet, fleetSupport, destroyFleets } from "./fleet/fleet";

const support = fleetSupport();
if (!support.ok) console.log(`systemctl stand-in run-mode tests not run: ${support.reason}`);
const maybe = support.ok ? describe : describe.skip;

maybe("systemctl stand-in, record mode", () => {
    test("records calls and state, runs nothing (the default)", () => {
        const box = Sandbox.create("record");
        try {
            const r = box.run(["/bin/bash", "-c", "systemctl enable --now nginx && systemctl is-active nginx && systemctl is-enabled nginx; pgrep -c nginx; cat /run/standin/systemctl.mode"]);
            expect(r.stdout).toBe("active\nenabled\n0\nrecord\n");
            expect(box.systemctlCalls()).toEqual(["systemctl enable --now nginx", "systemctl is-active nginx", "systemctl is-enabled nginx"]);
        } finally {
            box.destroy();
        }
    });
});

maybe("systemctl stand-in, run mode", () => {
    let fleet: Fleet;
    const web = () => fleet.host("web");
    const sh = (command: string, stdin?: string) => fleet.ssh("web", command, { stdin });
    const mainPid = async (unit: string) => Number((await web().exec(`cut -d' ' -f1 /run/standin/systemd/pid/${unit}.service`)).stdout.trim());

    beforeAll(async () => {
        fleet = await Fleet.create({ hosts: ["web"] });
    }, 120000);
    afterAll(() => destroyFleets());

    test("ssh: the host's sshd is ssh.service; reload HUPs it (same PID, new configuration); restart keeps the session", async () => {
        const before = await mainPid("ssh");
        expect((await web().exec(`cat /proc/${before}/comm`)).stdout).toBe("sshd\n");
        expect(await fleet.probe("internet", web().address, 2222)).toBe("closed");
        const reload = await sh("printf 'Port 22\\nPort 2222\\n' > /etc/ssh/sshd_config.d/fleet-test.conf && systemctl reload ssh && systemctl is-active ssh");
        expect(reload).toMatchObject({ code: 0, stdout: "active" });
        expect(await mainPid("ssh")).toBe(before);
        expect(await fleet.probe("internet", web().address, 2222)).toBe("open");
        // A broken configuration: ExecReload's `sshd -t` fails, the running sshd is not signalled.
        const broken = await sh("echo 'NoSuchOption yes' > /etc/ssh/sshd_config.d/fleet-test.conf && systemctl reload ssh");
        expect(broken.code).toBe(1);
        expect(broken.stderr).toContain("Job for ssh.service failed because the control process exited with error code.");
        expect(web().unitLog("ssh")).toContain("NoSuchOption");
        // The session running `systemctl restart ssh` survives it (KillMode=process), as on a real host.
        const restart = await sh("rm /etc/ssh/sshd_config.d/fleet-test.conf && systemctl restart ssh && echo still here");
        expect(restart).toMatchObject({ code: 0, stdout: "still here" });
        expect(await mainPid("ssh")).not.toBe(before);
        expect(await fleet.probe("internet", web().address, 2222)).toBe("closed");
        expect((await sh("systemctl is-active sshd")).stdout).toBe("active"); // the alias
    });

    test("nginx: start (Type=forking, PIDFile), reload keeps the master, a failing ExecStartPre refuses to start, stop ends every process", async () => {
        expect((await sh("systemctl start nginx && systemctl is-active nginx")).stdout).toBe("active");
        const master = await mainPid("nginx");
        expect((await web().exec("cat /run/nginx.pid")).stdout.trim()).toBe(String(master));
        expect(await fleet.probe("internet", web().address, 80)).toBe("open");
        const reload = await sh("echo 'server { listen 8081; return 200 \"reloaded\\n\"; }' > /etc/nginx/conf.d/fleet-test.conf && systemctl reload nginx");
        expect(reload.code).toBe(0);
        let body = "";
        for (let i = 0; i < 50 && body !== "reloaded"; i++) body = (await sh("curl -s localhost:8081")).stdout;
        expect(body).toBe("reloaded");
        expect(await mainPid("nginx")).toBe(master);
        // A broken configuration: `nginx -t` (ExecStartPre) fails, the unit is failed, nothing listens.
        const restart = await sh("echo 'server { listen 8082; bogus; }' > /etc/nginx/conf.d/fleet-test.conf && systemctl restart nginx");
        expect(restart.code).toBe(1);
        expect(restart.stderr).toContain("Job for nginx.service failed");
        expect((await sh("systemctl is-active nginx")).stdout).toBe("failed");
        expect(await fleet.probe("internet", web().address, 80)).toBe("closed");
        const ok = await sh("rm /etc/nginx/conf.d/fleet-test.conf && systemctl start nginx && systemctl stop nginx && systemctl is-active nginx; pgrep -c nginx");
        expect(ok.stdout).toBe("inactive\n0");
    });

    test("fail2ban: restart starts fail2ban-server, which answers its client; Debian's default sshd jail fails without a log", async () => {
        // Debian 12's default (sshd jail reading /var/log/auth.log, which no syslog daemon writes here).
        const fails = await sh("systemctl restart fail2ban; sleep 1; systemctl is-active fail2ban");
        expect(fails.stdout).toBe("failed");
        expect(web().unitLog("fail2ban")).toContain("Have not found any log file for sshd jail");
        const jail = "[sshd]\nenabled = true\nbackend = polling\nlogpath = /var/log/fleet-auth.log\n";
        // Type=simple: systemctl returns once the server is started, not when it answers (as on a real host).
        const r = await sh(
            "touch /var/log/fleet-auth.log && cat > /etc/fail2ban/jail.d/zz-fleet-test.conf && systemctl restart fail2ban && for i in $(seq 100); do fail2ban-client ping >/dev/null 2>&1 && break; sleep 0.1; done; fail2ban-client ping && fail2ban-client status sshd",
            jail,
        );
        expect(r.code).toBe(0);
        expect(r.stdout).toContain("Server replied: pong");
        expect(r.stdout).toContain("/var/log/fleet-auth.log");
        const server = await mainPid("fail2ban");
        expect((await web().exec(`tr '\\0' ' ' < /proc/${server}/cmdline`)).stdout).toContain("/usr/bin/fail2ban-server -xf start");
        expect((await sh("systemctl stop fail2ban; systemctl is-active fail2ban; pgrep -c -f '^/usr/bin/python3 /usr/bin/fail2ban-server'")).stdout).toBe("inactive\n0");
    });

    test("nftables: restart loads /etc/nftables.conf into the host's network namespace only", async () => {
        const conf = "flush ruleset\ntable inet fleet_test {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    tcp dport 8090 drop\n  }\n}\n";
        const listener = await fleet.listen("web", 8090);
        expect(await fleet.probe("internet", web().address, 8090)).toBe("open");
        const r = await sh("cat > /etc/nftables.conf && systemctl restart nftables && systemctl is-active nftables && nft list tables", conf);
        expect(r).toMatchObject({ code: 0, stdout: "active\ntable inet fleet_test" });
        expect(await fleet.probe("internet", web().address, 8090)).toBe("filtered");
        expect(execFileSync("nft", ["list", "tables"], { encoding: "utf8" })).not.toContain("fleet_test");
        expect((await sh("systemctl stop nftables && nft list tables")).stdout).toBe("");
        expect(await fleet.probe("internet", web().address, 8090)).toBe("open");
        await listener.stop();
    });

    test("unit files: drop-ins, Environment/EnvironmentFile, $VAR and ${VAR}, specifiers, '-' prefix, oneshot with RemainAfterExit", async () => {
        const unit = `[Unit]
Description=fleet test oneshot
[Service]
Type=oneshot
RemainAfterExit=yes
Environment="GREETING=hello world" WORDS=one
EnvironmentFile=-/etc/default/fleet-test-missing
EnvironmentFile=/etc/default/fleet-test
ExecStartPre=-/bin/false
ExecStart=/bin/false
`;
        const dropin = `[Service]
ExecStart=
ExecStart=/usr/bin/printf '%%s|' \${GREETING} $WORDS "$MORE" %n %N %p
ExecStop=/bin/sh -c 'echo stopped >> /run/fleet-test-stops'
`;
        const r = await sh(
            `printf 'WORDS="two three"\\nMORE=in quotes\\n' > /etc/default/fleet-test
cat > /etc/systemd/system/fleet-test.service <<'EOF'
${unit}EOF
mkdir -p /etc/systemd/system/fleet-test.service.d
cat > /etc/systemd/system/fleet-test.service.d/override.conf <<'EOF'
${dropin}EOF
systemctl start fleet-test && systemctl is-active fleet-test && systemctl stop fleet-test && systemctl is-active fleet-test; cat /run/fleet-test-stops`,
        );
        expect(r.stdout).toBe("active\ninactive\nstopped");
        // EnvironmentFile= overrides Environment=; "$MORE" is a word of its own, so it is split.
        expect(web().unitLog("fleet-test")).toBe("hello world|two|three|in|quotes|fleet-test.service|fleet-test|fleet-test|");
    });

    test("Type=notify waits for READY=1 (from the main process unless NotifyAccess=all), times out without it; is-active notices a dead main process", async () => {
        // READY=1 sent by python: exec'd by the main shell (the main process itself), or as its child.
        const send = `python3 -c 'import os, socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])'`;
        const file = (p: string, text: string) => `cat > ${p} <<'EOF'\n${text}EOF\n`;
        const notifyUnit = (name: string, script: string, extra: string) =>
            file(`/etc/systemd/system/${name}.service`, `[Service]\nType=notify\n${extra}ExecStart=/bin/sh /usr/local/lib/${script}\n`);
        const units =
            file("/usr/local/lib/fleet-main-ready.sh", `sleep 0.3\nexec ${send.slice(0, -1)}; os.execv("/bin/sleep", ["sleep", "600"])'\n`) +
            file("/usr/local/lib/fleet-child-ready.sh", `${send}\nexec sleep 600\n`) +
            notifyUnit("fleet-ready", "fleet-main-ready.sh", "") +
            notifyUnit("fleet-child", "fleet-child-ready.sh", "NotifyAccess=all\n") +
            notifyUnit("fleet-never", "fleet-child-ready.sh", "TimeoutStartSec=1\n");
        const ready = await sh(`${units}\nsystemctl start fleet-ready fleet-child && systemctl is-active fleet-ready fleet-child`);
        expect(ready).toMatchObject({ code: 0, stdout: "active\nactive" });
        // READY=1 from a child with the default NotifyAccess=main is ignored, as by systemd.
        const never = await sh("systemctl start fleet-never");
        expect(never.code).toBe(1);
        expect(never.stderr).toContain("Job for fleet-never.service failed because a timeout was exceeded.");
        expect((await sh("systemctl is-active fleet-never; pgrep -c -x sleep")).stdout).toBe("failed\n2");
        await web().exec(`kill ${await mainPid("fleet-ready")}`);
        const dead = await sh("sleep 0.2; systemctl is-active fleet-ready");
        expect(dead).toMatchObject({ code: 3, stdout: "failed" });
        expect((await sh("systemctl start fleet-ready && systemctl is-active fleet-ready")).stdout).toBe("active");
    });

    test("TimeoutStartSec=0 is no timeout (K3s's unit has it); a timer is only marked active, and never fires", async () => {
        const slow = await sh(`cat > /usr/local/lib/fleet-slow-ready.sh <<'EOF'
sleep 1.5
exec python3 -c 'import os, socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", os.environ["NOTIFY_SOCKET"]); os.execv("/bin/sleep", ["sleep", "600"])'
EOF
printf '[Service]\nType=notify\nTimeoutStartSec=0\nExecStart=/bin/sh /usr/local/lib/fleet-slow-ready.sh\n' > /etc/systemd/system/fleet-slow.service
systemctl start fleet-slow && systemctl is-active fleet-slow && systemctl stop fleet-slow`);
        expect(slow).toMatchObject({ code: 0, stdout: "active" });
        const timer = await sh("systemctl start apt-daily.timer; systemctl is-active apt-daily.timer apt-daily.service; systemctl stop apt-daily.timer; systemctl is-active apt-daily.timer");
        expect(timer.stdout).toBe("active\ninactive\ninactive");
    });

    test("unknown units and reloads of inactive units fail like systemctl; every call is still recorded", async () => {
        web().root.clearSystemctlCalls();
        const missing = await sh("systemctl restart no-such-unit");
        expect(missing).toMatchObject({ code: 5, stderr: "Failed to restart no-such-unit.service: Unit no-such-unit.service not found." });
        const inactive = await sh("systemctl reload nginx");
        expect(inactive).toMatchObject({ code: 1, stderr: "nginx.service is not active, cannot reload." });
        expect(web().root.systemctlCalls()).toEqual(["systemctl restart no-such-unit", "systemctl reload nginx"]);
    });
});
