const marker = Symbol.for('pg-event-bridge.error');

/**
 * Every error code the bridge can raise. `docs/errors.md` documents each one; a test keeps the
 * two lists identical.
 */
export const errorCodes = {
  ERR_BRIDGE_CONFIG: 'Invalid configuration value or combination of options.',
  ERR_BRIDGE_RULE_SYNTAX: 'A BRIDGE_CHANNELS rule could not be parsed.',
  ERR_BRIDGE_RULE_KIND: 'A rule names a target kind the upstream does not accept.',
  ERR_BRIDGE_RULE_DUPLICATE: 'The same source and target appear twice in the rules.',
  ERR_BRIDGE_PAYLOAD_TOO_LARGE: 'A message is larger than the upstream accepts.',
  ERR_BRIDGE_UPSTREAM_UNAVAILABLE: 'The upstream broker could not be reached or the connection was lost.',
  ERR_BRIDGE_UPSTREAM_REJECTED: 'The upstream broker refused the message (negative acknowledgement).',
  ERR_BRIDGE_UNROUTABLE: 'The broker accepted the connection but no queue received the message.',
  ERR_BRIDGE_TARGET_MISSING: 'The exchange, queue, topic or function named by a rule does not exist.',
  ERR_BRIDGE_POSTGRES: 'PostgreSQL could not be reached or refused a command.',
  ERR_BRIDGE_ABORTED: 'The operation was cancelled because the bridge is stopping.',
  ERR_BRIDGE_STATE: 'A method was called in the wrong lifecycle state (for example start() twice).',
  ERR_BRIDGE_DECODE: 'An event read from Postgres could not be decoded; it was dead-lettered with its raw bytes and position.',
  ERR_BRIDGE_ENCODE: 'A message cannot be encoded for the upstream (a header or topic with forbidden bytes); it was dead-lettered.',
} as const;

/** A documented error code. */
export type BridgeErrorCode = keyof typeof errorCodes;

/** Options of {@link BridgeError}. */
export interface BridgeErrorOptions {
  /** True when trying the same operation again later may succeed. @default false */
  retryable?: boolean;
  /** The underlying error. */
  cause?: unknown;
  /**
   * The upstream asked to be left alone this long (HTTP Retry-After, throttling). The delivery
   * engine waits at least this long before retrying.
   */
  retryAfterMs?: number;
}

/**
 * The one error class of pg-event-bridge. `code` is stable and documented, `retryable` tells the
 * delivery engine whether to back off and retry or to dead-letter.
 *
 * Use {@link BridgeError.isInstance} rather than `instanceof`: it also recognises errors created
 * by another copy of the package.
 *
 * @example
 * ```ts
 * throw new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', '[amqp] Message of 200 bytes exceeds 100', { retryable: false });
 * ```
 */
export class BridgeError extends Error {
  readonly [marker] = true;
  override readonly name = 'BridgeError';
  readonly code: BridgeErrorCode;
  readonly retryable: boolean;
  /** See {@link BridgeErrorOptions.retryAfterMs}. */
  readonly retryAfterMs: number | undefined;

  constructor(code: BridgeErrorCode, message: string, options: BridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** True for any BridgeError, whichever copy of the package created it. */
  static isInstance(value: unknown): value is BridgeError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

// An error message this long is a bug or an attack, not a diagnosis; logs and dead letters keep the start.
const maxDetailChars = 4096;

/**
 * Describes anything thrown, without ever throwing itself: a rejection with a string, `null`, an
 * object whose `message` getter or `toString` throws, or a revoked proxy all give a string, cut
 * at 4,096 characters.
 *
 * @example
 * ```ts
 * describeThrown(null); // 'null'
 * ```
 */
export function describeThrown(value: unknown): string {
  let text: string;
  try {
    text = value instanceof Error ? String(value.message) : typeof value === 'object' && value !== null ? objectText(value) : String(value);
  } catch {
    text = 'a value that cannot be described (its message or toString threw)';
  }
  return text.length > maxDetailChars ? `${text.slice(0, maxDetailChars)}... (${text.length} characters)` : text;
}

function objectText(value: object): string {
  const message = (value as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  const text = String(value);
  return text === '[object Object]' ? 'a non-Error object' : text;
}

/**
 * Turns anything thrown into a BridgeError, and never throws itself: values from code the bridge
 * does not control (publishers, listeners, dead-letter sinks) may be strings, `null` or objects
 * whose getters throw. A BridgeError whose fields can be read is returned as it is. Anything else
 * is treated as `retryable` (an unknown failure of a broker client is most often transient) with
 * the given code, and keeps the original as `cause` only when loggers can read it safely.
 */
export function toBridgeError(error: unknown, code: BridgeErrorCode, message: string, retryable = true): BridgeError {
  try {
    if (BridgeError.isInstance(error)) {
      const branded = error as BridgeError;
      if (typeof branded.code === 'string' && typeof branded.retryable === 'boolean' && typeof branded.message === 'string') return branded;
    }
  } catch {
    // A branded object whose getters throw is described below like any other value.
  }
  const detail = describeThrown(error);
  let readable = false;
  try {
    readable = error instanceof Error && typeof error.message === 'string' && (error.stack === undefined || typeof error.stack === 'string');
  } catch {
    readable = false;
  }
  return new BridgeError(code, `${message}: ${detail}`, { retryable, ...(readable && { cause: error }) });
}
