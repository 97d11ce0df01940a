/**
 * scripts/openfaas-function.sh run for real in a throwaway root, as the OpenFaasFunction component
 * renders it (the same environment, the password on stdin), against the stand-in in
 * tests/harness/fakes/kubectl: a port-forward that serves a small OpenFaaS gateway with basic auth.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../components/config";
import { functionDeployment } from "../components/functionSpec";
import { renderHostCommand, SCRIPTS_DIR } from "../components/hostCommand";
import { FUNCTION_NAMESPACE, GATEWAY_USER, OPENFAAS_NAMESPACE } from "../components/openfaasValues";
import { timeoutChain } from "../components/timeouts";
import { Sandbox, sandboxSupport } from "./harness/sandbox";

const support = sandboxSupport();
if (!support.ok) console.log(`openfaas-function.sh sandbox tests not run: ${support.reason}`);
const maybe = support.ok ? describe : describe.skip;

const PASSWORD = 'pw-"quoted"\\and-long-0123456789';
const FAKE_MOUNT = "/mnt/pf-fake-gateway";
const SCRIPT = fs.readFileSync(path.join(SCRIPTS_DIR, "openfaas-function.sh"), "utf8");

function functionConfig(image: string) {
    const c = parseStackConfig({
        nodes: [{ name: "s1", role: "server", host: "192.0.2.10", provider: "coolvds", region: "oslo", storage: "nvme", vcpu: 4, memoryGb: 8 }],
        ssh: { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----" },
        k3s: { version: "v1.35.6+k3s1" },
        openfaas: { functions: { resize: { image, labels: { "com.openfaas.scale.max": "3" }, environment: { MODE: "fast" } } } },
    });
    return c.openfaas.functions.resize;
}

/** The command text the component renders for ACTION on the function resize with IMAGE. */
function commandText(action: "apply" | "delete", image: string, extra: Record<string, string> = {}): string {
    const d = functionDeployment("resize", FUNCTION_NAMESPACE, functionConfig(image), timeoutChain(300));
    const env: Record<string, string> = {
        FUNCTION_NAME: "resize",
        FUNCTION_NAMESPACE,
        GATEWAY_NAMESPACE: OPENFAAS_NAMESPACE,
        GATEWAY_USER,
        ACTION: action,
        KUBECTL: `${FAKE_MOUNT}/kubectl`,
        ...(action === "apply" ? { FUNCTION_JSON: d.json, SPEC_SHA256: d.hash } : {}),
        ...extra,
    };
    return renderHostCommand(SCRIPT, env, "private-faas/openfaas-function.sh");
}

maybe("openfaas-function.sh against a gateway behind kubectl port-forward", () => {
    let box: Sandbox;
    let fake: string;
    const run = (text: string, stdin = `${PASSWORD}\n`) => box.runCommandText(text, { stdin, binds: { [fake]: FAKE_MOUNT }, timeoutMs: 60000 });
    const requests = () => {
        const log = path.join(box.dir, "state", "fake-gateway", "requests.log");
        const lines = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
        fs.rmSync(log, { force: true });
        return lines.map((l) => l.replace(/\?.*$/, ""));
    };
    const functions = () => {
        const file = path.join(box.dir, "state", "fake-gateway", "functions.json");
        return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
    };

    beforeAll(() => {
        box = Sandbox.create("openfaas-fn");
        fake = fs.mkdtempSync(path.join(os.tmpdir(), "pf-fake-gateway-"));
        fs.copyFileSync(path.join(__dirname, "harness", "fakes", "kubectl"), path.join(fake, "kubectl"));
        fs.chmodSync(path.join(fake, "kubectl"), 0o755);
        fs.writeFileSync(path.join(fake, "password"), PASSWORD + "\n");
    });
    afterAll(() => {
        box.destroy();
        fs.rmSync(fake, { recursive: true, force: true });
    });

    test("apply creates the function, a second apply changes nothing on the host or the gateway", () => {
        const first = run(commandText("apply", "ghcr.io/example/resize:1.0"));
        expect(first.stderr).toBe("");
        expect(first).toMatchObject({ code: 0, stdout: "function resize: created\n" });
        expect(requests()).toEqual(["GET /system/function/resize", "POST /system/functions"]);
        const after1 = box.snapshot();
        const stored = functions().resize;
        expect(stored).toMatchObject({ service: "resize", image: "ghcr.io/example/resize:1.0", namespace: "openfaas-fn" });
        expect(stored.envVars).toEqual({ MODE: "fast", exec_timeout: "300s", read_timeout: "301s", write_timeout: "301s" });

        const second = run(commandText("apply", "ghcr.io/example/resize:1.0"));
        expect(second).toMatchObject({ code: 0, stdout: "function resize: unchanged\n" });
        expect(requests()).toEqual(["GET /system/function/resize"]);
        expect(box.snapshot()).toEqual(after1);
        expect(functions().resize).toEqual(stored);
    });

    test("a changed spec is updated with PUT", () => {
        const r = run(commandText("apply", "ghcr.io/example/resize:1.1"));
        expect(r).toMatchObject({ code: 0, stdout: "function resize: updated\n" });
        expect(requests()).toEqual(["GET /system/function/resize", "PUT /system/functions"]);
        expect(functions().resize.image).toBe("ghcr.io/example/resize:1.1");
    });

    test("the password never reaches a command line or a file left behind", () => {
        const processes = path.join(box.dir, "state", "fake-gateway", "processes.log");
        fs.rmSync(processes, { force: true });
        // The script's working directory in /tmp is gone once it has run.
        const r = run(`(${commandText("apply", "ghcr.io/example/resize:1.1")}) && echo "left in /tmp: [$(ls -A /tmp)]"`);
        expect(r.code).toBe(0);
        expect(r.stdout).toBe("function resize: unchanged\nleft in /tmp: []\n");
        expect(requests()).toEqual(["GET /system/function/resize"]);
        // Taken by the gateway while the script's curl was waiting for the answer.
        const seen = fs.readFileSync(processes, "utf8");
        expect(seen).toMatch(/^curl .*--config \/tmp\/tmp\.\w+\/curlrc/m);
        expect(seen).not.toContain("quoted");
    });

    test("delete removes it, a second delete succeeds as already absent", () => {
        const first = run(commandText("delete", "ghcr.io/example/resize:1.1"));
        expect(first).toMatchObject({ code: 0, stdout: "function resize: deleted\n" });
        expect(functions()).toEqual({});
        const second = run(commandText("delete", "ghcr.io/example/resize:1.1"));
        expect(second).toMatchObject({ code: 0, stdout: "function resize: already absent\n" });
        expect(requests()).toEqual(["DELETE /system/functions", "DELETE /system/functions"]);
    });

    test("a wrong password fails loudly with the gateway's answer", () => {
        const r = run(commandText("apply", "ghcr.io/example/resize:1.0"), "not-the-password\n");
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/GET \/system\/function\/resize answered HTTP 401: Unauthorized/);
        requests();
    });

    test("no password on stdin, or a bad action, is refused before anything is called", () => {
        expect(run(commandText("apply", "ghcr.io/example/resize:1.0"), "").stderr).toMatch(/no gateway password on standard input/);
        expect(run(commandText("apply", "x", { ACTION: "upsert" })).stderr).toMatch(/ACTION must be apply or delete, got 'upsert'/);
        expect(requests()).toEqual([]);
    });

    test("a gateway that does not come up ends in an error naming kubectl's complaint", () => {
        fs.writeFileSync(path.join(fake, "down"), "");
        try {
            const r = run(commandText("apply", "ghcr.io/example/resize:1.0", { PORT_FORWARD_TIMEOUT: "8" }));
            expect(r.code).toBe(1);
            expect(r.stderr).toMatch(/no tunnel to svc\/gateway in namespace openfaas within 8s: error: unable to forward port because pod is not running/);
        } finally {
            fs.rmSync(path.join(fake, "down"));
        }
    });
});
