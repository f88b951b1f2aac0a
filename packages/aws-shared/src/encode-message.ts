import { BridgeError, type BridgeEvent } from '@pg-event-bridge/core';
import { encodeBody, type EncodedBody } from './encode-body.js';
import { messageAttributes, type StringAttribute } from './message-attributes.js';

/** An event as an SNS or SQS message. */
export interface EncodedMessage {
  /** The message body: the event body as text, or its base64 (see `encoding`). */
  readonly text: string;
  readonly encoding: EncodedBody['encoding'];
  /** `routing_key`, `channel`, `event_id`... (see {@link messageAttributes}). */
  readonly attributes: Record<string, StringAttribute>;
  /** Body text plus attributes in bytes, as AWS counts it against the message size limit. */
  readonly size: number;
}

/** Limits of {@link encodeMessage}. */
export interface EncodeMessageOptions {
  /** The largest event body accepted (before encoding). */
  readonly maxPayloadBytes: number;
  /** The largest message: body as sent plus attributes. */
  readonly maxMessageBytes: number;
  /** How the error names the message limit: `SNS accepts at most 262144`. */
  readonly limitText: string;
  /** See {@link encodeBody}. @default false */
  readonly bmpOnly?: boolean;
}

/**
 * Encodes an event as an SNS or SQS message (see {@link encodeBody} and {@link messageAttributes}).
 * Throws ERR_BRIDGE_PAYLOAD_TOO_LARGE (permanent: the bridge dead-letters the event) when the body
 * exceeds `maxPayloadBytes` or the message `maxMessageBytes`.
 *
 * @example
 * ```ts
 * const message = encodeMessage('sqs', event, { maxPayloadBytes: 262_144, maxMessageBytes: 262_144, limitText: 'the limit is 262144' });
 * const entry = { MessageBody: message.text, MessageAttributes: message.attributes };
 * ```
 */
export function encodeMessage(upstream: string, event: BridgeEvent, options: EncodeMessageOptions): EncodedMessage {
  checkBodySize(upstream, event, options.maxPayloadBytes);
  const body = encodeBody(event.body, options.bmpOnly);
  const { attributes, bytes } = messageAttributes(upstream, event, body.encoding);
  const size = Buffer.byteLength(body.text) + bytes;
  if (size > options.maxMessageBytes) {
    throw new BridgeError(
      'ERR_BRIDGE_PAYLOAD_TOO_LARGE',
      `[${upstream}] Event ${event.id} makes a message of ${size} bytes (body ${size - bytes}${body.encoding === 'base64' ? ' as base64' : ''} + attributes ${bytes}); ${options.limitText}. Send large payloads by reference (for example an S3 key)`,
      { retryable: false },
    );
  }
  return { text: body.text, encoding: body.encoding, attributes, size };
}

/**
 * Throws ERR_BRIDGE_PAYLOAD_TOO_LARGE (permanent) when the event body exceeds `maxPayloadBytes`.
 *
 * @example
 * ```ts
 * checkBodySize('lambda', event, options.maxPayloadBytes);
 * ```
 */
export function checkBodySize(upstream: string, event: BridgeEvent, maxPayloadBytes: number): void {
  if (event.body.length <= maxPayloadBytes) return;
  throw new BridgeError(
    'ERR_BRIDGE_PAYLOAD_TOO_LARGE',
    `[${upstream}] Event ${event.id} has a body of ${event.body.length} bytes; the limit is ${maxPayloadBytes}. Send large payloads by reference (for example an S3 key)`,
    { retryable: false },
  );
}
