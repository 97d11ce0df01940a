import {
    adminIngress,
    adminMiddlewareSpec,
    certificateSpec,
    clusterIssuer,
    MIDDLEWARES_ANNOTATION,
    publicFunctionNames,
    publicIngress,
    tlsMode,
} from "../components/ingressSpec";
import { stackConfig } from "./helpers/stackConfig";

const paths = (def: ReturnType<typeof publicIngress>): string[] => (def!.spec.rules as any[]).flatMap((r: any) => r.http.paths.map((p: any) => `${p.pathType} ${p.path}`));
const edge = (functions: string[]) => ({
    host: "192.0.2.50",
    serverName: "_",
    legacyUpstream: "10.0.0.5:8080",
    routes: functions.map((f, i) => ({ path: `/api/r${i}`, function: f })),
});

describe("public function paths", () => {
    test("without an allow-list every function is public, over HTTPS only, to the gateway Service", () => {
        const pub = publicIngress(stackConfig({ ingress: { host: "faas.example.eu", acmeEmail: "ops@example.eu" } }))!;
        expect(pub.name).toBe("gateway-public");
        expect(paths(pub)).toEqual(["Prefix /function/", "Prefix /async-function/"]);
        expect(pub.annotations).toEqual({
            "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
            "traefik.ingress.kubernetes.io/router.tls": "true",
        });
        expect(pub.annotations).not.toHaveProperty(MIDDLEWARES_ANNOTATION);
        expect(pub.spec).toMatchObject({
            ingressClassName: "traefik",
            tls: [{ hosts: ["faas.example.eu"], secretName: "gateway-tls" }],
            rules: [{ host: "faas.example.eu" }],
        });
        expect((pub.spec.rules as any)[0].http.paths[0].backend).toEqual({ service: { name: "gateway", port: { number: 8080 } } });
    });

    test("with an allow-list only those functions, plus every function an edge route calls", () => {
        const config = stackConfig({ ingress: { publicFunctions: ["resize", "ocr"] }, edge: edge(["invoice", "resize"]) });
        expect(publicFunctionNames(config)).toEqual(["invoice", "ocr", "resize"]);
        expect(paths(publicIngress(config))).toEqual([
            "Prefix /function/invoice",
            "Prefix /async-function/invoice",
            "Prefix /function/ocr",
            "Prefix /async-function/ocr",
            "Prefix /function/resize",
            "Prefix /async-function/resize",
        ]);
    });

    test("an empty allow-list and no edge route: no public Ingress at all", () => {
        expect(publicIngress(stackConfig({ ingress: { publicFunctions: [] } }))).toBeUndefined();
    });

    test("without a host the rule matches any host and there is no TLS section (Traefik's default certificate)", () => {
        const pub = publicIngress(stackConfig())!;
        expect(pub.spec.tls).toBeUndefined();
        expect((pub.spec.rules as any)[0].host).toBeUndefined();
    });
});

describe("admin paths", () => {
    test("/system/ and /ui/ behind the allow-list Middleware of the admin CIDRs", () => {
        const config = stackConfig({ adminCidrs: ["198.51.100.0/24", "2001:db8::/48"] });
        const admin = adminIngress(config)!;
        expect(admin.name).toBe("gateway-admin");
        expect(paths(admin)).toEqual(["Prefix /system/", "Prefix /ui/"]);
        expect(admin.annotations[MIDDLEWARES_ANNOTATION]).toBe("openfaas-admin-allowlist@kubernetescrd");
        expect(admin.annotations["traefik.ingress.kubernetes.io/router.entrypoints"]).toBe("websecure");
        expect(adminMiddlewareSpec(config.adminCidrs)).toEqual({ ipAllowList: { sourceRange: ["198.51.100.0/24", "2001:db8::/48"] } });
    });

    test("no admin CIDR: not exposed at all", () => {
        expect(adminIngress(stackConfig())).toBeUndefined();
    });

    test("the public Ingress never carries an admin path", () => {
        const all = paths(publicIngress(stackConfig({ adminCidrs: ["198.51.100.0/24"] })));
        expect(all.filter((p) => /system|ui/.test(p))).toEqual([]);
    });
});

describe("TLS", () => {
    test("Let's Encrypt production by default, HTTP-01 through Traefik", () => {
        const config = stackConfig({ ingress: { host: "faas.example.eu", acmeEmail: "ops@example.eu" } });
        expect(tlsMode(config)).toBe("letsencrypt");
        expect(clusterIssuer(config)).toEqual({
            name: "letsencrypt-production",
            spec: {
                acme: {
                    server: "https://acme-v02.api.letsencrypt.org/directory",
                    email: "ops@example.eu",
                    privateKeySecretRef: { name: "letsencrypt-production-account-key" },
                    solvers: [{ http01: { ingress: { ingressClassName: "traefik" } } }],
                },
            },
        });
    });

    test("staging on request", () => {
        const issuer = clusterIssuer(stackConfig({ ingress: { host: "faas.example.eu", acmeEmail: "ops@example.eu", acmeEnvironment: "staging" } }));
        expect(issuer.name).toBe("letsencrypt-staging");
        expect((issuer.spec as any).acme.server).toBe("https://acme-staging-v02.api.letsencrypt.org/directory");
    });

    test("a host without an ACME e-mail gets a self-signed certificate; no host, Traefik's default one", () => {
        const selfSigned = stackConfig({ ingress: { host: "faas.example.eu" } });
        expect(tlsMode(selfSigned)).toBe("self-signed");
        expect(clusterIssuer(selfSigned)).toEqual({ name: "selfsigned", spec: { selfSigned: {} } });
        expect(tlsMode(stackConfig())).toBe("traefik-default");
    });

    test("the certificate covers the host and lands in the Secret the Ingresses name", () => {
        expect(certificateSpec("faas.example.eu", "letsencrypt-production")).toEqual({
            secretName: "gateway-tls",
            dnsNames: ["faas.example.eu"],
            issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: "letsencrypt-production" },
            privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
        });
    });
});
