import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitRouting, splitRoutingBytes } from './split-routing.js';

describe('splitRouting', () => {
  it.each([
    ['signup|A new user signup', 'signup', 'A new user signup'],
    ['|hello', '', 'hello'],
    ['no separator', '', 'no separator'],
    ['', '', ''],
    ['key|', 'key', ''],
    ['my_key|A message|Rest of message', 'my_key', 'A message|Rest of message'],
    ['user.signup.v2|x', 'user.signup.v2', 'x'],
    ['clé|café', 'clé', 'café'],
    ['  padded |  body  ', '', '  padded |  body  '],
    ['{"a":"x|y"}', '', '{"a":"x|y"}'],
    ['["a|b"]', '', '["a|b"]'],
    ["it's|quoted", '', "it's|quoted"],
    ['key| body with leading space ', 'key', ' body with leading space '],
  ])('%j -> key %j, body %j', (payload, routingKey, body) => {
    expect(splitRouting(payload)).toEqual({ routingKey, body });
  });

  it('accepts a 255-byte key and refuses a 256-byte one', () => {
    expect(splitRouting(`${'k'.repeat(255)}|b`).routingKey).toHaveLength(255);
    expect(splitRouting(`${'k'.repeat(256)}|b`)).toEqual({ routingKey: '', body: `${'k'.repeat(256)}|b` });
  });

  it('counts bytes, not characters, for the key limit', () => {
    const key = 'é'.repeat(128); // 256 bytes
    expect(splitRouting(`${key}|b`).routingKey).toBe('');
  });
});

describe('splitRoutingBytes', () => {
  it('splits the UTF-8 bytes of any payload as splitRouting splits its text', () => {
    // Payloads built from the characters that decide the split, multi-byte ones included, and any
    // text at all; keys around the 255-byte limit come from the repeats.
    const decisive = fc.constantFrom('k', '.', '_', '|', ' ', '"', '{', '[', 'é', '😀', '\n', 'k'.repeat(64), 'é'.repeat(40));
    const payload = fc.oneof(fc.array(decisive, { maxLength: 12 }).map((parts) => parts.join('')), fc.string({ unit: 'binary', maxLength: 300 }));
    fc.assert(
      fc.property(
        payload.filter((text) => Buffer.from(text).toString() === text),
        (text) => {
          const split = splitRouting(text);
          const bytes = splitRoutingBytes(Buffer.from(text));
          expect(bytes.routingKey).toBe(split.routingKey);
          expect(bytes.body.equals(Buffer.from(split.body))).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it.each([`${'k'.repeat(255)}|b`, `${'k'.repeat(256)}|b`, `${'é'.repeat(127)}k|b`, `${'é'.repeat(128)}|b`, '|', 'k|', ' k|b'])('agrees with splitRouting at the key limits: %j', (text) => {
    const split = splitRouting(text);
    expect(splitRoutingBytes(Buffer.from(text))).toEqual({ routingKey: split.routingKey, body: Buffer.from(split.body) });
  });

  it('copies the body out of the buffer it was given', () => {
    const source = Buffer.from('key|body');
    const { body } = splitRoutingBytes(source);
    source.fill(0);
    expect(body.toString()).toBe('body');
  });
});

describe('splitRoutingBytes on hostile bytes', () => {
  it('never throws, never loses a byte, and splits only at a UTF-8 key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const payload = Buffer.from(bytes);
        const { routingKey, body } = splitRoutingBytes(payload);
        if (routingKey === '' && !body.equals(payload)) {
          expect(Buffer.concat([Buffer.from([0x7c]), body]).equals(payload)).toBe(true);
        } else if (routingKey !== '') {
          expect(Buffer.concat([Buffer.from(routingKey), Buffer.from([0x7c]), body]).equals(payload)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a payload whole when the text before the bar is not UTF-8', () => {
    const payload = Buffer.from([0xff, 0x41, 0x7c, 0x42]);
    expect(splitRoutingBytes(payload)).toEqual({ routingKey: '', body: payload });
  });
});
