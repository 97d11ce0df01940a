/**
 * The way in: K3s's bundled Traefik configured through a HelmChartConfig (entry-point timeouts from
 * the chain, HTTP→HTTPS, access log, client source addresses kept), TLS (cert-manager with Let's
 * Encrypt or a self-signed issuer when a host is configured, Traefik's own default certificate
 * otherwise), and the gateway's Ingress objects: public function paths, and the admin paths behind an
 * IP allow-list Middleware. The strangler-fig edge reaches the gateway through this ingress too.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isIP } from "net";
import * as YAML from "yaml";
import { ClusterAccess, kubernetesOptions } from "./clusterAccess";
import { StackConfig } from "./config";
import {
    ADMIN_MIDDLEWARE,
    adminIngress,
    adminMiddlewareSpec,
    certificateSpec,
    certManagerValues,
    clusterIssuer,
    IngressDefinition,
    publicFunctionNames,
    publicIngress,
    tlsMode,
} from "./ingressSpec";
import { acmeSolverPolicy, createNetworkPolicy } from "./networkPolicies";
import { OPENFAAS_NAMESPACE, podSecurityLabels } from "./openfaasValues";
import { goDuration, TimeoutChain } from "./timeouts";
import { traefikValues } from "./traefikValues";
import { CERT_MANAGER_CHART_REPO, CERT_MANAGER_CHART_VERSION } from "./versions";

export interface IngressArgs {
    /** The validated stack configuration (ingress, adminCidrs, edge routes, nodes, K3s version). */
    config: StackConfig;
    /** The timeout chain of `openfaas.maxDurationSeconds`. */
    chain: TimeoutChain;
    /** Provider and readiness of the cluster. */
    cluster: ClusterAccess;
    /** The `openfaas` namespace: the Ingress objects, Middleware and Certificate live there. */
    gatewayNamespace: pulumi.Resource;
}

export const CERT_MANAGER_NAMESPACE = "cert-manager";

export class Ingress extends pulumi.ComponentResource {
    /** HTTPS URL of the gateway when a host is configured. */
    readonly gatewayUrl?: string;

    constructor(name: string, args: IngressArgs, opts?: pulumi.ComponentResourceOptions) {
        const { config, chain, cluster } = args;
        const ingressNodes = config.nodes.filter((n) => n.ingress).map((n) => n.name);
        const publicNames = publicFunctionNames(config);
        const facts = {
            host: config.ingress.host ?? null,
            tls: tlsMode(config),
            ingressNodes,
            publicFunctions: publicNames ?? "all",
            adminCidrs: config.adminCidrs,
            adminExposed: config.adminCidrs.length > 0,
            entryPointTimeout: goDuration(chain.traefikReadWrite),
        };
        super("private-faas:platform:Ingress", name, facts, opts);
        const k8sOpts = (...deps: pulumi.Resource[]) => kubernetesOptions(this, cluster, deps);
        this.gatewayUrl = config.ingress.host !== undefined ? `https://${config.ingress.host}` : undefined;

        new k8s.apiextensions.CustomResource(
            `${name}-traefik-config`,
            {
                apiVersion: "helm.cattle.io/v1",
                kind: "HelmChartConfig",
                metadata: { name: "traefik", namespace: "kube-system" },
                // No YAML anchors: the two entry points share one timeouts object.
                spec: { valuesContent: YAML.stringify(traefikValues(chain, ingressNodes, edgeProxies(config)), { aliasDuplicateObjects: false }) },
            },
            k8sOpts(),
        );

        const tlsDeps: pulumi.Resource[] = [];
        if (config.ingress.host !== undefined) {
            const certManagerNamespace = new k8s.core.v1.Namespace(
                `${name}-cert-manager-namespace`,
                { metadata: { name: CERT_MANAGER_NAMESPACE, labels: podSecurityLabels("restricted", config.k3s.version) } },
                k8sOpts(),
            );
            const certManager = new k8s.helm.v3.Release(
                `${name}-cert-manager`,
                {
                    name: "cert-manager",
                    chart: "cert-manager",
                    version: CERT_MANAGER_CHART_VERSION,
                    repositoryOpts: { repo: CERT_MANAGER_CHART_REPO },
                    namespace: CERT_MANAGER_NAMESPACE,
                    values: certManagerValues(),
                    timeout: 600,
                    maxHistory: 10,
                    cleanupOnFail: true,
                },
                k8sOpts(certManagerNamespace),
            );
            const issuer = clusterIssuer(config);
            const clusterIssuerResource = new k8s.apiextensions.CustomResource(
                `${name}-cluster-issuer`,
                { apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: issuer.name }, spec: issuer.spec },
                k8sOpts(certManager),
            );
            tlsDeps.push(
                new k8s.apiextensions.CustomResource(
                    `${name}-certificate`,
                    {
                        apiVersion: "cert-manager.io/v1",
                        kind: "Certificate",
                        metadata: { name: "gateway", namespace: OPENFAAS_NAMESPACE },
                        spec: certificateSpec(config.ingress.host, issuer.name),
                    },
                    k8sOpts(clusterIssuerResource, args.gatewayNamespace),
                ),
            );
            if (tlsMode(config) === "letsencrypt") {
                createNetworkPolicy(`${name}-netpol`, acmeSolverPolicy(OPENFAAS_NAMESPACE), k8sOpts(args.gatewayNamespace));
            }
        }

        const ingressObject = (suffix: string, def: IngressDefinition, deps: pulumi.Resource[]) =>
            new k8s.networking.v1.Ingress(
                `${name}-${suffix}`,
                { metadata: { name: def.name, namespace: OPENFAAS_NAMESPACE, annotations: def.annotations }, spec: def.spec },
                k8sOpts(args.gatewayNamespace, ...tlsDeps, ...deps),
            );

        const pub = publicIngress(config);
        if (pub !== undefined) ingressObject("public", pub, []);

        const admin = adminIngress(config);
        if (admin !== undefined) {
            const middleware = new k8s.apiextensions.CustomResource(
                `${name}-admin-allowlist`,
                {
                    apiVersion: "traefik.io/v1alpha1",
                    kind: "Middleware",
                    metadata: { name: ADMIN_MIDDLEWARE, namespace: OPENFAAS_NAMESPACE },
                    spec: adminMiddlewareSpec(config.adminCidrs),
                },
                k8sOpts(args.gatewayNamespace),
            );
            ingressObject("admin", admin, [middleware]);
        }

        this.registerOutputs({ ...facts, gatewayUrl: this.gatewayUrl ?? null });
    }
}

/**
 * The edge's address, when it is an IP: Traefik keeps the X-Forwarded-For it sets, so functions see
 * the client's address. An edge given by DNS name is not trusted (an address must not change under a
 * trust rule); functions then see the edge's address.
 */
function edgeProxies(config: StackConfig): string[] {
    const host = config.edge?.host;
    return host !== undefined && isIP(host) !== 0 ? [host] : [];
}
