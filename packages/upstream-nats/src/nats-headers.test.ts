import { headers as natsHeaders } from '@nats-io/transport-node';
import { makeEvent } from '@pg-event-bridge/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invalidSubjectReason, MAX_SUBJECT_BYTES, natsHeaderEntries } from './nats-headers.js';
import { natsSubject } from './nats-options.js';

const text = fc.string({ unit: 'binary', maxLength: 60 });
const anyText = fc.oneof(text, fc.constantFrom('', ' ', '\r\n', 'a\r\nNats-Rollup: all', '%41', 'Nats-Msg-Id', 'x:y', '\0'));

describe('natsHeaderEntries', () => {
  it('for any event either refuses with ERR_BRIDGE_ENCODE or writes a header block that parses back to exactly its entries, each value decoding to the original', () => {
    fc.assert(
      fc.property(anyText, anyText, anyText, fc.option(anyText, { nil: undefined }), fc.dictionary(anyText, anyText, { maxKeys: 4 }), (id, source, routingKey, contentType, headers) => {
        const event = makeEvent({ id, source, routingKey, contentType, headers });
        let entries: Array<[string, string]>;
        try {
          entries = natsHeaderEntries(event);
        } catch (error) {
          expect(error).toMatchObject({ code: 'ERR_BRIDGE_ENCODE', retryable: false });
          return;
        }
        const h = natsHeaders();
        for (const [name, value] of entries) h.append(name, value);
        const block = h.toString();
        const lines = block.split('\r\n');
        // "NATS/1.0", one line per entry, then the empty line that ends the block.
        expect(lines).toHaveLength(entries.length + 3);
        expect(lines.slice(1, -2)).toEqual(entries.map(([name, value]) => `${name}: ${value}`));
        const byName = new Map(entries);
        expect(decodeURIComponent(byName.get('x-routing-key')!)).toBe(routingKey);
        expect(decodeURIComponent(byName.get('x-pg-channel')!)).toBe(source);
        expect(decodeURIComponent(byName.get('Nats-Msg-Id')!)).toBe(id);
        for (const [name, value] of Object.entries(headers)) {
          if (!['x-pg-channel', 'x-routing-key', 'x-event-id', 'content-type', 'nats-msg-id'].includes(name.toLowerCase())) expect(decodeURIComponent(byName.get(name)!)).toBe(value);
        }
        expect(entries.filter(([name]) => name.toLowerCase().startsWith('nats-')).map(([name]) => name)).toEqual(['Nats-Msg-Id']);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('invalidSubjectReason', () => {
  it('passes only subjects that make a control line of exactly its five fields, within the server limit', () => {
    fc.assert(
      fc.property(anyText, (routingKey) => {
        const subject = natsSubject('events', routingKey);
        if (invalidSubjectReason(subject) !== undefined) return;
        const line = `HPUB ${subject} _INBOX.abc.1 10 20\r\n`;
        expect(line.slice(0, -2).split(/[ \t]+/)).toHaveLength(5);
        expect(line.indexOf('\r\n')).toBe(line.length - 2);
        expect(subject.split('.').every((token) => token !== '' && token !== '*' && token !== '>')).toBe(true);
        expect(Buffer.byteLength(subject)).toBeLessThanOrEqual(MAX_SUBJECT_BYTES);
      }),
      { numRuns: 3000 },
    );
  });

  it('names the offending character', () => {
    expect(invalidSubjectReason('events.a\r\nb')).toMatch(/"\\r" \(U\+000D\) at 8/);
    expect(invalidSubjectReason('events.a\0b')).toMatch(/U\+0000/);
    expect(invalidSubjectReason(`events.${'k'.repeat(MAX_SUBJECT_BYTES)}`)).toMatch(/bytes/);
  });
});
