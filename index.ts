/**
 * private-faas: hardened K3s + OpenFaaS on rented EU servers.
 * Validates the whole configuration before registering anything, then builds the layers.
 */
import { loadStackConfig } from "./components/config";

const config = loadStackConfig();

export const nodeNames = config.nodes.map((n) => n.name);
