import { BridgeError } from '@pg-event-bridge/core';

/** Reads typed values out of an `[upstream.NAME]` section, naming the key when one is wrong. */
export class SettingsReader {
  readonly #upstream: string;
  readonly #settings: Readonly<Record<string, string>>;

  constructor(upstream: string, settings: Readonly<Record<string, string>>) {
    this.#upstream = upstream;
    this.#settings = settings;
  }

  string(key: string): string | undefined {
    const value = this.#settings[key];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  integer(key: string): number | undefined {
    const text = this.string(key);
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text)) this.#fail(key, text, 'a whole number');
    return Number(text);
  }

  boolean(key: string): boolean | undefined {
    const text = this.string(key)?.toLowerCase();
    if (text === undefined) return undefined;
    if (['true', 'yes', 'on', '1'].includes(text)) return true;
    if (['false', 'no', 'off', '0'].includes(text)) return false;
    return this.#fail(key, text, 'true or false');
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    const text = this.string(key);
    if (text === undefined) return undefined;
    if (!(values as readonly string[]).includes(text)) this.#fail(key, text, values.map((v) => `"${v}"`).join(' or '));
    return text as T;
  }

  #fail(key: string, value: string, expected: string): never {
    throw new BridgeError('ERR_BRIDGE_CONFIG', `[${this.#upstream}] Setting ${key} must be ${expected}; got ${JSON.stringify(value)}`);
  }
}
