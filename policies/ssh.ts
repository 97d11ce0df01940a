/**
 * ssh-key-auth-only: no remote connection (@pulumi/command remote.Command, remote.CopyToRemote, or
 * their bastion proxy) authenticates with a password. The connection is a secret input of those
 * resources; policies see it unwrapped, and a password is never repeated in a message.
 */
import type { ReportViolation, ResourceValidationArgs } from "@pulumi/policy";
import { asRecord, known, Props, TYPES } from "./facts";
import { PackPolicy } from "./settings";

export const SSH_KEY_ONLY = "ssh-key-auth-only";

const KINDS: Record<string, string> = {
    [TYPES.remoteCommand]: "remote command",
    [TYPES.copyToRemote]: "file copy",
};

/** A password is set when the key is there with anything but an empty value (an unknown one counts). */
function hasPassword(connection: Props): boolean {
    if (!Object.prototype.hasOwnProperty.call(connection, "password")) return false;
    const value = known(() => connection.password);
    return value !== null && value !== "";
}

function target(connection: Props): string {
    const host = known(() => connection.host);
    const user = known(() => connection.user);
    const port = known(() => connection.port);
    return `${typeof user === "string" ? `${user}@` : ""}${typeof host === "string" ? host : "(unknown host)"}${typeof port === "number" && port !== 22 ? `:${port}` : ""}`;
}

export function passwordProblem(kind: string, name: string, connection: Props): string | undefined {
    const proxy = asRecord(known(() => connection.proxy));
    const via: string[] = [];
    if (hasPassword(connection)) via.push(`logs in to ${target(connection)} with a password`);
    if (proxy && hasPassword(proxy)) via.push(`reaches it through the bastion ${target(proxy)} with a password`);
    if (via.length === 0) return undefined;
    return `${kind} ${name} ${via.join(" and ")}: a password can be guessed, phished or reused, and the hosts' hardening turns SSH ` +
        `password login off (${SSH_KEY_ONLY}). Remove private-faas:ssh.password and authenticate with private-faas:ssh.privateKey ` +
        "(pulumi config set --secret --path ssh.privateKey < KEYFILE).";
}

export function sshKeyOnlyPolicy(): PackPolicy {
    return {
        name: SSH_KEY_ONLY,
        displayName: "SSH keys only",
        description: "No remote connection (remote.Command, remote.CopyToRemote, or their bastion) uses a password.",
        enforcementLevel: "mandatory",
        severity: "high",
        tags: ["security", "ssh"],
        remediationSteps: "Delete private-faas:ssh.password and set private-faas:ssh.privateKey (a secret); install the public key on every host first.",
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            const kind = KINDS[args.type];
            if (kind === undefined) return;
            const connection = asRecord(known(() => args.props.connection));
            if (connection === undefined) return;
            const problem = passwordProblem(kind, args.name, connection);
            if (problem) report(problem);
        },
    };
}
