import { createServer, type Server } from 'node:http';
import type { DaemonMonitor } from '../metrics/daemon-monitor.js';
import { statusPage } from './status-page.js';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  readonly monitor: DaemonMonitor;
  readonly port: number;
  readonly host: string;
}

/** A running metrics server. */
export interface MetricsServer {
  /** The port it listens on. */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (Prometheus text), `/healthz`, `/readyz`, `/status.json` and the status page
 * at `/`, on node:http. Read-only; nothing it answers contains a secret (the monitor redacts).
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { monitor } = options;
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      response.end(`${JSON.stringify(body)}\n`);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    switch (path) {
      case '/metrics':
        monitor.registry.metrics().then(
          (text) => {
            response.writeHead(200, { 'content-type': monitor.registry.contentType, 'cache-control': 'no-store' });
            response.end(text);
          },
          (error: unknown) => {
            response.writeHead(500, { 'content-type': 'text/plain' });
            response.end(`metrics collection failed: ${(error as Error).message}\n`);
          },
        );
        return;
      case '/healthz':
        // Liveness: the process answers and is not shutting down. A standby is healthy.
        if (monitor.stopping) json(503, { status: 'stopping' });
        else json(200, { status: 'ok', role: monitor.role });
        return;
      case '/readyz': {
        const missing = monitor.notReady();
        if (missing.length === 0) json(200, { status: 'ready', role: monitor.role });
        else json(503, { status: monitor.role === 'standby' ? 'standby' : monitor.stopping ? 'stopping' : 'not ready', role: monitor.role, missing });
        return;
      }
      case '/status.json':
        json(200, monitor.status());
        return;
      case '/':
      case '/index.html':
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        response.end(statusPage);
        return;
      default:
        json(404, { error: `no such page: ${path}; try /, /metrics, /healthz, /readyz or /status.json` });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
