import { afterAll, beforeAll } from 'vitest';
import { findFreePort, testPublisher } from '@pg-event-bridge/testkit';
import { createAmqpPublisher } from '../src/index.js';
import { Rabbit, rabbitUrl, type AmqpReceived } from './rabbit.js';

let rabbit: Rabbit;
beforeAll(async () => {
  rabbit = await Rabbit.open();
});
afterAll(() => rabbit.close());

const closedPort = await findFreePort();
const secret = 'unreachable-s3cret';

testPublisher<AmqpReceived>({
  name: 'amqp',
  create: (overrides) =>
    createAmqpPublisher({ url: overrides?.port ? `amqp://guest:guest@127.0.0.1:${overrides.port}//` : rabbitUrl, maxPayloadBytes: overrides?.maxPayloadBytes ?? 64 * 1024 }),
  brokerPort: 5672,
  createUnreachable: () => createAmqpPublisher({ url: `amqp://guest:${secret}@127.0.0.1:${closedPort}//`, connectTimeoutMs: 2000 }),
  secret,
  badOptions: [
    () => createAmqpPublisher({ url: 'http://guest:guest@localhost//' }),
    () => createAmqpPublisher({ url: rabbitUrl, deliveryMode: 3 as never }),
    () => createAmqpPublisher({ url: rabbitUrl, mandatory: 'yes' as never }),
    () => createAmqpPublisher({ url: rabbitUrl, maxPayloadBytes: 0 }),
    () => createAmqpPublisher({ url: rabbitUrl, tls: { rejectUnauthorized: false } }),
    () => createAmqpPublisher({}),
  ],
  provision: (kind) => rabbit.provision(kind),
  maxPayloadBytes: 64 * 1024,
  capabilities: { headers: true, ordered: true },
  expectedRoutingKey: (target, event) => (target.kind === 'queue' ? target.name : event.routingKey),
  expectedHeaders: (_target, event) => ({
    ...event.headers,
    'x-event-id': event.id,
    'x-routing-key': event.routingKey,
    'x-pg-channel': event.source,
  }),
});
