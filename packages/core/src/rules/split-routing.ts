import { isUtf8 } from 'node:buffer';

/** A NOTIFY payload split into routing key and body. */
export interface SplitPayload {
  readonly routingKey: string;
  readonly body: string;
}

const maxRoutingKeyBytes = 255;
// Whitespace, quotes and braces never occur in a routing key but are common in JSON and prose,
// so a prefix containing them means the `|` belongs to the body.
const notRoutingKey = /[\s"'`{}[\]]/;

/**
 * Splits a NOTIFY payload of the form `routing|body` at its first `|`, but only when the text before
 * it is empty or a plausible routing key (at most 255 bytes, no whitespace, quotes or braces).
 * Otherwise the key is empty and the whole payload is the body, so a JSON document containing `|`
 * is never cut. The body is returned unchanged (not trimmed).
 *
 * @example
 * ```ts
 * splitRouting('signup|A new user signup'); // { routingKey: 'signup', body: 'A new user signup' }
 * splitRouting('{"a":"x|y"}');              // { routingKey: '', body: '{"a":"x|y"}' }
 * ```
 */
export function splitRouting(payload: string): SplitPayload {
  const bar = payload.indexOf('|');
  if (bar === -1) return { routingKey: '', body: payload };
  const key = payload.slice(0, bar);
  // 255 bytes are at most 255 UTF-16 units, so the cheap length check rules out most bodies first.
  if (key.length > maxRoutingKeyBytes || notRoutingKey.test(key) || Buffer.byteLength(key) > maxRoutingKeyBytes) {
    return { routingKey: '', body: payload };
  }
  return { routingKey: key, body: payload.slice(bar + 1) };
}

/**
 * {@link splitRouting} on the payload's UTF-8 bytes, as the NOTIFY source reads them off the
 * socket: the same key, and the body as a copy of its bytes (`payload` may be a view of a buffer
 * that is reused). A `|` byte never occurs inside a multi-byte UTF-8 sequence, so the first `|`
 * byte is the first `|` character.
 *
 * @example
 * ```ts
 * splitRoutingBytes(Buffer.from('signup|A new user')); // { routingKey: 'signup', body: <Buffer 'A new user'> }
 * ```
 */
export function splitRoutingBytes(payload: Buffer): { readonly routingKey: string; readonly body: Buffer } {
  const bar = payload.indexOf(0x7c);
  if (bar === -1 || bar > maxRoutingKeyBytes) return { routingKey: '', body: Buffer.from(payload) };
  // A key that is not UTF-8 (an SQL_ASCII database sends any bytes) cannot be carried as a string
  // faithfully: the payload stays whole, byte-exact.
  if (!isUtf8(payload.subarray(0, bar))) return { routingKey: '', body: Buffer.from(payload) };
  const key = payload.toString('utf8', 0, bar);
  if (notRoutingKey.test(key)) return { routingKey: '', body: Buffer.from(payload) };
  return { routingKey: key, body: Buffer.from(payload.subarray(bar + 1)) };
}
