import { findFreePort, testPublisher } from '@pg-event-bridge/testkit';
import { afterAll } from 'vitest';
import { createSnsPublisher } from '../src/index.js';
import { credentials, provisionTopic, region, startEmulator, type Emulator } from './fauxqs-harness.js';

// The shared publisher suite against a real fauxqs emulator, checked end to end: every topic is
// read back through an SQS queue subscribed with raw message delivery.
// Started at load time: the suite builds a reference publisher while registering its tests.
const emulator: Emulator = await startEmulator();
const closedPort = await findFreePort();
afterAll(async () => {
  await emulator?.stop();
});

const secret = 'sns-conformance-s3cret';

testPublisher({
  name: 'sns',
  create: (overrides) => createSnsPublisher({ endpoint: emulator.endpoint, region, credentials, maxPayloadBytes: overrides?.maxPayloadBytes }),
  createUnreachable: () => createSnsPublisher({ endpoint: `http://127.0.0.1:${closedPort}`, region, credentials: { accessKeyId: 'test', secretAccessKey: secret }, clientConfig: { maxAttempts: 1 } }),
  secret,
  badOptions: [
    () => createSnsPublisher({ maxBatchSize: 11 }),
    () => createSnsPublisher({ region: 'moon' }),
    () => createSnsPublisher({ endpoint: 'ftp://127.0.0.1' }),
    () => createSnsPublisher({ fifoGroupBy: 'table' as never }),
    () => createSnsPublisher({ maxPayloadBytes: 300_000 }),
  ],
  provision: () => provisionTopic(emulator),
  maxPayloadBytes: 64 * 1024,
  capabilities: { headers: true, ordered: true },
  expectedRoutingKey: (_target, event) => event.routingKey,
  expectedHeaders: (_target, event) => ({ event_id: event.id, channel: event.source, ...(event.routingKey !== '' && { routing_key: event.routingKey }), ...event.headers }),
});
