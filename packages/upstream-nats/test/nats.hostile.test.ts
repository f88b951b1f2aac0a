import { BridgeError, type Publisher } from '@pg-event-bridge/core';
import { createRecordingLogger, makeEvent } from '@pg-event-bridge/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsPublisher } from '../src/index.js';
import { natsUrl, uniqueSubject } from './nats-test-helpers.js';

// A subject answered by a plain NATS responder instead of a JetStream stream: whatever bytes it
// replies are what the publisher must survive. After every hostile reply a good one must work.

let responder: NatsConnection;
let publisher: Publisher;
const subject = uniqueSubject('pgeb-fake-ack');
let nextReply: Uint8Array | string = '';
const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;

beforeAll(async () => {
  responder = await connect({ servers: natsUrl.replace(/^nats:\/\//, '') });
  responder.subscribe(`${subject}.>`, { callback: (_error, msg) => void msg.respond(nextReply) });
  await responder.flush();
  publisher = createNatsPublisher({ url: natsUrl, checkTargets: false, publishTimeoutMs: 2_000 });
  await publisher.start({ logger: createRecordingLogger(), targets: [{ kind: 'subject', name: subject }], signal: new AbortController().signal });
});
afterAll(async () => {
  await publisher?.stop();
  await responder?.close();
});

describe('nats publisher against hostile PubAck replies', () => {
  const replies: Array<[string, string | Uint8Array, string]> = [
    ['junk bytes', Buffer.from([0xff, 0xfe, 0x00, 0x01]), 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE'],
    ['text that is not JSON', 'garbage{', 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE'],
    ['JSON null', 'null', 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE'],
    ['a JSON number', '123', 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE'],
    ['a JSON array', '[1,2]', 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE'],
    ['an empty stream name', '{"stream":""}', 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE'],
    ['a stream name that is a number', '{"stream":5}', 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE'],
    ['an error that is a string', '{"error":"boom"}', 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE'],
    ['an error with a 500 KB description', JSON.stringify({ error: { code: 400, err_code: 1, description: 'd'.repeat(500_000) } }), 'ERR_BRIDGE_UPSTREAM_REJECTED'],
    ['an error whose description nests 20,000 deep', `{"error":{"code":400,"description":${deep}}}`, 'ERR_BRIDGE_UPSTREAM_REJECTED'],
    ['20,000 nested arrays', deep, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE'],
  ];
  for (const [label, reply, code] of replies) {
    it(`fails the publish (${code}) on ${label} with a short message, and the next publish succeeds`, async () => {
      nextReply = reply;
      const error = await publisher.publish({ kind: 'subject', name: subject }, makeEvent({ routingKey: 'x' })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(BridgeError.isInstance(error)).toBe(true);
      expect((error as BridgeError).code).toBe(code);
      expect((error as BridgeError).message.length).toBeLessThan(600);
      nextReply = '{"stream":"FAKE","seq":1}';
      await publisher.publish({ kind: 'subject', name: subject }, makeEvent({ routingKey: 'x' }));
    });
  }

  it('accepts a PubAck naming a 500 KB stream without keeping it', async () => {
    nextReply = JSON.stringify({ stream: 's'.repeat(500_000), seq: 1 });
    await publisher.publish({ kind: 'subject', name: subject }, makeEvent({ routingKey: 'x' }));
  });
});
