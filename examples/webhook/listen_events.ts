import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMain, numberFromEnv, runScript } from '@pg-event-bridge/example-support';

/** The secret of config.ini, without its `whsec_` prefix (`WEBHOOK_SECRET` overrides it). */
export const secret = (process.env['WEBHOOK_SECRET'] || 'whsec_cGctZXZlbnQtYnJpZGdlLWV4YW1wbGUtc2VjcmV0').replace(/^whsec_/, '');

/** Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`, one per secret. */
function verify(headers: Record<string, string | string[] | undefined>, body: Buffer): boolean {
  const expected = createHmac('sha256', Buffer.from(secret, 'base64'))
    .update(`${String(headers['webhook-id'])}.${String(headers['webhook-timestamp'])}.`)
    .update(body)
    .digest();
  return String(headers['webhook-signature'] ?? '')
    .split(' ')
    .some((signature) => {
      const given = Buffer.from(signature.replace(/^v1,/, ''), 'base64');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

/**
 * The webhook receiver: an HTTP server that answers 204 and reports every request as
 * `POST /path routing-key | body` (`[bad signature]` when the signature does not verify).
 */
export async function listenEvents(options: { port: number; host?: string; onLine: (line: string) => void }) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const signed = verify(req.headers, body) ? '' : ' [bad signature]';
      options.onLine(`${req.method} ${req.url} ${String(req.headers['x-event-routing-key'])} | ${body.toString()}${signed}`);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => server.listen(options.port, options.host ?? '0.0.0.0', done));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

if (isMain(import.meta.url)) {
  runScript(async (signal) => {
    const listener = await listenEvents({ port: numberFromEnv('PORT', 8080), onLine: (line) => console.log(`[webhook] ${line}`) });
    console.log(`[webhook] receiving on http://0.0.0.0:${listener.port}/; Ctrl-C to stop`);
    await new Promise((done) => signal.addEventListener('abort', done, { once: true }));
    await listener.close();
  });
}
