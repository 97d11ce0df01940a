/** A validated StackConfig from a small raw configuration, for tests of pure functions. */
import { parseStackConfig, StackConfig } from "../../components/config";

export const TEST_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n-----END OPENSSH PRIVATE KEY-----";

/** Two agents (the ingress nodes) and one server, CE; OVERRIDES replaces top-level keys. */
export function stackConfig(overrides: Record<string, unknown> = {}): StackConfig {
    const node = (name: string, role: string, host: string) => ({ name, role, host, provider: "hetzner", region: "fsn1", storage: "nvme", vcpu: 4, memoryGb: 8 });
    return parseStackConfig({
        nodes: [node("s1", "server", "192.0.2.10"), node("a1", "agent", "192.0.2.11"), node("a2", "agent", "192.0.2.12")],
        ssh: { privateKey: TEST_KEY },
        k3s: { version: "v1.35.6+k3s1" },
        ...overrides,
    });
}

/** Pro with a licence and OPENFAAS merged into the openfaas key. */
export function proConfig(openfaas: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}): StackConfig {
    return stackConfig({ openfaas: { edition: "pro", licenseKey: "licence-not-real", ...openfaas }, ...overrides });
}
