/**
 * The edge's settings (defaults resolved against the stack) and the rendered nginx.conf as text; the
 * edge's configuration errors. What the text does under a real nginx: edgeNginx.test.ts.
 */
import { ConfigError, parseStackConfig } from "../components/config";
import { edgeSettings, renderNginxConfig, EdgeSettings, SYSTEM_CA_BUNDLE } from "../components/nginxConfig";
import { timeoutChain } from "../components/timeouts";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----";

function node(name: string, role: string, host: string, extra: Record<string, unknown> = {}) {
    return { name, role, host, provider: "coolvds", region: "oslo", storage: "nvme", vcpu: 4, memoryGb: 8, ...extra };
}

const EDGE = {
    host: "192.0.2.20",
    provider: "coolvds",
    region: "oslo",
    serverName: "api.example.no",
    legacyUpstream: "127.0.0.1:8080",
    routes: [
        { path: "/api/v2/image-resize", function: "image-resize" },
        { path: "/api/v2/invoices/pdf", function: "pdf-generator", async: true, timeoutSeconds: 30 },
    ],
};

function raw(edge: Record<string, unknown> = {}, rest: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        nodes: [node("s1", "server", "192.0.2.10"), node("a1", "agent", "192.0.2.11"), node("a2", "agent", "2001:db8::12"), node("a3", "agent", "192.0.2.13", { ingress: false })],
        ssh: { privateKey: KEY },
        k3s: { version: "v1.35.6+k3s1" },
        openfaas: { maxDurationSeconds: 900 },
        ingress: { host: "faas.example.no", acmeEmail: "ops@example.no" },
        edge: { ...EDGE, ...edge },
        ...rest,
    };
}

const settingsOf = (edge: Record<string, unknown> = {}, rest: Record<string, unknown> = {}): EdgeSettings => edgeSettings(parseStackConfig(raw(edge, rest)));

function problems(r: Record<string, unknown>) {
    try {
        parseStackConfig(r);
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
    }
    throw new Error("expected a ConfigError");
}

/** The lines of one `location` block, found by its head. */
function block(text: string, head: string): string {
    const start = text.indexOf(`${head} {`);
    if (start < 0) throw new Error(`no block "${head}" in:\n${text}`);
    let depth = 0;
    for (let i = text.indexOf("{", start); i < text.length; i++) {
        if (text[i] === "{") depth++;
        if (text[i] === "}" && --depth === 0) return text.slice(start, i + 1);
    }
    throw new Error("unbalanced braces");
}

describe("edge settings", () => {
    test("by default the gateway is every ingress node on 443, over TLS, with the ingress host as Host and SNI", () => {
        const s = settingsOf();
        expect(s.gateway).toEqual({
            servers: [
                { host: "192.0.2.11", port: 443 },
                { host: "2001:db8::12", port: 443 },
            ],
            scheme: "https",
            hostName: "faas.example.no",
            trustedCertificate: SYSTEM_CA_BUNDLE,
        });
    });

    test("the gateway's certificate is verified only when a CA vouches for it", () => {
        expect(settingsOf({}, { ingress: { host: "faas.example.no" } }).gateway.trustedCertificate).toBeUndefined();
        expect(settingsOf({}, { ingress: { host: "faas.example.no", acmeEmail: "ops@example.no", acmeEnvironment: "staging" } }).gateway.trustedCertificate).toBeUndefined();
        expect(settingsOf({}, { ingress: {} }).gateway).toMatchObject({ hostName: undefined, trustedCertificate: undefined });
        expect(settingsOf({ gatewayTrustedCertificate: "/etc/private-faas/ca.pem" }, { ingress: {} }).gateway.trustedCertificate).toBe("/etc/private-faas/ca.pem");
    });

    test("an explicit gatewayUpstream: https on 443, http otherwise, unless gatewayScheme says", () => {
        expect(settingsOf({ gatewayUpstream: "gw.example.no:443" }).gateway).toMatchObject({ servers: [{ host: "gw.example.no", port: 443 }], scheme: "https" });
        expect(settingsOf({ gatewayUpstream: "10.0.1.5:8080" }).gateway).toMatchObject({ scheme: "http", trustedCertificate: undefined });
        expect(settingsOf({ gatewayUpstream: "10.0.1.5:8443", gatewayScheme: "https" }).gateway.scheme).toBe("https");
        expect(settingsOf({ gatewayUpstream: "[2001:db8::5]:443", gatewayScheme: "http" }).gateway).toMatchObject({ servers: [{ host: "2001:db8::5", port: 443 }], scheme: "http" });
    });

    test("a route's timeout defaults to the cluster's max duration (timeoutChain().edgeRoute)", () => {
        const s = settingsOf();
        expect(s.routes.map((r) => r.timeoutSeconds)).toEqual([timeoutChain(900).edgeRoute, 30]);
        expect(s.routes[0]).toEqual({ path: "/api/v2/image-resize", function: "image-resize", async: false, timeoutSeconds: 900 });
    });

    test("documented defaults", () => {
        const s = settingsOf();
        expect(s).toMatchObject({
            listen: 80,
            listenAddresses: [],
            clientMaxBodySize: "10m",
            keepaliveConnections: 32,
            connectTimeoutSeconds: 5,
            legacy: { server: { host: "127.0.0.1", port: 8080 }, timeoutSeconds: 60, keepaliveTimeoutSeconds: 4 },
        });
        expect(s.tls).toBeUndefined();
    });
});

describe("rendered nginx.conf", () => {
    const text = renderNginxConfig(settingsOf({ keepaliveConnections: 48, connectTimeoutSeconds: 3 }));

    test("keep-alive to both upstreams: HTTP/1.1, a pool of keepaliveConnections, no Connection: close", () => {
        expect(text).toMatch(/^ {4}proxy_http_version 1\.1;$/m);
        for (const upstream of ["legacy", "openfaas_gateway"]) expect(block(text, `upstream ${upstream}`)).toMatch(/keepalive 48;/);
        for (const head of ["location = /api/v2/image-resize", "location ^~ /api/v2/image-resize/", "location = /api/v2/invoices/pdf", "location ^~ /api/v2/invoices/pdf/"]) {
            expect(block(text, head)).toMatch(/proxy_set_header Connection "";/);
        }
        // The monolith's location clears it too unless the client asks for a WebSocket upgrade.
        expect(block(text, "location /")).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
        expect(block(text, "map $http_upgrade $connection_upgrade")).toMatch(/'' '';/);
        expect(text).not.toMatch(/proxy_http_version 1\.0/);
    });

    test("the gateway upstream lists every ingress node; IPv6 in brackets", () => {
        expect(block(text, "upstream openfaas_gateway")).toMatch(/server 192\.0\.2\.11:443;\n\s+server \[2001:db8::12\]:443;\n/);
        expect(block(text, "upstream openfaas_gateway")).not.toMatch(/192\.0\.2\.1[03]/);
    });

    test("each route: exact path and sub-paths, to /function/NAME or /async-function/NAME, with its timeouts", () => {
        const exact = block(text, "location = /api/v2/image-resize");
        expect(exact).toMatch(/proxy_pass https:\/\/openfaas_gateway\/function\/image-resize;/);
        expect(exact).toMatch(/proxy_read_timeout 900s;[\s\S]*proxy_send_timeout 900s;/);
        expect(block(text, "location ^~ /api/v2/image-resize/")).toMatch(/proxy_pass https:\/\/openfaas_gateway\/function\/image-resize\/;/);
        const async = block(text, "location = /api/v2/invoices/pdf");
        expect(async).toMatch(/if \(\$request_method != POST\) \{\s+add_header Allow "POST" always;[\s\S]*return 405;/);
        expect(async).toMatch(/proxy_pass https:\/\/openfaas_gateway\/async-function\/pdf-generator;/);
        expect(async).toMatch(/proxy_read_timeout 30s;/);
        expect(text).toMatch(/proxy_connect_timeout 3s;/);
        expect(text).not.toMatch(/\/system\/|\/ui\//);
    });

    test("tracing headers in every proxied location", () => {
        const gateway = block(text, "location = /api/v2/image-resize");
        const legacy = block(text, "location /");
        for (const h of ["X-Real-IP $remote_addr", "X-Forwarded-For $remote_addr", "X-Forwarded-Proto $scheme", "X-Forwarded-Host $host", "X-Request-Id $request_id"]) {
            expect(gateway).toContain(`proxy_set_header ${h};`);
            expect(legacy).toContain(`proxy_set_header ${h};`);
        }
        expect(gateway).toContain("proxy_set_header Host faas.example.no;");
        expect(legacy).toContain("proxy_set_header Host $host;");
        expect(text).toMatch(/add_header X-Request-Id \$request_id always;/);
    });

    test("TLS to the gateway: SNI name and verification against the system CA bundle", () => {
        expect(text).toMatch(/proxy_ssl_server_name on;\n\s+proxy_ssl_name faas\.example\.no;/);
        expect(text).toMatch(/proxy_ssl_verify on;\n\s+proxy_ssl_trusted_certificate \/etc\/ssl\/certs\/ca-certificates\.crt;/);
        const unverified = renderNginxConfig(settingsOf({}, { ingress: {} }));
        expect(unverified).toMatch(/proxy_ssl_verify off;/);
        expect(unverified).not.toMatch(/proxy_ssl_server_name|proxy_ssl_trusted_certificate/);
        expect(block(unverified, "location = /api/v2/image-resize")).toContain("proxy_set_header Host $host;");
        const plain = renderNginxConfig(settingsOf({ gatewayUpstream: "10.0.1.5:8080" }));
        expect(plain).not.toMatch(/proxy_ssl_/);
        expect(plain).toMatch(/proxy_pass http:\/\/openfaas_gateway\/function\/image-resize;/);
    });

    test("with a server name, other host names get 444; with _ the edge is the default server", () => {
        expect(text).toMatch(/server \{\n\s+listen 80 default_server;\n\s+listen \[::\]:80 default_server;\n\s+return 444;\n\s+\}/);
        expect(text).toMatch(/listen 80;\n\s+listen \[::\]:80;\n\s+server_name api\.example\.no;/);
        const any = renderNginxConfig(settingsOf({ serverName: "_" }));
        expect(any).not.toMatch(/return 444/);
        expect(any).toMatch(/listen 80 default_server;\n\s+listen \[::\]:80 default_server;\n\s+server_name _;/);
        const local = renderNginxConfig(settingsOf({ serverName: "_", listenAddresses: ["127.0.0.1", "::1"], listen: 8088 }));
        expect(local).toMatch(/listen 127\.0\.0\.1:8088 default_server;\n\s+listen \[::1\]:8088 default_server;/);
    });

    test("with certificates: HTTPS on tls.listen, plain HTTP only redirects (308)", () => {
        const tls = renderNginxConfig(settingsOf({ tls: { certificate: "/etc/ssl/edge/fullchain.pem", certificateKey: "/etc/ssl/edge/privkey.pem" } }));
        expect(tls).toMatch(/listen 443 ssl;\n\s+listen \[::\]:443 ssl;\n\s+server_name api\.example\.no;\n\s+ssl_certificate \/etc\/ssl\/edge\/fullchain\.pem;\n\s+ssl_certificate_key \/etc\/ssl\/edge\/privkey\.pem;/);
        expect(tls).toMatch(/listen 80;\n\s+listen \[::\]:80;\n\s+server_name api\.example\.no;\n\s+return 308 https:\/\/\$host\$request_uri;/);
        expect(tls).toMatch(/listen 443 ssl default_server;[\s\S]*?return 444;/);
        expect(tls).toMatch(/ssl_protocols TLSv1\.2 TLSv1\.3;/);
        const otherPort = renderNginxConfig(settingsOf({ tls: { certificate: "/c.pem", certificateKey: "/k.pem", listen: 8443 } }));
        expect(otherPort).toMatch(/return 308 https:\/\/\$host:8443\$request_uri;/);
    });

    test("body size limit on the edge's server", () => {
        expect(text).toMatch(/server_name api\.example\.no;\n\n\s+client_max_body_size 10m;/);
        expect(renderNginxConfig(settingsOf({ clientMaxBodySize: "512k" }))).toMatch(/client_max_body_size 512k;/);
    });

    test("values that could break out of a directive are refused", () => {
        const s = settingsOf();
        expect(() => renderNginxConfig({ ...s, serverName: "x; include /etc/shadow" })).toThrow(/refusing to place/);
        expect(() => renderNginxConfig({ ...s, routes: [{ ...s.routes[0], path: "/a { return 200; } location /b" }] })).toThrow(/refusing to place/);
        expect(() => renderNginxConfig({ ...s, gateway: { ...s.gateway, servers: [] } })).toThrow(/no server/);
    });
});

describe("edge configuration errors", () => {
    test.each([
        ["/", "path"],
        ["/api/", "path"],
        ["/api//v2", "path"],
        ["/api/../system", "path"],
        ["/api/./x", "path"],
        ["/api/v2%2fx", "path"],
        ["/api v2", "path"],
        ["api", "path"],
    ])("route path %j is refused", (path) => {
        const p = problems(raw({ routes: [{ path, function: "f" }] }));
        expect(p).toEqual([{ key: "private-faas:edge.routes[0].path", value: JSON.stringify(path), expected: expect.stringMatching(/^a URL path such as "\/api\/v2\/image-resize"/) }]);
    });

    test("two routes with one path", () => {
        const p = problems(raw({ routes: [{ path: "/a", function: "f" }, { path: "/a", function: "g" }] }));
        expect(p).toEqual([{ key: "private-faas:edge.routes[1].path", value: '"/a"', expected: "a path no other route has (routes[0] has it)" }]);
    });

    test("HTTPS on the plain port", () => {
        const p = problems(raw({ listen: 443, tls: { certificate: "/c.pem", certificateKey: "/k.pem" } }));
        expect(p).toEqual([{ key: "private-faas:edge.tls.listen", value: "443", expected: expect.stringMatching(/a port other than edge\.listen \(443\)/) }]);
    });

    test("a trusted certificate for a plain-http gateway", () => {
        const p = problems(raw({ gatewayUpstream: "10.0.1.5:8080", gatewayTrustedCertificate: "/etc/ca.pem" }));
        expect(p).toEqual([{ key: "private-faas:edge.gatewayTrustedCertificate", value: '"/etc/ca.pem"', expected: expect.stringMatching(/plain http/) }]);
        expect(() => parseStackConfig(raw({ gatewayUpstream: "10.0.1.5:8080", gatewayScheme: "https", gatewayTrustedCertificate: "/etc/ca.pem" }))).not.toThrow();
    });

    test.each([
        [{ gatewayScheme: "tls" }, "private-faas:edge.gatewayScheme", 'one of "http", "https"'],
        [{ tls: { certificate: "/etc/my cert.pem", certificateKey: "/k.pem" } }, "private-faas:edge.tls.certificate", "an absolute path on the edge host (letters, digits and ._/@+-)"],
        [{ tls: { certificate: "relative.pem", certificateKey: "/k.pem" } }, "private-faas:edge.tls.certificate", "an absolute path on the edge host (letters, digits and ._/@+-)"],
        [{ listenAddresses: ["localhost"] }, "private-faas:edge.listenAddresses[0]", "an IPv4 or IPv6 address"],
        [{ legacyKeepaliveTimeoutSeconds: 0 }, "private-faas:edge.legacyKeepaliveTimeoutSeconds", "at least 1"],
        [{ clientMaxBodySize: "10 MB" }, "private-faas:edge.clientMaxBodySize", 'an nginx size such as "10m"'],
    ])("%j", (edge, key, expected) => {
        expect(problems(raw(edge))).toEqual([expect.objectContaining({ key, expected })]);
    });
});
