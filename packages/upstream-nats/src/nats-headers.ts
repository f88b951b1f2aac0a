import { BridgeError, type BridgeEvent } from '@pg-event-bridge/core';

// Header of the event id: the stream drops a message whose id it stored within its duplicate window.
export const MSG_ID_HEADER = 'Nats-Msg-Id';

/**
 * The longest subject published, in UTF-8 bytes. The server closes the connection ("Maximum
 * Control Line Exceeded") when `HPUB <subject> <reply> <sizes>` passes its max_control_line,
 * 4096 bytes by default; this leaves 256 bytes for the reply subject and the sizes.
 */
export const MAX_SUBJECT_BYTES = 3840;

/** JetStream refuses a message whose headers pass 64 KiB (API error 10097). */
export const MAX_HEADER_BYTES = 64 * 1024;

// Headers the publisher writes itself; an event's own header of the same name (any case) is dropped.
const ownHeaders = new Set(['x-pg-channel', 'x-routing-key', 'x-event-id', 'content-type', 'nats-msg-id']);

/** `character "\r" (U+000D) at 12`, for error messages. */
export function describeCharacter(text: string, index: number): string {
  const code = text.codePointAt(index)!;
  return `character ${JSON.stringify(String.fromCodePoint(code))} (U+${code.toString(16).toUpperCase().padStart(4, '0')}) at ${index}`;
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `subject` cannot be published to, or undefined when it can. */
export function invalidSubjectReason(subject: string): string | undefined {
  if (subject === '') return 'it is empty';
  const bad = /[\s\x00-\x1f\x7f]/.exec(subject);
  if (bad) return `it contains whitespace or a control character (${describeCharacter(subject, bad.index)})`;
  const lone = loneSurrogate.exec(subject);
  if (lone) return `it holds a lone UTF-16 surrogate at ${lone.index}, which has no UTF-8 encoding`;
  const tokens = subject.split('.');
  if (tokens.some((t) => t === '')) return 'it has an empty token (".." or a leading/trailing ".")';
  if (tokens.some((t) => t === '*' || t === '>')) return 'it contains the wildcard "*" or ">"';
  const bytes = Buffer.byteLength(subject);
  if (bytes > MAX_SUBJECT_BYTES) return `it is ${bytes} bytes; the server's control line allows ${MAX_SUBJECT_BYTES}`;
  return undefined;
}

/**
 * A header value as written: as is when NATS carries it unchanged, otherwise percent-encoded
 * (UTF-8) whole. NATS headers cannot hold CR or LF, nats.js trims surrounding whitespace, and a
 * control character or `%` would make the value ambiguous; so a consumer may always apply
 * `decodeURIComponent` and get the original back.
 */
export function encodeNatsHeaderValue(value: string, name: string, eventId: string): string {
  if (!/[\x00-\x1f\x7f%]|^\s|\s$/.test(value)) {
    if (!loneSurrogate.test(value)) return value;
  }
  const lone = loneSurrogate.exec(value);
  if (lone) {
    throw new BridgeError('ERR_BRIDGE_ENCODE', `[nats] Header ${name} of event ${eventId} holds a lone UTF-16 surrogate at ${lone.index}, which has no UTF-8 encoding; fix the value at its source`);
  }
  return encodeURIComponent(value);
}

/**
 * The headers of one message, in order: the event's own (dropping those the publisher writes
 * itself), then `x-pg-channel`, `x-routing-key`, `x-event-id`, `content-type` and `Nats-Msg-Id`.
 * Throws ERR_BRIDGE_ENCODE, naming the header and the character, for a name NATS cannot carry
 * (outside printable ASCII, or a colon) or one in JetStream's own `Nats-` namespace, which would
 * direct the stream (`Nats-Rollup`, `Nats-Expected-Last-Sequence`...) instead of reaching consumers.
 */
export function natsHeaderEntries(event: BridgeEvent): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    const lower = name.toLowerCase();
    if (ownHeaders.has(lower)) continue;
    if (name === '') throw new BridgeError('ERR_BRIDGE_ENCODE', `[nats] Event ${event.id} has a header with an empty name; remove it at its source`);
    const bad = /[^\x21-\x39\x3b-\x7e]/.exec(name);
    if (bad) {
      throw new BridgeError('ERR_BRIDGE_ENCODE', `[nats] Event ${event.id} has a header name ${JSON.stringify(name.slice(0, 80))} with ${describeCharacter(name, bad.index)}; NATS header names are printable ASCII without ":", so rename it at its source`);
    }
    if (lower.startsWith('nats-')) {
      throw new BridgeError('ERR_BRIDGE_ENCODE', `[nats] Event ${event.id} has a header ${JSON.stringify(name)} in JetStream's reserved Nats- namespace, which would direct the stream rather than reach consumers; rename it at its source`);
    }
    entries.push([name, encodeNatsHeaderValue(value, name, event.id)]);
  }
  entries.push(['x-pg-channel', encodeNatsHeaderValue(event.source, 'x-pg-channel', event.id)]);
  entries.push(['x-routing-key', encodeNatsHeaderValue(event.routingKey, 'x-routing-key', event.id)]);
  const id = encodeNatsHeaderValue(event.id, 'x-event-id', event.id);
  entries.push(['x-event-id', id]);
  if (event.contentType) entries.push(['content-type', encodeNatsHeaderValue(event.contentType, 'content-type', event.id)]);
  entries.push([MSG_ID_HEADER, id]);
  // As nats.js writes them: "NATS/1.0", "\r\n<name>: <value>" each, "\r\n\r\n".
  let bytes = 12;
  for (const [name, value] of entries) bytes += 4 + name.length + Buffer.byteLength(value);
  if (bytes > MAX_HEADER_BYTES) {
    const [largest] = entries.reduce((a, b) => (Buffer.byteLength(a[1]) >= Buffer.byteLength(b[1]) ? a : b));
    throw new BridgeError('ERR_BRIDGE_ENCODE', `[nats] Event ${event.id} needs ${bytes} bytes of headers (the largest is ${largest}); JetStream stores at most ${MAX_HEADER_BYTES}, so shorten the headers at their source`);
  }
  return entries;
}
