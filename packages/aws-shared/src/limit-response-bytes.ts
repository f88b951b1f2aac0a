import { Transform, type Readable } from 'node:stream';
import { BridgeError } from '@pg-event-bridge/core';

/** The part of an AWS SDK v3 client this needs: its middleware stack. */
interface ClientWithMiddleware {
  readonly middlewareStack: {
    add(middleware: (next: (args: unknown) => Promise<{ response: unknown }>) => (args: unknown) => Promise<{ response: unknown }>, options: { step: 'deserialize'; priority: 'low'; name: string }): void;
  };
}

/**
 * Caps how many bytes of each HTTP response `client` reads: a body longer than `maxBytes` fails
 * the call (retryable ERR_BRIDGE_UPSTREAM_UNAVAILABLE) and its connection is closed, instead of
 * the SDK buffering whatever an endpoint (an emulator, a proxy, a hostile host) sends. Installed
 * right above the HTTP handler, before the SDK's deserializer reads the body.
 *
 * @example
 * ```ts
 * limitResponseBytes('lambda', client, 8 * 1024 * 1024);
 * ```
 */
export function limitResponseBytes(upstream: string, client: unknown, maxBytes: number): void {
  const stack = (client as Partial<ClientWithMiddleware>).middlewareStack;
  if (!stack || typeof stack.add !== 'function') return;
  stack.add(
    (next) => async (args) => {
      const output = await next(args);
      const response = output.response as { body?: unknown } | undefined;
      const body = response?.body as Readable | undefined;
      if (!response || !body || typeof body.pipe !== 'function') return output;
      let seen = 0;
      const capped = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          seen += chunk.length;
          if (seen > maxBytes) {
            body.destroy();
            done(new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[${upstream}] The response is longer than ${maxBytes} bytes; the rest was not read`, { retryable: true }));
            return;
          }
          done(null, chunk);
        },
      });
      body.on('error', (error) => capped.destroy(error));
      response.body = body.pipe(capped);
      return output;
    },
    { step: 'deserialize', priority: 'low', name: 'pgEventBridgeLimitResponseBytes' },
  );
}
