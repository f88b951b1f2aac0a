import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MessageInbox, type ReceivedMessage, type TestTarget } from '@pg-event-bridge/testkit';

/** How the receiver answers one request: a status (2xx = accepted), optional headers, or hang. */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/** A request the receiver got, whatever it answered. */
export interface ReceivedRequest extends ReceivedMessage {
  readonly path: string;
  readonly method: string;
  readonly answer: Answer;
  readonly at: number;
}

interface Route {
  readonly answer: (request: { body: Buffer; headers: Record<string, string>; attempt: number }) => Answer;
  /** Requests answered 2xx, in arrival order. */
  readonly accepted: MessageInbox<ReceivedRequest>;
  /** Every request, whatever the answer. */
  readonly all: ReceivedRequest[];
}

/**
 * A real HTTP server on a free loopback port. Each test gets its own path with a scripted answer;
 * the publisher under test posts there.
 */
export async function startReceiver() {
  const routes = new Map<string, Route>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const route = routes.get(path);
      if (!route) {
        res.writeHead(404).end('no such hook');
        return;
      }
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[key] = value;
      const answer = route.answer({ body, headers, attempt: route.all.length + 1 });
      const request: ReceivedRequest = { path, method: req.method ?? '', body, headers, routingKey: headers['x-event-routing-key'] ?? '', answer, at: Date.now() };
      route.all.push(request);
      if (answer === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
      if (answer.status >= 200 && answer.status < 300) route.accepted.push(request);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    /** A fresh path answering with `answer` (default 204). */
    route(answer: Route['answer'] = () => ({ status: 204 })) {
      const path = `/hooks/${randomUUID()}`;
      const route: Route = { answer, accepted: new MessageInbox<ReceivedRequest>(), all: [] };
      routes.set(path, route);
      return { url: `${base}${path}`, path, ...route, dispose: () => routes.delete(path) };
    },
    /** As a conformance-suite target: what arrives with a 2xx is in the inbox. */
    provision(): TestTarget<ReceivedRequest> {
      const route = this.route();
      return { target: { kind: 'url', name: route.url }, inbox: route.accepted, dispose: async () => void route.dispose() };
    },
    async stop() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
