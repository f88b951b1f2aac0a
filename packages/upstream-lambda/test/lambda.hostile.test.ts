import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRecordingLogger, makeEvent } from '@pg-event-bridge/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createLambdaPublisher } from '../src/index.js';

// An endpoint that answers Invoke the way no Lambda would: with far more bytes than the 6 MB a
// function may return. The SDK would buffer all of it; the publisher reads a bounded prefix.
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const MiB = 1024 * 1024;

async function endpoint(total: number) {
  const written = { bytes: 0, closed: false };
  const server = createServer((req, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'test' });
      res.on('close', () => (written.closed = true));
      const chunk = Buffer.alloc(MiB, 0x20);
      const pump = () => {
        while (written.bytes < total && !res.destroyed) {
          written.bytes += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, written };
}

describe('lambda publisher against an endpoint answering 400 MiB', () => {
  it('fails the invocation (retryable) after reading a bounded prefix, and the endpoint sees its socket closed early', async () => {
    const { url, written } = await endpoint(400 * MiB);
    const publisher = createLambdaPublisher({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, invocationType: 'RequestResponse', checkTargets: false, clientConfig: { maxAttempts: 1 } });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: createRecordingLogger(), targets: [{ kind: 'function', name: 'huge' }], signal: new AbortController().signal });
    const error = await publisher.publish({ kind: 'function', name: 'huge' }, makeEvent()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true });
    await expect.poll(() => written.closed).toBe(true);
    expect(written.bytes).toBeLessThan(48 * MiB);
  }, 30_000);
});
