/**
 * What the platform layer needs from the cluster layer (K3sCluster exposes both): the Kubernetes
 * provider built from the cluster's secret kubeconfig, and a resource that completes once the API and
 * every node are Ready. Every Kubernetes object of the platform goes through that provider and waits
 * for that resource.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface ClusterAccess {
    /** Kubernetes provider of the cluster (kubeconfig is a secret). */
    provider: k8s.Provider;
    /** Completes when the API server answers and every node is Ready. */
    ready: pulumi.Resource;
}

/** Options of a Kubernetes child: the cluster's provider, readiness and any further dependencies. */
export function kubernetesOptions(
    parent: pulumi.Resource,
    cluster: ClusterAccess,
    dependsOn: pulumi.Input<pulumi.Resource>[] = [],
): pulumi.CustomResourceOptions {
    return { parent, provider: cluster.provider, dependsOn: [cluster.ready, ...dependsOn] };
}
