import { findFreePort, testPublisher } from '@pg-event-bridge/testkit';
import { afterAll } from 'vitest';
import { createLambdaPublisher } from '../src/index.js';
import { startServerlessOffline } from './serverless-offline.js';

// The shared publisher suite against serverless-offline running the real handler of
// test/fixtures, which reports every payload it was invoked with. RequestResponse, so a publish
// resolves only after the handler ran; batches of up to 10 events per invocation.
const offline = await startServerlessOffline();
const closedPort = await findFreePort();
afterAll(async () => {
  await offline.stop();
});

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const secret = 'lambda-conformance-s3cret';

testPublisher({
  name: 'lambda',
  create: (overrides) =>
    createLambdaPublisher({ endpoint: offline.endpoint, region, credentials, invocationType: 'RequestResponse', batchSize: 10, maxPayloadBytes: overrides?.maxPayloadBytes }),
  createUnreachable: () => createLambdaPublisher({ endpoint: `http://127.0.0.1:${closedPort}`, region, credentials: { accessKeyId: 'test', secretAccessKey: secret }, clientConfig: { maxAttempts: 1 } }),
  secret,
  badOptions: [
    () => createLambdaPublisher({ invocationType: 'DryRun' as never }),
    () => createLambdaPublisher({ functionErrors: 'ignore' as never }),
    () => createLambdaPublisher({ batchSize: 0 }),
    () => createLambdaPublisher({ maxInvokePayloadBytes: 7_000_000, invocationType: 'RequestResponse' }),
    () => createLambdaPublisher({ region: 'mars-1' }),
  ],
  provision: async () => offline.provision(),
  maxPayloadBytes: 64 * 1024,
  capabilities: { headers: true, ordered: true },
  expectedRoutingKey: (_target, event) => event.routingKey,
  expectedHeaders: (_target, event) => ({ id: event.id, channel: event.source, routingKey: event.routingKey, ...event.headers }),
  timeoutMs: 20_000,
});
