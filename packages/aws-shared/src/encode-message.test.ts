import { makeEvent } from '@pg-event-bridge/testkit';
import { describe, expect, it } from 'vitest';
import { encodeBody } from './encode-body.js';
import { checkBodySize, encodeMessage } from './encode-message.js';

const limits = { maxPayloadBytes: 1000, maxMessageBytes: 1000, limitText: 'the limit is 1000' };

describe('encodeBody', () => {
  it('keeps UTF-8 text, flags empty bodies and sends bytes AWS refuses as base64', () => {
    expect(encodeBody(Buffer.from('héllo 🎉'))).toEqual({ text: 'héllo 🎉', encoding: 'utf8' });
    expect(encodeBody(Buffer.alloc(0))).toEqual({ text: '(empty)', encoding: 'empty' });
    expect(encodeBody(Buffer.from([0xff, 0x00]))).toEqual({ text: '/wA=', encoding: 'base64' });
    expect(encodeBody(Buffer.from('nul\u0000'))).toEqual({ text: Buffer.from('nul\u0000').toString('base64'), encoding: 'base64' });
  });

  it('with bmpOnly sends characters beyond the Basic Multilingual Plane as base64', () => {
    expect(encodeBody(Buffer.from('🎉'), true).encoding).toBe('base64');
    expect(encodeBody(Buffer.from('é'), true).encoding).toBe('utf8');
  });
});

describe('encodeMessage', () => {
  it('returns the body text, the attributes and their size as AWS counts it', () => {
    const event = makeEvent({ source: 'orders', routingKey: 'k', body: 'abc' });
    const message = encodeMessage('sqs', event, limits);
    expect(message.text).toBe('abc');
    expect(Object.keys(message.attributes)).toEqual(['routing_key', 'channel', 'event_id']);
    const attributeBytes = 'routing_key'.length + 6 + 1 + 'channel'.length + 6 + 'orders'.length + 'event_id'.length + 6 + Buffer.byteLength(event.id);
    expect(message.size).toBe(3 + attributeBytes);
  });

  it('refuses a body over maxPayloadBytes, and a message over maxMessageBytes with the limit text', () => {
    expect(() => checkBodySize('lambda', makeEvent({ body: 'x'.repeat(11) }), 10)).toThrow(expect.objectContaining({ code: 'ERR_BRIDGE_PAYLOAD_TOO_LARGE', retryable: false, message: expect.stringContaining('the limit is 10') }));
    expect(() => encodeMessage('sns', makeEvent({ body: 'x'.repeat(990) }), { ...limits, limitText: 'SNS accepts at most 1000' })).toThrow(
      expect.objectContaining({ code: 'ERR_BRIDGE_PAYLOAD_TOO_LARGE', retryable: false, message: expect.stringMatching(/^\[sns\] Event .* makes a message of \d+ bytes .*SNS accepts at most 1000/) }),
    );
  });
});
