import { makeEvent } from '@pg-event-bridge/testkit';
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
    expect(() => messageAttributes('sqs', makeEvent({ headers: { 'AWS.reserved': 'x' } }), 'utf8')).toThrow(expect.objectContaining({ code: 'ERR_BRIDGE_UPSTREAM_REJECTED', message: expect.stringContaining('"AWS.reserved"') }));
    const headers = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`h${i}`, 'v']));
    expect(() => messageAttributes('sqs', makeEvent({ routingKey: 'k', headers }), 'utf8')).toThrow(/needs 11 message attributes; AWS allows 10/);
  });
});
