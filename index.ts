/**
 * private-faas: hardened K3s + OpenFaaS on rented EU servers.
 * Validates the whole configuration before registering anything, then builds the layers.
 */
import { loadStackConfig } from "./components/config";
import { EdgeProxy, edgeProxyArgs } from "./components/edgeProxy";

const config = loadStackConfig();

export const nodeNames = config.nodes.map((n) => n.name);

// The strangler-fig edge in front of the monolith (private-faas:edge), when configured.
const edge = config.edge ? new EdgeProxy("edge", edgeProxyArgs(config)) : undefined;
export const edgeNginxConfigSha256 = edge?.nginxConfigSha256;
