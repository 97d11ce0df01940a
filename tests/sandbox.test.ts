import { Sandbox, sandboxSupport } from "./harness/sandbox";
import { renderHostCommand } from "../components/hostCommand";

const support = sandboxSupport();
if (!support.ok) console.log(`sandbox tests not run: ${support.reason}`);
const maybe = support.ok ? describe : describe.skip;

maybe("throwaway root", () => {
    let box: Sandbox;
    beforeAll(() => (box = Sandbox.create("selftest")));
    afterAll(() => box.destroy());

    test("writes land in the upper layer, not on this machine", () => {
        const r = box.run(["/bin/bash", "-c", "echo hi > /etc/pf-sandbox-selftest && systemctl enable --now demo"]);
        expect(r.code).toBe(0);
        expect(box.readFile("/etc/pf-sandbox-selftest")).toBe("hi\n");
        expect(require("fs").existsSync("/etc/pf-sandbox-selftest")).toBe(false);
        expect(box.systemctlCalls()).toEqual(["systemctl enable --now demo"]);
        expect(box.snapshot()["/etc/pf-sandbox-selftest"]).toMatch(/^file 644 0:0 /);
    });

    test("kernel settings are read-only and the network is its own", () => {
        const r = box.run(["/bin/bash", "-c", "echo 1 > /proc/sys/vm/overcommit_memory; ip -o link | wc -l"]);
        expect(r.stderr).toMatch(/Read-only file system/);
        expect(r.stdout.trim()).toBe("1");
    });

    test("a rendered host command runs as sshd would run it, with stdin", () => {
        const text = renderHostCommand('read -r secret; echo "$GREETING ${#secret}"', { GREETING: "it's" }, "selftest");
        const r = box.runCommandText(text, { stdin: "abcd\n" });
        expect(r).toMatchObject({ code: 0, stdout: "it's 4\n" });
    });
});
