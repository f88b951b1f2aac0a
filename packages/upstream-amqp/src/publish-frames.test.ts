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
          let frames: Buffer;
          try {
            frames = encodePublishFrames(channel, frameMax, message);
          } catch (error) {
            // Refused only when amqplib would write a content header frame the broker refuses.
            expect(error).toMatchObject({ code: 'ERR_BRIDGE_ENCODE', retryable: false });
            const { exchange, routingKey, body, ...rest } = message;
            const header = defs.encodeProperties(defs.BasicProperties, channel, body.length, publishArgs(exchange, routingKey, rest));
            expect(header.length).toBeGreaterThan(frameMax);
            return;
          }
          expect(frames.equals(amqplibFrames(channel, frameMax, message))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('for any strings in every field either throws ERR_BRIDGE_ENCODE or writes whole frames, none over frameMax, that parse back to the same fields', () => {
    const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.constantFrom('\r\n', '\0', '\xce', 'é'.repeat(128), 'k'.repeat(256)));
    fc.assert(
      fc.property(
        fc.record({
          exchange: anyText,
          routingKey: anyText,
          mandatory: fc.boolean(),
          contentType: fc.option(anyText, { nil: undefined }),
          headers: fc.dictionary(anyText, fc.oneof(anyText, fc.string({ maxLength: 3000 })), { maxKeys: 8 }),
          deliveryMode: fc.option(fc.constantFrom(1, 2), { nil: undefined }),
          messageId: anyText,
          timestamp: fc.integer({ min: 0, max: 2 ** 40 }),
          appId: fc.constant('pg-event-bridge'),
          body: fc.uint8Array({ maxLength: 5000 }).map((bytes) => Buffer.from(bytes)),
        }),
        fc.constantFrom(4096, 8192),
        (message, frameMax) => {
          let frames: Buffer;
          try {
            frames = encodePublishFrames(3, frameMax, message);
          } catch (error) {
            expect(error).toMatchObject({ code: 'ERR_BRIDGE_ENCODE', retryable: false });
            return;
          }
          // Walk the frames: each is type, channel 3, size, payload, 0xCE, none over frameMax.
          const types: number[] = [];
          for (let at = 0; at < frames.length; ) {
            const size = frames.readUInt32BE(at + 3);
            expect(frames.readUInt16BE(at + 1)).toBe(3);
            expect(size + 8).toBeLessThanOrEqual(frameMax);
            expect(frames[at + 7 + size]).toBe(0xce);
            types.push(frames[at]!);
            at += size + 8;
          }
          expect(types.slice(0, 2)).toEqual([1, 2]);
          expect(types.slice(2).every((t) => t === 3)).toBe(true);
          // The method frame's short strings are the exchange and the routing key, byte-exact.
          let at = 7 + 6;
          const exchangeLength = frames[at]!;
          expect(frames.subarray(at + 1, at + 1 + exchangeLength).toString()).toBe(Buffer.from(message.exchange).toString());
          at += 1 + exchangeLength;
          const keyLength = frames[at]!;
          expect(frames.subarray(at + 1, at + 1 + keyLength).equals(Buffer.from(message.routingKey))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses properties that do not fit one frame of frameMax, naming the largest header', () => {
    let thrown: unknown;
    try {
      encodePublishFrames(1, 4096, { ...base, headers: { ...base.headers, 'x-big': 'v'.repeat(5000) } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'ERR_BRIDGE_ENCODE', retryable: false, message: expect.stringMatching(/largest header is "x-big".*frame_max 4096/) });
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
      expect(BridgeError.isInstance(thrown) && thrown.code).toBe('ERR_BRIDGE_ENCODE');
      expect((thrown as Error).message).toContain(`${field}`);
      expect((thrown as Error).message).toContain('256 bytes');
    }
  });
});
