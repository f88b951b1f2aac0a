import { BridgeError, type BridgeErrorCode } from '../errors.js';

// An error message this long is a bug or an attack, not a diagnosis; logs and dead letters keep the start.
const maxDetailChars = 4096;

/**
 * Describes anything thrown, without ever throwing itself: a rejection with a string, `null`, an
 * object whose `message` getter or `toString` throws, or a revoked proxy all give a string.
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
 * {@link toBridgeError} for values from code the bridge does not control (publishers, listeners,
 * dead-letter sinks): never throws, keeps a BridgeError only when its fields can be read, and
 * attaches the original as `cause` only when loggers can read it safely too.
 */
export function asBridgeError(value: unknown, code: BridgeErrorCode, message: string, retryable = true): BridgeError {
  try {
    if (BridgeError.isInstance(value)) {
      const error = value as BridgeError;
      if (typeof error.code === 'string' && typeof error.retryable === 'boolean' && typeof error.message === 'string') return error;
    }
  } catch {
    // A branded object whose getters throw is described below like any other value.
  }
  const detail = describeThrown(value);
  let readable = false;
  try {
    readable = value instanceof Error && typeof value.message === 'string' && (value.stack === undefined || typeof value.stack === 'string');
  } catch {
    readable = false;
  }
  return new BridgeError(code, `${message}: ${detail}`, { retryable, ...(readable && { cause: value }) });
}
