import { describe, expect, it } from 'vitest';
import { BridgeError } from '../errors.js';
import { parseRules } from './parse-rules.js';

const amqp = { upstream: 'amqp', targetKinds: ['exchange', 'queue'] };

function errorOf(run: () => unknown): BridgeError {
  try {
    run();
  } catch (error) {
    if (BridgeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a BridgeError');
}

describe('parseRules', () => {
  it('parses the seed example with whitespace around items and arrows', () => {
    const rules = parseRules(' events -> exchange:amq.topic ,  wal2json->queue:changes ', amqp);
    expect(rules).toEqual([
      { source: 'events', sourceType: 'channel', target: { kind: 'exchange', name: 'amq.topic' }, text: 'events -> exchange:amq.topic' },
      { source: 'wal2json', sourceType: 'wal2json', target: { kind: 'queue', name: 'changes' }, text: 'wal2json->queue:changes' },
    ]);
  });

  it('splits the target at the first colon only, keeping SNS ARNs whole', () => {
    const [rule] = parseRules('snschannel->topic:arn:aws:sns:eu-west-2:123450000001:test-topic');
    expect(rule?.target).toEqual({ kind: 'topic', name: 'arn:aws:sns:eu-west-2:123450000001:test-topic' });
  });

  it('keeps URLs with ports and paths whole', () => {
    const [rule] = parseRules('hooks->url:http://127.0.0.1:8080/a/b?x=1');
    expect(rule?.target).toEqual({ kind: 'url', name: 'http://127.0.0.1:8080/a/b?x=1' });
  });

  it('fans one source out to several targets', () => {
    const rules = parseRules('events->exchange:a, events->queue:b', amqp);
    expect(rules.map((r) => [r.source, r.target.name])).toEqual([
      ['events', 'a'],
      ['events', 'b'],
    ]);
  });

  it('marks pgoutput as a WAL source', () => {
    expect(parseRules('pgoutput->exchange:x', amqp)[0]?.sourceType).toBe('pgoutput');
  });

  it('keeps channel case, since channels are quoted identifiers', () => {
    expect(parseRules('MyChan->exchange:x', amqp)[0]?.source).toBe('MyChan');
  });

  it('tolerates a trailing comma', () => {
    expect(parseRules('a->exchange:x,', amqp)).toHaveLength(1);
  });

  it('rejects an unknown kind, quoting the rule, its position and the accepted kinds', () => {
    const error = errorOf(() => parseRules('events->exchnage:x', amqp));
    expect(error.code).toBe('ERR_BRIDGE_RULE_KIND');
    expect(error.message).toBe('[amqp] Invalid rule "events->exchnage:x" at 8: unknown target kind "exchnage" (amqp accepts: exchange, queue)');
  });

  it('gives the position within the whole text for a later item', () => {
    const error = errorOf(() => parseRules('a->exchange:x, b->topic:y', amqp));
    expect(error.message).toContain('"b->topic:y" at 18');
  });

  it.each([
    ['->exchange:x', 'source channel before "->" is empty'],
    ['events->:x', 'target kind before ":" is empty'],
    ['events->exchange:', 'exchange name after ":" is empty'],
    ['events->exchange', 'expected "kind:name"'],
    ['events', 'expected "source->kind:name"'],
  ])('rejects %j with a syntax error', (text, why) => {
    const error = errorOf(() => parseRules(text, amqp));
    expect(error.code).toBe('ERR_BRIDGE_RULE_SYNTAX');
    expect(error.message).toContain(why);
    expect(error.message).toContain(`"${text}"`);
  });

  it("suggests the arrow form for pg-amqp-bridge's legacy chan:entity", () => {
    const error = errorOf(() => parseRules('events:amq.topic', amqp));
    expect(error.message).toContain('write "events->exchange:amq.topic"');
  });

  it.each(['', '   ', ',', ' , , '])('rejects %j as having no rules', (text) => {
    expect(errorOf(() => parseRules(text, amqp)).code).toBe('ERR_BRIDGE_RULE_SYNTAX');
  });

  it('rejects a duplicate rule', () => {
    expect(errorOf(() => parseRules('a->queue:x, a -> queue:x', amqp)).code).toBe('ERR_BRIDGE_RULE_DUPLICATE');
  });

  it('rejects a channel Postgres would truncate', () => {
    expect(errorOf(() => parseRules(`${'c'.repeat(64)}->queue:x`, amqp)).message).toContain('longer than 63 bytes');
  });
});
