import { createServer } from 'node:net';

/**
 * Asks the kernel for a TCP port that is free on 127.0.0.1 right now. Another process may still
 * take it before you bind it, so use it at once.
 *
 * @example
 * ```ts
 * const port = await findFreePort();
 * const closedUrl = `amqp://guest:guest@127.0.0.1:${port}//`; // nothing listens there
 * ```
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
