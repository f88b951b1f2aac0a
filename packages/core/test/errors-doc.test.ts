import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../src/errors.js';

describe('docs/errors.md', () => {
  it('documents exactly the codes errorCodes declares', () => {
    const page = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...page.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((match) => match[1]).sort();
    expect(documented).toEqual(Object.keys(errorCodes).sort());
  });
});
