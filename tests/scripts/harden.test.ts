import * as fs from "fs";
import { Sandbox } from "../harness/sandbox";
import { CHANGING_SYSTEMCTL, describeInSandbox, runTwice, scriptCommand } from "../helpers/hostScripts";

const HARDEN = scriptCommand("harden.sh", { SSH_PORT: 2222 });
const DROPIN = "/etc/ssh/sshd_config.d/01-private-faas.conf";
const KUBELET_SYSCTLS: Record<string, string> = {
    "vm.panic_on_oom": "0",
    "vm.overcommit_memory": "1",
    "kernel.panic": "10",
    "kernel.panic_on_oops": "1",
    "kernel.keys.root_maxkeys": "1000000",
    "kernel.keys.root_maxbytes": "25000000",
};

/** Effective sshd settings in the sandbox (what sshd would run with). */
function sshdEffective(box: Sandbox): Record<string, string> {
    const r = box.run(["/bin/bash", "-c", "mkdir -p /run/sshd && sshd -T"]);
    expect(r.code).toBe(0);
    return Object.fromEntries(r.stdout.trim().split("\n").map((l) => [l.split(" ")[0], l.slice(l.indexOf(" ") + 1)]));
}

describeInSandbox("scripts/harden.sh in a throwaway root", () => {
    let box: Sandbox;
    beforeEach(() => (box = Sandbox.create("vpsnode-harden")));
    afterEach(() => box.destroy());

    test("run twice: the first writes and reloads, the second changes and reloads nothing", () => {
        const runs = runTwice(box, HARDEN);
        expect(runs.first.code).toBe(0);
        expect(runs.first.stdout.split("\n").filter((l) => l.startsWith("harden: wrote"))).toEqual([
            "harden: wrote /etc/apt/apt.conf.d/21private-faas-auto-upgrades",
            `harden: wrote ${DROPIN}`,
            "harden: wrote /etc/fail2ban/jail.d/private-faas-sshd.local",
            "harden: wrote /etc/sysctl.d/90-kubelet.conf",
        ]);
        expect(Object.keys(runs.changed).filter((p) => runs.changed[p].startsWith("file")).sort()).toEqual([
            "/etc/apt/apt.conf.d/21private-faas-auto-upgrades",
            "/etc/fail2ban/jail.d/private-faas-sshd.local",
            DROPIN,
            "/etc/sysctl.d/90-kubelet.conf",
        ]);
        expect(runs.firstCalls.filter((c) => CHANGING_SYSTEMCTL.test(c))).toEqual([
            "systemctl enable apt-daily.timer",
            "systemctl start apt-daily.timer",
            "systemctl enable apt-daily-upgrade.timer",
            "systemctl start apt-daily-upgrade.timer",
            "systemctl try-reload-or-restart ssh.service",
            "systemctl enable fail2ban.service",
            "systemctl restart fail2ban.service",
        ]);

        expect(runs.second.code).toBe(0);
        expect(runs.second.stdout).toBe("harden: nothing to change\n");
        expect(runs.secondCalls.filter((c) => CHANGING_SYSTEMCTL.test(c))).toEqual([]);
        expect(runs.afterSecond).toEqual(runs.afterFirst);
    });

    test("SSH: sshd runs with public keys only, and root keeps key login", () => {
        expect(box.runCommandText(HARDEN).code).toBe(0);
        expect(sshdEffective(box)).toMatchObject({
            passwordauthentication: "no",
            kbdinteractiveauthentication: "no",
            permitemptypasswords: "no",
            pubkeyauthentication: "yes",
            authenticationmethods: "publickey",
            permitrootlogin: "without-password",
        });
    });

    test("SSH: a cloud-init drop-in that allows passwords loses against ours", () => {
        box.run(["/bin/bash", "-c", "cat > /etc/ssh/sshd_config.d/50-cloud-init.conf"], { stdin: "PasswordAuthentication yes\n" });
        expect(sshdEffective(box).passwordauthentication).toBe("yes");
        expect(box.runCommandText(HARDEN).code).toBe(0);
        expect(sshdEffective(box).passwordauthentication).toBe("no");
    });

    test("SSH: a password setting before sshd_config's Include cannot be overridden: refused, previous state restored, no reload", () => {
        box.run(["/bin/bash", "-c", "{ echo 'PasswordAuthentication yes'; cat /etc/ssh/sshd_config; } > /tmp/c && cat /tmp/c > /etc/ssh/sshd_config"]);
        const r = box.runCommandText(HARDEN);
        expect(r.code).toBe(1);
        expect(r.stderr).toBe(
            "harden: sshd would still run with: authenticationmethods=publickey kbdinteractiveauthentication=no passwordauthentication=yes (restored the previous state). Something in /etc/ssh/sshd_config sets these before its Include of sshd_config.d; remove it there.\n",
        );
        expect(box.readFile(DROPIN)).toBeUndefined();
        expect(box.systemctlCalls().filter((c) => /ssh/.test(c))).toEqual([]);
    });

    test("SSH: an outdated drop-in of ours is replaced and sshd reloaded once", () => {
        expect(box.runCommandText(HARDEN).code).toBe(0);
        box.run(["/bin/bash", "-c", `echo 'PasswordAuthentication yes' > ${DROPIN}`]);
        box.clearSystemctlCalls();
        const r = box.runCommandText(HARDEN);
        expect(r.stdout).toBe(`harden: wrote ${DROPIN}\nharden: sshd reloaded: public keys only\n`);
        expect(box.systemctlCalls().filter((c) => CHANGING_SYSTEMCTL.test(c))).toEqual(["systemctl try-reload-or-restart ssh.service"]);
    });

    test("fail2ban: the sshd jail reads the journal, matches sshd and sshd-session, bans on the SSH port", () => {
        expect(box.runCommandText(HARDEN).code).toBe(0);
        const r = box.run(["/bin/bash", "-c", "fail2ban-client -d 2>/dev/null | grep \"'sshd'\""]);
        const dump = r.stdout;
        expect(dump).toContain("['add', 'sshd', 'systemd']");
        expect(dump).toContain("['set', 'sshd', 'addjournalmatch', '_SYSTEMD_UNIT=ssh.service', '+', '_SYSTEMD_UNIT=sshd.service', '+', '_COMM=sshd', '+', '_COMM=sshd-session']");
        expect(dump).toMatch(/\['port', '2222'\]/);
        expect(dump).toContain("nftables-multiport");
        // the filter as configured recognises a failed login logged by OpenSSH >= 9.8's sshd-session
        const line = "2026-11-27T10:00:00 host sshd-session[123]: Invalid user admin from 192.0.2.5 port 4242";
        const regex = box.run(["/bin/bash", "-c", `printf '%s\\n' '${line}' > /tmp/l && fail2ban-regex /tmp/l 'sshd[_daemon="sshd(?:-session)?"]'`]);
        expect(regex.stdout).toMatch(/Lines: 1 lines, 0 ignored, 1 matched, 0 missed/);
    });

    test("automatic updates: apt's daily lists and unattended-upgrades are on", () => {
        expect(box.runCommandText(HARDEN).code).toBe(0);
        const r = box.run(["/bin/bash", "-c", "apt-config dump APT::Periodic::Update-Package-Lists APT::Periodic::Unattended-Upgrade"]);
        expect(r.stdout).toContain('APT::Periodic::Update-Package-Lists "1";');
        expect(r.stdout).toContain('APT::Periodic::Unattended-Upgrade "1";');
    });

    test("automatic updates: a later apt file that turns them off is reported", () => {
        box.run(["/bin/bash", "-c", "echo 'APT::Periodic::Unattended-Upgrade \"0\";' > /etc/apt/apt.conf.d/99local"]);
        const r = box.runCommandText(HARDEN);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/apt-config says APT::Periodic::Unattended-Upgrade is "0", not "1": a file in \/etc\/apt\/apt.conf.d that sorts after/);
    });

    test("kernel settings: written for every boot; read-only /proc/sys gives a loud warning naming what did not apply, and the run goes on", () => {
        const r = box.runCommandText(HARDEN);
        expect(r.code).toBe(0);
        expect(box.readFile("/etc/sysctl.d/90-kubelet.conf")).toBe(
            "# private-faas: kernel settings kubelet checks with protect-kernel-defaults (K3s CIS hardening guide).\n" +
                Object.entries(KUBELET_SYSCTLS).map(([k, v]) => `${k}=${v}\n`).join(""),
        );
        // what this machine has now decides which settings could not be applied
        const differing = Object.entries(KUBELET_SYSCTLS)
            .filter(([k, v]) => fs.readFileSync(`/proc/sys/${k.replace(/\./g, "/")}`, "utf8").trim() !== v)
            .map(([k, v]) => `${k}=${v}`);
        if (differing.length === 0) {
            expect(r.stderr).toBe("");
        } else {
            expect(r.stderr).toContain(`/etc/sysctl.d/90-kubelet.conf but NOT applied: ${differing.join(" ")}`);
            expect(r.stderr).toContain("K3s runs with protect-kernel-defaults and will refuse to start until these");
        }
    });
});
