import { makeEvent } from '@pg-event-bridge/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mqttTopic } from './mqtt-options.js';
import { forbiddenAt, invalidTopicReason, MAX_MQTT_STRING_BYTES, mqttUserProperties } from './mqtt-strings.js';
import { encodePublishPacket } from './publish-packet.js';

const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.constantFrom('', '\0', '\r\n', '\u0085', '\ufffe', '\u{1ffff}', '%41', '+', '#', 'a/b'));

describe('MQTT strings', () => {
  it('for any event either refuses with ERR_BRIDGE_ENCODE or yields a packet whose topic and properties brokers accept and that decode to the originals', () => {
    fc.assert(
      fc.property(anyText, anyText, anyText, fc.dictionary(anyText, anyText, { maxKeys: 4 }), (id, source, routingKey, headers) => {
        const event = makeEvent({ id, source, routingKey, headers });
        const topic = mqttTopic('events', routingKey, '/');
        let properties: Record<string, string>;
        try {
          properties = mqttUserProperties(event);
        } catch (error) {
          expect(error).toMatchObject({ code: 'ERR_BRIDGE_ENCODE', retryable: false });
          return;
        }
        for (const [name, value] of Object.entries(properties)) {
          expect(forbiddenAt(name)).toBe(-1);
          expect(forbiddenAt(value)).toBe(-1);
        }
        expect(decodeURIComponent(properties['x-routing-key']!)).toBe(routingKey);
        expect(decodeURIComponent(properties['x-pg-channel']!)).toBe(source);
        expect(decodeURIComponent(properties['x-event-id']!)).toBe(id);
        if (invalidTopicReason(topic) !== undefined) return;
        expect(topic).not.toMatch(/[+#\0]/);
        expect(forbiddenAt(topic)).toBe(-1);
        expect(Buffer.byteLength(topic)).toBeLessThanOrEqual(MAX_MQTT_STRING_BYTES);
        const packet = encodePublishPacket({ topic, payload: Buffer.from('x'), qos: 1, retain: false, messageId: 1, properties: { userProperties: properties } }, 5);
        // The topic is written whole right after the fixed header, as its length says.
        let at = 1;
        while ((packet[at++]! & 0x80) !== 0);
        const length = packet.readUInt16BE(at);
        expect(packet.subarray(at + 2, at + 2 + length).toString()).toBe(topic);
      }),
      { numRuns: 3000 },
    );
  });

  it('names the offending character of a topic', () => {
    expect(invalidTopicReason('events/a\r\nb')).toMatch(/"\\r" \(U\+000D\) at 8/);
    expect(invalidTopicReason('events/a+b')).toMatch(/wildcard "\+" at 8/);
    expect(invalidTopicReason(`e/${'k'.repeat(MAX_MQTT_STRING_BYTES)}`)).toMatch(/bytes/);
  });
});
