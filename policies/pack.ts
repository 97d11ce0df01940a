/**
 * The policies of the pack, in the order of the project's contract. A function rather than a
 * constant: the policies share a memory of what the engine showed them during one run (see
 * facts.ts), so every run (a pack process, an offline plan, a test) starts with a fresh set.
 */
import { Observations } from "./facts";
import { cloudActPolicy, residencyPolicy } from "./residency";
import { minSizePolicy, nvmePolicy } from "./nodes";
import { quorumPolicy, secretsEncryptionPolicy, versionPinnedPolicy } from "./k3s";
import { sshKeyOnlyPolicy } from "./ssh";
import { adminNotPublicPolicy, ceLimitsPolicy } from "./openfaas";
import { PackPolicy } from "./settings";

export const PACK_NAME = "private-faas";

export function makePolicies(): PackPolicy[] {
    const observations = new Observations();
    return [
        residencyPolicy(observations),
        nvmePolicy(observations),
        cloudActPolicy(observations),
        versionPinnedPolicy(observations),
        quorumPolicy(observations),
        sshKeyOnlyPolicy(),
        secretsEncryptionPolicy(observations),
        adminNotPublicPolicy(observations),
        ceLimitsPolicy(observations),
        minSizePolicy(observations),
    ];
}
