/**
 * Values for K3s's bundled Traefik (chart traefik 39.x, Traefik v3), given to it through a
 * HelmChartConfig: K3s merges them over its own values for the `traefik` HelmChart in kube-system.
 * The type lists exactly the values we set, spelled as in the chart's values.yaml
 * (tests/data/traefik-v3.values-paths).
 */
import { isIP } from "net";
import { goDuration, TimeoutChain } from "./timeouts";

/** An address as a one-host CIDR block. */
function asHostCidr(address: string): string {
    return `${address}/${isIP(address) === 6 ? 128 : 32}`;
}

interface RespondingTimeouts {
    readTimeout: string;
    writeTimeout: string;
    idleTimeout: string;
}

export interface TraefikValues {
    /** One Traefik per ingress node: with externalTrafficPolicy Local every ingress node needs its own. */
    deployment: { kind: "DaemonSet" };
    affinity: {
        nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: { matchExpressions: { key: string; operator: "In"; values: string[] }[] }[];
            };
        };
    };
    /** Keep the client's source address (ServiceLB would otherwise SNAT it), so the admin allow-list sees it. */
    service: { spec: { externalTrafficPolicy: "Local" } };
    providers: { kubernetesIngress: { strictPrefixMatching: true } };
    ports: {
        web: {
            redirections: { entryPoint: { to: "websecure"; scheme: "https"; permanent: true } };
            transport: { respondingTimeouts: RespondingTimeouts };
        };
        websecure: {
            transport: { respondingTimeouts: RespondingTimeouts };
            /** Proxies whose X-Forwarded-For Traefik keeps (the edge), so functions see the client's address. */
            forwardedHeaders?: { trustedIPs: string[] };
        };
    };
    logs: { access: { enabled: true; format: "json" } };
}

/**
 * Traefik values: entry-point timeouts from the chain (Traefik's read timeout defaults to 60 s, which
 * would cut every longer call), HTTP→HTTPS redirect, JSON access log, and Ingress prefix matching as
 * the Kubernetes spec defines it (path elements: `/function/a` does not match `/function/ab`, which
 * the public-function allow-list relies on). TRUSTED_PROXIES (the edge's address) may set
 * X-Forwarded-For; the admin allow-list still judges the connection's own source address.
 */
export function traefikValues(chain: TimeoutChain, ingressNodeNames: string[], trustedProxies: string[] = []): TraefikValues {
    const respondingTimeouts: RespondingTimeouts = {
        readTimeout: goDuration(chain.traefikReadWrite),
        writeTimeout: goDuration(chain.traefikReadWrite),
        idleTimeout: goDuration(chain.traefikIdle),
    };
    return {
        deployment: { kind: "DaemonSet" },
        affinity: {
            nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [...ingressNodeNames].sort() }] }],
                },
            },
        },
        service: { spec: { externalTrafficPolicy: "Local" } },
        providers: { kubernetesIngress: { strictPrefixMatching: true } },
        ports: {
            web: {
                redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } },
                transport: { respondingTimeouts },
            },
            websecure: {
                transport: { respondingTimeouts },
                ...(trustedProxies.length > 0 ? { forwardedHeaders: { trustedIPs: trustedProxies.map(asHostCidr) } } : {}),
            },
        },
        logs: { access: { enabled: true, format: "json" } },
    };
}
