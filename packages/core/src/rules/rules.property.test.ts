import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BridgeError } from '../errors.js';
import { parseRules } from './parse-rules.js';
import { parseWalFilters } from './parse-wal-filters.js';
import { splitRouting } from './split-routing.js';

// Bad input is a clear BridgeError or a correct result — never another exception, never a hang.
// Strings are built from the characters the grammars care about so the edge cases come up often.
const grammarChars = fc.constantFrom('a', 'Z', '_', '.', ':', '-', '>', '->', ',', ' ', '\t', '|', '"', "'", '{', '}', 'é', '😀', '\u0000', '\n');
const grammarText = fc.array(grammarChars, { maxLength: 60 }).map((parts) => parts.join(''));
const anyText = fc.oneof(grammarText, fc.string({ maxLength: 200, unit: 'binary' }));

function onlyBridgeErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(BridgeError.isInstance(error)).toBe(true);
    expect((error as BridgeError).message.length).toBeGreaterThan(0);
  }
}

describe('bad-input corpus, property-based', () => {
  it('parseRules throws nothing but a BridgeError that quotes the input, whatever the text', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        onlyBridgeErrors(() => parseRules(text, { upstream: 'amqp', targetKinds: ['exchange', 'queue'] }));
      }),
      { numRuns: 2000 },
    );
  });

  it('parseRules round-trips every well-formed rule list, names with colons included', () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.:\-/]{0,30}$/);
    const channel = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
    const rule = fc.record({ source: channel, kind: fc.constantFrom('exchange', 'queue'), name });
    fc.assert(
      fc.property(fc.uniqueArray(rule, { minLength: 1, maxLength: 6, selector: (r) => `${r.source}|${r.kind}|${r.name}` }), (rules) => {
        const text = rules.map((r) => ` ${r.source} -> ${r.kind}:${r.name} `).join(',');
        const parsed = parseRules(text, { targetKinds: ['exchange', 'queue'] });
        expect(parsed.map((r) => [r.source, r.target.kind, r.target.name])).toEqual(rules.map((r) => [r.source, r.kind, r.name]));
      }),
    );
  });

  it('splitRouting never loses a byte: key + "|" + body rebuilds the payload, or the body is the payload', () => {
    fc.assert(
      fc.property(anyText, (payload) => {
        const { routingKey, body } = splitRouting(payload);
        if (routingKey === '' && body === payload) return;
        expect(`${routingKey}|${body}`).toBe(payload);
        expect(Buffer.byteLength(routingKey)).toBeLessThanOrEqual(255);
        expect(routingKey).not.toMatch(/[\s"'`{}[\]|]/);
      }),
      { numRuns: 2000 },
    );
  });

  it('splitRouting never cuts a JSON document', () => {
    fc.assert(
      fc.property(fc.json(), (json) => {
        expect(splitRouting(json).body).toBe(json);
      }),
    );
  });

  it('parseWalFilters throws nothing but a BridgeError', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        onlyBridgeErrors(() => parseWalFilters(text));
      }),
      { numRuns: 1000 },
    );
  });
});
