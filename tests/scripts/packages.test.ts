import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Sandbox } from "../harness/sandbox";
import { describeInSandbox, runTwice, scriptCommand } from "../helpers/hostScripts";
import { HOST_PACKAGES } from "../../components/vpsNode";

/** A stand-in apt-get that records its calls (the sandbox has no network, and apt must not run when nothing is missing). */
function fakeAptDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vpsnode-fakeapt-"));
    fs.writeFileSync(path.join(dir, "apt-get"), '#!/bin/sh\necho "apt-get $*" >> /run/standin/apt-get.log\n', { mode: 0o755 });
    return dir;
}
const PATH = "/mnt/fakeapt:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

describeInSandbox("scripts/packages.sh in a throwaway root", () => {
    let box: Sandbox;
    let apt: string;
    beforeEach(() => {
        box = Sandbox.create("vpsnode-packages");
        apt = fakeAptDir();
    });
    afterEach(() => {
        box.destroy();
        fs.rmSync(apt, { recursive: true, force: true });
    });
    const aptCalls = () => {
        const log = path.join(box.dir, "state", "apt-get.log");
        return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    };

    test("with every package present (tools/install-test-deps.sh): apt is not touched, twice", () => {
        const runs = runTwice(box, scriptCommand("packages.sh", { PACKAGES: HOST_PACKAGES.join(" "), PATH }), { binds: { [apt]: "/mnt/fakeapt" } });
        expect(runs.first).toMatchObject({ code: 0, stdout: `packages: all present (${HOST_PACKAGES.join(" ")})\n` });
        expect(runs.second.stdout).toBe(runs.first.stdout);
        expect(aptCalls()).toEqual([]);
        expect(runs.changed).toEqual({});
    });

    test("a missing package: lists refreshed once, only the missing one installed, and its absence afterwards is an error", () => {
        const r = box.runCommandText(scriptCommand("packages.sh", { PACKAGES: "jq private-faas-no-such-package fio", PATH }), { binds: { [apt]: "/mnt/fakeapt" } });
        const opts = "-q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";
        expect(aptCalls()).toEqual([`apt-get ${opts} update`, `apt-get ${opts} install --no-install-recommends private-faas-no-such-package`]);
        expect(r.code).toBe(1);
        expect(r.stderr).toBe("packages: private-faas-no-such-package is still not installed after apt-get install\n");
    });
});
