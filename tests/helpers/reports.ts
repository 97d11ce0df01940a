/** What the host scripts print on a typical host, as tests feed it back to the program. */
import * as YAML from "yaml";
import type { DiskCheck, HostFacts } from "../../components/vpsNode";

export function sampleFacts(overrides: Partial<HostFacts> = {}): HostFacts {
    return {
        os: { id: "debian", versionId: "12", prettyName: "Debian GNU/Linux 12 (bookworm)" },
        kernel: "6.1.0-41-amd64",
        arch: "x86_64",
        vcpus: 4,
        memoryKiB: 8136632,
        disks: [{ name: "vda", sizeBytes: 171798691840, rotational: true, transport: null }],
        ...overrides,
    };
}

export function sampleDiskCheck(overrides: Partial<DiskCheck> = {}): DiskCheck {
    return {
        dataDir: "/var/lib/rancher/k3s",
        testedDir: "/var/lib",
        filesystem: { source: "/dev/vda1", fstype: "ext4" },
        rotational: true,
        fsyncP99Ms: 1.234,
        limitMs: 10,
        fdatasyncs: 10029,
        ...overrides,
    };
}

const VPS_NODE_STEP = /-(facts|packages|disk-check|harden|firewall)$/;

/**
 * For tests that run index.ts as an update but are about another layer: what a VpsNode step would
 * print (facts and disk-check reports; nothing for the others), or undefined when NAME is not a
 * VpsNode step.
 */
export function vpsNodeStepStdout(name: string): string | undefined {
    const step = VPS_NODE_STEP.exec(name)?.[1];
    if (step === undefined) return undefined;
    if (step === "facts") return JSON.stringify(sampleFacts()) + "\n";
    if (step === "disk-check") return JSON.stringify(sampleDiskCheck()) + "\n";
    return "";
}

/** The client key of sampleK3sKubeconfig: distinctive, so a test can look for it leaking anywhere. */
export const SAMPLE_CLIENT_KEY = "Y2xpZW50LWtleS1zZWNyZXQ=";

/** /etc/rancher/k3s/k3s.yaml as K3s writes it (fake credentials). */
export function sampleK3sKubeconfig(): string {
    return YAML.stringify({
        apiVersion: "v1",
        clusters: [{ cluster: { "certificate-authority-data": "Q0E=", server: "https://127.0.0.1:6443" }, name: "default" }],
        contexts: [{ context: { cluster: "default", user: "default" }, name: "default" }],
        "current-context": "default",
        kind: "Config",
        preferences: {},
        users: [{ name: "default", user: { "client-certificate-data": "Q0VSVA==", "client-key-data": SAMPLE_CLIENT_KEY } }],
    });
}

/** What the remote command NAME prints on a typical host: the VpsNode reports, the kubeconfig, else nothing. */
export function sampleStdout(name: string): string {
    if (name.endsWith("-kubeconfig")) return sampleK3sKubeconfig();
    return vpsNodeStepStdout(name) ?? "";
}
