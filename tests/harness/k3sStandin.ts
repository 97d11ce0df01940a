/**
 * The K3s stand-ins (tests/harness/k3s-standin) set up for throwaway roots: a release tree the
 * stand-in install script downloads from (as from GitHub releases, through GITHUB_URL), and a
 * registry directory the stand-in `k3s` keeps the cluster in, shared by the sandboxes of one test
 * cluster (one sandbox per host).
 *
 * Registry interface (for tests and for fleet tests that share one registry between hosts):
 *   - location: $K3S_STANDIN_REGISTRY, else the path written in /run/standin/k3s-registry.path
 *     (useRegistry() writes it), else /run/standin/k3s-registry;
 *   - content: state.json = { cluster: {token, options, id} | null,
 *       nodes: {NAME: {role, ready, version, labels, addresses, member, unschedulable, since}},
 *       pods: [{namespace, name, node, owner?: "ReplicaSet" | "DaemonSet", emptyDir?}],
 *       removedMembers: [NAME], events: [{at, host, text}, in order] };
 *     writers take an exclusive flock on .lock beside it.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunOptions, RunResult, Sandbox } from "./sandbox";

export const STANDIN_SOURCE = path.join(__dirname, "k3s-standin");
/** Where a sandbox sees the install script and the release tree (read-only). */
export const STANDIN_MOUNT = "/mnt/k3s-standin";
/** Where a sandbox sees the shared registry (writable). */
export const REGISTRY_MOUNT = "/mnt/k3s-registry";
export const STANDIN_INSTALL_SCRIPT_URL = `file://${STANDIN_MOUNT}/install.sh`;
export const STANDIN_RELEASE_MIRROR = `file://${STANDIN_MOUNT}/releases`;

export interface StandinPod {
    namespace: string;
    name: string;
    node: string | null;
    owner?: "ReplicaSet" | "DaemonSet";
    emptyDir?: boolean;
}

export interface StandinNode {
    role: "server" | "agent";
    ready: boolean;
    version: string;
    labels: Record<string, string>;
    addresses: string[];
    member: boolean;
    unschedulable: boolean;
}

/** Something that happened to the cluster. */
export interface StandinEvent {
    /** When, seconds since the epoch (this machine's clock, shared by every host). */
    at: number;
    /** The host whose stand-in wrote it (for a join: the server that admitted the node). */
    host: string;
    text: string;
}

export interface StandinState {
    cluster: { token: string; options: Record<string, unknown>; id: string } | null;
    nodes: Record<string, StandinNode>;
    pods: StandinPod[];
    removedMembers: string[];
    events: StandinEvent[];
}

/** Points the stand-in `k3s` of the sandbox in DIR at the registry it sees at PATH_INSIDE. */
export function useRegistry(sandboxDir: string, pathInside: string): void {
    fs.writeFileSync(path.join(sandboxDir, "state", "k3s-registry.path"), `${pathInside}\n`);
}

/** Appends the pods given as JSON on stdin to the registry's state.json, under the registry's lock. */
const ADD_PODS = `import json, sys
path = sys.argv[1]
state = json.load(open(path)) if __import__("os").path.exists(path) else {"cluster": None, "nodes": {}, "pods": [], "removedMembers": [], "events": []}
state["pods"].extend(json.load(sys.stdin))
json.dump(state, open(path + ".tmp", "w"), indent=1, sort_keys=True)
__import__("os").replace(path + ".tmp", path)`;

/** A registry directory, as this machine sees it: read by tests, seeded with workloads. */
export class StandinRegistry {
    constructor(readonly dir: string) {}

    state(): StandinState {
        return JSON.parse(fs.readFileSync(path.join(this.dir, "state.json"), "utf8"));
    }

    /** The events' texts, in order. */
    events(): string[] {
        return this.state().events.map((e) => e.text);
    }

    /** Adds workloads (as if deployed) for drains to move. */
    addPods(pods: StandinPod[]): void {
        fs.mkdirSync(this.dir, { recursive: true });
        const r = spawnSync("flock", [path.join(this.dir, ".lock"), "python3", "-c", ADD_PODS, path.join(this.dir, "state.json")], {
            input: JSON.stringify(pods),
            encoding: "utf8",
        });
        if (r.status !== 0) throw new Error(`adding pods to the registry failed: ${r.stderr}`);
    }
}

/** Writes install.sh and releases/download/VERSION/{k3s, k3s-arm64, sha256sum-*.txt} below DIR. */
export function writeReleaseTree(dir: string, versions: string[]): void {
    fs.copyFileSync(path.join(STANDIN_SOURCE, "install.sh"), path.join(dir, "install.sh"));
    fs.chmodSync(path.join(dir, "install.sh"), 0o755);
    const binary = fs.readFileSync(path.join(STANDIN_SOURCE, "k3s"), "utf8");
    for (const version of versions) {
        const release = path.join(dir, "releases", "download", version);
        fs.mkdirSync(release, { recursive: true });
        const stamped = binary.replace('VERSION = "@VERSION@"', `VERSION = ${JSON.stringify(version)}`);
        if (stamped === binary) throw new Error("k3s stand-in: version placeholder not found");
        const hash = crypto.createHash("sha256").update(stamped).digest("hex");
        for (const [arch, file] of [["amd64", "k3s"], ["arm64", "k3s-arm64"]]) {
            fs.writeFileSync(path.join(release, file), stamped, { mode: 0o755 });
            fs.writeFileSync(path.join(release, `sha256sum-${arch}.txt`), `${hash}  ${file}\n`);
        }
    }
}

/** One test cluster: a release tree, a registry, and a sandbox per host (the systemctl stand-in records). */
export class StandinCluster {
    readonly dir: string;
    readonly registry: StandinRegistry;
    private readonly hosts = new Map<string, Sandbox>();

    constructor(versions: string[]) {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-k3s-standin-"));
        fs.mkdirSync(path.join(this.dir, "tree"));
        fs.mkdirSync(path.join(this.dir, "registry"));
        writeReleaseTree(path.join(this.dir, "tree"), versions);
        this.registry = new StandinRegistry(path.join(this.dir, "registry"));
    }

    /** The sandbox of host NAME (its hostname), created on first use and pointed at the registry. */
    host(name: string): Sandbox {
        let box = this.hosts.get(name);
        if (!box) {
            box = Sandbox.create(`k3s-${name}`);
            useRegistry(box.dir, REGISTRY_MOUNT);
            this.hosts.set(name, box);
        }
        return box;
    }

    /** Runs a command text (a remote.Command's create or delete) on host NAME, as sshd would. */
    run(name: string, text: string, opts: RunOptions = {}): RunResult {
        return this.host(name).runCommandText(text, {
            ...opts,
            hostname: name,
            binds: { [path.join(this.dir, "tree")]: STANDIN_MOUNT, ...opts.binds },
            shares: { [this.registry.dir]: REGISTRY_MOUNT, ...opts.shares },
        });
    }

    state(): StandinState {
        return this.registry.state();
    }

    /** The events' texts, in order. */
    events(): string[] {
        return this.registry.events();
    }

    /** Adds workloads (as if deployed) for drains to move. */
    addPods(pods: StandinPod[]): void {
        this.registry.addPods(pods);
    }

    destroy(): void {
        for (const box of this.hosts.values()) box.destroy();
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
