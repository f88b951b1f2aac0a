import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { silentLogger, type Logger } from '@pg-event-bridge/core';
import type { DaemonMonitor } from '../metrics/daemon-monitor.js';
import { statusPage } from './status-page.js';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  readonly monitor: DaemonMonitor;
  readonly port: number;
  readonly host: string;
  /**
   * Bearer token required for everything but `/healthz` and `/readyz` (also accepted as the
   * password of HTTP Basic, which browsers prompt for). Absent: no authentication.
   */
  readonly token?: string;
  /** Where rejected requests and handler failures are reported, at most once per 10 s. @default silent */
  readonly logger?: Logger;
}

/** A running metrics server. */
export interface MetricsServer {
  /** The port it listens on. */
  readonly port: number;
  close(): Promise<void>;
}

/** The bounds the metrics server enforces on every request; documented in the CLI README. */
export const metricsServerLimits = {
  /** Request line plus headers, in bytes; more is answered 431. */
  maxHeaderBytes: 16_384,
  /** Longer request targets are answered 414. */
  maxUrlLength: 2_048,
  /** Headers beyond this many are not parsed (Node drops them). */
  maxHeaders: 64,
  /** Connections open at once; a new one evicts the oldest that has no request in progress. */
  maxConnections: 128,
  /** Time allowed to send the request headers, from the connection or the previous response. */
  headersTimeoutMs: 5_000,
  /** Time allowed for a whole request. */
  requestTimeoutMs: 10_000,
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: 5_000,
  /** Body bytes read and thrown away after answering a request that has one (405, 413). */
  maxDiscardBytes: 1_048_576,
  /** Requests served on one connection before it is closed. */
  maxRequestsPerSocket: 100,
} as const;

const paths = '/, /metrics, /healthz, /readyz or /status.json';
const realm = 'pg-event-bridge';
const logEveryMs = 10_000;
const lingerMs = 1_000;

/**
 * Serves `/metrics` (Prometheus text), `/healthz`, `/readyz`, `/status.json` and the status page
 * at `/`, on node:http. Read-only; nothing it answers contains a secret (the monitor redacts).
 * No request can take the process down: malformed ones are answered 4xx by the parser's
 * `clientError` handler, a handler that throws answers 500, and every size and time is bounded
 * (see {@link metricsServerLimits}).
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { monitor } = options;
  const limits = metricsServerLimits;
  const report = rateLimitedReporter(options.logger ?? silentLogger);
  const tokenDigest = options.token === undefined ? undefined : digest(options.token);

  const authorized = (request: IncomingMessage): boolean => {
    if (!tokenDigest) return true;
    const header = request.headers.authorization;
    if (typeof header !== 'string' || header.length > 1024) return false;
    const match = /^(bearer|basic)\s+(\S+)\s*$/i.exec(header);
    if (!match) return false;
    let presented = match[2]!;
    if (match[1]!.toLowerCase() === 'basic') {
      const decoded = Buffer.from(presented, 'base64').toString('utf8');
      presented = decoded.slice(decoded.indexOf(':') + 1);
    }
    return timingSafeEqual(digest(presented), tokenDigest);
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const send = (status: number, headers: Record<string, string>, body: string) => {
      response.writeHead(status, { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-length': String(Buffer.byteLength(body)), ...headers });
      response.end(body);
    };
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      send(status, { 'content-type': 'application/json; charset=utf-8', ...headers }, `${JSON.stringify(body)}\n`);
    const refuse = (status: number, error: string, headers: Record<string, string> = {}) => {
      if (!hasBody(request)) return json(status, { error }, { connection: 'close', ...headers });
      // Node reads and discards the body of a request answered early, so the client (still
      // sending) gets the answer rather than a reset; beyond maxDiscardBytes the connection goes.
      let discarded = 0;
      request.on('data', (chunk: Buffer) => {
        discarded += chunk.length;
        if (discarded <= limits.maxDiscardBytes || request.socket.readableFlowing === false) return;
        // Stop reading and say goodbye, but reset only later: a reset now would destroy the
        // answer in the client's receive buffer before it reads it.
        request.socket.pause();
        request.socket.end();
        setTimeout(() => request.socket.destroy(), lingerMs).unref();
      });
      json(status, { error }, headers);
    };

    const method = request.method ?? '';
    const target = request.url ?? '';
    if (target.length > limits.maxUrlLength) return refuse(414, `the request target is longer than ${limits.maxUrlLength} characters`);
    const path = pathOf(target);
    if (path === undefined) return refuse(400, `the request target is not a path; try ${paths}`);
    if (method === 'OPTIONS') return send(204, { allow: 'GET, HEAD, OPTIONS', connection: 'close' }, '');
    if (method !== 'GET' && method !== 'HEAD') return refuse(405, `method ${method.slice(0, 32)} is not allowed; this server is read-only`, { allow: 'GET, HEAD, OPTIONS' });
    if (hasBody(request)) return refuse(413, 'this server takes no request body');

    const open = path === '/healthz' || path === '/readyz';
    const known = open || path === '/metrics' || path === '/status.json' || path === '/' || path === '/index.html';
    const allowed = authorized(request);
    if (!open && !allowed) {
      // Basic too, so a browser prompts for the token (any user name, the token as password).
      return json(401, { error: 'a bearer token is required (Authorization: Bearer TOKEN)' }, { 'www-authenticate': `Bearer realm="${realm}", Basic realm="${realm}", charset="UTF-8"` });
    }
    switch (known ? path : '') {
      case '/metrics':
        monitor.registry.metrics().then(
          (text) => send(200, { 'content-type': monitor.registry.contentType }, text),
          (error: unknown) => {
            report('error', { err: error }, '[cli] Metrics collection failed');
            if (!response.headersSent) json(500, { error: 'metrics collection failed; see the daemon log' });
            else response.destroy();
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
        const status = missing.length === 0 ? 'ready' : monitor.role === 'standby' ? 'standby' : monitor.stopping ? 'stopping' : 'not ready';
        // The reasons name upstreams, targets and errors: with a token, only for its holder.
        json(missing.length === 0 ? 200 : 503, { status, role: monitor.role, ...(missing.length > 0 && allowed && { missing }) });
        return;
      }
      case '/status.json':
        json(200, monitor.status());
        return;
      case '/':
      case '/index.html':
        send(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'", 'x-frame-options': 'DENY' }, statusPage);
        return;
      default:
        json(404, { error: `no such page; try ${paths}` });
    }
  };

  const sockets = new Set<Socket>();
  // Connections with a request being answered: never evicted.
  const busy = new Set<Socket>();
  const server: Server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node enforces the two timeouts above; its default of 30 s lets a slow client
      // hold a connection six times longer than headersTimeout says.
      connectionsCheckingInterval: 1_000,
      insecureHTTPParser: false,
      requireHostHeader: false,
    },
    (request, response) => {
      busy.add(request.socket);
      response.once('close', () => busy.delete(request.socket));
      try {
        handle(request, response);
      } catch (error) {
        report('error', { err: error, method: request.method?.slice(0, 32) }, '[cli] A metrics server handler failed; answered 500');
        if (!response.headersSent) {
          response.writeHead(500, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
          response.end('{"error":"internal error; see the daemon log"}\n');
        } else response.destroy();
      }
    },
  );
  server.maxHeadersCount = limits.maxHeaders;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;

  server.on('connection', (socket: Socket) => {
    if (sockets.size >= limits.maxConnections) {
      // Evict the oldest connection with no request in progress (an idle or trickling client),
      // so a flood of silent connections cannot lock out Prometheus and the probes.
      const victim = [...sockets].find((candidate) => !busy.has(candidate)) ?? socket;
      victim.destroy();
      sockets.delete(victim);
      report('warn', { maxConnections: limits.maxConnections }, '[cli] Metrics server at its connection limit; closed the oldest idle connection');
      if (victim === socket) return;
    }
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      busy.delete(socket);
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || error.code === 'ECONNRESET' || error.code === 'EPIPE') {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'HPE_HEADERS_TIMEOUT' ? 408 : 400;
    const reason = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[status];
    report('debug', { code: error.code, status }, '[cli] Metrics server refused a malformed request');
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroySoon();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listen, an accept failure (EMFILE...) is reported here; without a listener it would
  // be an uncaught exception.
  server.on('error', (error) => report('error', { err: error }, '[cli] Metrics server error'));
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

/**
 * The path of an origin-form (`/metrics?x`) or absolute-form (`http://host/metrics`) request
 * target, undefined for anything else (`*`, authority-form, junk). Never throws.
 */
export function pathOf(target: string): string | undefined {
  let rest = target;
  if (!rest.startsWith('/')) {
    const absolute = /^https?:\/\/[^/?#]*/i.exec(rest);
    if (!absolute) return undefined;
    rest = rest.slice(absolute[0].length);
    if (rest === '' || rest.startsWith('?')) rest = `/${rest}`;
  }
  const end = rest.search(/[?#]/);
  return end === -1 ? rest : rest.slice(0, end);
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

type Level = 'debug' | 'warn' | 'error';

/** Logs at most one line per message every 10 s, with how many were suppressed since the last. */
function rateLimitedReporter(logger: Logger): (level: Level, fields: Record<string, unknown>, message: string) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (level, fields, message) => {
    const now = Date.now();
    const entry = last.get(message);
    if (entry && now - entry.at < logEveryMs) {
      entry.suppressed += 1;
      return;
    }
    last.set(message, { at: now, suppressed: 0 });
    logger[level]({ ...fields, ...(entry && entry.suppressed > 0 && { suppressed: entry.suppressed }) }, message);
  };
}
