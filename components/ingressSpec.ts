/**
 * The gateway's ingress as data: which paths are public, the admin allow-list, and where the TLS
 * certificate comes from. Shapes follow docs/architecture.md (policies read them):
 *
 *   Ingress gateway-public  /function/NAME and /async-function/NAME (every function, or the allow-list)
 *   Ingress gateway-admin   /system/ and /ui/, annotation traefik.ingress.kubernetes.io/router.middlewares
 *                           naming the Middleware admin-allowlist (spec.ipAllowList.sourceRange = adminCidrs);
 *                           absent when there are no admin CIDRs
 *
 * The gateway authenticates only /system/; whatever reaches /function/NAME runs NAME.
 */
import * as k8s from "@pulumi/kubernetes";
import { StackConfig } from "./config";
import { GATEWAY_PORT, GATEWAY_SERVICE, OPENFAAS_NAMESPACE } from "./openfaasValues";

/** Secret holding the gateway's certificate (cert-manager writes it). */
export const GATEWAY_TLS_SECRET = "gateway-tls";
/** Traefik Middleware restricting the admin paths to the admin CIDRs. */
export const ADMIN_MIDDLEWARE = "admin-allowlist";
/** K3s's Traefik IngressClass. */
export const INGRESS_CLASS = "traefik";
export const MIDDLEWARES_ANNOTATION = "traefik.ingress.kubernetes.io/router.middlewares";

export type TlsMode = "letsencrypt" | "self-signed" | "traefik-default";

/** Let's Encrypt with a host and an ACME e-mail; a self-signed certificate for the host; else Traefik's own. */
export function tlsMode(config: StackConfig): TlsMode {
    if (config.ingress.host === undefined) return "traefik-default";
    return config.ingress.acmeEmail !== undefined ? "letsencrypt" : "self-signed";
}

/**
 * Functions reachable from the internet: undefined means every function; otherwise the allow-list
 * plus every function an edge route sends traffic to (the edge reaches the gateway through this ingress).
 */
export function publicFunctionNames(config: StackConfig): string[] | undefined {
    if (config.ingress.publicFunctions === undefined) return undefined;
    const names = new Set([...config.ingress.publicFunctions, ...(config.edge?.routes ?? []).map((r) => r.function)]);
    return [...names].sort();
}

function prefixPaths(paths: string[]): k8s.types.input.networking.v1.HTTPIngressPath[] {
    return paths.map((path) => ({
        path,
        pathType: "Prefix",
        backend: { service: { name: GATEWAY_SERVICE, port: { number: GATEWAY_PORT } } },
    }));
}

function ingressSpec(config: StackConfig, paths: string[]): k8s.types.input.networking.v1.IngressSpec {
    const host = config.ingress.host;
    return {
        ingressClassName: INGRESS_CLASS,
        ...(host !== undefined ? { tls: [{ hosts: [host], secretName: GATEWAY_TLS_SECRET }] } : {}),
        rules: [{ ...(host !== undefined ? { host } : {}), http: { paths: prefixPaths(paths) } }],
    };
}

/** HTTPS only: the routers live on the websecure entry point (web redirects there). */
const TLS_ANNOTATIONS = {
    "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
    "traefik.ingress.kubernetes.io/router.tls": "true",
};

export interface IngressDefinition {
    name: string;
    annotations: Record<string, string>;
    spec: k8s.types.input.networking.v1.IngressSpec;
}

/** The public function paths, or undefined when the allow-list is empty (nothing public). */
export function publicIngress(config: StackConfig): IngressDefinition | undefined {
    const names = publicFunctionNames(config);
    if (names !== undefined && names.length === 0) return undefined;
    const paths = names === undefined ? ["/function/", "/async-function/"] : names.flatMap((n) => [`/function/${n}`, `/async-function/${n}`]);
    return { name: "gateway-public", annotations: { ...TLS_ANNOTATIONS }, spec: ingressSpec(config, paths) };
}

/** Traefik's name for a Middleware CRD: NAMESPACE-NAME@kubernetescrd. */
export function middlewareReference(namespace: string, name: string): string {
    return `${namespace}-${name}@kubernetescrd`;
}

/** The admin paths behind the IP allow-list, or undefined when no admin CIDR is configured (not exposed). */
export function adminIngress(config: StackConfig): IngressDefinition | undefined {
    if (config.adminCidrs.length === 0) return undefined;
    return {
        name: "gateway-admin",
        annotations: { ...TLS_ANNOTATIONS, [MIDDLEWARES_ANNOTATION]: middlewareReference(OPENFAAS_NAMESPACE, ADMIN_MIDDLEWARE) },
        spec: ingressSpec(config, ["/system/", "/ui/"]),
    };
}

/** Spec of the admin allow-list Middleware (traefik.io/v1alpha1). */
export function adminMiddlewareSpec(adminCidrs: string[]) {
    return { ipAllowList: { sourceRange: [...adminCidrs] } };
}

export const LETSENCRYPT_SERVERS = {
    production: "https://acme-v02.api.letsencrypt.org/directory",
    staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

export interface IssuerDefinition {
    name: string;
    spec: Record<string, unknown>;
}

/** The ClusterIssuer: Let's Encrypt over HTTP-01 through Traefik, or a self-signed issuer. */
export function clusterIssuer(config: StackConfig): IssuerDefinition {
    const email = config.ingress.acmeEmail;
    if (email === undefined) return { name: "selfsigned", spec: { selfSigned: {} } };
    const env = config.ingress.acmeEnvironment;
    return {
        name: `letsencrypt-${env}`,
        spec: {
            acme: {
                server: LETSENCRYPT_SERVERS[env],
                email,
                privateKeySecretRef: { name: `letsencrypt-${env}-account-key` },
                solvers: [{ http01: { ingress: { ingressClassName: INGRESS_CLASS } } }],
            },
        },
    };
}

/** Spec of the gateway's Certificate (cert-manager.io/v1) for HOST from ISSUER. */
export function certificateSpec(host: string, issuer: string) {
    return {
        secretName: GATEWAY_TLS_SECRET,
        dnsNames: [host],
        issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: issuer },
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
    };
}

/** The subset of the cert-manager chart's values we set. */
export interface CertManagerValues {
    crds: { enabled: true; keep: true };
}

/** cert-manager installs its CRDs, and keeps them when the release goes (deleting them deletes every certificate). */
export function certManagerValues(): CertManagerValues {
    return { crds: { enabled: true, keep: true } };
}
