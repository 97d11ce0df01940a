/**
 * private-faas: hardened K3s + OpenFaaS on rented EU servers.
 * Validates the whole configuration before registering anything, then builds the layers.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./components/config";
import { K3sCluster } from "./components/k3sCluster";

const config = loadStackConfig();

export const nodeNames = config.nodes.map((n) => n.name);

// Per node name, what the node's K3s install waits for: its VpsNode (facts, disk check, hardening).
const nodeReady: Record<string, pulumi.Resource> = {};
const cluster = new K3sCluster("k3s", { nodes: config.nodes, k3s: config.k3s, ssh: config.ssh, nodeReady });

/** Admin kubeconfig of the cluster (secret): `pulumi stack output --show-secrets kubeconfig`. */
export const kubeconfig = cluster.kubeconfig;
