/**
 * The CrossGuard policy pack of private-faas:
 *   pulumi preview --policy-pack policies [--policy-pack-config policy-config.json]
 * Only assembles: `new PolicyPack` starts the analyzer's gRPC server at once, so tests and the
 * offline plan (tools/policyEval.ts) import the policies from ./pack instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { makePolicies, PACK_NAME } from "./pack";

new PolicyPack(PACK_NAME, {
    description: "EU/EEA residency, NVMe nodes, pinned K3s, etcd quorum, SSH keys only, encrypted secrets, a private OpenFaaS admin API and the CE limits.",
    policies: makePolicies(),
});
