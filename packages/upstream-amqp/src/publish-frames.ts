import { BridgeError } from '@pg-event-bridge/core';

/** What one basic.publish carries: the method's fields and the content header's properties. */
export interface PublishMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly mandatory: boolean;
  readonly contentType?: string | undefined;
  /** Header table; every value is sent as an AMQP long string. */
  readonly headers: Readonly<Record<string, string>>;
  readonly deliveryMode?: number | undefined;
  readonly messageId: string;
  /** Seconds since the epoch. */
  readonly timestamp: number;
  readonly appId: string;
  readonly body: Buffer;
}

// AMQP 0-9-1 framing: type, channel, payload size, payload, frame end.
const frameMethod = 1;
const frameHeader = 2;
const frameBody = 3;
const frameEnd = 0xce;
const frameOverhead = 8;
const basicClass = 60;
const basicPublish = 40;
// Property flags of basic's content header, in the order the properties are written.
const flagContentType = 0x8000;
const flagHeaders = 0x2000;
const flagDeliveryMode = 0x1000;
const flagMessageId = 0x0080;
const flagTimestamp = 0x0040;
const flagAppId = 0x0008;
const longStringTag = 0x53; // 'S'

/**
 * Encodes one basic.publish — method frame, content header frame and body frames split at
 * `frameMax` — into a single buffer, byte for byte what amqplib's generic encoder writes for the
 * same message (a test holds them equal). It exists because amqplib encodes the header table
 * through a prototype-chained object and per-key writes, which was a third of the bridge's CPU per
 * message. Strings longer than AMQP's short-string limit of 255 bytes, and properties that do not
 * fit one content-header frame of `frameMax` bytes (the broker closes the connection on a larger
 * one, FRAME_ERROR, so resending would loop), fail with ERR_BRIDGE_ENCODE naming the field before
 * anything is written, so the message is dead-lettered, never truncated.
 */
export function encodePublishFrames(channel: number, frameMax: number, message: PublishMessage): Buffer {
  const { exchange, routingKey, contentType, headers, deliveryMode, messageId, appId, body } = message;
  const exchangeBytes = shortStringBytes(exchange, 'exchange name', messageId);
  const routingKeyBytes = shortStringBytes(routingKey, 'routing key', messageId);
  const contentTypeBytes = contentType === undefined ? 0 : shortStringBytes(contentType, 'content type', messageId);
  const messageIdBytes = shortStringBytes(messageId, 'message id', messageId);
  const appIdBytes = shortStringBytes(appId, 'app id', messageId);
  let tableBytes = 0;
  for (const key in headers) {
    tableBytes += 1 + shortStringBytes(key, `header name "${key.slice(0, 40)}"`, messageId) + 1 + 4 + Buffer.byteLength(headers[key]!);
  }

  const methodPayload = 4 + 2 + 1 + exchangeBytes + 1 + routingKeyBytes + 1;
  const headerPayload =
    2 + 2 + 8 + 2 + (contentType === undefined ? 0 : 1 + contentTypeBytes) + 4 + tableBytes + (deliveryMode === undefined ? 0 : 1) + 1 + messageIdBytes + 8 + 1 + appIdBytes;
  if (frameMax > 0 && headerPayload + frameOverhead > frameMax) {
    let largest = '';
    for (const key in headers) if (largest === '' || headers[key]!.length > headers[largest]!.length) largest = key;
    throw new BridgeError(
      'ERR_BRIDGE_ENCODE',
      `[amqp] The properties of event ${messageId} need ${headerPayload + frameOverhead} bytes (the largest header is ${JSON.stringify(largest.slice(0, 40))}); AMQP sends them in one frame of at most frame_max ${frameMax} bytes. Shorten the headers at their source`,
    );
  }
  const maxBody = frameMax > 0 ? frameMax - frameOverhead : body.length || 1;
  const bodyFrames = Math.ceil(body.length / maxBody);
  const out = Buffer.allocUnsafe(methodPayload + headerPayload + 2 * frameOverhead + body.length + bodyFrames * frameOverhead);

  let at = out.writeUInt8(frameMethod, 0);
  at = out.writeUInt16BE(channel, at);
  at = out.writeUInt32BE(methodPayload, at);
  at = out.writeUInt16BE(basicClass, at);
  at = out.writeUInt16BE(basicPublish, at);
  at = out.writeUInt16BE(0, at); // reserved (ticket)
  at = writeShortString(out, at, exchange, exchangeBytes);
  at = writeShortString(out, at, routingKey, routingKeyBytes);
  at = out.writeUInt8(message.mandatory ? 1 : 0, at); // mandatory, immediate = false
  at = out.writeUInt8(frameEnd, at);

  at = out.writeUInt8(frameHeader, at);
  at = out.writeUInt16BE(channel, at);
  at = out.writeUInt32BE(headerPayload, at);
  at = out.writeUInt16BE(basicClass, at);
  at = out.writeUInt16BE(0, at); // weight
  at = out.writeBigUInt64BE(BigInt(body.length), at);
  let flags = flagHeaders | flagMessageId | flagTimestamp | flagAppId;
  if (contentType !== undefined) flags |= flagContentType;
  if (deliveryMode !== undefined) flags |= flagDeliveryMode;
  at = out.writeUInt16BE(flags, at);
  if (contentType !== undefined) at = writeShortString(out, at, contentType, contentTypeBytes);
  at = out.writeUInt32BE(tableBytes, at);
  for (const key in headers) {
    const value = headers[key]!;
    at = writeShortString(out, at, key, Buffer.byteLength(key));
    at = out.writeUInt8(longStringTag, at);
    const length = out.write(value, at + 4);
    at = out.writeUInt32BE(length, at) + length;
  }
  if (deliveryMode !== undefined) at = out.writeUInt8(deliveryMode, at);
  at = writeShortString(out, at, messageId, messageIdBytes);
  at = out.writeBigUInt64BE(BigInt(message.timestamp), at);
  at = writeShortString(out, at, appId, appIdBytes);
  at = out.writeUInt8(frameEnd, at);

  for (let from = 0; from < body.length; from += maxBody) {
    const size = Math.min(maxBody, body.length - from);
    at = out.writeUInt8(frameBody, at);
    at = out.writeUInt16BE(channel, at);
    at = out.writeUInt32BE(size, at);
    at += body.copy(out, at, from, from + size);
    at = out.writeUInt8(frameEnd, at);
  }
  return out;
}

function shortStringBytes(value: string, field: string, messageId: string): number {
  const bytes = Buffer.byteLength(value);
  if (bytes > 255) {
    throw new BridgeError('ERR_BRIDGE_ENCODE', `[amqp] The ${field} of event ${messageId} is ${bytes} bytes; AMQP allows 255. Shorten it at its source`);
  }
  return bytes;
}

function writeShortString(out: Buffer, at: number, value: string, bytes: number): number {
  out.writeUInt8(bytes, at);
  // Plain ASCII (as many bytes as characters) is copied without the UTF-8 encoder.
  out.write(value, at + 1, bytes, bytes === value.length ? 'latin1' : 'utf8');
  return at + 1 + bytes;
}
