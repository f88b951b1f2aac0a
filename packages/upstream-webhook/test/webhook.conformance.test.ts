import { findFreePort, testPublisher } from '@pg-event-bridge/testkit';
import { afterAll } from 'vitest';
import { createWebhookPublisher, encodeHeaderValue } from '../src/index.js';
import { startReceiver } from './receiver.js';

// The shared publisher suite against a real node:http server started here.
const receiver = await startReceiver();
const closedPort = await findFreePort();
afterAll(async () => {
  await receiver.stop();
});

const secret = 'webhook-conformance-s3cret';

testPublisher({
  name: 'webhook',
  create: (overrides) => createWebhookPublisher({ maxPayloadBytes: overrides?.maxPayloadBytes }),
  createUnreachable: () => createWebhookPublisher({ baseUrl: `http://bridge:${secret}@127.0.0.1:${closedPort}/`, timeoutMs: 2000 }),
  secret,
  badOptions: [
    () => createWebhookPublisher({ timeoutMs: 0 }),
    () => createWebhookPublisher({ secret: 'whsec_not base64!' }),
    () => createWebhookPublisher({ baseUrl: 'ftp://example.com/' }),
    () => createWebhookPublisher({ headers: { 'bad header': 'x' } }),
    () => createWebhookPublisher({ maxConcurrency: -1 }),
  ],
  provision: async () => receiver.provision(),
  maxPayloadBytes: 64 * 1024,
  capabilities: { headers: true, ordered: false },
  // Header values arrive percent-encoded when they are not printable ASCII or hold a '%'.
  expectedRoutingKey: (_target, event) => encodeHeaderValue(event.routingKey, 'X-Event-Routing-Key'),
  expectedHeaders: (_target, event) => ({
    'x-event-id': encodeHeaderValue(event.id, 'X-Event-Id'),
    'x-event-routing-key': encodeHeaderValue(event.routingKey, 'X-Event-Routing-Key'),
    'x-event-channel': encodeHeaderValue(event.source, 'X-Event-Channel'),
    'x-event-timestamp': event.timestamp.toISOString(),
    ...Object.fromEntries(Object.entries(event.headers ?? {}).map(([name, value]) => [name, encodeHeaderValue(value, name)])),
  }),
});
