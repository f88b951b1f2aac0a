import { describe, expect, it } from 'vitest';
import { SettingsReader } from './settings-reader.js';

describe('SettingsReader', () => {
  it('reads strings, whole numbers, booleans and choices', () => {
    const read = new SettingsReader({ name: 'q', settings: { a: ' x ', n: '42', b: 'Yes', c: 'retry', blank: ' ' } });
    expect([read.string('a'), read.integer('n'), read.boolean('b'), read.oneOf('c', ['retry', 'dead-letter']), read.string('blank')]).toEqual(['x', 42, true, 'retry', undefined]);
    expect(() => read.throwIfAny()).not.toThrow();
  });

  it('reports every bad key at once, naming the section, the key and the value', () => {
    const read = new SettingsReader({ name: 'myq', settings: { n: '4x', b: 'maybe', r: '9' } });
    read.integer('n');
    read.boolean('b');
    read.integer('r', { min: 0, max: 2 });
    expect(() => read.throwIfAny()).toThrow(
      '[upstream.myq] n must be a whole number from 0; got "4x"; b must be true or false; got "maybe"; r must be a whole number from 0 to 2; got "9"',
    );
  });
});
