import { Sandbox } from "../harness/sandbox";
import { describeInSandbox, runTwice, scriptCommand } from "../helpers/hostScripts";
import { parseDiskCheck } from "../../components/vpsNode";

const env = (overrides: Record<string, string | number> = {}) => ({
    NODE_NAME: "n1",
    MAX_P99_MS: 10,
    LIMIT_KEY: "private-faas:k3s.diskCheck.serverMaxP99Ms",
    K3S_DATA_DIR: "/var/lib/rancher/k3s",
    ...overrides,
});

describeInSandbox("scripts/disk-check.sh in a throwaway root", () => {
    let box: Sandbox;
    beforeEach(() => (box = Sandbox.create("vpsnode-disk")));
    afterEach(() => box.destroy());

    test("measures the fdatasync p99 below the data directory's nearest parent, twice, and leaves nothing behind", () => {
        const runs = runTwice(box, scriptCommand("disk-check.sh", env()));
        expect(runs.first.stderr).toBe("");
        expect(runs.first.code).toBe(0);
        expect(runs.second.code).toBe(0);
        const report = parseDiskCheck("n1", runs.first.stdout);
        // /var/lib/rancher does not exist here: the check measures /var/lib, creating nothing there
        expect(report).toMatchObject({ dataDir: "/var/lib/rancher/k3s", testedDir: "/var/lib", limitMs: 10, filesystem: { source: "overlay", fstype: "overlay" } });
        // the sandbox's overlay is not a block device: nothing to say about rotation
        expect(report.rotational).toBeNull();
        // 22 MiB in 2300-byte writes, one fdatasync each
        expect(report.fdatasyncs).toBe(Math.floor((22 * 1024 * 1024) / 2300));
        expect(report.fsyncP99Ms).toBeGreaterThan(0);
        expect(report.fsyncP99Ms).toBeLessThan(10);
        // the test file and its directory are gone; /var/lib itself is only listed as touched
        expect(Object.keys(runs.changed).filter((p) => !/^\/var(\/lib)?$/.test(p))).toEqual([]);
        expect(runs.afterSecond).toEqual(runs.afterFirst);
    });

    test("measures the data directory itself once it exists", () => {
        box.run(["/bin/mkdir", "-p", "/var/lib/rancher/k3s"]);
        const r = box.runCommandText(scriptCommand("disk-check.sh", env()));
        expect(r.code).toBe(0);
        expect(parseDiskCheck("n1", r.stdout).testedDir).toBe("/var/lib/rancher/k3s");
        expect(box.run(["/bin/ls", "-A", "/var/lib/rancher/k3s"]).stdout).toBe("");
    });

    test("a p99 above the limit stops the node with measured value, limit and the key to change", () => {
        const r = box.runCommandText(scriptCommand("disk-check.sh", env({ MAX_P99_MS: 0.000001 })));
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(
            /^disk check \(n1\): fdatasync p99 is \d+\.\d{6} ms on \/var\/lib \(overlay, overlay\), above the limit of 0\.000001 ms \(private-faas:k3s\.diskCheck\.serverMaxP99Ms\)\. etcd needs/,
        );
        // cleaned up on failure too
        expect(box.run(["/bin/bash", "-c", "ls -A /var/lib | grep -c private-faas-disk-check || true"]).stdout.trim()).toBe("0");
    });
});
