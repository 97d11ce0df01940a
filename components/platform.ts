/**
 * The platform layer on top of the cluster: OpenFaaS, its async queue, the ingress and the declared
 * functions. `buildPlatform` is what index.ts calls with the cluster's provider and readiness; the
 * notices it logs (licence terms, queue durability, TLS, exposure) show in `pulumi preview` and in the
 * offline plan.
 */
import * as pulumi from "@pulumi/pulumi";
import { AsyncQueue } from "./asyncQueue";
import { ClusterAccess } from "./clusterAccess";
import { StackConfig } from "./config";
import { sshConnection } from "./connection";
import { Ingress } from "./ingress";
import { publicFunctionNames, tlsMode } from "./ingressSpec";
import { OpenFaas } from "./openfaas";
import { OpenFaasFunction } from "./openfaasFunction";
import { goDuration, timeoutChain } from "./timeouts";

export type { ClusterAccess } from "./clusterAccess";

export interface Notice {
    severity: "info" | "warning";
    message: string;
}

/** CE's licence terms and technical limits, as the OpenFaaS EULA and faas-netes CE enforce them. */
export const CE_TERMS =
    "OpenFaaS Community Edition (openfaas.edition: ce). Licence (OpenFaaS CE EULA): commercial use is limited to " +
    "one installation per company for at most 60 days, and CE must not be installed for a client; a company running " +
    "it in production needs OpenFaaS Pro (openfaas.edition: pro with a licence key). Technical limits enforced by CE: " +
    "at most 15 functions, at most 5 replicas per function (com.openfaas.scale.max <= 5, no scale to zero), " +
    "public container images only, one function namespace (openfaas-fn).";

/** What an operator must know about this configuration before applying it. Pure: tested directly. */
export function platformNotices(config: StackConfig): Notice[] {
    const notices: Notice[] = [];
    const of = config.openfaas;
    const chain = timeoutChain(of.maxDurationSeconds);
    if (of.edition === "ce") {
        notices.push({ severity: "warning", message: CE_TERMS });
        notices.push({
            severity: "warning",
            message:
                `Async queue (CE): NATS Streaming keeps queued calls in memory only; calls accepted with 202 but not yet ` +
                `run are lost when the NATS pod restarts or moves. No retries. ${of.queue.parallelism} queue-worker ` +
                `replica(s), one call in flight each; ackWait ${goDuration(chain.queueAckWait)}. For a durable queue with ` +
                `retries use OpenFaaS Pro (JetStream).`,
        });
    } else {
        notices.push({
            severity: "info",
            message:
                `OpenFaaS Pro: licence key in Secret openfaas-license; JetStream queue-worker (maxInflight ${of.queue.parallelism}` +
                `${of.queue.retries ? `, ${of.queue.retries.attempts} attempts on HTTP ${of.queue.retries.httpCodes.join(",")}` : ", chart's default retries"}); ` +
                `autoscaler; Function custom resources through the operator.`,
        });
        if (of.queue.dedicated.length > 0) {
            notices.push({
                severity: "warning",
                message: `Dedicated queues (${of.queue.dedicated.map((q) => q.name).join(", ")}) use the queue-worker chart, which needs an OpenFaaS for Enterprises licence.`,
            });
        }
    }

    const host = config.ingress.host;
    switch (tlsMode(config)) {
        case "letsencrypt":
            notices.push({
                severity: config.ingress.acmeEnvironment === "staging" ? "warning" : "info",
                message:
                    `TLS: Let's Encrypt ${config.ingress.acmeEnvironment} certificate for ${host} (HTTP-01 through Traefik)` +
                    (config.ingress.acmeEnvironment === "staging" ? "; staging certificates are not trusted by browsers or clients." : "."),
            });
            break;
        case "self-signed":
            notices.push({ severity: "warning", message: `TLS: self-signed certificate for ${host} (no ingress.acmeEmail); clients must trust it explicitly.` });
            break;
        case "traefik-default":
            notices.push({
                severity: "warning",
                message: "TLS: no ingress.host, so HTTPS uses Traefik's built-in self-signed default certificate; set ingress.host and ingress.acmeEmail for a trusted one.",
            });
            break;
    }

    const names = publicFunctionNames(config);
    notices.push({
        severity: "info",
        message:
            (names === undefined
                ? "Public: every function (/function/*, /async-function/*)"
                : names.length === 0
                  ? "Public: no function (ingress.publicFunctions is empty and no edge route names one)"
                  : `Public: the functions ${names.join(", ")} (/function/NAME, /async-function/NAME)`) +
            ". The gateway does not authenticate function calls: a public function can be called by anyone.",
    });
    notices.push(
        config.adminCidrs.length === 0
            ? { severity: "warning", message: "Admin API and UI (/system/, /ui/) are not exposed at all: private-faas:adminCidrs is empty. Use kubectl port-forward to svc/gateway." }
            : { severity: "info", message: `Admin API and UI (/system/, /ui/) only from ${config.adminCidrs.join(", ")} (Traefik IP allow-list).` },
    );
    return notices;
}

export interface Platform {
    openfaas: OpenFaas;
    queue: AsyncQueue;
    ingress: Ingress;
    functions: OpenFaasFunction[];
    /** The gateway's admin password (secret): export it as a stack output. */
    gatewayPassword: pulumi.Output<string>;
    /** https://HOST when ingress.host is set. */
    gatewayUrl?: string;
}

/** Builds the platform layer on CLUSTER for CONFIG. */
export function buildPlatform(config: StackConfig, cluster: ClusterAccess): Platform {
    for (const n of platformNotices(config)) {
        if (n.severity === "warning") pulumi.log.warn(n.message);
        else pulumi.log.info(n.message);
    }
    const chain = timeoutChain(config.openfaas.maxDurationSeconds);
    const openfaas = new OpenFaas("openfaas", { openfaas: config.openfaas, chain, k3sVersion: config.k3s.version, cluster });
    const queue = new AsyncQueue("openfaas-queue", { openfaas: config.openfaas, chain, cluster, openfaasRelease: openfaas.release });
    const ingress = new Ingress("ingress", { config, chain, cluster, gatewayNamespace: openfaas.namespace });

    // CE deploys through the gateway's API from the first server (kubectl port-forward to the gateway).
    const firstServer = config.nodes.find((n) => n.role === "server")!;
    const connection = config.openfaas.edition === "ce" ? sshConnection({ host: firstServer.host, port: firstServer.sshPort, hostKey: firstServer.hostKey }, config.ssh) : undefined;
    const functions = Object.entries(config.openfaas.functions).map(
        ([name, fn]) =>
            new OpenFaasFunction(`fn-${name}`, {
                name,
                function: fn,
                edition: config.openfaas.edition,
                chain,
                cluster,
                openfaasRelease: openfaas.release,
                connection,
                gatewayPassword: config.openfaas.edition === "ce" ? openfaas.gatewayPassword : undefined,
            }),
    );
    return { openfaas, queue, ingress, functions, gatewayPassword: openfaas.gatewayPassword, gatewayUrl: ingress.gatewayUrl };
}
