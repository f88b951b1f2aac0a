import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readBatchResult } from './batch-result.js';

describe('readBatchResult', () => {
  it('accepts only ids listed as successful with a message id, and never both accepted and failed', () => {
    expect(readBatchResult({ Successful: [{ Id: 'm0', MessageId: 'a' }, { Id: 'm1' }, { Id: 'm2', MessageId: '' }], Failed: [{ Id: 'm3', Code: 'X', SenderFault: true }] })).toEqual({
      accepted: new Set(['m0']),
      failed: new Map([['m3', { code: 'X', message: 'no message', senderFault: true }]]),
    });
  });

  it('survives any JSON value as an answer, keeping error texts short', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.anything({ maxDepth: 3 }), (json, anything) => {
        for (const value of [json, anything, { Successful: json, Failed: anything }, { Failed: [{ Id: 'm0', Message: 'x'.repeat(10_000), Code: json }] }]) {
          const { accepted, failed } = readBatchResult(value);
          for (const id of accepted) expect(failed.has(id)).toBe(false);
          for (const failure of failed.values()) expect(failure.message.length + failure.code.length).toBeLessThanOrEqual(600);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
