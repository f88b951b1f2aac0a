import { BridgeError, type BridgeEvent } from '@pg-event-bridge/core';

/** A String message attribute, the shape SNS and SQS share. */
export interface StringAttribute {
  DataType: 'String';
  StringValue: string;
}

/** SNS and SQS accept at most 10 message attributes. */
const maxAttributes = 10;
const validName = /^(?!aws\.|amazon\.)(?!.*\.\.)[A-Za-z0-9_-](?:[A-Za-z0-9_.-]{0,254}[A-Za-z0-9_-])?$/i;
const reserved = new Set(['routing_key', 'channel', 'event_id', 'content_type', 'body_encoding']);
// Characters AWS accepts in a String attribute value: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD
// #x10000-#x10FFFF. A value with any other is refused by the API (for a batch, possibly the
// whole call), so it is refused here, before sending.
const disallowedValue = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * The message attributes of an event: `routing_key` (omitted when empty: AWS refuses empty
 * values), `channel`, `event_id`, `content_type` when known, `body_encoding` (`base64` or `empty`) when
 * the body is not plain UTF-8 text, then the event's own headers. Returns them with their size as AWS counts it
 * (name + type + value bytes). Throws ERR_BRIDGE_ENCODE, before anything is sent, for a header name
 * AWS refuses, more than 10 attributes, or a value with a character AWS refuses (NUL and other
 * control characters but tab, CR and LF; U+FFFE, U+FFFF; lone surrogates).
 *
 * @example
 * ```ts
 * const { attributes, bytes } = messageAttributes('sns', event, 'utf8');
 * // attributes.channel = { DataType: 'String', StringValue: event.source }
 * ```
 */
export function messageAttributes(upstream: string, event: BridgeEvent, encoding: 'utf8' | 'base64' | 'empty'): { attributes: Record<string, StringAttribute>; bytes: number } {
  const attributes: Record<string, StringAttribute> = {};
  let bytes = 0;
  const add = (name: string, value: string) => {
    const bad = disallowedValue.exec(value);
    if (bad) {
      const codePoint = bad[0].codePointAt(0)!;
      throw new BridgeError(
        'ERR_BRIDGE_ENCODE',
        `[${upstream}] Message attribute ${name} of event ${event.id} holds ${JSON.stringify(bad[0])} (U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}) at ${bad.index}, which AWS does not accept in an attribute value; fix the ${name === 'routing_key' ? 'routing key' : name === 'channel' ? 'channel name' : 'value'} at its source`,
      );
    }
    attributes[name] = { DataType: 'String', StringValue: value };
    bytes += Buffer.byteLength(name) + 6 + Buffer.byteLength(value);
  };
  if (event.routingKey !== '') add('routing_key', event.routingKey);
  add('channel', event.source);
  add('event_id', event.id);
  if (event.contentType) add('content_type', event.contentType);
  if (encoding !== 'utf8') add('body_encoding', encoding);
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (reserved.has(name) || value === '') continue;
    if (!validName.test(name)) {
      throw new BridgeError('ERR_BRIDGE_ENCODE', `[${upstream}] Header ${JSON.stringify(name.slice(0, 80))} of event ${event.id} is not a valid message attribute name (letters, digits, "_", "-", "."; not starting with "AWS." or "Amazon.")`);
    }
    add(name, value);
  }
  if (Object.keys(attributes).length > maxAttributes) {
    throw new BridgeError('ERR_BRIDGE_ENCODE', `[${upstream}] Event ${event.id} needs ${Object.keys(attributes).length} message attributes; AWS allows ${maxAttributes} (drop some event headers)`);
  }
  return { attributes, bytes };
}
