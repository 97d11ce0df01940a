/**
 * The seed article's strangler-fig configuration (/work/shared/seed, "Pattern 1"), only its addresses
 * and ports replaced, as the naive baseline: it declares `keepalive 32` but proxies with nginx's default
 * HTTP/1.0 and "Connection: close", so every request opens a new connection to the gateway.
 * Paths: /functions/X → gateway /X; everything else → the monolith.
 */
import { NginxLayout } from "../../components/nginxConfig";

export function seedNaiveConfig(ports: { listen: number; legacy: number; gateway: number }, layout: NginxLayout): string {
    return `user ${layout.user};
worker_processes auto;
pid ${layout.pidFile};
error_log ${layout.errorLog} warn;
events {
    worker_connections 4096;
}
http {
    access_log ${layout.accessLog};
    client_body_temp_path ${layout.tempDir}/body;
    proxy_temp_path ${layout.tempDir}/proxy;
    fastcgi_temp_path ${layout.tempDir}/fastcgi;
    uwsgi_temp_path ${layout.tempDir}/uwsgi;
    scgi_temp_path ${layout.tempDir}/scgi;

    upstream legacy_backend {
        server 127.0.0.1:${ports.legacy};
    }

    upstream openfaas_gateway {
        server 127.0.0.1:${ports.gateway}; # NodePort for OpenFaaS
        keepalive 32;
    }

    server {
        listen 127.0.0.1:${ports.listen};
        server_name api.norway-fintech.no;

        location /functions/ {
            proxy_pass http://openfaas_gateway/;
            proxy_set_header X-Real-IP $remote_addr;

            # Critical for long-running batch jobs
            proxy_read_timeout 300s;
            proxy_connect_timeout 300s;
        }

        location / {
            proxy_pass http://legacy_backend;
        }
    }
}
`;
}
