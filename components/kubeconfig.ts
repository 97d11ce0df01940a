/**
 * The admin kubeconfig K3s writes on a server (/etc/rancher/k3s/k3s.yaml: one cluster, context and
 * user, all named "default", server https://127.0.0.1:6443), rewritten for use from outside: the API
 * address clients use, and names that say which cluster it is. Done on the parsed document, never by
 * replacing strings in the text. Pure: tested directly.
 */
import * as YAML from "yaml";

export interface KubeconfigRewrite {
    /** API URL clients use, e.g. https://k8s.example.eu:6443. */
    server: string;
    /** New name of the cluster, the context and the user (the stack's name). */
    name: string;
}

type Named = { name?: unknown; [k: string]: unknown };

function only(doc: Record<string, unknown>, key: string): Named {
    const list = doc[key];
    if (!Array.isArray(list) || list.length !== 1 || list[0] === null || typeof list[0] !== "object") {
        const count = Array.isArray(list) ? list.length : "no";
        throw new Error(`kubeconfig from K3s: expected exactly one entry in "${key}", found ${count}`);
    }
    return list[0] as Named;
}

function section(entry: Named, key: string, list: string): Record<string, unknown> {
    const value = entry[key];
    if (value === null || typeof value !== "object") throw new Error(`kubeconfig from K3s: ${list}[0] has no "${key}" section`);
    return value as Record<string, unknown>;
}

/** Returns the kubeconfig TEXT with its server address and names replaced (see KubeconfigRewrite). */
export function rewriteKubeconfig(text: string, rewrite: KubeconfigRewrite): string {
    const doc = YAML.parse(text) as unknown;
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
        throw new Error("kubeconfig from K3s: not a YAML mapping (is /etc/rancher/k3s/k3s.yaml complete?)");
    }
    const root = doc as Record<string, unknown>;
    if (root.kind !== "Config") throw new Error(`kubeconfig from K3s: kind is ${JSON.stringify(root.kind)}, expected "Config"`);

    const cluster = only(root, "clusters");
    const context = only(root, "contexts");
    const user = only(root, "users");
    section(cluster, "cluster", "clusters").server = rewrite.server;
    section(user, "user", "users");
    const ctx = section(context, "context", "contexts");
    cluster.name = rewrite.name;
    user.name = rewrite.name;
    context.name = rewrite.name;
    ctx.cluster = rewrite.name;
    ctx.user = rewrite.name;
    root["current-context"] = rewrite.name;
    return YAML.stringify(root, { lineWidth: 0 });
}
