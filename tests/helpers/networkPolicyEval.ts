/**
 * Decides whether a connection is admitted by a set of NetworkPolicies, with the semantics of the
 * Kubernetes API (ingress only): a pod selected by no policy admits everything; a selected pod admits
 * a connection that one rule of one selecting policy allows. Supports what our policies use: pod and
 * namespace selectors (matchLabels, matchExpressions In/NotIn/Exists/DoesNotExist) and TCP ports.
 */
import type { NetworkPolicyDefinition } from "../../components/networkPolicies";

export interface Pod {
    namespace: string;
    labels: Record<string, string>;
}

interface Selector {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export function selects(selector: Selector, labels: Record<string, string>): boolean {
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
    for (const e of selector.matchExpressions ?? []) {
        const has = e.key in labels;
        const ok =
            e.operator === "In" ? has && e.values!.includes(labels[e.key])
            : e.operator === "NotIn" ? !has || !e.values!.includes(labels[e.key])
            : e.operator === "Exists" ? has
            : e.operator === "DoesNotExist" ? !has
            : (() => { throw new Error(`operator ${e.operator}`); })();
        if (!ok) return false;
    }
    return true;
}

const namespaceLabels = (ns: string) => ({ "kubernetes.io/metadata.name": ns });

export function admits(policies: NetworkPolicyDefinition[], from: Pod, to: Pod, port: number): boolean {
    const selecting = policies.filter(
        (p) => p.namespace === to.namespace && selects(p.spec.podSelector as Selector, to.labels) && ((p.spec.policyTypes as string[] | undefined) ?? ["Ingress"]).includes("Ingress"),
    );
    if (selecting.length === 0) return true;
    return selecting.some((p) =>
        ((p.spec.ingress as any[]) ?? []).some((rule) => {
            const peers: any[] = rule.from ?? [];
            const peerOk =
                peers.length === 0 ||
                peers.some((peer) => {
                    if (peer.ipBlock) throw new Error("ipBlock peers are not evaluated");
                    const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, namespaceLabels(from.namespace)) : from.namespace === p.namespace;
                    const podOk = peer.podSelector ? selects(peer.podSelector, from.labels) : true;
                    return nsOk && podOk;
                });
            const ports: any[] = rule.ports ?? [];
            const portOk = ports.length === 0 || ports.some((pt) => (pt.protocol ?? "TCP") === "TCP" && pt.port === port);
            return peerOk && portOk;
        }),
    );
}
