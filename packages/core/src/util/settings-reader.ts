import { BridgeError } from '../errors.js';
import type { UpstreamConfig } from '../upstream-definition.js';

/**
 * Reads typed values out of an `[upstream.NAME]` section for an {@link UpstreamDefinition}. Every
 * problem is collected; {@link SettingsReader.throwIfAny} then reports them all at once, naming
 * the key, the value as written and what is expected.
 *
 * @example
 * ```ts
 * const read = new SettingsReader(config);
 * const qos = read.oneOf('qos', ['0', '1', '2']);
 * const retain = read.boolean('retain');
 * read.throwIfAny();
 * ```
 */
export class SettingsReader {
  readonly #config: Pick<UpstreamConfig, 'name' | 'settings'>;
  readonly #problems: string[] = [];

  constructor(config: Pick<UpstreamConfig, 'name' | 'settings'>) {
    this.#config = config;
  }

  /** The trimmed value, or undefined when absent or blank. */
  string(key: string): string | undefined {
    const value = this.#config.settings[key];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  integer(key: string, range: { min?: number; max?: number } = {}): number | undefined {
    const text = this.string(key);
    if (text === undefined) return undefined;
    const value = Number(text);
    const min = range.min ?? 0;
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^\d+$/.test(text) || value < min || value > max) return this.#fail(key, text, `a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}`);
    return value;
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
    if (!(values as readonly string[]).includes(text)) return this.#fail(key, text, values.map((v) => `"${v}"`).join(' or '));
    return text as T;
  }

  /** Throws ERR_BRIDGE_CONFIG listing every problem found so far, if there is any. */
  throwIfAny(): void {
    if (this.#problems.length === 0) return;
    throw new BridgeError('ERR_BRIDGE_CONFIG', `[upstream.${this.#config.name}] ${this.#problems.join('; ')}`);
  }

  #fail(key: string, value: string, expected: string): undefined {
    this.#problems.push(`${key} must be ${expected}; got ${JSON.stringify(value)}`);
    return undefined;
  }
}
