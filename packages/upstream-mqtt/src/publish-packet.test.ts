import { createRequire } from 'node:module';
import { BridgeError } from '@pg-event-bridge/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePublishPacket, setPacketId, type PublishPacket } from './publish-packet.js';

// mqtt-packet as mqtt.js loads it, the reference our encoder must match byte for byte.
const require = createRequire(createRequire(import.meta.url).resolve('mqtt'));
const { generate } = require('mqtt-packet') as { generate(packet: object, options: { protocolVersion: number }): Buffer };

/** What mqtt.js writes to the socket for the same publish. */
function mqttPacketBytes(packet: PublishPacket, protocolVersion: 4 | 5): Buffer {
  return generate({ cmd: 'publish', dup: false, ...packet }, { protocolVersion });
}

/** The remaining length a packet's fixed header announces. */
function remainingLength(packet: Buffer): number {
  let value = 0;
  for (let at = 1, scale = 1; ; at++, scale *= 128) {
    value += (packet[at]! & 0x7f) * scale;
    if ((packet[at]! & 0x80) === 0) return value;
  }
}

const typical: PublishPacket = {
  topic: 'events.signup',
  payload: Buffer.from('A new user signup'),
  qos: 1,
  retain: false,
  messageId: 4711,
  properties: { userProperties: { 'x-pg-channel': 'events', 'x-routing-key': 'signup', 'x-event-id': '0/16B3748-0' }, contentType: 'application/json' },
};

// Bodies whose packet's remaining length lands on either side of the points where its variable
// byte integer grows from 1 to 2, 2 to 3 and 3 to 4 bytes.
const remainingLengthLimits = [127, 16_383, 2_097_151];

describe('encodePublishPacket', () => {
  it('writes what mqtt-packet writes for a typical event, in both protocol versions', () => {
    for (const protocolVersion of [5, 4] as const) {
      expect(encodePublishPacket(typical, protocolVersion).equals(mqttPacketBytes(typical, protocolVersion))).toBe(true);
    }
    const retainedQos0 = { ...typical, qos: 0, retain: true, properties: undefined } as const;
    expect(encodePublishPacket(retainedQos0, 5).equals(mqttPacketBytes(retainedQos0, 5))).toBe(true);
  });

  it('grows the remaining length at 128, 16,384 and 2,097,152 bytes as mqtt-packet does', () => {
    const base = { ...typical, payload: Buffer.alloc(0) };
    const overhead = remainingLength(encodePublishPacket(base, 5));
    for (const limit of remainingLengthLimits) {
      for (const remaining of [limit, limit + 1]) {
        const packet = { ...base, payload: Buffer.alloc(remaining - overhead, 'x') };
        const encoded = encodePublishPacket(packet, 5);
        expect(encoded.equals(mqttPacketBytes(packet, 5))).toBe(true);
        expect(remainingLength(encoded)).toBe(remaining);
        expect(encoded.length - remaining).toBe(1 + remainingLengthLimits.filter((l) => remaining > l).length + 1);
      }
    }
  });

  it('matches mqtt-packet for any topic, properties, flags and body', () => {
    // Plain ASCII takes the encoder's latin1 shortcut, anything else the UTF-8 encoder.
    const text = fc.oneof(fc.string({ unit: 'grapheme-ascii', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));
    const packet = fc.record({
      topic: fc.oneof(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 80 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 80 })),
      payload: fc.uint8Array({ maxLength: 300 }),
      // Half the packets get a body sized so that the remaining length is within 2 of a limit.
      nearLimit: fc.option(fc.record({ limit: fc.constantFrom(...remainingLengthLimits), offset: fc.integer({ min: -2, max: 2 }) }), { nil: undefined }),
      qos: fc.constantFrom(0, 1, 2),
      retain: fc.boolean(),
      messageId: fc.integer({ min: 1, max: 65_535 }),
      properties: fc.option(
        fc.record(
          {
            // mqtt-packet writes nothing at all for an empty user property object, so at least one.
            userProperties: fc.dictionary(text, text, { minKeys: 1, maxKeys: 6, noNullPrototype: true }),
            contentType: text,
          },
          { requiredKeys: [] },
        ),
        { nil: undefined },
      ),
    });
    fc.assert(
      fc.property(packet, fc.constantFrom(4, 5), ({ nearLimit, ...fields }, protocolVersion) => {
        let publish = { ...fields, payload: Buffer.from(fields.payload) } as PublishPacket;
        if (nearLimit) {
          const overhead = remainingLength(encodePublishPacket({ ...publish, payload: Buffer.alloc(0) }, protocolVersion));
          const target = nearLimit.limit + nearLimit.offset;
          publish = { ...publish, payload: Buffer.alloc(Math.max(0, target - overhead), 0xa5) };
          if (target >= overhead) expect(remainingLength(encodePublishPacket(publish, protocolVersion))).toBe(target);
        }
        expect(encodePublishPacket(publish, protocolVersion).equals(mqttPacketBytes(publish, protocolVersion))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('refuses a string over 65,535 bytes with an error naming it, rather than a corrupt packet', () => {
    const long = 'é'.repeat(32_768);
    for (const [packet, field] of [
      [{ ...typical, topic: long }, 'topic'],
      [{ ...typical, properties: { userProperties: { [long]: 'v' } } }, 'user property name'],
      [{ ...typical, properties: { userProperties: { 'x-trace': long } } }, 'value of user property "x-trace"'],
      [{ ...typical, properties: { contentType: long } }, 'content type'],
    ] as const) {
      let thrown: unknown;
      try {
        encodePublishPacket(packet, 5);
      } catch (error) {
        thrown = error;
      }
      expect(BridgeError.isInstance(thrown) && thrown.code).toBe('ERR_BRIDGE_ENCODE');
      expect((thrown as Error).message).toContain(`The ${field} `);
      expect((thrown as Error).message).toContain('65536 bytes');
    }
  });
});

describe('setPacketId', () => {
  it('fills in the id of a packet encoded before the id was known, whatever the header length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20_000 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 65_535 }), (size, topic, messageId) => {
        const packet = { ...typical, topic, payload: Buffer.alloc(size, 1) };
        const encoded = encodePublishPacket({ ...packet, messageId: 0 }, 5);
        setPacketId(encoded, messageId);
        expect(encoded.equals(encodePublishPacket({ ...packet, messageId }, 5))).toBe(true);
      }),
    );
  });
});
