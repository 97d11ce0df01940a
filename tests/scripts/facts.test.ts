import * as os from "os";
import { Sandbox } from "../harness/sandbox";
import { describeInSandbox, runTwice, scriptCommand } from "../helpers/hostScripts";
import { parseHostFacts } from "../../components/vpsNode";

const env = (overrides: Record<string, string | number> = {}) => ({
    NODE_NAME: "n1",
    DECLARED_VCPU: 1,
    DECLARED_MEMORY_GB: 1,
    MEMORY_TOLERANCE_PERCENT: 12,
    ...overrides,
});

describeInSandbox("scripts/facts.sh in a throwaway root", () => {
    let box: Sandbox;
    beforeEach(() => (box = Sandbox.create("vpsnode-facts")));
    afterEach(() => box.destroy());

    test("reports this machine as it is, twice, and changes nothing", () => {
        const runs = runTwice(box, scriptCommand("facts.sh", env()));
        expect(runs.first.stderr).toBe("");
        expect(runs.first.code).toBe(0);
        expect(runs.second.stdout).toBe(runs.first.stdout);
        expect(runs.changed).toEqual({});
        expect(runs.afterSecond).toEqual(runs.afterFirst);
        const facts = parseHostFacts("n1", runs.first.stdout);
        expect(facts.os).toMatchObject({ id: "debian", versionId: "12" });
        expect(facts.kernel).toBe(os.release());
        expect(facts.arch).toBe(process.arch === "x64" ? "x86_64" : "aarch64");
        expect(facts.vcpus).toBe(os.availableParallelism());
        expect(facts.memoryKiB).toBe(Math.floor(os.totalmem() / 1024));
        expect(facts.disks.length).toBeGreaterThan(0);
        for (const d of facts.disks) {
            expect(d.sizeBytes).toBeGreaterThan(0);
            expect(typeof d.rotational).toBe("boolean");
        }
    });

    test("the declared size is what the host has (memory within the tolerance): passes", () => {
        const gib = os.totalmem() / 1024 ** 3;
        // declared one tenth above what MemTotal shows, as for an "8 GB" VPS showing 7.3 GiB
        const r = box.runCommandText(scriptCommand("facts.sh", env({ DECLARED_VCPU: os.availableParallelism(), DECLARED_MEMORY_GB: (gib * 1.1).toFixed(2) })));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
    });

    test("fewer vCPUs than declared: stops, naming both numbers", () => {
        const cpus = os.availableParallelism();
        const r = box.runCommandText(scriptCommand("facts.sh", env({ DECLARED_VCPU: cpus + 62 })));
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe(`facts (n1): the host has ${cpus} vCPU(s); the configuration declares vcpu: ${cpus + 62}. Declare what the host has, or resize it.\n`);
    });

    test("less memory than declared, beyond the tolerance: stops, naming measured and needed GiB", () => {
        const gib = os.totalmem() / 1024 ** 3;
        const declared = Math.ceil(gib * 1.2);
        const r = box.runCommandText(scriptCommand("facts.sh", env({ DECLARED_MEMORY_GB: declared })));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(
            `facts (n1): the host has ${(Math.floor(os.totalmem() / 1024) / 1048576).toFixed(2)} GiB of memory (MemTotal); the configuration declares memoryGb: ${declared}, which needs at least ${((declared * 88) / 100).toFixed(2)} GiB`,
        );
    });

    test.each([
        ["Ubuntu 20.04", 'ID=ubuntu\nVERSION_ID="20.04"\nPRETTY_NAME="Ubuntu 20.04.6 LTS"\n', 'unsupported OS: Ubuntu 20.04.6 LTS (ID=ubuntu VERSION_ID=20.04)'],
        ["Debian 11", 'ID=debian\nVERSION_ID="11"\nPRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\n', "unsupported OS: Debian GNU/Linux 11 (bullseye) (ID=debian VERSION_ID=11)"],
        ["Debian testing", 'ID=debian\nPRETTY_NAME="Debian GNU/Linux trixie/sid"\n', "unsupported OS: Debian GNU/Linux trixie/sid (ID=debian VERSION_ID=none)"],
        ["Rocky Linux 9", 'ID="rocky"\nVERSION_ID="9.4"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n', "unsupported OS: Rocky Linux 9.4 (Blue Onyx) (ID=rocky VERSION_ID=9.4)"],
    ])("an unsupported OS (%s) stops before anything else", (_label, osRelease, message) => {
        const fake = box.run(["/bin/bash", "-c", 'rm -f /etc/os-release && cat > /etc/os-release'], { stdin: osRelease });
        expect(fake.code).toBe(0);
        const r = box.runCommandText(scriptCommand("facts.sh", env()));
        expect(r.code).toBe(1);
        expect(r.stderr).toBe(`facts (n1): ${message}; supported: debian 12, debian 13, ubuntu 22.04, ubuntu 24.04\n`);
    });

    test.each([
        ["Debian 13", 'ID=debian\nVERSION_ID="13"\nPRETTY_NAME="Debian GNU/Linux 13 (trixie)"\n'],
        ["Ubuntu 22.04", 'ID=ubuntu\nVERSION_ID="22.04"\nPRETTY_NAME="Ubuntu 22.04.5 LTS"\n'],
        ["Ubuntu 24.04", 'ID=ubuntu\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04.3 LTS"\n'],
    ])("a supported OS (%s) passes and is reported", (_label, osRelease) => {
        box.run(["/bin/bash", "-c", 'rm -f /etc/os-release && cat > /etc/os-release'], { stdin: osRelease });
        const r = box.runCommandText(scriptCommand("facts.sh", env()));
        expect(r.code).toBe(0);
        expect(parseHostFacts("n1", r.stdout).os.prettyName).toBe(/PRETTY_NAME="(.*)"/.exec(osRelease)![1]);
    });
});
