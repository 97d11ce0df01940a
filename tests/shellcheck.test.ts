import { execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { REPO_ROOT } from "./harness/sandbox";

/** Every shell script of the repository: tracked or new, *.sh, stand-ins and CI entry points. */
function shellScripts(): string[] {
    const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8" })
        .split("\n")
        .filter((f) => f.endsWith(".sh") || f.startsWith("tests/harness/standins/") || f === ".ci/run");
    return [...new Set(listed)].filter((f) => require("fs").existsSync(path.join(REPO_ROOT, f))).sort();
}

const scripts = shellScripts();
const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0;

test("shellcheck is installed (tools/install-test-deps.sh)", () => {
    expect(hasShellcheck).toBe(true);
});

test.each(scripts)("shellcheck %s", (file) => {
    const r = spawnSync("shellcheck", ["--severity=style", "--external-sources", file], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
});
