import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BridgeError, type Publisher } from '@pg-event-bridge/core';
import { createRecordingLogger, makeEvent } from '@pg-event-bridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsPublisher } from '../src/index.js';
import { credentials, region } from './fauxqs-harness.js';

// An endpoint that speaks SQS's JSON protocol but answers SendMessageBatch with whatever the test
// scripts: what a broken proxy, an emulator bug or a hostile endpoint could send back.
let answer: { status: number; body: string } = { status: 200, body: '{}' };
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'test' }).end(answer.body);
  });
});
let publisher: Publisher;
let queueUrl: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  queueUrl = `${endpoint}/000000000000/hostile`;
  publisher = createSqsPublisher({ endpoint, region, credentials, checkTargets: false, clientConfig: { maxAttempts: 1, md5: false } });
  await publisher.start({ logger: createRecordingLogger(), targets: [{ kind: 'queue', name: queueUrl }], signal: new AbortController().signal });
});
afterAll(async () => {
  await publisher?.stop();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('sqs publisher against hostile SendMessageBatch answers', () => {
  const cases: Array<[string, { status: number; body: string }, string | undefined, boolean?]> = [
    ['a successful entry without MessageId', { status: 200, body: '{"Successful":[{"Id":"m0"}],"Failed":[]}' }, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true],
    ['a successful entry with an empty MessageId', { status: 200, body: '{"Successful":[{"Id":"m0","MessageId":""}]}' }, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true],
    ['Successful that is not a list', { status: 200, body: '{"Successful":"junk","Failed":7}' }, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true],
    ['an empty object', { status: 200, body: '{}' }, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true],
    ['a 200 that is not JSON', { status: 200, body: '<html>proxy error</html>' }, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true],
    ['a 200 that nests 20,000 deep', { status: 200, body: `${'['.repeat(20_000)}${']'.repeat(20_000)}` }, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true],
    ['an entry both successful and failed', { status: 200, body: '{"Successful":[{"Id":"m0","MessageId":"a"}],"Failed":[{"Id":"m0","Code":"InternalError","SenderFault":false}]}' }, 'ERR_BRIDGE_UPSTREAM_REJECTED', true],
    ['a refusal with a 500 KB message', { status: 200, body: JSON.stringify({ Failed: [{ Id: 'm0', Code: 'InvalidParameterValue', Message: 'x'.repeat(500_000), SenderFault: true }] }) }, 'ERR_BRIDGE_UPSTREAM_REJECTED', false],
    ['a failed entry whose fields are of the wrong types', { status: 200, body: '{"Failed":[{"Id":"m0","Code":5,"Message":{"a":1},"SenderFault":"yes"}]}' }, 'ERR_BRIDGE_UPSTREAM_REJECTED', true],
    ['ids of entries never sent', { status: 200, body: '{"Successful":[{"Id":"m9","MessageId":"a"},{"Id":"__proto__","MessageId":"b"}]}' }, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true],
    ['a proper answer', { status: 200, body: '{"Successful":[{"Id":"m0","MessageId":"5fea7756-0ea4-451a-a703-a558b933e274"}]}' }, undefined],
  ];
  for (const [label, reply, code, retryable] of cases) {
    it(`${code === undefined ? 'resolves on' : `fails (${code}) on`} ${label}, with a short message`, async () => {
      answer = reply;
      const outcome = await publisher.publish({ kind: 'queue', name: queueUrl }, makeEvent({ body: 'x' })).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (code === undefined) {
        expect(outcome).toBeUndefined();
        return;
      }
      expect(BridgeError.isInstance(outcome), String(outcome)).toBe(true);
      expect({ code: (outcome as BridgeError).code, retryable: (outcome as BridgeError).retryable }).toEqual({ code, retryable });
      expect((outcome as BridgeError).message.length).toBeLessThan(1_000);
    });
  }
});
