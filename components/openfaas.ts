/**
 * OpenFaaS (CE or Pro) on the cluster: its two namespaces with Pod Security labels, the gateway's
 * credentials (owned by this program, exported as a secret), the Pro licence Secret, the `openfaas`
 * Helm release and the NetworkPolicies of both namespaces (NATS's own is in AsyncQueue).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ClusterAccess, kubernetesOptions } from "./clusterAccess";
import { OpenFaasConfig } from "./config";
import { createNetworkPolicy, openfaasNetworkPolicies } from "./networkPolicies";
import {
    BASIC_AUTH_SECRET,
    FUNCTION_NAMESPACE,
    GATEWAY_USER,
    LICENSE_SECRET,
    LICENSE_SECRET_KEY,
    OPENFAAS_NAMESPACE,
    openfaasValues,
    podSecurityLabels,
} from "./openfaasValues";
import { TimeoutChain } from "./timeouts";
import { OPENFAAS_CHART_REPO, OPENFAAS_CHART_VERSION } from "./versions";

export interface OpenFaasArgs {
    /** The validated `openfaas` configuration: edition, licence key (secret), replicas, queue, max duration. */
    openfaas: OpenFaasConfig;
    /** The timeout chain of `openfaas.maxDurationSeconds`. */
    chain: TimeoutChain;
    /** Exact K3s release; pins the version of the Pod Security Admission policy. */
    k3sVersion: string;
    /** Provider and readiness of the cluster. */
    cluster: ClusterAccess;
}

export class OpenFaas extends pulumi.ComponentResource {
    /** The `openfaas` namespace (control plane). */
    readonly namespace: k8s.core.v1.Namespace;
    /** The `openfaas-fn` namespace (functions). */
    readonly functionNamespace: k8s.core.v1.Namespace;
    /** The chart release; NATS, the gateway and the Function CRD exist once it is ready. */
    readonly release: k8s.helm.v3.Release;
    /** The gateway's admin password (secret). */
    readonly gatewayPassword: pulumi.Output<string>;

    constructor(name: string, args: OpenFaasArgs, opts?: pulumi.ComponentResourceOptions) {
        const facts = {
            edition: args.openfaas.edition,
            chart: "openfaas",
            chartVersion: OPENFAAS_CHART_VERSION,
            gatewayReplicas: args.openfaas.gatewayReplicas,
            gatewayServiceType: "ClusterIP",
            maxDurationSeconds: args.openfaas.maxDurationSeconds,
        };
        super("private-faas:platform:OpenFaas", name, facts, opts);
        const k8sOpts = (...deps: pulumi.Resource[]) => kubernetesOptions(this, args.cluster, deps);

        // Baseline is what the chart's pods allow: the CE NATS, queue-worker, Prometheus and alertmanager
        // pods and faas-netes's function pods carry no restricted-level securityContext. Everything short
        // of restricted is still reported (warn/audit).
        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: OPENFAAS_NAMESPACE,
                    labels: { role: "openfaas-system", access: "openfaas-system", ...podSecurityLabels("baseline", args.k3sVersion) },
                },
            },
            k8sOpts(),
        );
        this.functionNamespace = new k8s.core.v1.Namespace(
            `${name}-function-namespace`,
            {
                metadata: { name: FUNCTION_NAMESPACE, labels: { role: "openfaas-fn", ...podSecurityLabels("baseline", args.k3sVersion) } },
            },
            k8sOpts(),
        );

        const password = new random.RandomPassword(`${name}-gateway-password`, { length: 32, special: false }, { parent: this });
        // Secret by itself (the provider marks `result` secret); wrapped again so that no copy of it
        // depends on that.
        this.gatewayPassword = pulumi.secret(password.result);
        const basicAuth = new k8s.core.v1.Secret(
            `${name}-basic-auth`,
            {
                metadata: { name: BASIC_AUTH_SECRET, namespace: OPENFAAS_NAMESPACE },
                type: "Opaque",
                stringData: { "basic-auth-user": GATEWAY_USER, "basic-auth-password": this.gatewayPassword },
            },
            k8sOpts(this.namespace),
        );
        const secrets: pulumi.Resource[] = [basicAuth];
        if (args.openfaas.edition === "pro") {
            if (args.openfaas.licenseKey === undefined) throw new Error("OpenFaas: edition pro needs openfaas.licenseKey (config validation lets none through)");
            secrets.push(
                new k8s.core.v1.Secret(
                    `${name}-license`,
                    {
                        metadata: { name: LICENSE_SECRET, namespace: OPENFAAS_NAMESPACE },
                        type: "Opaque",
                        stringData: { [LICENSE_SECRET_KEY]: pulumi.secret(args.openfaas.licenseKey) },
                    },
                    k8sOpts(this.namespace),
                ),
            );
        }

        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: "openfaas",
                chart: "openfaas",
                version: OPENFAAS_CHART_VERSION,
                repositoryOpts: { repo: OPENFAAS_CHART_REPO },
                namespace: OPENFAAS_NAMESPACE,
                values: openfaasValues(args.openfaas, args.chain),
                timeout: 900,
                maxHistory: 10,
                cleanupOnFail: true,
            },
            k8sOpts(this.namespace, this.functionNamespace, ...secrets),
        );

        for (const policy of openfaasNetworkPolicies()) {
            const ns = policy.namespace === FUNCTION_NAMESPACE ? this.functionNamespace : this.namespace;
            createNetworkPolicy(`${name}-netpol`, policy, k8sOpts(ns));
        }

        this.registerOutputs({ ...facts, namespace: OPENFAAS_NAMESPACE, functionNamespace: FUNCTION_NAMESPACE, gatewayPassword: this.gatewayPassword });
    }
}
