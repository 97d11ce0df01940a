/**
 * One function of `openfaas.functions`. Pro: an `openfaas.com/v1` Function custom resource that the
 * operator reconciles. CE has no operator or CRD: the function is deployed through the gateway's REST
 * API by scripts/openfaas-function.sh on a K3s server (create/update upsert it, delete removes it);
 * the gateway password reaches the script on stdin.
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAccess, kubernetesOptions } from "./clusterAccess";
import { FunctionConfig } from "./config";
import { functionDeployment, functionEnvironment, functionResourceSpec } from "./functionSpec";
import { hostCommand } from "./hostCommand";
import { FUNCTION_NAMESPACE, GATEWAY_USER, OPENFAAS_NAMESPACE } from "./openfaasValues";
import { TimeoutChain } from "./timeouts";

export interface OpenFaasFunctionArgs {
    /** Function name (a DNS-1123 label): the path /function/NAME. */
    name: string;
    /** The function's configuration: image, labels, annotations, environment, limits, requests. */
    function: FunctionConfig;
    /** OpenFaaS edition: "pro" deploys a Function custom resource, "ce" goes through the gateway's API. */
    edition: "ce" | "pro";
    /** The timeout chain; the watchdog timeouts come from it. */
    chain: TimeoutChain;
    /** Provider and readiness of the cluster. */
    cluster: ClusterAccess;
    /** What the function waits for: the `openfaas` release (the gateway, the CRD). */
    openfaasRelease: pulumi.Resource;
    /** CE: SSH connection to a K3s server, where the script reaches the gateway with kubectl port-forward. */
    connection?: command.types.input.remote.ConnectionArgs;
    /** CE: the gateway's admin password (secret). */
    gatewayPassword?: pulumi.Input<string>;
}

export class OpenFaasFunction extends pulumi.ComponentResource {
    constructor(name: string, args: OpenFaasFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
        const fn = args.function;
        // What policies read (openfaas-ce-limits): name, image, labels, annotations.
        const facts = {
            name: args.name,
            image: fn.image,
            labels: fn.labels,
            annotations: fn.annotations,
            environment: functionEnvironment(fn, args.chain),
            namespace: FUNCTION_NAMESPACE,
            edition: args.edition,
        };
        super("private-faas:platform:OpenFaasFunction", name, facts, opts);

        if (args.edition === "pro") {
            new k8s.apiextensions.CustomResource(
                `${name}-function`,
                {
                    apiVersion: "openfaas.com/v1",
                    kind: "Function",
                    metadata: { name: args.name, namespace: FUNCTION_NAMESPACE },
                    spec: functionResourceSpec(args.name, fn, args.chain),
                },
                kubernetesOptions(this, args.cluster, [args.openfaasRelease]),
            );
        } else {
            if (args.connection === undefined || args.gatewayPassword === undefined) {
                throw new Error(`OpenFaasFunction ${args.name}: edition ce needs a connection to a server and the gateway password`);
            }
            const deployment = functionDeployment(args.name, FUNCTION_NAMESPACE, fn, args.chain);
            const env = {
                FUNCTION_NAME: args.name,
                FUNCTION_NAMESPACE,
                GATEWAY_NAMESPACE: OPENFAAS_NAMESPACE,
                GATEWAY_USER,
            };
            const apply = hostCommand("openfaas-function.sh", { ...env, ACTION: "apply", FUNCTION_JSON: deployment.json, SPEC_SHA256: deployment.hash });
            new command.remote.Command(
                `${name}-deploy`,
                {
                    connection: args.connection,
                    create: apply,
                    update: apply,
                    delete: hostCommand("openfaas-function.sh", { ...env, ACTION: "delete" }),
                    stdin: pulumi.secret(pulumi.interpolate`${args.gatewayPassword}\n`),
                    logging: "stdoutAndStderr",
                },
                { parent: this, dependsOn: [args.cluster.ready, args.openfaasRelease] },
            );
        }

        this.registerOutputs(facts);
    }
}
