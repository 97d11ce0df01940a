/**
 * The generated edge configuration under the real nginx, on loopback, between stub upstreams: routing,
 * headers, what must never reach the gateway, async calls, timeouts, keep-alive reuse, TLS.
 */
import * as fs from "fs";
import * as http from "http";
import { parseStackConfig } from "../components/config";
import { edgeSettings, renderNginxConfig, EdgeSettings } from "../components/nginxConfig";
import { startNginx, nginxMissing, nginxTest, tempDir, tempLayout, LocalNginx } from "./helpers/localNginx";
import { startStub, request, StubServer, Echo, RequestOptions } from "./helpers/edgeStubs";
import { seedNaiveConfig } from "./helpers/seedEdge";
import { makeCa, makeLeaf, Pem } from "./helpers/testCerts";

const missing = nginxMissing();
if (missing) throw new Error(missing);

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----";
const EDGE_HOST = "edge.test";
const INGRESS_HOST = "faas.example.test";
const POOL = 4;

/** A stack with one node and the given edge; the gateway is reached directly (explicit upstream). */
function settings(edge: Record<string, unknown>, ingress: Record<string, unknown> = { host: INGRESS_HOST }): EdgeSettings {
    return edgeSettings(
        parseStackConfig({
            nodes: [{ name: "n1", role: "server", host: "192.0.2.10", provider: "coolvds", region: "oslo", storage: "nvme", vcpu: 4, memoryGb: 8 }],
            ssh: { privateKey: KEY },
            k3s: { version: "v1.35.6+k3s1" },
            openfaas: { maxDurationSeconds: 30 },
            ingress,
            edge: { host: "192.0.2.20", serverName: EDGE_HOST, listenAddresses: ["127.0.0.1"], keepaliveConnections: POOL, ...edge },
        }),
    );
}

const ROUTES = [
    { path: "/api/v2/image-resize", function: "image-resize" },
    { path: "/api/v2/image-resize/thumbnails", function: "thumbnailer" },
    { path: "/api/v2/invoices/pdf", function: "pdf-generator", async: true },
    { path: "/api/slow", function: "slow", timeoutSeconds: 1 },
];

/** What a Go server (the gateway) makes of a request target: the path decoded once, then cleaned. */
function gatewayView(url: string): string {
    const rawPath = url.split("?")[0];
    const decoded = decodeURIComponent(rawPath);
    const out: string[] = [];
    for (const seg of decoded.split("/")) {
        if (seg === "" || seg === ".") continue;
        if (seg === "..") out.pop();
        else out.push(seg);
    }
    return "/" + out.join("/");
}

describe("the generated edge under a real nginx", () => {
    let legacy: StubServer;
    let gateway: StubServer;
    let edge: LocalNginx;
    const get = (p: string, opts: RequestOptions = {}) => request(edge.ports[0], p, { ...opts, headers: { Host: EDGE_HOST, ...opts.headers } });

    beforeAll(async () => {
        legacy = await startStub("legacy");
        gateway = await startStub("gateway");
        edge = await startNginx(
            ([port], layout) =>
                renderNginxConfig(
                    settings({
                        listen: port,
                        legacyUpstream: `127.0.0.1:${legacy.port}`,
                        gatewayUpstream: `127.0.0.1:${gateway.port}`,
                        clientMaxBodySize: "64k",
                        routes: ROUTES,
                    }),
                    layout,
                ),
            1,
            "routes",
        );
    });
    afterAll(async () => {
        await edge?.stop();
        await legacy?.close();
        await gateway?.close();
    });
    beforeEach(() => {
        legacy.reset();
        gateway.reset();
    });

    test.each([
        ["/api/v2/image-resize", "/function/image-resize"],
        ["/api/v2/image-resize?width=100&fmt=webp", "/function/image-resize?width=100&fmt=webp"],
        ["/api/v2/image-resize/", "/function/image-resize/"],
        ["/api/v2/image-resize/a/b.png?x=1", "/function/image-resize/a/b.png?x=1"],
        ["/api/v2/image-resize/thumbnails", "/function/thumbnailer"],
        ["/api/v2/image-resize/thumbnails/7?s=64", "/function/thumbnailer/7?s=64"],
    ])("%s goes to the gateway as %s", async (p, expected) => {
        const r = await get(p);
        expect(r.status).toBe(200);
        expect((JSON.parse(r.body) as Echo).server).toBe("gateway");
        expect(gateway.requests.map((q) => q.url)).toEqual([expected]);
        expect(legacy.requests).toEqual([]);
    });

    test.each(["/", "/about?page=2", "/api/v2/image-resize-old", "/api/v2/image-resizer/x", "/API/v2/image-resize", "/api/v2", "/api/slowly"])(
        "%s goes to the monolith unchanged",
        async (p) => {
            const r = await get(p);
            expect(r.status).toBe(200);
            expect(legacy.requests.map((q) => q.url)).toEqual([p]);
            expect(gateway.requests).toEqual([]);
        },
    );

    test("tracing headers: Host, X-Real-IP, X-Forwarded-*, a request id the client gets back", async () => {
        const r = await get("/api/v2/image-resize", { headers: { "X-Forwarded-For": "203.0.113.66", "X-Real-IP": "203.0.113.66" } });
        const seen = gateway.requests[0].headers;
        expect(seen.host).toBe(INGRESS_HOST);
        expect(seen["x-forwarded-host"]).toBe(EDGE_HOST);
        expect(seen["x-real-ip"]).toBe("127.0.0.1");
        expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
        expect(seen["x-forwarded-proto"]).toBe("http");
        expect(seen["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
        expect(r.headers["x-request-id"]).toBe(seen["x-request-id"]);
        expect(seen.connection).toBeUndefined();

        const l = await get("/orders/1");
        const legacySeen = legacy.requests[0].headers;
        expect(legacySeen.host).toBe(EDGE_HOST);
        expect(legacySeen["x-forwarded-for"]).toBe("127.0.0.1");
        expect(legacySeen["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
        // The upstream's own X-Request-Id is replaced by the edge's.
        expect(l.headers["x-request-id"]).toBe(legacySeen["x-request-id"]);
        expect(legacySeen["x-request-id"]).not.toBe(seen["x-request-id"]);
    });

    test("async route: POST gets the gateway's 202 and X-Call-Id; X-Callback-Url reaches the gateway", async () => {
        const r = await get("/api/v2/invoices/pdf", {
            method: "POST",
            body: '{"invoice_id":42}',
            headers: { "Content-Type": "application/json", "X-Callback-Url": "https://erp.example.test/hooks/pdf" },
        });
        expect(r.status).toBe(202);
        expect(r.headers["x-call-id"]).toMatch(/^[0-9a-f-]{36}$/);
        expect(r.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
        expect(gateway.requests).toHaveLength(1);
        expect(gateway.requests[0]).toMatchObject({ method: "POST", url: "/async-function/pdf-generator", body: '{"invoice_id":42}' });
        expect(gateway.requests[0].headers["x-callback-url"]).toBe("https://erp.example.test/hooks/pdf");
    });

    test.each(["GET", "PUT", "DELETE", "HEAD"])("async route refuses %s with 405 and never calls the gateway", async (method) => {
        for (const p of ["/api/v2/invoices/pdf", "/api/v2/invoices/pdf/batch"]) {
            const r = await get(p, { method });
            expect(r.status).toBe(405);
            expect(r.headers.allow).toBe("POST");
            expect(r.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
        }
        expect(gateway.requests).toEqual([]);
    });

    const neverGateway = [
        "/system/functions",
        "/system/info",
        "/ui/",
        "/function/image-resize",
        "/function/secret-admin-fn",
        "/async-function/pdf-generator",
        "//system/functions",
        "///ui/",
        "/function/../system/functions",
        "/%73ystem/functions",
        "/%2fsystem/functions",
        "/api/v2/image-resize/../../../system/functions",
        "/api/v2/image-resize/./../../../ui/",
        "/api/v2/image-resize/..%2f..%2f..%2fsystem%2ffunctions",
        "/api/v2/image-resize/%2e%2e/%2e%2e/%2e%2e/system/info",
        "/api/v2/image-resize%2f..%2f..%2f..%2fsystem/info",
        "/api/v2/image-resize/..",
        "/api/v2/image-resize-old/../../system/info",
        "/api/v2/invoices/pdf/../../../system/functions",
    ];

    test.each(neverGateway)("%s never reaches the gateway", async (p) => {
        const r = await get(p, { method: "GET" });
        expect([200, 400]).toContain(r.status);
        if (r.status === 200) expect((JSON.parse(r.body) as Echo).server).toBe("legacy");
        expect(gateway.requests).toEqual([]);
    });

    test("whatever a client writes below a route stays below that route's function", async () => {
        const tricks = [
            "/api/v2/image-resize/%252e%252e/%252e%252e/system/info",
            "/api/v2/image-resize/%2e%2e%2fthumbnails",
            "/api/v2/image-resize/a/%2e%2e/%2e%2e/image-resize/x",
            "/api/v2/image-resize/..;/..;/system/info",
            "/api/v2/image-resize/%00/../x",
            "/api/v2/image-resize/%5c..%5c..%5csystem",
            "/api/v2/image-resize/thumbnails/../../system/info",
        ];
        for (const p of tricks) await get(p);
        const allowed = ["/function/image-resize", "/function/thumbnailer"];
        expect(gateway.requests.length).toBeGreaterThan(0);
        for (const q of gateway.requests) {
            const view = gatewayView(q.url);
            expect(allowed.some((a) => view === a || view.startsWith(a + "/"))).toBe(true);
        }
    });

    test("a function slower than the route's timeoutSeconds gets 504; a faster one 200", async () => {
        const slow = await get("/api/slow", { headers: { "X-Stub-Delay-Ms": "3000" } });
        expect(slow.status).toBe(504);
        const fast = await get("/api/slow", { headers: { "X-Stub-Delay-Ms": "100" } });
        expect(fast.status).toBe(200);
        // One attempt each: a timed-out call is not sent to the gateway a second time.
        expect(gateway.requests).toHaveLength(2);
    });

    test("request bodies above clientMaxBodySize get 413 before any upstream sees them", async () => {
        const big = await get("/api/v2/image-resize", { method: "POST", body: "x".repeat(100 * 1024) });
        expect(big.status).toBe(413);
        const small = await get("/api/v2/image-resize", { method: "POST", body: "x".repeat(32 * 1024) });
        expect(small.status).toBe(200);
        expect(gateway.requests).toHaveLength(1);
    });

    test("a request for another host name gets no answer", async () => {
        await expect(request(edge.ports[0], "/api/v2/image-resize", { headers: { Host: "other.test" } })).rejects.toThrow(/socket hang up|ECONNRESET/);
        expect(gateway.requests).toEqual([]);
        expect(legacy.requests).toEqual([]);
    });

    test(`1,000 sequential requests reuse at most ${POOL} upstream connections per upstream`, async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
            for (let i = 0; i < 1000; i++) {
                const r = await get(`/api/v2/image-resize?i=${i}`, { agent });
                expect(r.status).toBe(200);
            }
            for (let i = 0; i < 1000; i++) {
                const r = await get(`/legacy/page/${i}`, { agent });
                expect(r.status).toBe(200);
            }
        } finally {
            agent.destroy();
        }
        expect(gateway.requests).toHaveLength(1000);
        expect(legacy.requests).toHaveLength(1000);
        expect(gateway.connections).toBeGreaterThanOrEqual(1);
        expect(gateway.connections).toBeLessThanOrEqual(POOL);
        expect(legacy.connections).toBeLessThanOrEqual(POOL);
    });
});

describe("the seed's configuration, for contrast", () => {
    test("it opens a new gateway connection for every request (HTTP/1.0 upstream), so the counter can fail", async () => {
        const legacy = await startStub("legacy");
        const gateway = await startStub("gateway");
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        let edge: LocalNginx | undefined;
        try {
            edge = await startNginx(([listen], layout) => seedNaiveConfig({ listen, legacy: legacy.port, gateway: gateway.port }, layout), 1, "seed");
            for (let i = 0; i < 200; i++) expect((await request(edge.ports[0], "/functions/function/image-resize", { agent })).status).toBe(200);
            expect(gateway.requests).toHaveLength(200);
            expect(gateway.connections).toBe(200);
        } finally {
            agent.destroy();
            await edge?.stop();
            await legacy.close();
            await gateway.close();
        }
    });
});

describe("TLS", () => {
    let dir: string;
    let ca: Pem;
    let otherCa: Pem;
    let edgeCert: Pem;
    let gatewayCert: Pem;
    let wrongNameCert: Pem;
    beforeAll(() => {
        dir = tempDir("certs");
        ca = makeCa(dir, "test-ca");
        otherCa = makeCa(dir, "other-ca");
        edgeCert = makeLeaf(dir, EDGE_HOST, ca);
        gatewayCert = makeLeaf(dir, INGRESS_HOST, ca);
        wrongNameCert = makeLeaf(dir, "other.example.test", ca);
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("with certificates the edge serves HTTPS and redirects plain HTTP with 308", async () => {
        const legacy = await startStub("legacy");
        const gateway = await startStub("gateway");
        let edge: LocalNginx | undefined;
        try {
        edge = await startNginx(
            ([plain, secure], layout) =>
                renderNginxConfig(
                    settings({
                        listen: plain,
                        tls: { certificate: edgeCert.certFile, certificateKey: edgeCert.keyFile, listen: secure },
                        legacyUpstream: `127.0.0.1:${legacy.port}`,
                        gatewayUpstream: `127.0.0.1:${gateway.port}`,
                        routes: ROUTES,
                    }),
                    layout,
                ),
            2,
            "tls",
        );
            const [plain, secure] = edge.ports;
            const redirect = await request(plain, "/api/v2/image-resize?x=1", { method: "POST", headers: { Host: EDGE_HOST } });
            expect(redirect.status).toBe(308);
            expect(redirect.headers.location).toBe(`https://${EDGE_HOST}:${secure}/api/v2/image-resize?x=1`);
            expect(gateway.requests).toEqual([]);

            const tls = { ca: ca.cert, servername: EDGE_HOST };
            const r = await request(secure, "/api/v2/image-resize?x=1", { headers: { Host: EDGE_HOST }, tls });
            expect(r.status).toBe(200);
            expect(gateway.requests[0].url).toBe("/function/image-resize?x=1");
            expect(gateway.requests[0].headers["x-forwarded-proto"]).toBe("https");
            expect((await request(secure, "/shop", { headers: { Host: EDGE_HOST }, tls })).status).toBe(200);
            expect(legacy.requests.map((q) => q.url)).toEqual(["/shop"]);
        } finally {
            await edge?.stop();
            await legacy.close();
            await gateway.close();
        }
    });

    async function throughHttpsGateway(trusted: Pem, served: Pem = gatewayCert): Promise<{ status: number; gateway: StubServer }> {
        const legacy = await startStub("legacy");
        const gateway = await startStub("gateway", { tls: { key: served.key, cert: served.cert } });
        let edge: LocalNginx | undefined;
        try {
        edge = await startNginx(
            ([listen], layout) =>
                renderNginxConfig(
                    settings({
                        listen,
                        legacyUpstream: `127.0.0.1:${legacy.port}`,
                        gatewayUpstream: `127.0.0.1:${gateway.port}`,
                        gatewayScheme: "https",
                        gatewayTrustedCertificate: trusted.certFile,
                        routes: ROUTES,
                    }),
                    layout,
                ),
            1,
            "upstream-tls",
        );
            const r = await request(edge.ports[0], "/api/v2/image-resize", { headers: { Host: EDGE_HOST } });
            return { status: r.status, gateway };
        } finally {
            await edge?.stop();
            await legacy.close();
            await gateway.close();
        }
    }

    test("to an HTTPS gateway: SNI and Host are the ingress host, and the certificate is verified", async () => {
        const ok = await throughHttpsGateway(ca);
        expect(ok.status).toBe(200);
        expect(ok.gateway.requests[0].servername).toBe(INGRESS_HOST);
        expect(ok.gateway.requests[0].headers.host).toBe(INGRESS_HOST);

        const impostor = await throughHttpsGateway(otherCa);
        expect(impostor.status).toBe(502);
        expect(impostor.gateway.requests).toEqual([]);

        const wrongName = await throughHttpsGateway(ca, wrongNameCert);
        expect(wrongName.status).toBe(502);
        expect(wrongName.gateway.requests).toEqual([]);
    });

    test("the default upstream (every ingress node on 443, verified against the system CA bundle) passes nginx -t", () => {
        const s = edgeSettings(
            parseStackConfig({
                nodes: [
                    { name: "s1", role: "server", host: "192.0.2.10", provider: "coolvds", region: "oslo", storage: "nvme", vcpu: 4, memoryGb: 8 },
                    { name: "a1", role: "agent", host: "192.0.2.11", provider: "coolvds", region: "oslo", storage: "nvme", vcpu: 4, memoryGb: 8 },
                    { name: "a2", role: "agent", host: "2001:db8::12", provider: "coolvds", region: "oslo", storage: "nvme", vcpu: 4, memoryGb: 8 },
                ],
                ssh: { privateKey: KEY },
                k3s: { version: "v1.35.6+k3s1" },
                ingress: { host: INGRESS_HOST, acmeEmail: "ops@example.test" },
                edge: { host: "192.0.2.20", serverName: EDGE_HOST, legacyUpstream: "127.0.0.1:8080", routes: ROUTES },
            }),
        );
        const d = tempDir("nginx-t");
        try {
            const text = renderNginxConfig(s, tempLayout(d));
            expect(text).toMatch(/server 192\.0\.2\.11:443;\n\s+server \[2001:db8::12\]:443;/);
            const t = nginxTest(text, d);
            expect(t.output).toMatch(/test is successful/);
            expect(t.ok).toBe(true);
        } finally {
            fs.rmSync(d, { recursive: true, force: true });
        }
    });
});
