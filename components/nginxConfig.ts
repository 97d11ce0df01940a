/**
 * The strangler-fig edge's nginx configuration, rendered from the stack's configuration. Pure: the
 * same text is what `npm run edge:render` prints, what the tests run under a real nginx, and what
 * EdgeProxy installs as /etc/nginx/nginx.conf on the edge host.
 *
 * Routing: a route's path P (no trailing slash) takes the request path P itself and every path below
 * P/, with any query string; both go to the gateway's /function/NAME (or /async-function/NAME), the
 * part below P/ appended: `/api/v2/image-resize/x?y=1` → `/function/image-resize/x?y=1`. A path that
 * merely starts with the same characters (`/api/v2/image-resize-old`) is not P's. Routes nest: the
 * longest matching route path wins. Every other path goes to the legacy upstream unchanged.
 *
 * Why the gateway's admin API cannot be reached: the only locations that proxy to the gateway are the
 * routes', and each replaces the matched path with its fixed `/function/NAME` prefix. nginx matches
 * locations on the normalised path (percent-decoded, `//` merged, `.`/`..` resolved; a `..` above the
 * root is a 400) and sends that normalised path, re-escaped, upstream, so nothing a client writes
 * (`//system/`, `/function/../system/`, `%2e%2e`, `%2f`) can leave NAME's prefix: such paths either
 * stay below it or are not a route's at all and go to the monolith.
 */
import { EdgeConfig, StackConfig, edgeGatewayScheme, parseHostPort } from "./config";
import { timeoutChain } from "./timeouts";

/** Where the system's CA bundle lives on Debian and Ubuntu (package ca-certificates). */
export const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/** Upstream names inside the generated configuration. */
export const LEGACY_UPSTREAM = "legacy";
export const GATEWAY_UPSTREAM = "openfaas_gateway";

export interface UpstreamServer {
    /** IP address or DNS name (nginx resolves names when it loads the configuration). */
    host: string;
    port: number;
}

export interface EdgeRoute {
    path: string;
    function: string;
    async: boolean;
    /** proxy_read/send timeout, seconds. */
    timeoutSeconds: number;
}

/** Everything the renderer needs, with every default resolved (edgeSettings builds it from a stack). */
export interface EdgeSettings {
    /** Plain-HTTP port (only a redirect when TLS is on). */
    listen: number;
    /** Addresses to listen on; empty: every IPv4 and IPv6 address. */
    listenAddresses: string[];
    serverName: string;
    tls?: { certificate: string; certificateKey: string; listen: number };
    clientMaxBodySize: string;
    /** Idle keep-alive connections each worker keeps per upstream. */
    keepaliveConnections: number;
    connectTimeoutSeconds: number;
    legacy: { server: UpstreamServer; timeoutSeconds: number; keepaliveTimeoutSeconds: number };
    gateway: {
        servers: UpstreamServer[];
        scheme: "http" | "https";
        /** Host header (and TLS server name) sent to the gateway; absent: the client's Host. */
        hostName?: string;
        /** CA bundle the gateway's certificate is verified against (https only); absent: not verified. */
        trustedCertificate?: string;
    };
    routes: EdgeRoute[];
}

/** Files nginx writes: Debian's paths in production, a temporary prefix in tests. */
export interface NginxLayout {
    /** User of the worker processes. */
    user: string;
    pidFile: string;
    errorLog: string;
    accessLog: string;
    /** Parent of the temporary-file directories (body, proxy, fastcgi, uwsgi, scgi). */
    tempDir: string;
}

/** The Debian/Ubuntu nginx package's own paths (its systemd unit expects /run/nginx.pid). */
export const DEBIAN_LAYOUT: NginxLayout = {
    user: "www-data",
    pidFile: "/run/nginx.pid",
    errorLog: "/var/log/nginx/error.log",
    accessLog: "/var/log/nginx/access.log",
    tempDir: "/var/lib/nginx",
};

/** Idle time of a keep-alive connection to the gateway: below Traefik's idle timeout (≥ 180 s, timeouts.ts). */
const GATEWAY_KEEPALIVE_TIMEOUT_SECONDS = 60;

function upstreamServer(hostPort: string): UpstreamServer {
    const parsed = parseHostPort(hostPort);
    if (!parsed) throw new Error(`not a "host:port": ${hostPort}`);
    return parsed;
}

/**
 * Resolves the edge's defaults against the rest of the stack. Without `gatewayUpstream` the gateway is
 * reached the way every client reaches it: through the cluster's ingress, every ingress node on 443,
 * with the ingress host as Host header and TLS server name. The certificate is verified against the
 * system CA bundle when the ingress has a production Let's Encrypt certificate, or against
 * `gatewayTrustedCertificate` when one is configured; otherwise (a self-signed certificate, Traefik's
 * or cert-manager's, both replaced on their own, or Let's Encrypt staging) the traffic is encrypted
 * but the gateway is not authenticated.
 */
export function edgeSettings(stack: StackConfig): EdgeSettings {
    const edge: EdgeConfig | undefined = stack.edge;
    if (!edge) throw new Error("the stack configures no edge (private-faas:edge)");
    const scheme = edgeGatewayScheme(edge);
    const ingressNodes = stack.nodes.filter((n) => n.ingress);
    const servers = edge.gatewayUpstream ? [upstreamServer(edge.gatewayUpstream)] : ingressNodes.map((n) => ({ host: n.host, port: 443 }));
    const ingress = stack.ingress;
    const letsEncryptProduction = ingress.host !== undefined && ingress.acmeEmail !== undefined && ingress.acmeEnvironment === "production";
    const trustedCertificate =
        scheme === "https" ? edge.gatewayTrustedCertificate ?? (letsEncryptProduction ? SYSTEM_CA_BUNDLE : undefined) : undefined;
    const routeTimeout = timeoutChain(stack.openfaas.maxDurationSeconds).edgeRoute;
    return {
        listen: edge.listen,
        listenAddresses: edge.listenAddresses ?? [],
        serverName: edge.serverName,
        tls: edge.tls,
        clientMaxBodySize: edge.clientMaxBodySize,
        keepaliveConnections: edge.keepaliveConnections,
        connectTimeoutSeconds: edge.connectTimeoutSeconds,
        legacy: {
            server: upstreamServer(edge.legacyUpstream),
            timeoutSeconds: edge.legacyTimeoutSeconds,
            keepaliveTimeoutSeconds: edge.legacyKeepaliveTimeoutSeconds,
        },
        gateway: { servers, scheme, hostName: ingress.host, trustedCertificate },
        routes: edge.routes.map((r) => ({ path: r.path, function: r.function, async: r.async, timeoutSeconds: r.timeoutSeconds ?? routeTimeout })),
    };
}

// ---------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------

/**
 * A value placed into the configuration as one bare token. The schema already restricts every field
 * to safe characters; this refuses anything that could end a directive or start a variable anyway.
 */
function token(value: string | number): string {
    const text = String(value);
    if (text === "" || /[\s;{}"'$#\\]/.test(text)) throw new Error(`refusing to place ${JSON.stringify(text)} into the nginx configuration`);
    return text;
}

function address(host: string, port: number): string {
    return `${host.includes(":") ? `[${token(host)}]` : token(host)}:${token(port)}`;
}

type Block = (string | Block)[];

function indent(block: Block, depth = 0): string[] {
    const pad = "    ".repeat(depth);
    const lines: string[] = [];
    for (const item of block) {
        if (typeof item === "string") lines.push(item === "" ? "" : pad + item);
        else lines.push(...indent(item, depth + 1));
    }
    return lines;
}

/** `listen` lines of a server on PORT. */
function listens(s: EdgeSettings, port: number, flags: string[]): string[] {
    const suffix = flags.length > 0 ? " " + flags.join(" ") : "";
    if (s.listenAddresses.length > 0) return s.listenAddresses.map((a) => `listen ${address(a, port)}${suffix};`);
    return [`listen ${token(port)}${suffix};`, `listen [::]:${token(port)}${suffix};`];
}

/**
 * Request headers every proxied request carries. The edge is the first hop: it sets X-Forwarded-For
 * and X-Real-IP from the connection instead of trusting what the client sent.
 */
function forwardedHeaders(host: string): string[] {
    return [
        `proxy_set_header Host ${host};`,
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-Host $host;",
        "proxy_set_header X-Request-Id $request_id;",
    ];
}

function seconds(n: number): string {
    return `${token(n)}s`;
}

function routeLocations(s: EdgeSettings, route: EdgeRoute): Block {
    const kind = route.async ? "async-function" : "function";
    const target = `/${kind}/${token(route.function)}`;
    const path = token(route.path);
    const body = (suffix: string): Block => [
        ...(route.async
            ? [
                  // Async calls are POSTs (the gateway queues the body); anything else never reaches it.
                  "if ($request_method != POST) {",
                  ['add_header Allow "POST" always;', "add_header X-Request-Id $request_id always;", "return 405;"],
                  "}",
              ]
            : []),
        `proxy_pass ${s.gateway.scheme}://${GATEWAY_UPSTREAM}${target}${suffix};`,
        ...forwardedHeaders(s.gateway.hostName ? token(s.gateway.hostName) : "$host"),
        'proxy_set_header Connection "";',
        `proxy_read_timeout ${seconds(route.timeoutSeconds)};`,
        `proxy_send_timeout ${seconds(route.timeoutSeconds)};`,
        // Another ingress node is tried when one cannot be reached, but never once the call has used
        // its time: a function that timed out is not run a second time.
        "proxy_next_upstream error timeout;",
        `proxy_next_upstream_timeout ${seconds(route.timeoutSeconds)};`,
    ];
    return [
        `# ${path} and below → ${target} (${route.async ? "asynchronous, POST only" : "synchronous"}, timeout ${route.timeoutSeconds} s)`,
        `location = ${path} {`,
        body(""),
        "}",
        `location ^~ ${path}/ {`,
        body("/"),
        "}",
    ];
}

function legacyLocation(s: EdgeSettings): Block {
    return [
        "# Everything else: the monolith, request URI unchanged.",
        "location / {",
        [
            `proxy_pass http://${LEGACY_UPSTREAM};`,
            ...forwardedHeaders("$host"),
            // WebSocket upgrades pass; every other request keeps the upstream connection open.
            "proxy_set_header Upgrade $http_upgrade;",
            "proxy_set_header Connection $connection_upgrade;",
            `proxy_read_timeout ${seconds(s.legacy.timeoutSeconds)};`,
            `proxy_send_timeout ${seconds(s.legacy.timeoutSeconds)};`,
        ],
        "}",
    ];
}

/** The server that serves the routes: on the TLS port when TLS is on, else on `listen`. */
function edgeServer(s: EdgeSettings, defaultServer: boolean): Block {
    const tls = s.tls;
    const flags = [...(tls ? ["ssl"] : []), ...(defaultServer ? ["default_server"] : [])];
    return [
        "server {",
        [
            ...listens(s, tls ? tls.listen : s.listen, flags),
            `server_name ${token(s.serverName)};`,
            ...(tls ? [`ssl_certificate ${token(tls.certificate)};`, `ssl_certificate_key ${token(tls.certificateKey)};`] : []),
            "",
            `client_max_body_size ${token(s.clientMaxBodySize)};`,
            "add_header X-Request-Id $request_id always;",
            "",
            ...s.routes.flatMap((r) => [...routeLocations(s, r), ""]),
            ...legacyLocation(s),
        ],
        "}",
    ];
}

function httpsRedirectServer(s: EdgeSettings, defaultServer: boolean): Block {
    const port = s.tls!.listen;
    return [
        "# Plain HTTP only redirects; 308 keeps the method and body of an API client's POST.",
        "server {",
        [
            ...listens(s, s.listen, defaultServer ? ["default_server"] : []),
            `server_name ${token(s.serverName)};`,
            `return 308 https://$host${port === 443 ? "" : `:${token(port)}`}$request_uri;`,
        ],
        "}",
    ];
}

/** Requests for another host name than server_name get no answer (444 closes the connection). */
function unknownHostServer(s: EdgeSettings, port: number, tls: boolean): Block {
    return [
        "server {",
        [
            ...listens(s, port, [...(tls ? ["ssl"] : []), "default_server"]),
            ...(tls ? [`ssl_certificate ${token(s.tls!.certificate)};`, `ssl_certificate_key ${token(s.tls!.certificateKey)};`] : []),
            "return 444;",
        ],
        "}",
    ];
}

function gatewayTls(s: EdgeSettings): Block {
    const g = s.gateway;
    if (g.scheme !== "https") return [];
    const name: Block = g.hostName
        ? ["proxy_ssl_server_name on;", `proxy_ssl_name ${token(g.hostName)};`]
        : ["# No ingress host: no server name is sent; the ingress answers with its default certificate."];
    const verify: Block = g.trustedCertificate
        ? ["proxy_ssl_verify on;", `proxy_ssl_trusted_certificate ${token(g.trustedCertificate)};`, "proxy_ssl_verify_depth 4;"]
        : [
              "# Not verified: the ingress has no certificate a CA vouches for (no ingress.host with a",
              "# production Let's Encrypt certificate, and no edge.gatewayTrustedCertificate). The traffic is",
              "# encrypted, but a machine in the path could impersonate the gateway.",
              "proxy_ssl_verify off;",
          ];
    return ["# TLS to the gateway (the only https upstream).", "proxy_ssl_protocols TLSv1.2 TLSv1.3;", ...name, ...verify, "proxy_ssl_session_reuse on;", ""];
}

/** The complete nginx.conf of the edge. */
export function renderNginxConfig(s: EdgeSettings, layout: NginxLayout = DEBIAN_LAYOUT): string {
    if (s.gateway.servers.length === 0) throw new Error("the gateway upstream has no server");
    const restrictHosts = s.serverName !== "_";
    const tempDir = token(layout.tempDir);
    const servers: Block[] = [];
    if (s.tls) {
        if (restrictHosts) servers.push(unknownHostServer(s, s.listen, false), unknownHostServer(s, s.tls.listen, true));
        servers.push(httpsRedirectServer(s, !restrictHosts), edgeServer(s, !restrictHosts));
    } else {
        if (restrictHosts) servers.push(unknownHostServer(s, s.listen, false));
        servers.push(edgeServer(s, !restrictHosts));
    }

    const http: Block = [
        "server_tokens off;",
        "default_type application/octet-stream;",
        "tcp_nodelay on;",
        "keepalive_timeout 65s;",
        `client_body_temp_path ${tempDir}/body;`,
        `proxy_temp_path ${tempDir}/proxy;`,
        `fastcgi_temp_path ${tempDir}/fastcgi;`,
        `uwsgi_temp_path ${tempDir}/uwsgi;`,
        `scgi_temp_path ${tempDir}/scgi;`,
        "",
        "log_format edge '$remote_addr [$time_local] \"$request\" $status $body_bytes_sent '",
        "                '\"$http_user_agent\" request_id=$request_id upstream=$upstream_addr '",
        "                'upstream_status=$upstream_status connect=$upstream_connect_time '",
        "                'response=$upstream_response_time total=$request_time';",
        `access_log ${token(layout.accessLog)} edge;`,
        "",
        "# Upstream keep-alive needs HTTP/1.1 and no \"Connection: close\" (every location clears it).",
        "proxy_http_version 1.1;",
        `proxy_connect_timeout ${seconds(s.connectTimeoutSeconds)};`,
        "# The edge's request id is the one the client sees.",
        "proxy_hide_header X-Request-Id;",
        "",
        ...(s.tls
            ? ["ssl_protocols TLSv1.2 TLSv1.3;", "ssl_session_cache shared:edge_tls:10m;", "ssl_session_timeout 1d;", "ssl_session_tickets off;", ""]
            : []),
        ...gatewayTls(s),
        "map $http_upgrade $connection_upgrade {",
        ["default upgrade;", "'' '';"],
        "}",
        "",
        `upstream ${LEGACY_UPSTREAM} {`,
        [
            `server ${address(s.legacy.server.host, s.legacy.server.port)};`,
            `keepalive ${token(s.keepaliveConnections)};`,
            "keepalive_requests 1000;",
            `keepalive_timeout ${seconds(s.legacy.keepaliveTimeoutSeconds)};`,
        ],
        "}",
        "",
        `upstream ${GATEWAY_UPSTREAM} {`,
        [
            ...s.gateway.servers.map((srv) => `server ${address(srv.host, srv.port)};`),
            `keepalive ${token(s.keepaliveConnections)};`,
            "keepalive_requests 1000;",
            `keepalive_timeout ${seconds(GATEWAY_KEEPALIVE_TIMEOUT_SECONDS)};`,
        ],
        "}",
        "",
        ...servers.flatMap((srv, i) => (i === 0 ? srv : ["", ...srv])),
    ];

    const main: Block = [
        "# The strangler-fig edge of private-faas: generated from private-faas:edge (components/nginxConfig.ts)",
        "# and installed by scripts/edge-deploy.sh. Edit the stack's configuration, not this file.",
        `user ${token(layout.user)};`,
        "worker_processes auto;",
        "worker_rlimit_nofile 16384;",
        `pid ${token(layout.pidFile)};`,
        `error_log ${token(layout.errorLog)} warn;`,
        "",
        "events {",
        ["worker_connections 4096;"],
        "}",
        "",
        "http {",
        http,
        "}",
    ];
    return indent(main).join("\n") + "\n";
}
