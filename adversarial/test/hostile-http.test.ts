import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { waitFor } from '@pg-event-bridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdversarialBridge, type AdversarialBridge } from '../src/adversarial-bridge.js';
import { AdversarialResults } from '../src/adversarial-results.js';

// Whoever reaches the metrics port sends whatever bytes they like: every request shape below, over
// raw sockets. Each malformed one is answered 4xx (or the connection closed), and after each the
// daemon is alive, answers /healthz, and a canary through every source reaches both targets.
// The token itself is tested in packages/cli/test/daemon-http-token.test.ts.
const results = new AdversarialResults('hostile-http', 'hostile HTTP on the metrics port');
let bridge: AdversarialBridge;
let port: number;

beforeAll(async () => {
  bridge = await startAdversarialBridge();
  port = bridge.metricsPort;
}, 60_000);

afterAll(async () => {
  await results.write(bridge);
  await bridge?.stop();
}, 30_000);

interface Answer {
  /** The status code of the first response, or undefined when the server closed without one. */
  readonly status?: number;
  readonly text: string;
}

/** Writes `parts` (a function may write as it likes) and reads until the server closes or `timeoutMs`. */
function exchange(parts: string | Buffer | ((socket: Socket) => Promise<void> | void), timeoutMs = 3_000): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      resolve({ ...(status && { status: Number(status) }), text });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // One complete response is all a case looks at: do not wait for keep-alive to end.
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, head))?.[1];
      if (head !== -1 && (length === undefined ? /^HTTP\/1\.1 (204|304)/.test(text) : text.length >= head + 4 + Number(length))) finish();
    });
    socket.on('close', finish);
    socket.on('error', finish);
    socket.on('connect', () => {
      if (typeof parts === 'function') void Promise.resolve(parts(socket)).catch(() => undefined);
      else socket.write(parts);
    });
  });
}

type Expectation = number | '4xx' | 'answered-or-closed';

interface Case {
  readonly name: string;
  readonly send: string | Buffer | ((socket: Socket) => Promise<void> | void);
  readonly expect: Expectation;
  readonly timeoutMs?: number;
}

const crlf = (...lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
const getLine = (target: string, ...headers: string[]) => crlf(`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...headers);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const classes: Record<string, Case[]> = {
  'request target': [
    { name: 'GET //', send: getLine('//'), expect: 404 },
    { name: 'GET //metrics', send: getLine('//metrics'), expect: 404 },
    { name: 'GET /%', send: getLine('/%'), expect: 404 },
    { name: 'GET /%ZZ%00%', send: getLine('/%ZZ%00%'), expect: 404 },
    { name: 'GET /metrics?%%&&==', send: getLine('/metrics?%%&&==#x'), expect: 200 },
    { name: 'absolute-form http://x/metrics', send: getLine('http://x/metrics'), expect: 200 },
    { name: 'absolute-form http://[::1', send: getLine('http://[::1'), expect: 200 },
    { name: 'absolute-form ftp://x/', send: getLine('ftp://x/'), expect: 400 },
    { name: 'asterisk-form', send: getLine('*'), expect: 400 },
    { name: 'authority-form', send: getLine('example.com:80'), expect: 400 },
    { name: 'path traversal', send: getLine('/../../etc/passwd'), expect: 404 },
    { name: '3 KB URL', send: getLine(`/${'a'.repeat(3_000)}`), expect: 414 },
    { name: '100 KB URL', send: getLine(`/${'a'.repeat(100_000)}`), expect: 431 },
    { name: 'NUL in the path', send: getLine('/\u0000metrics'), expect: '4xx' },
    { name: 'invalid UTF-8 in the path', send: Buffer.concat([Buffer.from('GET /'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]), expect: 'answered-or-closed' },
    { name: 'space in the path', send: crlf('GET /a b c HTTP/1.1', 'Host: x'), expect: '4xx' },
  ],
  'request line': [
    { name: 'empty lines', send: '\r\n\r\n\r\n', expect: 'answered-or-closed' },
    { name: 'not HTTP', send: 'HELLO\r\n\r\n', expect: 400 },
    { name: 'method only', send: 'GET\r\n\r\n', expect: 400 },
    { name: 'HTTP/9.9', send: crlf('GET / HTTP/9.9', 'Host: x'), expect: '4xx' },
    { name: 'HTTP/0.9 style', send: 'GET /\r\n', expect: 'answered-or-closed' },
    { name: 'lower-case method', send: crlf('get / HTTP/1.1', 'Host: x'), expect: '4xx' },
    { name: '1 KB of random bytes', send: randomBytes(1024), expect: 'answered-or-closed' },
    { name: 'a TLS ClientHello', send: Buffer.from('160301020001000200fe', 'hex'), expect: 'answered-or-closed' },
    { name: 'NUL bytes only', send: Buffer.alloc(512), expect: 'answered-or-closed' },
  ],
  headers: [
    { name: '100 KB header', send: getLine('/healthz', `X-Big: ${'b'.repeat(100_000)}`), expect: 431 },
    { name: '10,000 headers', send: getLine('/healthz', ...Array.from({ length: 10_000 }, (_, i) => `X-H${i}: v`)), expect: 431 },
    { name: '60 headers (under the limits)', send: getLine('/healthz', ...Array.from({ length: 60 }, (_, i) => `X-H${i}: v`)), expect: 200 },
    { name: 'NUL in a header value', send: getLine('/healthz', 'X-A: a\u0000b'), expect: 400 },
    { name: 'header without a colon', send: getLine('/healthz', 'NoColonHere'), expect: 400 },
    { name: 'obs-fold continuation line', send: getLine('/healthz', 'X-A: a', ' folded'), expect: '4xx' },
    { name: 'invalid UTF-8 in a header value', send: Buffer.concat([Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: '), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from('\r\n\r\n')]), expect: 'answered-or-closed' },
    { name: 'no Host header', send: crlf('GET /healthz HTTP/1.1'), expect: 200 },
    { name: 'two Host headers', send: crlf('GET /healthz HTTP/1.1', 'Host: a', 'Host: b'), expect: 'answered-or-closed' },
    { name: 'Host junk', send: crlf('GET /metrics HTTP/1.1', 'Host: [::::]:99999/%%'), expect: 200 },
    { name: 'Authorization junk', send: getLine('/status.json', `Authorization: Basic ${'!'.repeat(2000)}`), expect: 200 },
    { name: 'bare CR in a header', send: 'GET /healthz HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n', expect: '4xx' },
  ],
  'request smuggling': [
    { name: 'Content-Length and Transfer-Encoding', send: crlf('POST / HTTP/1.1', 'Host: x', 'Content-Length: 4', 'Transfer-Encoding: chunked') + '0\r\n\r\n', expect: '4xx' },
    { name: 'two different Content-Lengths', send: crlf('GET / HTTP/1.1', 'Host: x', 'Content-Length: 4', 'Content-Length: 5') + 'abcde', expect: 400 },
    { name: 'Transfer-Encoding: xchunked', send: crlf('GET / HTTP/1.1', 'Host: x', 'Transfer-Encoding: xchunked') + '0\r\n\r\n', expect: '4xx' },
    { name: 'Transfer-Encoding: chunked, identity', send: crlf('GET / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked, identity') + '0\r\n\r\n', expect: '4xx' },
    { name: 'a request hidden in a GET body', send: crlf('GET /healthz HTTP/1.1', 'Host: x', 'Content-Length: 37') + crlf('GET /metrics HTTP/1.1', 'Host: x'), expect: 413 },
    { name: 'chunk size overflow', send: crlf('GET / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + 'FFFFFFFFFFFFFFFFFFFF\r\n', expect: '4xx' },
    { name: 'negative Content-Length', send: crlf('GET / HTTP/1.1', 'Host: x', 'Content-Length: -1'), expect: 400 },
  ],
  'methods and bodies': [
    { name: 'POST with a 100 MB body', send: (socket) => sendLargeBody(socket, 100 * 1024 * 1024), expect: 405, timeoutMs: 10_000 },
    { name: 'GET with a 100 MB chunked body', send: (socket) => sendLargeBody(socket, 100 * 1024 * 1024, true), expect: 413, timeoutMs: 10_000 },
    { name: 'PUT', send: crlf('PUT /metrics HTTP/1.1', 'Host: x', 'Content-Length: 0'), expect: 405 },
    { name: 'DELETE', send: getLine('/metrics').replace('GET', 'DELETE'), expect: 405 },
    { name: 'TRACE', send: getLine('/').replace('GET', 'TRACE'), expect: 405 },
    { name: 'OPTIONS', send: getLine('/').replace('GET', 'OPTIONS'), expect: 204 },
    { name: 'CONNECT', send: crlf('CONNECT 127.0.0.1:22 HTTP/1.1', 'Host: 127.0.0.1:22'), expect: 'answered-or-closed' },
    { name: 'unknown method', send: getLine('/').replace('GET', 'FOO'), expect: '4xx' },
    { name: 'HEAD /metrics', send: getLine('/metrics').replace('GET', 'HEAD'), expect: 200 },
    { name: 'Upgrade: websocket', send: getLine('/', 'Connection: Upgrade', 'Upgrade: websocket'), expect: 'answered-or-closed' },
    { name: '300 pipelined requests', send: getLine('/healthz').repeat(300), expect: 200 },
    { name: 'request then half-close', send: (socket) => void socket.end(getLine('/metrics')), expect: 200 },
  ],
  'slow and idle clients': [
    {
      name: 'slowloris: one header byte every 200 ms',
      send: async (socket) => {
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
        for (let i = 0; i < 200 && !socket.destroyed; i++) {
          socket.write('X');
          await pause(200);
        }
      },
      expect: 408,
      timeoutMs: 20_000,
    },
    { name: 'a connection that never sends', send: () => undefined, expect: 'answered-or-closed', timeoutMs: 9_000 },
  ],
};

async function sendLargeBody(socket: Socket, bytes: number, chunked = false): Promise<void> {
  socket.write(chunked ? crlf('GET /metrics HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') : crlf('POST /metrics HTTP/1.1', 'Host: x', `Content-Length: ${bytes}`));
  const piece = Buffer.alloc(64 * 1024, 'x');
  for (let sent = 0; sent < bytes && !socket.destroyed; sent += piece.length) {
    const frame = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
    if (!socket.write(frame)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
  }
}

/** The daemon lives, answers /healthz, and a canary through every source still arrives. */
async function assertBridgeWorks(what: string): Promise<void> {
  await bridge.assertAlive();
  await bridge.canary().catch((error: Error) => {
    throw new Error(`after ${what}: ${error.message}`);
  });
}

async function healthz(): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  await response?.arrayBuffer();
  return response?.status ?? 0;
}

describe('the metrics port under hostile HTTP', () => {
  for (const [klass, cases] of Object.entries(classes)) {
    it(`survives every ${klass} case, answering each 4xx where malformed, and keeps forwarding`, async () => {
      for (const testCase of cases) {
        const what = `${klass}: ${testCase.name}`;
        results.input(what);
        const answer = await exchange(testCase.send, testCase.timeoutMs);
        if (testCase.expect === '4xx') expect(answer.status, `${what}: ${answer.text.slice(0, 200)}`).toSatisfy((status: number | undefined) => status !== undefined && status >= 400 && status < 500);
        else if (typeof testCase.expect === 'number') expect(answer.status, `${what}: ${answer.text.slice(0, 200)}`).toBe(testCase.expect);
        else if (answer.status !== undefined) expect(answer.status, what).toBeLessThan(500);
        await assertBridgeWorks(what);
      }
    }, 180_000);
  }

  it('still answers /healthz while 500 connections sit open without sending, and drops them', async () => {
    results.input('slow and idle clients: 500 connections that never send');
    let closed = 0;
    const sockets = await Promise.all(
      Array.from({ length: 500 }, () => new Promise<Socket>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket));
        socket.resume();
        socket.on('close', () => (closed += 1));
        socket.on('error', () => resolve(socket));
      })),
    );
    try {
      // A new connection evicts an idle one: Prometheus and the probes are never locked out.
      expect(await healthz()).toBe(200);
      await waitFor(() => closed === sockets.length, { timeoutMs: 15_000, what: 'the idle connections to be closed by the server' });
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    await assertBridgeWorks('500 silent connections');
  }, 60_000);
});
