/**
 * Runs a remote command the way @pulumi/command's remote.Command does (provider 1.x,
 * provider/pkg/provider/remote/commandOutputs.go), with the OpenSSH client from the operator's network
 * namespace:
 *
 * - one SSH session per command, the command text sent as the exec request (sshd runs it with the
 *   user's login shell, `-c`), no terminal, `stdin` written to the session and closed;
 * - key exchange limited to what the provider's Go client offers;
 * - the host key pinned when the connection has `hostKey` (a known_hosts file holding that one key,
 *   StrictHostKeyChecking=yes), not checked when it has none (the provider then accepts any key);
 * - authentication with `privateKey` only;
 * - `environment`: the provider sends each variable as an SSH "env" request (session.Setenv) and fails
 *   the command when sshd refuses one. OpenSSH sends the same requests (SetEnv) but does not report a
 *   refusal, so the variables' names are first checked against the host's effective AcceptEnv
 *   (`sshd -T`) and the command fails, with the provider's message, when one is not accepted;
 * - dial failures (refused, timed out, no banner) are retried up to `dialErrorLimit` times, each dial
 *   limited to `perDialTimeout` seconds;
 * - the result is the provider's: stdout and stderr each without one trailing newline; on a non-zero
 *   exit the error "Process exited with status N: running "COMMAND":" followed by the combined output.
 */
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** The inputs of a remote.Command's `connection` that the fleet supports. */
export interface SshConnection {
    host: string;
    port?: number;
    user?: string;
    privateKey?: string;
    hostKey?: string;
    password?: string;
    dialErrorLimit?: number;
    perDialTimeout?: number;
    proxy?: unknown;
    agentSocketPath?: string;
    privateKeyPassword?: string;
}

export interface SshRequest {
    connection: SshConnection;
    command: string;
    stdin?: string;
    /** Sent like the provider's `environment` (checked against the host's AcceptEnv). */
    environment?: Record<string, string>;
    /** Sent like the provider's PULUMI_COMMAND_STDOUT/STDERR: optimistically, dropped when refused. */
    optionalEnvironment?: Record<string, string>;
}

export interface SshResult {
    /** Exit status of the command (255 also when ssh itself failed). */
    code: number;
    /** As the provider stores it: one trailing newline removed. */
    stdout: string;
    stderr: string;
    /** stdout and stderr interleaved as they arrived. */
    combined: string;
    /** The provider's error message when the command failed. */
    error?: string;
}

const DIAL_FAILURE = /^(ssh: connect to host .* port \d+: (Connection refused|Connection timed out|No route to host|Network is unreachable)|kex_exchange_identification: .*|Connection closed by .* port \d+)\s*$/m;

/** The key exchanges golang.org/x/crypto/ssh offers by default (ML-KEM left out: OpenSSH 9.2 lacks it). */
const GO_KEX = "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group14-sha256";

/** ssh's own failures (as opposed to the command's exit status 255). */
const SSH_FAILURE = new RegExp(`${DIAL_FAILURE.source}|^Host key verification failed\\.|^[^\\n]*: Permission denied \\(|^Unable to negotiate with`, "m");

/** Quotes a value for ssh_config's SetEnv (argv_split: double quotes, backslash escapes). */
function setEnvWord(name: string, value: string): string {
    return `${name}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** OpenSSH's match_pattern: `*` and `?` wildcards. */
function matchPattern(name: string, pattern: string): boolean {
    const re = new RegExp("^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
    return re.test(name);
}

function trimOneNewline(text: string): string {
    return text.endsWith("\n") ? text.slice(0, -1) : text;
}

/** Go's %q for the strings we quote (JSON's escaping differs only in rare code points). */
function goQuote(text: string): string {
    return JSON.stringify(text);
}

export class SshClient {
    /**
     * @param netns network namespace the client runs in (the fleet's operator)
     * @param workDir private directory (mode 0700) for key and known_hosts files
     */
    constructor(
        readonly netns: string,
        readonly workDir: string,
    ) {
        fs.mkdirSync(workDir, { recursive: true, mode: 0o700 });
    }

    private file(kind: string, content: string, mode: number): string {
        const p = path.join(this.workDir, `${kind}-${crypto.createHash("sha256").update(content).digest("hex").slice(0, 16)}`);
        if (!fs.existsSync(p)) fs.writeFileSync(p, content, { mode });
        return p;
    }

    private baseArgs(c: SshConnection): string[] {
        if (c.password !== undefined) throw new Error("the fleet executor does not support password connections (the ssh-key-auth-only policy refuses them too)");
        if (c.proxy !== undefined) throw new Error("the fleet executor does not support connection.proxy");
        if (c.privateKey === undefined) throw new Error("the fleet executor needs connection.privateKey (agents and passwords are not supported)");
        if (c.privateKeyPassword !== undefined) throw new Error("the fleet executor does not support encrypted private keys");
        const port = c.port ?? 22;
        const key = this.file("key", c.privateKey.endsWith("\n") ? c.privateKey : c.privateKey + "\n", 0o600);
        const args = [
            "-F", "none",
            "-i", key,
            "-o", "IdentitiesOnly=yes",
            "-o", "IdentityAgent=none",
            "-o", "BatchMode=yes",
            "-o", "PreferredAuthentications=publickey",
            "-o", "RequestTTY=no",
            "-o", "ControlMaster=no",
            "-o", "ControlPath=none",
            "-o", "LogLevel=ERROR",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "UpdateHostKeys=no",
            "-o", "CheckHostIP=no",
            "-o", `ConnectTimeout=${c.perDialTimeout ?? 15}`,
            // What golang.org/x/crypto/ssh (the provider's client) offers, so that a server the
            // provider could not talk to refuses this client too.
            "-o", `KexAlgorithms=${GO_KEX}`,
        ];
        if (c.hostKey !== undefined) {
            const [type] = c.hostKey.trim().split(/\s+/);
            const hostField = port === 22 ? c.host : `[${c.host}]:${port}`;
            const knownHosts = this.file("known_hosts", `${hostField} ${c.hostKey.trim()}\n`, 0o600);
            const algorithms = type === "ssh-rsa" ? "rsa-sha2-512,rsa-sha2-256,ssh-rsa" : type;
            args.push("-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${knownHosts}`, "-o", `HostKeyAlgorithms=${algorithms}`);
        } else {
            args.push("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null");
        }
        args.push("-p", String(port), "-l", c.user ?? "root");
        return args;
    }

    /** One ssh process; retries dial failures. */
    private async exec(c: SshConnection, extra: string[], command: string, stdin: string | undefined): Promise<SshResult> {
        const limit = Math.max(1, c.dialErrorLimit ?? 10);
        for (let attempt = 1; ; attempt++) {
            const r = await this.spawnSsh([...this.baseArgs(c), ...extra, "--", c.host, command], stdin);
            if (r.code === 255 && DIAL_FAILURE.test(r.stderr) && attempt < limit) {
                await new Promise((res) => setTimeout(res, 1000));
                continue;
            }
            return r;
        }
    }

    private spawnSsh(args: string[], stdin: string | undefined): Promise<SshResult> {
        return new Promise((resolve, reject) => {
            const child = spawn("ip", ["netns", "exec", this.netns, "ssh", ...args], { stdio: ["pipe", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            let combined = "";
            child.stdout.setEncoding("utf8").on("data", (d: string) => {
                stdout += d;
                combined += d;
            });
            child.stderr.setEncoding("utf8").on("data", (d: string) => {
                stderr += d;
                combined += d;
            });
            child.on("error", reject);
            child.stdin.on("error", () => undefined); // the command may exit without reading stdin
            child.stdin.end(stdin ?? "");
            child.on("close", (code, sig) => {
                resolve({ code: code ?? (sig ? 255 : 1), stdout: trimOneNewline(stdout), stderr: trimOneNewline(stderr), combined });
            });
        });
    }

    /** The host's effective AcceptEnv patterns. */
    private async acceptedEnvironment(c: SshConnection): Promise<string[]> {
        const r = await this.exec(c, [], "sshd -T 2>/dev/null | sed -n 's/^acceptenv //p'", undefined);
        if (r.code !== 0) throw new Error(`could not read the AcceptEnv of ${c.host}: ${r.combined.trim()}`);
        return r.stdout.split(/\s+/).filter(Boolean);
    }

    async run(req: SshRequest): Promise<SshResult> {
        const extra: string[] = [];
        const env: Record<string, string> = {};
        const required = req.environment ?? {};
        if (Object.keys(required).length > 0) {
            const accepted = await this.acceptedEnvironment(req.connection);
            for (const name of Object.keys(required)) {
                if (!accepted.some((p) => matchPattern(name, p))) {
                    const message =
                        `could not set environment variable "${name}": ssh: setenv failed ` +
                        `(the provider's message: Unable to set '${name}'. This only works if your SSH server is configured to accept these variables via AcceptEnv; ` +
                        `${req.connection.host} accepts ${accepted.length > 0 ? accepted.join(" ") : "none"})`;
                    return { code: -1, stdout: "", stderr: "", combined: "", error: message };
                }
            }
            Object.assign(env, required);
        }
        Object.assign(env, req.optionalEnvironment ?? {});
        if (Object.keys(env).length > 0) {
            extra.push("-o", "SetEnv=" + Object.entries(env).map(([k, v]) => setEnvWord(k, v)).join(" "));
        }
        const r = await this.exec(req.connection, extra, req.command, req.stdin !== undefined && req.stdin.length > 0 ? req.stdin : undefined);
        if (r.code === 255 && SSH_FAILURE.test(r.stderr)) r.error = `failed to dial ${req.connection.host}: ${r.stderr.trim()}`;
        else if (r.code !== 0) r.error = `Process exited with status ${r.code}: running ${goQuote(req.command)}:\n${r.combined}`;
        return r;
    }
}
