import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { BridgeError, type Publisher } from '@pg-event-bridge/core';
import { createRecordingLogger, makeEvent } from '@pg-event-bridge/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookPublisher, type WebhookPublisherOptions } from '../src/index.js';

// Receivers that answer the way an attacker or a broken proxy would: bodies too big, too slow,
// headers that never end. Each case checks what a user notices: the publish settles in bounded
// time with the right kind of error, and the process reads a bounded number of bytes.

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Written {
  /** Bytes of response body the server managed to hand to the socket. */
  bytes: number;
  /** Resolves when the client closed the socket (or the server finished). */
  closed: Promise<void>;
}

/** An HTTP server whose handler writes the response; returns its URL and what each request wrote. */
async function hostileServer(handle: (req: IncomingMessage, res: ServerResponse, written: Written) => void) {
  const writes: Written[] = [];
  const server = createServer((req, res) => {
    let markClosed!: () => void;
    const written: Written = { bytes: 0, closed: new Promise<void>((resolve) => (markClosed = resolve)) };
    res.on('close', markClosed);
    writes.push(written);
    req.resume();
    req.on('end', () => handle(req, res, written));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, writes };
}

/** Streams `total` bytes of 'x' with back-pressure, counting what the socket accepted. */
function streamBody(res: ServerResponse, written: Written, total: number): void {
  const chunk = Buffer.alloc(1 << 20, 'x');
  const pump = () => {
    while (written.bytes < total && !res.destroyed) {
      const size = Math.min(chunk.length, total - written.bytes);
      written.bytes += size;
      if (!res.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

async function started(url: string, options: WebhookPublisherOptions = {}): Promise<Publisher> {
  const publisher = createWebhookPublisher(options);
  cleanups.push(() => publisher.stop());
  await publisher.start({ logger: createRecordingLogger(), targets: [{ kind: 'url', name: url }], signal: new AbortController().signal });
  return publisher;
}

async function outcome(promise: Promise<unknown>): Promise<{ error?: BridgeError; ms: number }> {
  const began = Date.now();
  try {
    await promise;
    return { ms: Date.now() - began };
  } catch (error) {
    return { error: error as BridgeError, ms: Date.now() - began };
  }
}

const MiB = 1024 * 1024;

describe('webhook publisher against hostile receivers', () => {
  it('reads a bounded prefix of a 400 MiB 200 answer: the publish resolves and the receiver sees the socket closed early', async () => {
    const server = await hostileServer((_req, res, written) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      streamBody(res, written, 400 * MiB);
    });
    const publisher = await started(server.url, { timeoutMs: 20_000 });
    const { error } = await outcome(publisher.publish({ kind: 'url', name: server.url }, makeEvent({ body: 'small' })));
    expect(error).toBeUndefined();
    await server.writes[0]!.closed;
    // Loopback socket buffers hold a few MiB; reading the whole answer would be 400.
    expect(server.writes[0]!.bytes).toBeLessThan(32 * MiB);
  });

  it('keeps only the text of a binary or compressed refusal in the message, no control bytes', async () => {
    const server = await hostileServer((_req, res) => {
      res.writeHead(422, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.concat([Buffer.from('bad '), Buffer.from([0, 1, 7, 0x1b, 0xff, 0xfe, 0x80]), Buffer.from('event')]));
    });
    const publisher = await started(server.url);
    const { error } = await outcome(publisher.publish({ kind: 'url', name: server.url }, makeEvent({ body: 'small' })));
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_REJECTED', status: 422 });
    expect(error!.message).toContain('answered 422: bad event');
    expect(error!.message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\ufffd]/);
  });

  it('dead-letters a 400 with a 400 MiB body with a short message, reading a bounded prefix', async () => {
    const server = await hostileServer((_req, res, written) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.write('{"error":"bad event"} ');
      streamBody(res, written, 400 * MiB);
    });
    const publisher = await started(server.url, { timeoutMs: 20_000 });
    const { error } = await outcome(publisher.publish({ kind: 'url', name: server.url }, makeEvent({ body: 'small' })));
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_REJECTED', retryable: false, status: 400 });
    expect(error!.message).toContain('answered 400: {"error":"bad event"} xxx');
    expect(error!.message.length).toBeLessThan(600);
    await server.writes[0]!.closed;
    expect(server.writes[0]!.bytes).toBeLessThan(32 * MiB);
  });

  it('ends a 200 whose body trickles 1 byte per 100 ms past timeoutMs with a retryable timeout', async () => {
    const server = await hostileServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('x'), 100);
      res.on('close', () => clearInterval(timer));
    });
    const publisher = await started(server.url, { timeoutMs: 500 });
    const { error, ms } = await outcome(publisher.publish({ kind: 'url', name: server.url }, makeEvent()));
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true });
    expect(error!.message).toMatch(/timed out after 500 ms/);
    expect(ms).toBeLessThan(500 + 1500);
  });

  it('ends a 200 whose body trickles 1 byte per 100 ms past timeoutMs, even after headers came late', async () => {
    const server = await hostileServer((_req, res) => {
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(200);
        const timer = setInterval(() => res.write('x'), 100);
        res.on('close', () => clearInterval(timer));
      }, 300);
    });
    const publisher = await started(server.url, { timeoutMs: 600 });
    const { error, ms } = await outcome(publisher.publish({ kind: 'url', name: server.url }, makeEvent()));
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true });
    expect(ms).toBeLessThan(600 + 1500);
  });

  it('times out a server that accepts the connection and never answers', async () => {
    const sockets = new Set<Socket>();
    const server = createTcpServer((socket) => {
      sockets.add(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const publisher = await started(url, { timeoutMs: 400 });
    const { error, ms } = await outcome(publisher.publish({ kind: 'url', name: url }, makeEvent()));
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true });
    expect(ms).toBeLessThan(400 + 1500);
  });

  it('times out headers that never end (one header line per 100 ms)', async () => {
    const sockets = new Set<Socket>();
    const server = createTcpServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\n');
        let n = 0;
        const timer = setInterval(() => socket.write(`x-slow-${n++}: y\r\n`), 100);
        socket.on('close', () => clearInterval(timer));
        socket.on('error', () => clearInterval(timer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const publisher = await started(url, { timeoutMs: 500 });
    const { error, ms } = await outcome(publisher.publish({ kind: 'url', name: url }, makeEvent()));
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true });
    expect(ms).toBeLessThan(500 + 1500);
  });

  const retryAfters: Array<[string, number | undefined]> = [
    ['1000000000000', 60_000],
    ['1e12', undefined],
    ['garbage', undefined],
    ['-5', undefined],
    ['99999999999999999999999999999999', 60_000],
    ['Fri, 31 Dec 9999 23:59:59 GMT', 60_000],
    ['Thu, 01 Jan 1970 00:00:00 GMT', 0],
    ['', undefined],
    ['1.5', undefined],
  ];
  for (const [value, expected] of retryAfters) {
    it(`clamps or ignores a Retry-After of ${JSON.stringify(value)} (${String(expected)})`, async () => {
      const server = await hostileServer((_req, res) => {
        res.writeHead(503, { 'retry-after': value }).end('busy');
      });
      const publisher = await started(server.url);
      const { error } = await outcome(publisher.publish({ kind: 'url', name: server.url }, makeEvent()));
      expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true, status: 503 });
      expect(error!.retryAfterMs).toBe(expected);
    });
  }
});

describe('webhook publisher with hostile event fields', () => {
  async function echo() {
    const seen: Array<Record<string, string | string[] | undefined>> = [];
    const server = await hostileServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(204).end();
    });
    return { ...server, seen };
  }

  it('percent-encodes CR, LF, NUL, % and non-ASCII in routing key, channel, id and header values so they decode back exactly', async () => {
    const server = await echo();
    const publisher = await started(server.url);
    const routingKey = 'public.evil\r\nX-Forged: 1\r\n\r\n.insert';
    const event = makeEvent({ id: 'id\n1', source: 'chan\0nel', routingKey, headers: { 'x-tenant': 'a%41b\tc\r\nd', 'x-plain': 'fine value', 'x-pct': '100%25' } });
    await publisher.publish({ kind: 'url', name: server.url }, event);
    const [headers] = server.seen;
    expect(headers!['x-forged']).toBeUndefined();
    expect(decodeURIComponent(headers!['x-event-routing-key'] as string)).toBe(routingKey);
    expect(decodeURIComponent(headers!['x-event-channel'] as string)).toBe('chan\0nel');
    expect(decodeURIComponent(headers!['x-event-id'] as string)).toBe('id\n1');
    expect(decodeURIComponent(headers!['x-tenant'] as string)).toBe('a%41b\tc\r\nd');
    expect(headers!['x-plain']).toBe('fine value');
    expect(decodeURIComponent(headers!['x-pct'] as string)).toBe('100%25');
  });

  const refused: Array<[string, Parameters<typeof makeEvent>[0], RegExp]> = [
    ['a content type with CR/LF', { contentType: 'text/plain\r\nX-Forged: 1' }, /content type .*"\\r" at 10/],
    ['a content type with non-ASCII', { contentType: 'text/plain; charset=ütf-8' }, /content type/],
    ['a header name with a space', { headers: { 'x bad': '1' } }, /header name "x bad".*" " at 1/],
    ['a header name with CR/LF', { headers: { 'x\r\nForged': '1' } }, /header name/],
    ['an empty header name', { headers: { '': '1' } }, /header name "" .*empty/],
    ['a routing key with a lone surrogate', { routingKey: 'a\ud800b' }, /X-Event-Routing-Key .*lone UTF-16 surrogate at character 1/],
  ];
  for (const [label, init, message] of refused) {
    it(`refuses ${label} with ERR_BRIDGE_ENCODE (dead letter, not a retry) and delivers the next event`, async () => {
      const server = await echo();
      const publisher = await started(server.url);
      const { error } = await outcome(publisher.publish({ kind: 'url', name: server.url }, makeEvent(init)));
      expect(error).toMatchObject({ code: 'ERR_BRIDGE_ENCODE', retryable: false });
      expect(error!.message).toMatch(message);
      await publisher.publish({ kind: 'url', name: server.url }, makeEvent({ routingKey: 'next' }));
      expect(server.seen.map((h) => h['x-event-routing-key'])).toEqual(['next']);
    });
  }
});

describe('webhook options that fetch would refuse on every request', () => {
  const bad: Array<[string, WebhookPublisherOptions]> = [
    ['a header value past U+00FF', { headers: { 'X-Team': '日本' } }],
    ['a header value with NUL', { headers: { 'X-Team': 'a\0b' } }],
    ['a header value with a control character', { headers: { 'X-Team': 'a\u0007b' } }],
    ['a user agent with non-ASCII', { userAgent: 'bridge/ü' }],
    ['a default content type with a tab', { defaultContentType: 'text/plain;\tcharset=utf-8\u0001' }],
  ];
  for (const [label, options] of bad) {
    it(`refuses ${label} at once with ERR_BRIDGE_CONFIG, never showing header values`, () => {
      let thrown: unknown;
      try {
        createWebhookPublisher(options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: 'ERR_BRIDGE_CONFIG' });
      expect((thrown as Error).message).not.toContain('日本');
    });
  }
});
