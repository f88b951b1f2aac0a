import { makeEvent } from '@pg-event-bridge/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageAttributes } from './message-attributes.js';

describe('messageAttributes', () => {
  it('omits an empty routing key, flags non-UTF-8 bodies and adds the event headers after its own', () => {
    const event = makeEvent({ source: 'orders', routingKey: '', contentType: 'application/json', headers: { tenant: 'acme', channel: 'spoofed', empty: '' } });
    const { attributes } = messageAttributes('sns', event, 'base64');
    expect(Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, v.StringValue]))).toEqual({
      channel: 'orders',
      event_id: event.id,
      content_type: 'application/json',
      body_encoding: 'base64',
      tenant: 'acme',
    });
  });

  it('refuses header names AWS does not accept and more than 10 attributes', () => {
    expect(() => messageAttributes('sqs', makeEvent({ headers: { 'AWS.reserved': 'x' } }), 'utf8')).toThrow(expect.objectContaining({ code: 'ERR_BRIDGE_ENCODE', message: expect.stringContaining('"AWS.reserved"') }));
    const headers = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`h${i}`, 'v']));
    expect(() => messageAttributes('sqs', makeEvent({ routingKey: 'k', headers }), 'utf8')).toThrow(/needs 11 message attributes; AWS allows 10/);
  });

  it('refuses a value with a character AWS refuses, naming the attribute and the character', () => {
    expect(() => messageAttributes('sns', makeEvent({ routingKey: 'a\0b' }), 'utf8')).toThrow(expect.objectContaining({ code: 'ERR_BRIDGE_ENCODE', message: expect.stringContaining('routing_key of event') }));
    expect(() => messageAttributes('sns', makeEvent({ headers: { tenant: 'x\ufffey' } }), 'utf8')).toThrow(/tenant .*U\+FFFE\) at 1/);
    expect(messageAttributes('sns', makeEvent({ routingKey: 'a\r\nb\tc' }), 'utf8').attributes.routing_key?.StringValue).toBe('a\r\nb\tc');
  });

  it('for any strings either refuses with ERR_BRIDGE_ENCODE or yields at most 10 attributes with valid names and values, the values unchanged', () => {
    const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', '\0', 'AWS.x', 'a..b', '\ud800'));
    fc.assert(
      fc.property(anyText, anyText, fc.dictionary(anyText, anyText, { maxKeys: 9 }), (source, routingKey, headers) => {
        const event = makeEvent({ source, routingKey, headers });
        let attributes: Record<string, { StringValue: string }>;
        try {
          ({ attributes } = messageAttributes('sqs', event, 'utf8'));
        } catch (error) {
          expect(error).toMatchObject({ code: 'ERR_BRIDGE_ENCODE', retryable: false });
          return;
        }
        expect(Object.keys(attributes).length).toBeLessThanOrEqual(10);
        for (const [name, { StringValue }] of Object.entries(attributes)) {
          expect(name).toMatch(/^[A-Za-z0-9_.-]{1,256}$/);
          expect(StringValue).not.toMatch(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u);
        }
        expect(attributes.channel?.StringValue).toBe(source);
        if (routingKey !== '') expect(attributes.routing_key?.StringValue).toBe(routingKey);
      }),
      { numRuns: 2000 },
    );
  });
});
