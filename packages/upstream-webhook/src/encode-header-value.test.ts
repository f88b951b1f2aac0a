import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeHeaderValue } from './webhook-publisher.js';

describe('encodeHeaderValue', () => {
  it('turns any well-formed string into printable ASCII that decodeURIComponent maps back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (value) => {
        const encoded = encodeHeaderValue(value, 'X-Test');
        expect(encoded).toMatch(/^[\x20-\x7e]*$/);
        expect(decodeURIComponent(encoded)).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('either encodes any UTF-16 string without CR, LF or NUL in the result, or refuses it with ERR_BRIDGE_ENCODE', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (value) => {
        let encoded: string;
        try {
          encoded = encodeHeaderValue(value, 'X-Test');
        } catch (error) {
          expect(error).toMatchObject({ code: 'ERR_BRIDGE_ENCODE', retryable: false });
          return;
        }
        expect(encoded).not.toMatch(/[\r\n\0]/);
        expect(decodeURIComponent(encoded)).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });
});
