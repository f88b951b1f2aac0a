import { createRequire } from 'node:module';
import { BridgeError } from '@pg-event-bridge/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePublishFrames, type PublishMessage } from './publish-frames.js';

// amqplib's own generic encoder, the reference our encoder must match byte for byte.
const require = createRequire(import.meta.url);
const defs = require('amqplib/lib/defs.js') as {
  BasicPublish: number;
  BasicProperties: number;
  encodeMethod(method: number, channel: number, fields: object): Buffer;
  encodeProperties(properties: number, channel: number, size: number, fields: object): Buffer;
};
const { makeBodyFrame } = require('amqplib/lib/frame.js') as { makeBodyFrame(channel: number, payload: Buffer): Buffer };
const { publish: publishArgs } = (require('amqplib/lib/api_args.js') as { publish(exchange: string, routingKey: string, options: object): object }) as never as {
  publish(exchange: string, routingKey: string, options: object): object;
};

/** What amqplib's ConfirmChannel.publish writes for the same message, as one buffer. */
function amqplibFrames(channel: number, frameMax: number, message: PublishMessage): Buffer {
  const { exchange, routingKey, body, ...rest } = message;
  const fields = publishArgs(exchange, routingKey, rest);
  const chunks = [defs.encodeMethod(defs.BasicPublish, channel, fields), defs.encodeProperties(defs.BasicProperties, channel, body.length, fields)];
  const maxBody = frameMax - 8;
  for (let from = 0; from < body.length; from += maxBody) chunks.push(makeBodyFrame(channel, body.subarray(from, from + maxBody)));
  return Buffer.concat(chunks);
}

const base: PublishMessage = {
  exchange: 'amq.topic',
  routingKey: 'signup',
  mandatory: true,
  headers: { 'x-pg-channel': 'events', 'x-routing-key': 'signup', 'x-event-id': '0/16B3748-0' },
  messageId: '0/16B3748-0',
  timestamp: 1_795_000_000,
  appId: 'pg-event-bridge',
  body: Buffer.from('A new user signup'),
};

describe('encodePublishFrames', () => {
  it('writes what amqplib writes for a typical event', () => {
    expect(encodePublishFrames(1, 131_072, base).equals(amqplibFrames(1, 131_072, base))).toBe(true);
    const json = { ...base, contentType: 'application/json', deliveryMode: 2, mandatory: false };
    expect(encodePublishFrames(7, 4096, json).equals(amqplibFrames(7, 4096, json))).toBe(true);
  });

  it('sends no body frame for an empty body and splits a body at the negotiated frame size', () => {
    const empty = encodePublishFrames(1, 4096, { ...base, body: Buffer.alloc(0) });
    expect(empty.equals(amqplibFrames(1, 4096, { ...base, body: Buffer.alloc(0) }))).toBe(true);
    const large = { ...base, body: Buffer.alloc(10_000, 'x') };
    const frames = encodePublishFrames(1, 4096, large);
    expect(frames.equals(amqplibFrames(1, 4096, large))).toBe(true);
    // Three body frames of at most 4,088 bytes: 10,000 = 4,088 + 4,088 + 1,824.
    expect(frames.length - empty.length).toBe(10_000 + 3 * 8);
  });

  it('matches amqplib for any names, headers and bodies', () => {
    const shortText = fc.string({ unit: 'binary', maxLength: 60 });
    fc.assert(
      fc.property(
        fc.record({
          exchange: shortText,
          routingKey: shortText,
          mandatory: fc.boolean(),
          contentType: fc.option(shortText, { nil: undefined }),
          headers: fc.dictionary(fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 300 }), { maxKeys: 6 }),
          deliveryMode: fc.option(fc.constantFrom(1, 2), { nil: undefined }),
          messageId: shortText,
          timestamp: fc.integer({ min: 0, max: 2 ** 40 }),
          appId: fc.constant('pg-event-bridge'),
          body: fc.uint8Array({ maxLength: 9000 }).map((bytes) => Buffer.from(bytes)),
        }),
        fc.integer({ min: 1, max: 65_535 }),
        fc.constantFrom(4096, 8192, 131_072),
        (message, channel, frameMax) => {
          expect(encodePublishFrames(channel, frameMax, message).equals(amqplibFrames(channel, frameMax, message))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a name over 255 bytes with an error naming the field, rather than truncating it', () => {
    const long = 'é'.repeat(128);
    for (const [message, field] of [
      [{ ...base, exchange: long }, 'exchange name'],
      [{ ...base, messageId: long }, 'message id'],
      [{ ...base, headers: { [long]: 'v' } }, 'header name'],
    ] as const) {
      let thrown: unknown;
      try {
        encodePublishFrames(1, 4096, message);
      } catch (error) {
        thrown = error;
      }
      expect(BridgeError.isInstance(thrown) && thrown.code).toBe('ERR_BRIDGE_PAYLOAD_TOO_LARGE');
      expect((thrown as Error).message).toContain(`${field}`);
      expect((thrown as Error).message).toContain('256 bytes');
    }
  });
});
