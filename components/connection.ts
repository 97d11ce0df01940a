/**
 * The SSH connection every remote command of a host uses: the stack's key (a secret), the pinned host
 * key when one is configured, and dial limits that outlast a slow first boot.
 */
import * as command from "@pulumi/command";
import { SshConfig } from "./config";

export interface SshTarget {
    host: string;
    port: number;
    hostKey?: string;
}

export function sshConnection(target: SshTarget, ssh: SshConfig): command.types.input.remote.ConnectionArgs {
    return {
        host: target.host,
        port: target.port,
        user: ssh.user,
        privateKey: ssh.privateKey,
        ...(ssh.password !== undefined ? { password: ssh.password } : {}),
        ...(target.hostKey !== undefined ? { hostKey: target.hostKey } : {}),
        dialErrorLimit: ssh.dialErrorLimit,
        perDialTimeout: ssh.perDialTimeoutSeconds,
    };
}
