import { findFreePort, testPublisher } from '@pg-event-bridge/testkit';
import { afterAll } from 'vitest';
import { createSqsPublisher } from '../src/index.js';
import { credentials, provisionQueue, region, startEmulator, type Emulator } from './fauxqs-harness.js';

// The shared publisher suite against a real fauxqs emulator, read back by
// a consumer long-polling the queue.
// Started at load time: the suite builds a reference publisher while registering its tests.
const emulator: Emulator = await startEmulator();
const closedPort = await findFreePort();
afterAll(async () => {
  await emulator?.stop();
});

const secret = 'sqs-conformance-s3cret';

testPublisher({
  name: 'sqs',
  create: (overrides) => createSqsPublisher({ endpoint: emulator.endpoint, region, credentials, maxPayloadBytes: overrides?.maxPayloadBytes }),
  createUnreachable: () => createSqsPublisher({ endpoint: `http://127.0.0.1:${closedPort}`, region, credentials: { accessKeyId: 'test', secretAccessKey: secret }, clientConfig: { maxAttempts: 1 } }),
  secret,
  badOptions: [
    () => createSqsPublisher({ maxBatchSize: 11 }),
    () => createSqsPublisher({ region: 'moon' }),
    () => createSqsPublisher({ endpoint: 'ftp://127.0.0.1' }),
    () => createSqsPublisher({ fifoGroupBy: 'table' as never }),
    () => createSqsPublisher({ maxPayloadBytes: 300_000 }),
    () => createSqsPublisher({ maxMessageBytes: 2_000_000, client: {} as never }),
  ],
  provision: () => provisionQueue(emulator),
  maxPayloadBytes: 64 * 1024,
  capabilities: { headers: true, ordered: true },
  expectedRoutingKey: (_target, event) => event.routingKey,
  expectedHeaders: (_target, event) => ({ event_id: event.id, channel: event.source, ...(event.routingKey !== '' && { routing_key: event.routingKey }), ...event.headers }),
});
