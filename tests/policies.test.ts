/**
 * Every policy through its own functions, with the arguments the @pulumi/policy analyzer builds:
 * resource phase on inputs, stack phase on outputs, passing and failing cases, and the hand-over
 * between the two phases when the engine does not send a component's inputs.
 */
import { Observations, TYPES } from "../policies/facts";
import { makePolicies } from "../policies/pack";
import { cloudActPolicy, residencyPolicy } from "../policies/residency";
import { minSizePolicy, nvmePolicy } from "../policies/nodes";
import { quorumPolicy, secretsEncryptionPolicy, versionPinnedPolicy } from "../policies/k3s";
import { sshKeyOnlyPolicy } from "../policies/ssh";
import { adminNotPublicPolicy, ceLimitsPolicy, coversAdminPath, MIDDLEWARES_ANNOTATION } from "../policies/openfaas";
import { resourceArgs, stackArgs, UNKNOWN_STRING, urnOf, validateResource, validateStack } from "./helpers/policyArgs";

const node = (name: string, extra: Record<string, unknown> = {}) => ({
    name, role: "agent", host: "192.0.2.10", provider: "hetzner", region: "fsn1", storage: "nvme", vcpu: 4, memoryGb: 8, ...extra,
});
const nodeArgs = (name: string, extra: Record<string, unknown> = {}, config: Record<string, unknown> = {}) =>
    resourceArgs(TYPES.vpsNode, name, node(name, extra), config);
const messages = (r: { message: string }[]) => r.map((x) => x.message);

describe("the pack", () => {
    const contract: [string, string][] = [
        ["eu-eea-data-residency", "mandatory"],
        ["nvme-storage-required", "mandatory"],
        ["no-us-cloud-act-providers", "advisory"],
        ["k3s-version-pinned", "mandatory"],
        ["etcd-quorum-odd", "mandatory"],
        ["ssh-key-auth-only", "mandatory"],
        ["secrets-encryption-at-rest", "mandatory"],
        ["openfaas-admin-not-public", "mandatory"],
        ["openfaas-ce-limits", "mandatory"],
        ["min-node-size", "advisory"],
    ];

    test("holds the ten policies of the contract with their default enforcement", () => {
        expect(makePolicies().map((p) => [p.name, p.enforcementLevel])).toEqual(contract);
    });

    test.each(makePolicies().map((p) => [p.name, p] as const))("%s has a description, remediation steps and a valid config schema", (_name, p) => {
        expect(p.description.length).toBeGreaterThan(30);
        expect(p.remediationSteps?.length).toBeGreaterThan(30);
        expect(p.validateResource !== undefined || p.validateStack !== undefined).toBe(true);
        // The @pulumi/policy server refuses these (server.ts serve()).
        expect(p.configSchema?.properties?.enforcementLevel).toBeUndefined();
        expect(p.configSchema?.required ?? []).not.toContain("enforcementLevel");
        for (const property of Object.values(p.configSchema?.properties ?? {})) {
            expect(property.default).toBeDefined();
            expect(property.description).toBeDefined();
        }
    });

    test("settings exist where the contract names some", () => {
        const withSettings = makePolicies().filter((p) => p.configSchema).map((p) => p.name).sort();
        expect(withSettings).toEqual(["eu-eea-data-residency", "min-node-size", "no-us-cloud-act-providers", "openfaas-admin-not-public", "openfaas-ce-limits"]);
    });
});

describe("eu-eea-data-residency", () => {
    const policy = () => residencyPolicy(new Observations());

    test("a node in hetzner/ash: what, where, why and how to fix", async () => {
        const r = await validateResource(policy(), nodeArgs("osl-agent-3", { region: "ash" }));
        expect(messages(r)).toEqual([
            "node osl-agent-3 is in hetzner/ash (US): data must stay in the EU/EEA (eu-eea-data-residency). Move it to hetzner/fsn1, nbg1 or hel1, or widen allowedCountries in the policy config.",
        ]);
    });

    test.each([
        ["hetzner/fsn1 (DE)", { region: "fsn1" }],
        ["coolvds/oslo (NO)", { provider: "coolvds", region: "oslo" }],
        ["upcloud/no-svg1 (NO)", { provider: "upcloud", region: "no-svg1" }],
        ["Iceland via provider other", { provider: "other", region: undefined, country: "IS" }],
        ["Liechtenstein via provider other", { provider: "other", region: undefined, country: "LI" }],
        ["aws/eu-north-1 (SE)", { provider: "aws", region: "eu-north-1" }],
        ["an alias (ovhcloud/gra)", { provider: "ovhcloud", region: "gra" }],
    ])("%s is allowed", async (_label, where) => {
        expect(await validateResource(policy(), nodeArgs("n1", where))).toEqual([]);
    });

    test.each([
        ["Switzerland", { provider: "exoscale", region: "ch-gva-2" }, /is in exoscale\/ch-gva-2 \(CH\).*Move it to exoscale\/de-fra-1, de-muc-1, at-vie-1, at-vie-2 or bg-sof-1/],
        ["the UK", { provider: "upcloud", region: "uk-lon1" }, /is in upcloud\/uk-lon1 \(GB\).*Move it to upcloud\/fi-hel1, fi-hel2, de-fra1, se-sto1, dk-cph1, nl-ams1 or another of its regions there/],
        ["a provider with no allowed region", { provider: "other", region: undefined, country: "US" }, /is in US \(provider "other"\): data must stay in the EU\/EEA.*Move it to a host in the EU\/EEA/],
    ])("%s is refused by default", async (_label, where, message) => {
        expect(messages(await validateResource(policy(), nodeArgs("n1", where)))).toEqual([expect.stringMatching(message)]);
    });

    test("policy config widens the allowed set (named set + code) and the message follows it", async () => {
        const ch = { provider: "exoscale", region: "ch-gva-2" };
        expect(await validateResource(policy(), nodeArgs("n1", ch, { allowedCountries: ["EEA", "CH"] }))).toEqual([]);
        const r = await validateResource(policy(), nodeArgs("n1", { region: "ash" }, { allowedCountries: ["EEA", "CH"] }));
        expect(messages(r)[0]).toMatch(/data must stay in the EU\/EEA or CH/);
        const narrow = await validateResource(policy(), nodeArgs("n1", { region: "hel1" }, { allowedCountries: ["DE"] }));
        expect(messages(narrow)[0]).toMatch(/is in hetzner\/hel1 \(FI\): data must stay in DE .*Move it to hetzner\/fsn1 or nbg1/);
    });

    test.each([
        ["an unknown region", { region: "fra9" }, /hetzner\/fra9, a region the location catalogue does not know, so where its data lives cannot be decided and eu-eea-data-residency fails closed\. Hetzner regions it knows: fsn1 \(DE\)/],
        ["an unknown provider", { provider: "acme", region: "x1" }, /provider "acme", which the location catalogue does not know.*fails closed/],
        ["no provider at all", { provider: undefined, region: undefined }, /declares no provider and region.*fails closed/],
        ["provider other without a country", { provider: "other", region: undefined }, /provider "other" without a country.*fails closed/],
        ["a provider the engine does not know yet (unknown value)", { provider: UNKNOWN_STRING }, /declares no provider and region.*fails closed/],
    ])("%s fails closed", async (_label, where, message) => {
        expect(messages(await validateResource(policy(), nodeArgs("n1", where)))).toEqual([expect.stringMatching(message)]);
    });

    test("the edge counts when it declares a location, and only then", async () => {
        const us = await validateResource(policy(), resourceArgs(TYPES.edgeProxy, "edge", { host: "192.0.2.50", provider: "vultr", region: "ewr" }));
        expect(messages(us)).toEqual([expect.stringMatching(/^edge 192\.0\.2\.50 is in vultr\/ewr \(US\): data must stay in the EU\/EEA/)]);
        expect(await validateResource(policy(), resourceArgs(TYPES.edgeProxy, "edge", { host: "192.0.2.50" }))).toEqual([]);
        expect(await validateResource(policy(), resourceArgs(TYPES.edgeProxy, "edge", { host: "192.0.2.50", country: "NO" }))).toEqual([]);
    });

    test("other types are not its business", async () => {
        expect(await validateResource(policy(), resourceArgs(TYPES.remoteCommand, "x-facts", { provider: "acme" }))).toEqual([]);
    });

    test("without component inputs the stack phase decides on the registered outputs", async () => {
        const p = policy();
        expect(await validateResource(p, resourceArgs(TYPES.vpsNode, "osl-agent-3", {}))).toEqual([]);
        const r = await validateStack(p, stackArgs([{ type: TYPES.vpsNode, name: "osl-agent-3", props: node("osl-agent-3", { region: "ash" }) }]));
        expect(r).toEqual([{ message: expect.stringMatching(/^node osl-agent-3 is in hetzner\/ash \(US\)/), urn: urnOf(TYPES.vpsNode, "osl-agent-3") }]);
    });

    test("a node decided on its inputs is not reported again at the end", async () => {
        const p = policy();
        expect(await validateResource(p, nodeArgs("osl-agent-3", { region: "ash" }))).toHaveLength(1);
        expect(await validateStack(p, stackArgs([{ type: TYPES.vpsNode, name: "osl-agent-3", props: node("osl-agent-3", { region: "ash" }) }]))).toEqual([]);
    });

    test("a node that shows its location nowhere fails closed", async () => {
        const r = await validateStack(policy(), stackArgs([{ type: TYPES.vpsNode, name: "ghost", props: {} }]));
        expect(messages(r)).toEqual([expect.stringMatching(/^node ghost .* neither as inputs nor as registered outputs.*fails closed/)]);
    });
});

describe("no-us-cloud-act-providers", () => {
    const policy = () => cloudActPolicy(new Observations());

    test.each([
        ["aws", "eu-north-1", "Amazon Web Services"],
        ["azure", "norwayeast", "Microsoft Azure"],
        ["gcp", "europe-north1", "Google Cloud"],
        ["digitalocean", "fra1", "DigitalOcean"],
        ["akamai", "eu-central", "Akamai Cloud (Linode)"],
        ["vultr", "fra", "Vultr"],
        ["oracle", "eu-frankfurt-1", "Oracle Cloud Infrastructure"],
    ])("%s is flagged whatever the region (%s)", async (provider, region, display) => {
        const r = await validateResource(policy(), nodeArgs("n1", { provider, region }));
        expect(messages(r)).toEqual([expect.stringContaining(`runs at ${provider} (${display}, headquartered in the US), even in ${region}`)]);
    });

    test.each([["hetzner", "ash"], ["coolvds", "oslo"], ["exoscale", "ch-gva-2"], ["other", undefined], ["acme", "x1"]])("%s is not flagged", async (provider, region) => {
        expect(await validateResource(policy(), nodeArgs("n1", { provider, region, country: provider === "other" ? "US" : undefined }))).toEqual([]);
    });

    test("the flagged jurisdictions are configurable", async () => {
        expect(await validateResource(policy(), nodeArgs("n1", { provider: "exoscale", region: "ch-gva-2" }, { jurisdictions: ["US", "CH"] }))).toHaveLength(1);
        expect(await validateResource(policy(), nodeArgs("n1", { provider: "aws", region: "eu-north-1" }, { jurisdictions: ["CN"] }))).toEqual([]);
    });
});

describe("nvme-storage-required", () => {
    test.each([["ssd", /declares storage "ssd"/], ["hdd", /declares storage "hdd"/], [undefined, /declares no storage/]])("%s is refused", async (storage, message) => {
        const r = await validateResource(nvmePolicy(new Observations()), nodeArgs("osl-agent-2", { storage }));
        expect(messages(r)).toEqual([expect.stringMatching(new RegExp(`^node osl-agent-2 ${message.source}.*\\(nvme-storage-required\\).*set storage: nvme`))]);
    });

    test("nvme passes, in either phase", async () => {
        const p = nvmePolicy(new Observations());
        expect(await validateResource(p, nodeArgs("a"))).toEqual([]);
        expect(await validateStack(p, stackArgs([{ type: TYPES.vpsNode, name: "b", props: node("b") }]))).toEqual([]);
    });

    test("a node whose storage is visible nowhere fails closed", async () => {
        const r = await validateStack(nvmePolicy(new Observations()), stackArgs([{ type: TYPES.vpsNode, name: "ghost", props: {} }]));
        expect(messages(r)).toEqual([expect.stringMatching(/^node ghost .* cannot see that it is NVMe/)]);
    });
});

describe("min-node-size", () => {
    const policy = () => minSizePolicy(new Observations());
    test("a small server is flagged with both shortfalls", async () => {
        const r = await validateResource(policy(), nodeArgs("s1", { role: "server", vcpu: 2, memoryGb: 4 }));
        expect(messages(r)).toEqual([expect.stringMatching(/^server s1 has 2 vCPU \(at least 4\) and 4 GB of memory \(at least 8\).*\(min-node-size\)/)]);
    });
    test("agents and big-enough servers pass", async () => {
        expect(await validateResource(policy(), nodeArgs("a1", { role: "agent", vcpu: 1, memoryGb: 1 }))).toEqual([]);
        expect(await validateResource(policy(), nodeArgs("s1", { role: "server", vcpu: 4, memoryGb: 8 }))).toEqual([]);
    });
    test("thresholds come from the policy config", async () => {
        expect(await validateResource(policy(), nodeArgs("s1", { role: "server", vcpu: 4, memoryGb: 8 }, { minVcpu: 8 }))).toHaveLength(1);
        expect(await validateResource(policy(), nodeArgs("s1", { role: "server", vcpu: 2, memoryGb: 4 }, { minVcpu: 2, minMemoryGb: 4 }))).toEqual([]);
    });
});

describe("k3s-version-pinned", () => {
    const cluster = (version: unknown) => resourceArgs(TYPES.k3sCluster, "k3s", { version, servers: 1 });
    test.each(["v1.35.6+k3s1", "v1.33.5+k3s1", "v1.34.10+k3s12"])("%s is pinned", async (v) => {
        expect(await validateResource(versionPinnedPolicy(new Observations()), cluster(v))).toEqual([]);
    });
    test.each([
        ["latest", /release channel/],
        ["stable", /release channel/],
        ["testing", /release channel/],
        ["v1.35", /release channel/],
        ["v1.35.6", /not an exact K3s release/],
        ["v1.35.6-rc1+k3s1", /release candidate/],
        ["1.35.6+k3s1", /not an exact K3s release/],
    ])("%s is refused", async (v, why) => {
        const r = await validateResource(versionPinnedPolicy(new Observations()), cluster(v));
        expect(messages(r)).toEqual([expect.stringMatching(new RegExp(`^cluster k3s installs K3s "${v.replace(/[.+]/g, "\\$&")}", .*${why.source}.*Pin an exact release`))]);
    });
    test("read from the registered outputs when the inputs do not carry it", async () => {
        const p = versionPinnedPolicy(new Observations());
        expect(await validateResource(p, resourceArgs(TYPES.k3sCluster, "k3s", {}))).toEqual([]);
        expect(await validateStack(p, stackArgs([{ type: TYPES.k3sCluster, name: "k3s", props: { version: "stable" } }]))).toHaveLength(1);
        expect(messages(await validateStack(p, stackArgs([{ type: TYPES.k3sCluster, name: "k3s", props: {} }])))).toEqual([expect.stringMatching(/cannot see that it is pinned/)]);
    });
});

describe("etcd-quorum-odd", () => {
    test.each([1, 3, 5, 7])("%i servers pass", async (n) => {
        expect(await validateResource(quorumPolicy(new Observations()), resourceArgs(TYPES.k3sCluster, "k3s", { servers: n }))).toEqual([]);
    });
    test.each([
        [0, /has no K3s server/],
        [2, /etcd needs 2 of 2 members to accept writes, so losing either server stops the control plane.*Run 1 server, or 3/],
        [4, /etcd needs 3 of 4 members, so the cluster survives losing 1 server\(s\), no more than with 3.*Run 3 or 5 servers/],
        [6, /survives losing 2 server\(s\), no more than with 5/],
    ])("%i servers fail", async (n, message) => {
        const r = await validateResource(quorumPolicy(new Observations()), resourceArgs(TYPES.k3sCluster, "k3s", { servers: n }));
        expect(messages(r)).toEqual([expect.stringMatching(message)]);
    });
    test("the count comes from serverNames when the cluster registers names", async () => {
        const r = await validateStack(quorumPolicy(new Observations()), stackArgs([{ type: TYPES.k3sCluster, name: "k3s", props: { serverNames: ["a", "b"] } }]));
        expect(r).toEqual([{ message: expect.stringMatching(/^cluster k3s has 2 K3s servers \(a, b\)/), urn: urnOf(TYPES.k3sCluster, "k3s") }]);
    });
    test("without a cluster count, the VpsNode roles decide", async () => {
        const nodes = ["s1", "s2", "s3", "s4"].map((name) => ({ type: TYPES.vpsNode, name, props: node(name, { role: "server" }) }));
        const r = await validateStack(quorumPolicy(new Observations()), stackArgs([...nodes, { type: TYPES.k3sCluster, name: "k3s", props: {} }]));
        expect(r).toEqual([{ message: expect.stringMatching(/^the cluster has 4 K3s servers \(s1, s2, s3, s4\)/) }]);
    });
    test("node roles seen only as inputs still count", async () => {
        const p = quorumPolicy(new Observations());
        for (const name of ["s1", "s2"]) await validateResource(p, nodeArgs(name, { role: "server" }));
        const r = await validateStack(p, stackArgs(["s1", "s2"].map((name) => ({ type: TYPES.vpsNode, name, props: {} }))));
        expect(messages(r)).toEqual([expect.stringMatching(/has 2 K3s servers \(s1, s2\)/)]);
    });
    test("a cluster decided on its inputs is not reported again", async () => {
        const p = quorumPolicy(new Observations());
        expect(await validateResource(p, resourceArgs(TYPES.k3sCluster, "k3s", { servers: 2 }))).toHaveLength(1);
        expect(await validateStack(p, stackArgs([{ type: TYPES.k3sCluster, name: "k3s", props: { servers: 2 } }]))).toEqual([]);
    });
});

describe("secrets-encryption-at-rest", () => {
    const policy = () => secretsEncryptionPolicy(new Observations());
    const cluster = (props: Record<string, unknown>) => resourceArgs(TYPES.k3sCluster, "k3s", props);
    test("on, as flag and in config.yaml, passes", async () => {
        expect(await validateResource(policy(), cluster({ secretsEncryption: true, serverConfig: "secrets-encryption: true\nprotect-kernel-defaults: true\n" }))).toEqual([]);
    });
    test.each([
        ["the flag off", { secretsEncryption: false }, /runs K3s without secrets encryption/],
        ["config.yaml without it", { secretsEncryption: true, serverConfig: "cluster-init: true\n" }, /config\.yaml does not set secrets-encryption: true/],
        ["config.yaml with it off", { serverConfig: "secrets-encryption: false\n" }, /does not set secrets-encryption: true/],
        ["config.yaml that is not YAML", { serverConfig: "secrets-encryption: [true\n" }, /cannot be read because it is not valid YAML/],
    ])("%s is refused", async (_label, props, message) => {
        expect(messages(await validateResource(policy(), cluster(props)))).toEqual([expect.stringMatching(message)]);
    });
    test("a cluster that shows neither fails closed", async () => {
        expect(messages(await validateStack(policy(), stackArgs([{ type: TYPES.k3sCluster, name: "k3s", props: { version: "v1.35.6+k3s1" } }])))).toEqual([
            expect.stringMatching(/cannot see secrets encryption turned on/),
        ]);
    });
});

describe("ssh-key-auth-only", () => {
    const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n-----END OPENSSH PRIVATE KEY-----\n";
    const command = (connection: Record<string, unknown>, type: string = TYPES.remoteCommand) =>
        resourceArgs(type, "osl-server-1-install", { connection: { host: "192.0.2.10", port: 22, user: "root", ...connection }, create: "true" });
    test("a key passes", async () => {
        expect(await validateResource(sshKeyOnlyPolicy(), command({ privateKey: KEY, privateKeyPassword: "passphrase of the key" }))).toEqual([]);
    });
    test("a password is refused and never repeated", async () => {
        const r = await validateResource(sshKeyOnlyPolicy(), command({ password: "hunter2" }));
        expect(messages(r)).toEqual([expect.stringMatching(/^remote command osl-server-1-install logs in to root@192\.0\.2\.10 with a password: .*\(ssh-key-auth-only\)\. Remove private-faas:ssh\.password/)]);
        expect(r[0].message).not.toContain("hunter2");
    });
    test("a bastion password, a file copy, and a password not known yet are refused too", async () => {
        expect(messages(await validateResource(sshKeyOnlyPolicy(), command({ privateKey: KEY, proxy: { host: "198.51.100.1", user: "jump", password: "x" } })))).toEqual([
            expect.stringMatching(/reaches it through the bastion jump@198\.51\.100\.1 with a password/),
        ]);
        expect(messages(await validateResource(sshKeyOnlyPolicy(), command({ password: "x" }, TYPES.copyToRemote)))).toEqual([expect.stringMatching(/^file copy /)]);
        expect(await validateResource(sshKeyOnlyPolicy(), command({ password: UNKNOWN_STRING }))).toHaveLength(1);
    });
    test("an empty password is no password", async () => {
        expect(await validateResource(sshKeyOnlyPolicy(), command({ privateKey: KEY, password: "" }))).toEqual([]);
    });
});

describe("openfaas-admin-not-public", () => {
    const policy = () => adminNotPublicPolicy(new Observations());
    const release = (values: Record<string, unknown>, chart = "openfaas") => resourceArgs(TYPES.helmRelease, "openfaas", { chart, version: "15.0.6", namespace: "openfaas", values });

    test("the chart's defaults publish the gateway as a NodePort", async () => {
        expect(messages(await validateResource(policy(), release({ openfaasPro: false })))).toEqual([
            expect.stringMatching(/Service gateway-external of type NodePort \(exposeServices defaults to true, serviceType defaults to NodePort\)/),
        ]);
        expect(await validateResource(policy(), release({ exposeServices: false }))).toEqual([]);
        expect(await validateResource(policy(), release({ exposeServices: true, serviceType: "ClusterIP" }))).toEqual([]);
        expect(await validateResource(policy(), release({ serviceType: "LoadBalancer" }))).toHaveLength(1);
        expect(await validateResource(policy(), release({ serviceType: "LoadBalancer" }, "openfaas/openfaas"))).toHaveLength(1);
        expect(await validateResource(policy(), release({}, "cert-manager"))).toEqual([]);
    });

    test("the chart's own ingress needs an allow-list", async () => {
        expect(messages(await validateResource(policy(), release({ exposeServices: false, ingress: { enabled: true } })))).toEqual([expect.stringMatching(/chart's own Ingress/)]);
    });

    test("NodePort and LoadBalancer Services in the gateway's namespace are refused", async () => {
        const svc = (namespace: string, type: string) => resourceArgs(TYPES.service, "gw", { metadata: { name: "gateway-public", namespace }, spec: { type } });
        expect(messages(await validateResource(policy(), svc("openfaas", "NodePort")))).toEqual([expect.stringMatching(/^Service openfaas\/gateway-public is of type NodePort/)]);
        expect(await validateResource(policy(), svc("openfaas", "LoadBalancer"))).toHaveLength(1);
        expect(await validateResource(policy(), svc("openfaas", "ClusterIP"))).toEqual([]);
        expect(await validateResource(policy(), svc("kube-system", "LoadBalancer"))).toEqual([]);
        expect(await validateResource(policy(), resourceArgs(TYPES.service, "gw", { metadata: { name: "g", namespace: "faas" }, spec: { type: "NodePort" } }, { namespaces: ["faas"] }))).toHaveLength(1);
    });

    const ingress = (name: string, paths: [string, string][], annotations: Record<string, string> = {}) => ({
        metadata: { name, namespace: "openfaas", annotations },
        spec: { rules: [{ host: "faas.example.no", http: { paths: paths.map(([path, pathType]) => ({ path, pathType, backend: { service: { name: "gateway", port: { number: 8080 } } } })) } }] },
    });
    const allowList = { metadata: { name: "admin-allowlist", namespace: "openfaas" }, spec: { ipAllowList: { sourceRange: ["198.51.100.0/24"] } } };
    const annotated = { [MIDDLEWARES_ANNOTATION]: "openfaas-admin-allowlist@kubernetescrd" };

    test("an Ingress reaching /system/ without a middleware is refused; function paths alone pass", async () => {
        const open = await validateResource(policy(), resourceArgs(TYPES.ingress, "gw", ingress("gateway", [["/", "Prefix"]])));
        expect(messages(open)).toEqual([expect.stringMatching(/^Ingress openfaas\/gateway sends "\/" \(Prefix\) to the gateway, which covers \/system\/ or \/ui\/, with no Traefik middleware/)]);
        expect(await validateResource(policy(), resourceArgs(TYPES.ingress, "gw", ingress("fns", [["/function/", "Prefix"], ["/async-function/", "Prefix"]])))).toEqual([]);
        expect(await validateResource(policy(), resourceArgs(TYPES.ingress, "gw", ingress("admin", [["/system/", "Prefix"]], annotated)))).toEqual([]);
    });

    test("the named middleware must be an allow-list of admin ranges", async () => {
        const stack = (mw: Record<string, unknown> | undefined) =>
            stackArgs([
                { type: TYPES.ingress, name: "admin", props: ingress("admin", [["/system/", "Prefix"], ["/ui/", "Prefix"]], annotated) },
                ...(mw ? [{ type: TYPES.middleware, name: "admin-allowlist", props: mw }] : []),
            ]);
        expect(await validateStack(policy(), stack(allowList))).toEqual([]);
        expect(messages(await validateStack(policy(), stack({ ...allowList, spec: { ipAllowList: { sourceRange: ["0.0.0.0/0"] } } })))).toEqual([
            expect.stringMatching(/its sourceRange allows 0\.0\.0\.0\/0, the whole internet/),
        ]);
        expect(messages(await validateStack(policy(), stack({ ...allowList, spec: { ipAllowList: { sourceRange: [] } } })))).toEqual([expect.stringMatching(/has no spec\.ipAllowList\.sourceRange/)]);
        expect(messages(await validateStack(policy(), stack({ ...allowList, spec: { basicAuth: { secret: "x" } } })))).toEqual([expect.stringMatching(/has no spec\.ipAllowList/)]);
        expect(messages(await validateStack(policy(), stack(undefined)))).toEqual([expect.stringMatching(/openfaas-admin-allowlist@kubernetescrd is not a Middleware of this stack/)]);
    });

    test.each([
        ["/", "Prefix", true], ["/system", "Prefix", true], ["/system/", "Prefix", true], ["/system/functions", "Prefix", true], ["/ui/", "Prefix", true],
        ["/sys", "Prefix", false], ["/function/", "Prefix", false], ["/systemd", "Prefix", false],
        ["/system/info", "Exact", true], ["/", "Exact", false], ["/function/x", "Exact", false],
        ["/sys", "ImplementationSpecific", true], ["/u", "ImplementationSpecific", true], ["/function", "ImplementationSpecific", false],
        [undefined, undefined, true], ["", "ImplementationSpecific", true],
    ])("path %p (%p) reaches the admin API: %p", (path, type, covers) => {
        expect(coversAdminPath(path, type)).toBe(covers);
    });
});

describe("openfaas-ce-limits", () => {
    const release = (values: Record<string, unknown>) => ({ chart: "openfaas", namespace: "openfaas", values });
    const fn = (name: string, labels: Record<string, string> = {}) => ({ type: TYPES.openFaasFunction, name, props: { name, image: `ghcr.io/example/${name}:1.0.0`, labels, annotations: {} } });

    test("Pro-only chart values are refused with CE", async () => {
        const r = await validateResource(ceLimitsPolicy(new Observations()), resourceArgs(TYPES.helmRelease, "openfaas", release({ autoscaler: { enabled: true }, operator: { create: true }, queueMode: "jetstream" })));
        expect(messages(r)).toEqual([
            expect.stringMatching(/sets operator\.create = true, the Function CRD operator/),
            expect.stringMatching(/sets autoscaler\.enabled = true, the Pro autoscaler/),
            expect.stringMatching(/sets queueMode = "jetstream", the JetStream queue-worker/),
        ]);
        expect(await validateResource(ceLimitsPolicy(new Observations()), resourceArgs(TYPES.helmRelease, "openfaas", release({ openfaasPro: true, autoscaler: { enabled: true } })))).toEqual([]);
        expect(await validateResource(ceLimitsPolicy(new Observations()), resourceArgs(TYPES.helmRelease, "openfaas", release({ exposeServices: false, queueWorker: { replicas: 2 } })))).toEqual([]);
    });

    test("at most 15 functions with CE; none of the limits with Pro", async () => {
        const fns = (n: number) => Array.from({ length: n }, (_, i) => fn(`f${i + 1}`));
        const stack = (values: Record<string, unknown>, n: number, config = {}) =>
            validateStack(ceLimitsPolicy(new Observations()), stackArgs([{ type: TYPES.helmRelease, name: "openfaas", props: release(values) }, ...fns(n)], config));
        expect(await stack({}, 15)).toEqual([]);
        expect(messages(await stack({}, 16))).toEqual([expect.stringMatching(/^the stack deploys 16 functions \(f1, .*f16\) on OpenFaaS Community Edition, which runs at most 15/)]);
        expect(await stack({ openfaasPro: true }, 16)).toEqual([]);
        expect(await stack({}, 16, { maxFunctions: 20 })).toEqual([]);
    });

    test("scale labels above 5 and scale to zero are refused with CE", async () => {
        const r = await validateStack(ceLimitsPolicy(new Observations()), stackArgs([
            { type: TYPES.helmRelease, name: "openfaas", props: release({}) },
            fn("ok", { "com.openfaas.scale.min": "1", "com.openfaas.scale.max": "5", "com.openfaas.scale.zero": "false" }),
            fn("big", { "com.openfaas.scale.max": "10" }),
            fn("sleepy", { "com.openfaas.scale.zero": "true" }),
        ]));
        expect(r).toEqual([
            { message: expect.stringMatching(/^function big sets com\.openfaas\.scale\.max=10: OpenFaaS CE runs at most 5 replicas/), urn: urnOf(TYPES.openFaasFunction, "big") },
            { message: expect.stringMatching(/^function sleepy sets com\.openfaas\.scale\.zero=true: scale to zero is an OpenFaaS Pro feature/), urn: urnOf(TYPES.openFaasFunction, "sleepy") },
        ]);
    });

    test("no OpenFaaS release, nothing to judge", async () => {
        expect(await validateStack(ceLimitsPolicy(new Observations()), stackArgs(Array.from({ length: 20 }, (_, i) => fn(`f${i}`))))).toEqual([]);
    });

    test("function facts seen only as inputs are judged at the end", async () => {
        const p = ceLimitsPolicy(new Observations());
        await validateResource(p, resourceArgs(TYPES.openFaasFunction, "big", { name: "big", image: "x:1", labels: { "com.openfaas.scale.max": "9" } }));
        const r = await validateStack(p, stackArgs([{ type: TYPES.helmRelease, name: "openfaas", props: release({}) }, { type: TYPES.openFaasFunction, name: "big", props: {} }]));
        expect(messages(r)).toEqual([expect.stringMatching(/^function big sets com\.openfaas\.scale\.max=9/)]);
    });
});
