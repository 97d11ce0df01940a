/**
 * Stand-ins for the edge's two upstreams, as plain Node servers on loopback (port 0):
 * - the monolith: answers every request with what it received;
 * - the OpenFaaS gateway: `/async-function/*` → 202 with an X-Call-Id (as the gateway queues the call),
 *   anything else → 200 with what it received, so a request that should never have arrived is seen.
 * Both record every request and count TCP connections (how the keep-alive tests see reuse). A request
 * header `X-Stub-Delay-Ms` delays the answer (slow function).
 */
import * as http from "http";
import * as https from "https";
import { randomUUID } from "crypto";
import { AddressInfo } from "net";
import { TLSSocket } from "tls";

export interface RecordedRequest {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    body: string;
    /** Which TCP connection carried it (1-based, in accept order). */
    connection: number;
    /** TLS server name (SNI) the client sent, with HTTPS. */
    servername?: string;
}

export interface Echo {
    server: string;
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    body: string;
}

export interface StubServer {
    name: "legacy" | "gateway";
    port: number;
    /** TCP connections accepted so far. */
    connections: number;
    requests: RecordedRequest[];
    /** Forgets requests and connections so far (open connections stay open). */
    reset(): void;
    close(): Promise<void>;
}

export interface StubOptions {
    /** Serve HTTPS with this key and certificate (PEM). */
    tls?: { key: string; cert: string };
    /** Record requests (tests) or not (the benchmark: no growing array). Default true. */
    record?: boolean;
}

export async function startStub(name: "legacy" | "gateway", opts: StubOptions = {}): Promise<StubServer> {
    const record = opts.record ?? true;
    const connectionIds = new WeakMap<object, number>();
    const stub: StubServer = {
        name,
        port: 0,
        connections: 0,
        requests: [],
        reset() {
            stub.connections = 0;
            stub.requests = [];
        },
        close: () => Promise.resolve(),
    };
    const handler: http.RequestListener = (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const body = Buffer.concat(chunks).toString("utf8");
            const method = req.method ?? "";
            const url = req.url ?? "";
            const servername = (req.socket as TLSSocket & { servername?: string | false }).servername || undefined;
            if (record) stub.requests.push({ method, url, headers: req.headers, body, connection: connectionIds.get(req.socket) ?? 0, servername });
            const answer = () => {
                if (res.destroyed) return;
                if (name === "gateway" && url.startsWith("/async-function/")) {
                    res.writeHead(202, { "X-Call-Id": randomUUID(), "Content-Length": "0" });
                    res.end();
                    return;
                }
                const echo: Echo = { server: name, method, url, headers: req.headers, body };
                const text = JSON.stringify(echo);
                res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "X-Request-Id": `${name}-own-id` });
                res.end(text);
            };
            const delay = Number(req.headers["x-stub-delay-ms"] ?? 0);
            if (delay > 0) setTimeout(answer, delay);
            else answer();
        });
    };
    const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler);
    // The gateway is reached through Traefik, whose idle timeout (≥ 180 s) outlasts nginx's 60 s; Node's
    // default (5 s) stands for a typical monolith.
    if (name === "gateway") server.keepAliveTimeout = 180_000;
    // With TLS the request's socket is the TLS socket, announced by secureConnection.
    server.on(opts.tls ? "secureConnection" : "connection", (socket: object) => {
        stub.connections += 1;
        connectionIds.set(socket, stub.connections);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    stub.port = (server.address() as AddressInfo).port;
    stub.close = () =>
        new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        });
    return stub;
}

export interface Response {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

export interface RequestOptions {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    /** Keep-alive agent to reuse; default: a new connection. */
    agent?: http.Agent;
    /** HTTPS with this CA and SNI name. */
    tls?: { ca: string; servername: string };
}

/** Sends PATH exactly as written (no normalisation) to 127.0.0.1:PORT. */
export function request(port: number, path: string, opts: RequestOptions = {}): Promise<Response> {
    return new Promise((resolve, reject) => {
        const common = { host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers: opts.headers ?? {}, agent: opts.agent ?? false };
        const onResponse = (res: http.IncomingMessage) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
        };
        const req = opts.tls
            ? https.request({ ...common, ca: opts.tls.ca, servername: opts.tls.servername }, onResponse)
            : http.request(common, onResponse);
        req.on("error", reject);
        req.end(opts.body);
    });
}
