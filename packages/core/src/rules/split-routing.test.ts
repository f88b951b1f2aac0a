import { describe, expect, it } from 'vitest';
import { splitRouting } from './split-routing.js';

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
