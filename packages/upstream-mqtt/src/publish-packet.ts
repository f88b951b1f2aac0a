import { BridgeError } from '@pg-event-bridge/core';

/** The MQTT 5 properties the publisher sets on a PUBLISH. */
export interface PublishProperties {
  /** Written first, as one property (0x26) per entry in the object's key order. */
  readonly userProperties?: Readonly<Record<string, string>> | undefined;
  /** Written after the user properties (0x03) when defined, even if empty. */
  readonly contentType?: string | undefined;
}

/** One PUBLISH, with the field names mqtt.js and mqtt-packet use for it. */
export interface PublishPacket {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  /** 1-65535, written only when `qos` > 0; {@link setPacketId} can fill it in later. */
  readonly messageId: number;
  /** MQTT 5 only; a 3.1.1 packet has no properties. */
  readonly properties?: PublishProperties | undefined;
}

const publishType = 0x30;
const propertyContentType = 0x03;
const propertyUserProperty = 0x26;
// MQTT strings carry a two-byte length; the variable byte integer stops at four bytes.
const maxStringBytes = 0xffff;
const maxVariableInteger = 268_435_455;

/**
 * Encodes one complete PUBLISH packet into a single buffer: byte for byte what mqtt-packet's
 * `generate()` writes for the same packet (a property test holds them equal). It exists because
 * mqtt.js hands mqtt-packet's writer the socket, which writes the header, topic and every user
 * property as separate small chunks: with our three `x-*` properties that was most of the CPU a
 * message cost. A string over MQTT's 65,535-byte limit (topic, property name or value, content
 * type) fails with ERR_BRIDGE_ENCODE naming it, before anything is written; mqtt-packet
 * would throw halfway through a packet already partly written to the socket.
 */
export function encodePublishPacket(packet: PublishPacket, protocolVersion: 4 | 5): Buffer {
  const { topic, payload, qos, properties } = packet;
  const topicBytes = stringBytes(topic, 'topic', topic);
  let length = 2 + topicBytes + payload.length + (qos > 0 ? 2 : 0);
  let propertiesLength = 0;
  const userProperties = protocolVersion === 5 ? properties?.userProperties : undefined;
  const contentType = protocolVersion === 5 ? properties?.contentType : undefined;
  if (protocolVersion === 5) {
    for (const name in userProperties) {
      propertiesLength += 5 + stringBytes(name, 'user property name', topic) + stringBytes(userProperties[name]!, `value of user property "${name.slice(0, 40)}"`, topic);
    }
    if (contentType !== undefined) propertiesLength += 3 + stringBytes(contentType, 'content type', topic);
    length += variableIntegerBytes(propertiesLength) + propertiesLength;
  }
  if (length > maxVariableInteger) {
    throw new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', `[mqtt] A message on "${topic.slice(0, 200)}" needs ${length} bytes after the fixed header; MQTT allows ${maxVariableInteger}. Send a smaller body`);
  }

  const out = Buffer.allocUnsafe(1 + variableIntegerBytes(length) + length);
  out[0] = publishType | (qos << 1) | (packet.retain ? 1 : 0);
  let at = writeVariableInteger(out, 1, length);
  at = writeString(out, at, topic, topicBytes);
  if (qos > 0) at = out.writeUInt16BE(packet.messageId, at);
  if (protocolVersion === 5) {
    at = writeVariableInteger(out, at, propertiesLength);
    for (const name in userProperties) {
      out[at] = propertyUserProperty;
      at = writeString(out, at + 1, name, Buffer.byteLength(name));
      const value = userProperties[name]!;
      at = writeString(out, at, value, Buffer.byteLength(value));
    }
    if (contentType !== undefined) {
      out[at] = propertyContentType;
      at = writeString(out, at + 1, contentType, Buffer.byteLength(contentType));
    }
  }
  payload.copy(out, at);
  return out;
}

/**
 * Writes the packet id into a QoS 1 or 2 PUBLISH made by {@link encodePublishPacket}: the id is
 * allocated only when the packet is sent, which may be after it waited in the publisher's queue.
 */
export function setPacketId(packet: Buffer, messageId: number): void {
  let at = 1;
  while ((packet[at++]! & 0x80) !== 0);
  at += 2 + packet.readUInt16BE(at);
  packet.writeUInt16BE(messageId, at);
}

function stringBytes(value: string, field: string, topic: string): number {
  const bytes = Buffer.byteLength(value);
  if (bytes > maxStringBytes) {
    throw new BridgeError('ERR_BRIDGE_ENCODE', `[mqtt] The ${field} of a message on "${topic.slice(0, 200)}" is ${bytes} bytes; MQTT allows ${maxStringBytes}. Shorten it at its source`);
  }
  return bytes;
}

function writeString(out: Buffer, at: number, value: string, bytes: number): number {
  out.writeUInt16BE(bytes, at);
  // Plain ASCII (as many bytes as characters) is copied without the UTF-8 encoder.
  out.write(value, at + 2, bytes, bytes === value.length ? 'latin1' : 'utf8');
  return at + 2 + bytes;
}

function variableIntegerBytes(value: number): number {
  return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
}

function writeVariableInteger(out: Buffer, at: number, value: number): number {
  do {
    const digit = value % 128;
    value = Math.floor(value / 128);
    out[at++] = value > 0 ? digit | 0x80 : digit;
  } while (value > 0);
  return at;
}
