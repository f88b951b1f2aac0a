import { describe, expect, it } from 'vitest';
import { deriveLockKey } from './leader-lock.js';

describe('deriveLockKey', () => {
  const upstreams = [{ name: 'rabbit', rules: [{ text: 'events->exchange:amq.topic' }, { text: 'pgoutput->queue:changes' }] }];

  it('gives daemons with the same slot and rules the same signed 64-bit key, whatever the rule order or spacing', () => {
    const key = deriveLockKey('pg_event_proxy', upstreams);
    expect(BigInt.asIntN(64, key)).toBe(key);
    const reordered = [{ name: 'rabbit', rules: [{ text: 'pgoutput -> queue:changes' }, { text: 'events->exchange:amq.topic' }] }];
    expect(deriveLockKey('pg_event_proxy', reordered)).toBe(key);
  });

  it('separates daemons doing different work', () => {
    const key = deriveLockKey('pg_event_proxy', upstreams);
    expect(deriveLockKey('other_slot', upstreams)).not.toBe(key);
    expect(deriveLockKey('pg_event_proxy', [{ name: 'rabbit', rules: [{ text: 'events->exchange:amq.topic' }] }])).not.toBe(key);
    expect(deriveLockKey('pg_event_proxy', [{ ...upstreams[0]!, name: 'mq' }])).not.toBe(key);
  });
});
