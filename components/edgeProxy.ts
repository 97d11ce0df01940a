/**
 * The strangler-fig edge: nginx on the edge host (usually beside the monolith), installed and
 * configured over SSH with the configuration components/nginxConfig.ts renders. scripts/edge-deploy.sh
 * tests a new configuration before it goes live, reloads without dropping connections and keeps the
 * previous file, so a bad configuration never takes a working edge down.
 *
 * Destroying the component leaves nginx and its last configuration in place: removing the edge from
 * the stack must not cut the monolith's traffic.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { SshConfig, StackConfig } from "./config";
import { sshConnection } from "./connection";
import { hostCommand } from "./hostCommand";
import { edgeSettings, renderNginxConfig } from "./nginxConfig";

export interface EdgeProxyArgs {
    /** Address of the edge host, reached over SSH. */
    host: string;
    /** SSH port of the edge host. */
    sshPort: number;
    /** Pinned SSH host key of the edge host; without it the host key is not checked. */
    hostKey?: string;
    /** Provider key of the location catalogue, or "other" (read by the residency policy). */
    provider?: string;
    /** Region key of the location catalogue (read by the residency policy). */
    region?: string;
    /** ISO 3166-1 alpha-2 country, with provider "other" (read by the residency policy). */
    country?: string;
    /** SSH user and key of the stack. */
    ssh: SshConfig;
    /** The complete nginx.conf to install (renderNginxConfig). */
    nginxConfig: string;
}

export class EdgeProxy extends pulumi.ComponentResource {
    /** SHA-256 of the installed nginx.conf: compare with `npm run edge:render | sha256sum`. */
    readonly nginxConfigSha256: string;
    /** What the deploy script reported (installed and reloaded, or unchanged). */
    readonly deployOutput: pulumi.Output<string>;

    constructor(name: string, args: EdgeProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        const nginxConfigSha256 = createHash("sha256").update(args.nginxConfig).digest("hex");
        // Everything but the SSH credentials: the engine records a component's inputs.
        const recorded = {
            host: args.host,
            sshPort: args.sshPort,
            hostKey: args.hostKey,
            provider: args.provider,
            region: args.region,
            country: args.country,
            nginxConfigSha256,
        };
        super("private-faas:edge:EdgeProxy", name, recorded, opts);

        const deploy = new command.remote.Command(
            `${name}-deploy`,
            {
                connection: sshConnection({ host: args.host, port: args.sshPort, hostKey: args.hostKey }, args.ssh),
                create: hostCommand("edge-deploy.sh"),
                // The configuration is not secret; stdin carries it because it can outgrow a command line.
                // A changed configuration changes this input, which runs the script again.
                stdin: args.nginxConfig,
            },
            { parent: this },
        );

        this.nginxConfigSha256 = nginxConfigSha256;
        this.deployOutput = deploy.stdout;
        this.registerOutputs({ ...recorded, deployOutput: deploy.stdout });
    }
}

/** The EdgeProxy of a stack that configures `private-faas:edge`. */
export function edgeProxyArgs(stack: StackConfig): EdgeProxyArgs {
    const edge = stack.edge;
    if (!edge) throw new Error("the stack configures no edge (private-faas:edge)");
    return {
        host: edge.host,
        sshPort: edge.sshPort,
        hostKey: edge.hostKey,
        provider: edge.provider,
        region: edge.region,
        country: edge.country,
        ssh: stack.ssh,
        nginxConfig: renderNginxConfig(edgeSettings(stack)),
    };
}
