import { BridgeError } from '../errors.js';

/**
 * Collects every invalid option of a factory before throwing, so a user fixes their configuration
 * in one go. Values pass through {@link describeValue}, which never prints more than 80 characters
 * and never the content of objects; secrets should be passed through `redactUri` or omitted.
 *
 * @example
 * ```ts
 * const problems = new OptionProblems('amqp');
 * if (!isPositiveInteger(options.maxInFlight)) problems.add('maxInFlight', options.maxInFlight, 'a positive integer');
 * problems.throwIfAny();
 * ```
 */
export class OptionProblems {
  readonly #upstream: string;
  readonly #problems: string[] = [];

  constructor(upstream: string) {
    this.#upstream = upstream;
  }

  /** Records that `option` holds `value` where `expected` was needed. */
  add(option: string, value: unknown, expected: string): void {
    this.#problems.push(`${option}: expected ${expected}, got ${describeValue(value)}`);
  }

  /** Records a problem in free words. */
  note(problem: string): void {
    this.#problems.push(problem);
  }

  get count(): number {
    return this.#problems.length;
  }

  /** Throws ERR_BRIDGE_CONFIG listing every problem, if there is any. */
  throwIfAny(): void {
    if (this.#problems.length === 0) return;
    throw new BridgeError('ERR_BRIDGE_CONFIG', `[${this.#upstream}] Invalid options: ${this.#problems.join('; ')}`);
  }
}

/** Renders a value for an error message: strings quoted and cut at 80 characters, objects by type. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === undefined || value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (typeof value === 'function') return '<function>';
  return `<${Array.isArray(value) ? 'array' : typeof value}>`;
}

/** True for an integer from 1 to `max`. */
export function isPositiveInteger(value: unknown, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
}
