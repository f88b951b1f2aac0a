import { BridgeError, type BridgeEvent } from '@pg-event-bridge/core';

// Code points brokers refuse in MQTT strings (Mosquitto closes the connection over them): the
// spec forbids U+0000 and surrogates, and Mosquitto's UTF-8 check also control characters
// (U+0001-U+001F, U+007F-U+009F) and non-characters. A quick screen; `forbiddenAt` decides.
const screen = /[\u0000-\u001f\u007f-\u009f\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff]/;

/** Index of the first code point an MQTT broker refuses in a string, or -1. */
export function forbiddenAt(value: string): number {
  if (!screen.test(value)) return -1;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return i;
      const codePoint = value.codePointAt(i)!;
      if ((codePoint & 0xfffe) === 0xfffe) return i;
      i += 1;
      continue;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return i;
    if (unit <= 0x1f || (unit >= 0x7f && unit <= 0x9f) || (unit >= 0xfdd0 && unit <= 0xfdef) || unit === 0xfffe || unit === 0xffff) return i;
  }
  return -1;
}

/** `"\r" (U+000D) at 12`, for error messages. */
export function describeAt(value: string, index: number): string {
  const codePoint = value.codePointAt(index)!;
  return `${JSON.stringify(String.fromCodePoint(codePoint))} (U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}) at ${index}`;
}

/** The largest MQTT string: a two-byte length. */
export const MAX_MQTT_STRING_BYTES = 0xffff;

/** Why `topic` cannot be published to, or undefined when it can. */
export function invalidTopicReason(topic: string): string | undefined {
  if (topic === '') return 'it is empty';
  const wildcard = /[+#]/.exec(topic);
  if (wildcard) return `it contains the wildcard ${JSON.stringify(wildcard[0])} at ${wildcard.index}, which MQTT does not allow in a publish`;
  const at = forbiddenAt(topic);
  if (at >= 0) return `it contains ${describeAt(topic, at)}, which MQTT brokers refuse (they close the connection over it)`;
  const bytes = Buffer.byteLength(topic);
  if (bytes > MAX_MQTT_STRING_BYTES) return `it is ${bytes} bytes; MQTT allows ${MAX_MQTT_STRING_BYTES}`;
  return undefined;
}

/**
 * A user property value as sent: as is, or percent-encoded (UTF-8) whole when it holds a code
 * point brokers refuse or a `%`, so `decodeURIComponent` of any received value gives the
 * original. Throws ERR_BRIDGE_ENCODE for a lone surrogate, which has no UTF-8 encoding.
 */
export function encodeMqttPropertyValue(value: string, name: string, eventId: string): string {
  if (forbiddenAt(value) < 0 && !value.includes('%')) return value;
  const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.exec(value);
  if (lone) throw new BridgeError('ERR_BRIDGE_ENCODE', `[mqtt] User property ${JSON.stringify(name.slice(0, 80))} of event ${eventId} holds a lone UTF-16 surrogate at ${lone.index}, which has no UTF-8 encoding; fix it at its source`);
  return encodeURIComponent(value);
}

/**
 * The MQTT 5 user properties of an event: its own headers, then `x-pg-channel`, `x-routing-key`
 * and `x-event-id`, values encoded by {@link encodeMqttPropertyValue}. A header name brokers would
 * refuse throws ERR_BRIDGE_ENCODE naming it and the character.
 */
export function mqttUserProperties(event: BridgeEvent): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    const at = forbiddenAt(name);
    if (at >= 0) throw new BridgeError('ERR_BRIDGE_ENCODE', `[mqtt] Event ${event.id} has a header name ${JSON.stringify(name.slice(0, 80))} with ${describeAt(name, at)}, which MQTT brokers refuse; rename it at its source`);
    properties[name] = encodeMqttPropertyValue(value, name, event.id);
  }
  properties['x-pg-channel'] = encodeMqttPropertyValue(event.source, 'x-pg-channel', event.id);
  properties['x-routing-key'] = encodeMqttPropertyValue(event.routingKey, 'x-routing-key', event.id);
  properties['x-event-id'] = encodeMqttPropertyValue(event.id, 'x-event-id', event.id);
  return properties;
}

/** The content type, refused with ERR_BRIDGE_ENCODE when brokers would refuse it. */
export function mqttContentType(event: BridgeEvent): string | undefined {
  const contentType = event.contentType;
  if (!contentType) return undefined;
  const at = forbiddenAt(contentType);
  if (at >= 0) throw new BridgeError('ERR_BRIDGE_ENCODE', `[mqtt] Event ${event.id} has a content type ${JSON.stringify(contentType.slice(0, 80))} with ${describeAt(contentType, at)}, which MQTT brokers refuse; fix content_type at its source`);
  return contentType;
}
