/**
 * Stack configuration: reads every `private-faas:*` key, validates it against one schema and returns a
 * typed object. On bad input it reports every problem at once (key path, bad value, what is expected)
 * as a ConfigError, before the program registers a single resource.
 *
 * Only malformed values are refused here. Rules about what is *allowed* (where data may live, which
 * disks, pinned versions, quorum, sizes) are policies (policies/), so the same rules also guard a real
 * `pulumi preview --policy-pack policies`.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { isIP } from "net";
import { parseGoDuration, timeoutChain } from "./timeouts";

export const CONFIG_NAMESPACE = "private-faas";

/**
 * What the offline plan (tools/plan.ts) puts in place of a `secure:` value it cannot decrypt. Format
 * checks of secret values accept it, since the real value is not there to check.
 */
export const UNDECRYPTED_SECRET = "[secret: not decrypted offline]";

/** One thing wrong with the configuration. `value` is already redacted when the key holds a secret. */
export interface ConfigProblem {
    key: string;
    value: string;
    expected: string;
}

/** A RunError, so `pulumi up` prints the message without a stack trace. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: ConfigProblem[]) {
        super(
            `${problems.length} configuration error(s):\n` +
                problems.map((p) => `  ${p.key}: got ${p.value}; expected ${p.expected}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

// ---------------------------------------------------------------------------------------------------
// Value shapes
// ---------------------------------------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;
const SLUG = /^[a-z0-9][a-z0-9-]*$/;

/** An IPv4 or IPv6 address, or a DNS name; a dotted all-digit string must be a valid IPv4 address. */
export function isHost(value: string): boolean {
    if (isIP(value) !== 0) return true;
    if (/^[0-9.]+$/.test(value)) return false;
    return DNS_NAME.test(value);
}

/** "host:port" or "[v6]:port" → parts, or undefined when malformed. */
export function parseHostPort(value: string): { host: string; port: number } | undefined {
    const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:\s]+):(\d{1,5})$/.exec(value);
    if (!m) return undefined;
    const port = Number(m[2]);
    const host = m[1];
    const hostOk = value.startsWith("[") ? isIP(host) === 6 : isHost(host);
    if (!hostOk || port < 1 || port > 65535) return undefined;
    return { host, port };
}

function isCidr(value: string): boolean {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(value);
    if (!m) return false;
    const family = isIP(m[1]);
    const bits = Number(m[2]);
    return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
}

/** A string schema whose every failure (wrong type, missing, bad form) says the same expectation. */
function text(expected: string, valid: (v: string) => boolean) {
    return z.string({ error: expected }).refine(valid, { error: expected });
}

const host = text("an IPv4 or IPv6 address or a DNS name", isHost);
const ipAddress = text("an IPv4 or IPv6 address", (v) => isIP(v) !== 0);
const cidr = text("a CIDR block such as 203.0.113.0/24 or 2001:db8::/48", isCidr);
const hostPort = text('"host:port" (IPv6 as "[addr]:port"), port 1-65535', (v) => parseHostPort(v) !== undefined);
const port = z.int({ error: "a port number 1-65535" }).min(1, { error: "a port number 1-65535" }).max(65535, { error: "a port number 1-65535" });
const dnsLabel = text(
    "a DNS-1123 label: lowercase letters, digits and '-', starting and ending alphanumeric, at most 63 characters",
    (v) => DNS_LABEL.test(v),
);
const isoCountry = text('an ISO 3166-1 alpha-2 country code such as "NO"', (v) => /^[A-Z]{2}$/.test(v));
const sshHostKey = text('an OpenSSH public host key such as "ssh-ed25519 AAAA..."', (v) =>
    /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/=]+$/.test(v),
);
const secretString = text("a non-empty secret string", (v) => v.length > 0);
/** Where a host downloads from: http(s), or file:// for a mirror mounted on the hosts. */
const downloadUrl = z.url({ protocol: /^(https?|file)$/, error: "an http(s) or file:// URL" });
const k8sQuantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, {
    error: 'a Kubernetes quantity such as "100m", "0.5", "128Mi"',
});
const stringMap = z.record(z.string(), z.string());

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** Labels in these namespaces a kubelet may set on its own node (k8s.io/api/core/v1 well_known_labels.go). */
const KUBELET_LABELS = new Set([
    "kubernetes.io/hostname", "kubernetes.io/instance-type", "kubernetes.io/os", "kubernetes.io/arch",
    "beta.kubernetes.io/instance-type", "beta.kubernetes.io/os", "beta.kubernetes.io/arch",
    "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
    "failure-domain.kubernetes.io/zone", "failure-domain.kubernetes.io/region",
    "topology.kubernetes.io/zone", "topology.kubernetes.io/region", "node.kubernetes.io/instance-type",
]);

/**
 * A label key K3s can put on its node at registration (`node-label`): valid syntax, and outside the
 * kubernetes.io / k8s.io namespaces unless the kubelet may set it (otherwise the kubelet refuses to start).
 */
export function isNodeLabelKey(key: string): boolean {
    const slash = key.lastIndexOf("/");
    const prefix = slash < 0 ? "" : key.slice(0, slash);
    const name = key.slice(slash + 1);
    if (!LABEL_NAME.test(name) || (prefix !== "" && !DNS_NAME.test(prefix))) return false;
    const reserved = /(^|\.)(kubernetes\.io|k8s\.io)$/.test(prefix);
    return !reserved || KUBELET_LABELS.has(key) || /(^|\.)(kubelet|node)\.kubernetes\.io$/.test(prefix);
}

const nodeLabels = z.record(
    text(
        "a label key such as \"example.com/pool\" (prefix/name, name of at most 63 characters), outside the kubernetes.io and k8s.io namespaces except the labels a kubelet may set (node.kubernetes.io/*, topology.kubernetes.io/zone, ...)",
        isNodeLabelKey,
    ),
    text("a label value: at most 63 letters, digits, '-', '_', '.', starting and ending alphanumeric (or empty)", (v) => v === "" || LABEL_NAME.test(v)),
);

// ---------------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------------

const nodeSchema = z.strictObject({
    name: dnsLabel,
    role: z.enum(["server", "agent"]),
    host,
    provider: z.string({ error: 'a provider key of the location catalogue such as "hetzner", or "other"' }).regex(SLUG, {
        error: 'a provider key of the location catalogue such as "hetzner", or "other"',
    }),
    region: z.string({ error: 'a region key of the location catalogue such as "fsn1"' }).regex(SLUG, {
        error: 'a region key of the location catalogue such as "fsn1"',
    }).optional(),
    country: isoCountry.optional(),
    storage: z.enum(["nvme", "ssd", "hdd"]),
    vcpu: z.int({ error: "a whole number of vCPUs" }).positive({ error: "a whole number of vCPUs, at least 1" }),
    memoryGb: z.number({ error: "memory in GB (a number)" }).positive({ error: "memory in GB, greater than 0" }),
    privateIp: ipAddress.optional(),
    flannelIface: z.string().regex(/^[A-Za-z0-9_.:-]{1,15}$/, { error: "a network interface name" }).optional(),
    sshPort: port.default(22),
    hostKey: sshHostKey.optional(),
    ingress: z.boolean().optional(),
    labels: nodeLabels.default({}),
});

const nodesSchema = z.array(nodeSchema, { error: "a list of nodes" }).min(1, { error: "a list of at least one node" });

const sshSchema = z.strictObject({
    user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, { error: "a Unix user name" }).default("root"),
    privateKey: text(
        "an OpenSSH or PEM private key (-----BEGIN ... PRIVATE KEY-----), set with `pulumi config set --secret --path ssh.privateKey`",
        (v) => v.includes("PRIVATE KEY") || v === UNDECRYPTED_SECRET,
    ),
    /** Only for providers that hand out a root password; the ssh-key-auth-only policy refuses it. */
    password: secretString.optional(),
    restrictToAdminCidrs: z.boolean().default(false),
    dialErrorLimit: z.int().min(1).max(1000).default(40),
    perDialTimeoutSeconds: z.int().min(1).max(600).default(15),
});

const k3sSchema = z.strictObject({
    version: text('a K3s release such as "v1.35.6+k3s1"', (v) => /^[A-Za-z0-9.+_-]+$/.test(v)),
    apiEndpoint: host.optional(),
    tlsSans: z.array(host).default([]),
    flannelBackend: z.enum(["vxlan", "wireguard-native", "host-gw"]).optional(),
    clusterCidr: cidr.default("10.42.0.0/16"),
    serviceCidr: cidr.default("10.43.0.0/16"),
    clusterDns: ipAddress.default("10.43.0.10"),
    clusterDomain: z.string().regex(DNS_NAME, { error: "a DNS domain" }).default("cluster.local"),
    secretsEncryption: z.boolean().default(true),
    installScriptUrl: downloadUrl.default("https://get.k3s.io"),
    releaseMirror: downloadUrl.optional(),
    readyTimeoutSeconds: z.int().min(30).max(7200).default(600),
    /** How long removing a node may take to drain it (evictions wait for PodDisruptionBudgets). */
    drainTimeoutSeconds: z.int().min(30).max(7200).default(600),
    diskCheck: z
        .strictObject({
            serverMaxP99Ms: z.number().positive().default(10),
            agentMaxP99Ms: z.number().positive().default(30),
        })
        .prefault({}),
});

const functionSchema = z.strictObject({
    image: z.string().regex(/^[a-z0-9]([a-z0-9._\/:@-]*)$/, { error: "a container image reference" }),
    labels: stringMap.default({}),
    annotations: stringMap.default({}),
    environment: stringMap.default({}),
    limits: z.strictObject({ cpu: k8sQuantity.optional(), memory: k8sQuantity.optional() }).optional(),
    requests: z.strictObject({ cpu: k8sQuantity.optional(), memory: k8sQuantity.optional() }).optional(),
});

const openfaasSchema = z
    .strictObject({
        edition: z.enum(["ce", "pro"]).default("ce"),
        licenseKey: secretString.optional(),
        /** Drives every timeout of the chain (components/timeouts.ts). */
        maxDurationSeconds: z.int().min(10).max(86400).default(300),
        gatewayReplicas: z.int().min(1).max(20).default(1),
        queue: z
            .strictObject({
                /** CE: queue-worker replicas (one message in flight each). Pro: maxInflight. */
                parallelism: z.int().min(1).max(1000).default(1),
                retries: z
                    .strictObject({
                        attempts: z.int().min(1).max(100).default(10),
                        initialWaitSeconds: z.int().min(1).default(5),
                        maxWaitSeconds: z.int().min(1).default(120),
                        httpCodes: z.array(z.int().min(100).max(599)).default([408, 429, 500, 502, 503, 504]),
                    })
                    .optional(),
                dedicated: z
                    .array(z.strictObject({ name: dnsLabel, parallelism: z.int().min(1).max(1000).default(1) }))
                    .default([]),
            })
            .prefault({}),
        functions: z.record(dnsLabel, functionSchema).default({}),
    });

const ingressSchema = z.strictObject({
    /** Public DNS name of the gateway; without it the ingress serves a self-signed certificate. */
    host: z.string().regex(DNS_NAME, { error: "a DNS name" }).optional(),
    acmeEmail: z.email({ error: "an e-mail address" }).optional(),
    acmeEnvironment: z.enum(["production", "staging"]).default("production"),
    /** Functions reachable from the internet at all; absent: every function. */
    publicFunctions: z.array(dnsLabel).optional(),
});

/** A route path: "/" then non-empty segments, no "." or ".." segment, no trailing "/" (components/nginxConfig.ts). */
const ROUTE_PATH = /^(\/[A-Za-z0-9._~-]+)+$/;
const routePath = text(
    'a URL path such as "/api/v2/image-resize": "/" then segments of letters, digits and ._~- separated by single "/", no "." or ".." segment, no trailing "/"',
    (v) => ROUTE_PATH.test(v) && !v.split("/").some((s) => s === "." || s === ".."),
);
/** A file on the edge host; the character set keeps it a single nginx token. */
const edgeHostPath = text("an absolute path on the edge host (letters, digits and ._/@+-)", (v) => /^\/[A-Za-z0-9._\/@+-]+$/.test(v));

const routeSchema = z.strictObject({
    path: routePath,
    function: dnsLabel,
    async: z.boolean().default(false),
    timeoutSeconds: z.int().min(1).max(86400).optional(),
});

const edgeSchema = z.strictObject({
    host,
    sshPort: port.default(22),
    hostKey: sshHostKey.optional(),
    provider: z.string().regex(SLUG, { error: "a provider key of the location catalogue" }).optional(),
    region: z.string().regex(SLUG, { error: "a region key of the location catalogue" }).optional(),
    country: isoCountry.optional(),
    listen: port.default(80),
    /** Addresses nginx listens on; absent: every IPv4 and IPv6 address. */
    listenAddresses: z.array(ipAddress, { error: "a list of IP addresses" }).min(1, { error: "a list of at least one IP address" }).optional(),
    serverName: z.string({ error: 'a server name such as "api.example.no" or "_"' }).regex(/^(_|\*?[A-Za-z0-9.-]+)$/, {
        error: 'a server name such as "api.example.no" or "_"',
    }),
    legacyUpstream: hostPort,
    /** Read/send timeout towards the monolith. */
    legacyTimeoutSeconds: z.int().min(1).max(86400).default(60),
    /** How long an idle keep-alive connection to the monolith is kept; below the monolith's own idle timeout. */
    legacyKeepaliveTimeoutSeconds: z.int().min(1).max(3600).default(4),
    gatewayUpstream: hostPort.optional(),
    /** http or https towards gatewayUpstream; default https for the ingress and for port 443, else http. */
    gatewayScheme: z.enum(["http", "https"]).optional(),
    /** CA bundle on the edge host that the gateway's certificate is verified against. */
    gatewayTrustedCertificate: edgeHostPath.optional(),
    keepaliveConnections: z.int().min(1).max(4096).default(32),
    connectTimeoutSeconds: z.int().min(1).max(60).default(5),
    clientMaxBodySize: z.string().regex(/^[0-9]+[kKmMgG]?$/, { error: 'an nginx size such as "10m"' }).default("10m"),
    tls: z
        .strictObject({
            certificate: edgeHostPath,
            certificateKey: edgeHostPath,
            /** HTTPS port; `listen` then only redirects to it. */
            listen: port.default(443),
        })
        .optional(),
    routes: z.array(routeSchema).default([]),
});

type EdgeSchemeFields = { gatewayUpstream?: string; gatewayScheme?: "http" | "https" };

/**
 * How the edge speaks to the gateway: `gatewayScheme` when set; otherwise https towards the cluster's
 * ingress (the default upstream) and towards an explicit upstream on port 443, plain http otherwise.
 */
export function edgeGatewayScheme(edge: EdgeSchemeFields): "http" | "https" {
    if (edge.gatewayScheme !== undefined) return edge.gatewayScheme;
    if (edge.gatewayUpstream === undefined) return "https";
    return parseHostPort(edge.gatewayUpstream)?.port === 443 ? "https" : "http";
}

function isEmptyObject(v: unknown): boolean {
    return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0;
}

/** Every key of the namespace; an unknown key is a configuration error (a typo must not be ignored). */
const stackSchema = z.strictObject({
    nodes: nodesSchema,
    ssh: sshSchema,
    k3s: k3sSchema,
    openfaas: openfaasSchema.prefault({}),
    adminCidrs: z.array(cidr).default([]),
    ingress: ingressSchema.prefault({}),
    /** `{}` (the project default) means no edge. */
    edge: z.preprocess((v) => (isEmptyObject(v) ? undefined : v), edgeSchema.optional()),
});

type Parsed = z.output<typeof stackSchema>;

/** The keys of the namespace (Pulumi.yaml must declare exactly these). */
export const CONFIG_KEYS: readonly string[] = Object.keys(stackSchema.shape);

// ---------------------------------------------------------------------------------------------------
// Typed result
// ---------------------------------------------------------------------------------------------------

export type NodeRole = "server" | "agent";
export type Storage = "nvme" | "ssd" | "hdd";
export type NodeConfig = Omit<Parsed["nodes"][number], "ingress"> & {
    /** Whether the node takes ingress traffic (80/443 open, Traefik's service load balancer runs on it). */
    ingress: boolean;
};
export type SshConfig = Omit<Parsed["ssh"], "privateKey" | "password"> & {
    privateKey: pulumi.Output<string>;
    password?: pulumi.Output<string>;
};
export type K3sConfig = Parsed["k3s"];
export type FlannelBackend = NonNullable<K3sConfig["flannelBackend"]>;
export type OpenFaasConfig = Omit<Parsed["openfaas"], "licenseKey"> & { licenseKey?: pulumi.Output<string> };
export type FunctionConfig = Parsed["openfaas"]["functions"][string];
export type IngressConfig = Parsed["ingress"];
export type EdgeConfig = NonNullable<Parsed["edge"]>;
export type EdgeRoute = EdgeConfig["routes"][number];

export interface StackConfig {
    nodes: NodeConfig[];
    ssh: SshConfig;
    k3s: K3sConfig;
    openfaas: OpenFaasConfig;
    adminCidrs: string[];
    ingress: IngressConfig;
    edge?: EdgeConfig;
}

/** Paths (dot/bracket notation below the namespace) whose values are secrets and never printed. */
export const SECRET_PATHS: ReadonlySet<string> = new Set(["ssh.privateKey", "ssh.password", "openfaas.licenseKey"]);

function formatPath(path: readonly PropertyKey[]): string {
    let out = CONFIG_NAMESPACE + ":";
    path.forEach((p, i) => {
        if (typeof p === "number") out += `[${p}]`;
        else out += i === 0 ? String(p) : `.${String(p)}`;
    });
    return out;
}

function plainPath(path: readonly PropertyKey[]): string {
    return path.filter((p) => typeof p !== "number").map(String).join(".");
}

function describeValue(path: readonly PropertyKey[], value: unknown): string {
    if (value === undefined) return "nothing (missing)";
    if (SECRET_PATHS.has(plainPath(path))) return "[secret]";
    const text = JSON.stringify(value);
    return text.length > 120 ? text.slice(0, 117) + "..." : text;
}

function lookup(root: unknown, path: readonly PropertyKey[]): unknown {
    let cur: unknown = root;
    for (const p of path) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<PropertyKey, unknown>)[p as string];
    }
    return cur;
}

const TYPE_WORDS: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "an integer",
    boolean: "true or false",
    array: "a list",
    object: "an object",
    record: "an object",
};

function expectation(issue: z.core.$ZodIssue): string {
    switch (issue.code) {
        case "invalid_type": {
            const word = TYPE_WORDS[issue.expected] ?? issue.expected;
            return issue.message.startsWith("Invalid input") ? word : issue.message;
        }
        case "invalid_value":
            return "one of " + issue.values.map((v) => JSON.stringify(v)).join(", ");
        case "unrecognized_keys":
            return "no such key (a typo?)";
        case "invalid_key":
            return issue.issues[0]?.message ?? issue.message;
        case "too_small":
            return issue.origin === "array"
                ? issue.message.startsWith("Too small") ? `a list of at least ${issue.minimum} item(s)` : issue.message
                : issue.message.startsWith("Too small") ? (issue.inclusive ? `at least ${issue.minimum}` : `more than ${issue.minimum}`) : issue.message;
        case "too_big":
            return issue.message.startsWith("Too big") ? `at most ${issue.maximum}` : issue.message;
        default:
            return issue.message;
    }
}

type Raw = Record<string, unknown>;
const asObject = (v: unknown): Raw | undefined => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Raw) : undefined);
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Rules between fields. They read the raw input defensively, so they report even when fields are malformed. */
function crossCheck(raw: Raw): { path: PropertyKey[]; value: unknown; expected: string }[] {
    const found: { path: PropertyKey[]; value: unknown; expected: string }[] = [];
    const nodes = asList(raw.nodes).map(asObject);
    const firstWith = (field: string) => {
        const seen = new Map<unknown, number>();
        nodes.forEach((n, i) => {
            const v = n?.[field];
            if (typeof v !== "string") return;
            const first = seen.get(v);
            if (first === undefined) seen.set(v, i);
            else found.push({ path: ["nodes", i, field], value: v, expected: `a ${field} no other node has (nodes[${first}] has it)` });
        });
    };
    firstWith("name");
    firstWith("host");
    // The host firewalls admit cluster traffic by IP address (components/firewall.ts).
    if (nodes.length > 1) {
        nodes.forEach((n, i) => {
            if (typeof n?.host === "string" && isIP(n.host) === 0 && n.privateIp === undefined) {
                found.push({ path: ["nodes", i, "privateIp"], value: undefined, expected: `an IP address: host "${n.host}" is a DNS name, and the other nodes' firewalls admit cluster traffic by IP address` });
            }
        });
    }
    if (Array.isArray(raw.nodes) && nodes.length > 0 && !nodes.some((n) => n?.role === "server")) {
        found.push({ path: ["nodes"], value: nodes.map((n) => n?.name), expected: 'at least one node with role "server"' });
    }
    const location = (path: PropertyKey[], o: Raw | undefined) => {
        if (typeof o?.provider !== "string") return;
        if (o.provider === "other") {
            if (o.country === undefined) found.push({ path: [...path, "country"], value: undefined, expected: 'an ISO 3166-1 alpha-2 country code (required with provider "other")' });
        } else {
            if (o.region === undefined) found.push({ path: [...path, "region"], value: undefined, expected: `a region key of the location catalogue (required with provider "${o.provider}")` });
            if (o.country !== undefined) found.push({ path: [...path, "country"], value: o.country, expected: 'no country: a catalogue provider\'s regions give it; use provider "other" to declare one' });
        }
    };
    nodes.forEach((n, i) => location(["nodes", i], n));

    const openfaas = asObject(raw.openfaas);
    if (openfaas?.edition === "pro" && openfaas.licenseKey === undefined) {
        found.push({ path: ["openfaas", "licenseKey"], value: undefined, expected: 'the OpenFaaS Pro licence key (required with edition "pro"), set with `pulumi config set --secret --path openfaas.licenseKey`' });
    }
    if (asObject(raw.ssh)?.restrictToAdminCidrs === true && asList(raw.adminCidrs).length === 0) {
        found.push({ path: ["ssh", "restrictToAdminCidrs"], value: true, expected: "false while private-faas:adminCidrs is empty (SSH would be closed to everyone)" });
    }
    found.push(...platformCrossCheck(raw));
    const edge = asObject(raw.edge);
    if (edge) {
        location(["edge"], edge);
        const tls = asObject(edge.tls);
        const plainPort = edge.listen ?? 80;
        if (tls && (tls.listen ?? 443) === plainPort) {
            found.push({ path: ["edge", "tls", "listen"], value: tls.listen ?? 443, expected: `a port other than edge.listen (${plainPort}), which then only redirects to HTTPS` });
        }
        if (edge.gatewayTrustedCertificate !== undefined && typeof edge.gatewayUpstream === "string" && edgeGatewayScheme(edge as EdgeSchemeFields) === "http") {
            found.push({ path: ["edge", "gatewayTrustedCertificate"], value: edge.gatewayTrustedCertificate, expected: 'nothing while the gateway is reached over plain http (set gatewayScheme: "https")' });
        }
        const seen = new Map<unknown, number>();
        asList(edge.routes).map(asObject).forEach((r, i) => {
            if (typeof r?.path !== "string") return;
            const first = seen.get(r.path);
            if (first === undefined) seen.set(r.path, i);
            else found.push({ path: ["edge", "routes", i, "path"], value: r.path, expected: `a path no other route has (routes[${first}] has it)` });
        });
    }
    return found;
}

/** Function environment keys the timeout chain sets; a function may only ask for less. */
const FUNCTION_TIMEOUT_KEYS: Record<string, "functionExec" | "functionReadWrite"> = {
    exec_timeout: "functionExec",
    read_timeout: "functionReadWrite",
    write_timeout: "functionReadWrite",
};

/** Rules between the fields of openfaas and ingress (the platform layer). */
function platformCrossCheck(raw: Raw): { path: PropertyKey[]; value: unknown; expected: string }[] {
    const found: { path: PropertyKey[]; value: unknown; expected: string }[] = [];
    const openfaas = asObject(raw.openfaas);
    const pro = openfaas?.edition === "pro";
    const queue = asObject(openfaas?.queue);
    for (const field of ["retries", "dedicated"]) {
        if (!pro && queue?.[field] !== undefined && !(Array.isArray(queue[field]) && queue[field].length === 0)) {
            found.push({ path: ["openfaas", "queue", field], value: queue[field], expected: 'nothing with edition "ce": the Community Edition queue-worker has no retries and one shared queue (edition "pro" has both)' });
        }
    }
    const queueNames = asList(queue?.dedicated).map((q) => asObject(q)?.name).filter((n): n is string => typeof n === "string");
    const maxDuration = typeof openfaas?.maxDurationSeconds === "number" ? openfaas.maxDurationSeconds : 300;
    const chain = timeoutChain(maxDuration);
    for (const [name, fn] of Object.entries(asObject(openfaas?.functions) ?? {})) {
        const queueName = asObject(asObject(fn)?.annotations)?.["com.openfaas.queue"];
        if (queueName !== undefined && !queueNames.includes(queueName as string)) {
            found.push({
                path: ["openfaas", "functions", name, "annotations", "com.openfaas.queue"],
                value: queueName,
                expected: queueNames.length > 0 ? `one of the dedicated queues: ${queueNames.map((q) => JSON.stringify(q)).join(", ")}` : "no dedicated queue: openfaas.queue.dedicated defines none",
            });
        }
        for (const [key, limit] of Object.entries(FUNCTION_TIMEOUT_KEYS)) {
            const value = asObject(asObject(fn)?.environment)?.[key];
            if (typeof value !== "string") continue;
            const seconds = parseGoDuration(value);
            if (seconds === undefined || seconds > chain[limit]) {
                found.push({
                    path: ["openfaas", "functions", name, "environment", key],
                    value,
                    expected: `a Go duration of at most ${chain[limit]}s (the timeout chain of openfaas.maxDurationSeconds ${maxDuration}; raise that instead)`,
                });
            }
        }
    }
    const ingress = asObject(raw.ingress);
    if (ingress?.acmeEmail !== undefined && ingress.host === undefined) {
        found.push({ path: ["ingress", "host"], value: undefined, expected: "the gateway's public DNS name (required with ingress.acmeEmail: Let's Encrypt certifies a name)" });
    }
    return found;
}

/**
 * Validates raw configuration (the values of the `private-faas:*` keys, already JSON-decoded, keyed by
 * the name after the namespace) and returns the typed configuration; secret fields become secret
 * Outputs. Throws a ConfigError listing every problem.
 */
export function parseStackConfig(raw: Record<string, unknown>): StackConfig {
    const result = stackSchema.safeParse(raw, { reportInput: true });
    const cross = crossCheck(raw);
    if (!result.success || cross.length > 0) {
        const problems: ConfigProblem[] = [];
        for (const issue of result.success ? [] : result.error.issues) {
            if (issue.code === "unrecognized_keys") {
                for (const k of issue.keys) {
                    const path = [...issue.path, k];
                    problems.push({ key: formatPath(path), value: describeValue(path, lookup(raw, path)), expected: expectation(issue) });
                }
                continue;
            }
            const value = "input" in issue ? issue.input : lookup(raw, issue.path);
            problems.push({ key: formatPath(issue.path), value: describeValue(issue.path, value), expected: expectation(issue) });
        }
        for (const c of cross) {
            const key = formatPath(c.path);
            if (!problems.some((p) => p.key === key)) problems.push({ key, value: describeValue(c.path, c.value), expected: c.expected });
        }
        throw new ConfigError(problems);
    }
    const c = result.data!;
    const hasAgents = c.nodes.some((n) => n.role === "agent");
    return {
        nodes: c.nodes.map((n) => ({ ...n, ingress: n.ingress ?? (n.role === "agent" || !hasAgents) })),
        ssh: {
            ...c.ssh,
            privateKey: pulumi.secret(c.ssh.privateKey),
            password: c.ssh.password === undefined ? undefined : pulumi.secret(c.ssh.password),
        },
        k3s: c.k3s,
        openfaas: { ...c.openfaas, licenseKey: c.openfaas.licenseKey === undefined ? undefined : pulumi.secret(c.openfaas.licenseKey) },
        adminCidrs: c.adminCidrs,
        ingress: c.ingress,
        edge: c.edge,
    };
}

/** Decodes one raw config value as the Pulumi CLI hands it over: objects and lists arrive as JSON text. */
function decode(text: string): unknown {
    const trimmed = text.trim();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
        try {
            return JSON.parse(trimmed);
        } catch {
            return text;
        }
    }
    return text;
}

/**
 * The flannel backend in effect: the configured one, else vxlan when every node has a private network
 * address, else wireguard-native (pod traffic between nodes crosses public networks, so encrypt it).
 */
export function effectiveFlannelBackend(config: { k3s: K3sConfig; nodes: readonly NodeConfig[] }): FlannelBackend {
    return config.k3s.flannelBackend ?? (config.nodes.every((n) => n.privateIp !== undefined) ? "vxlan" : "wireguard-native");
}

/** Reads every `private-faas:*` key of the running stack and validates it (see parseStackConfig). */
export function loadStackConfig(): StackConfig {
    const prefix = CONFIG_NAMESPACE + ":";
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = decode(value);
    }
    return parseStackConfig(raw);
}
