/**
 * What the bridge puts on every event it forwards besides the body: an event id, the source, the
 * routing key, a timestamp, and for WAL a content type and two headers. The ceilings and the
 * direct relay publish the same metadata, in each broker's own form (AMQP properties and headers,
 * MQTT user properties, NATS headers, SNS/SQS message attributes, HTTP headers), so every ratio
 * compares the same messages on the wire and the bridge is not charged for its message contract.
 */
import { randomUUID } from 'node:crypto';

export interface BridgeMetadata {
  /** A UUID, as the NOTIFY source gives each event (WAL's are `<lsn>/<n>`, of similar length). */
  readonly id: string;
  /** The NOTIFY channel, or the WAL plugin's name. */
  readonly source: string;
  readonly routingKey: string;
  readonly timestamp: Date;
  readonly contentType?: string;
  /** The source's own headers (WAL: `x-wal-lsn`, `x-wal-action`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export function bridgeMetadata(source: string, routingKey: string, extra: Pick<BridgeMetadata, 'contentType' | 'headers'> = {}): BridgeMetadata {
  return { id: randomUUID(), source, routingKey, timestamp: new Date(), ...extra };
}

/** The headers the AMQP, MQTT and NATS publishers set: the source's, then the three fixed ones. */
export function bridgeHeaders(metadata: BridgeMetadata): Record<string, string> {
  return { ...metadata.headers, 'x-pg-channel': metadata.source, 'x-routing-key': metadata.routingKey, 'x-event-id': metadata.id };
}

/** The message attributes the SNS and SQS publishers set for a UTF-8 body. */
export function bridgeAttributes(metadata: BridgeMetadata): Record<string, { DataType: 'String'; StringValue: string }> {
  const attributes: Record<string, { DataType: 'String'; StringValue: string }> = {};
  const add = (name: string, value: string) => (attributes[name] = { DataType: 'String', StringValue: value });
  add('routing_key', metadata.routingKey);
  add('channel', metadata.source);
  add('event_id', metadata.id);
  if (metadata.contentType) add('content_type', metadata.contentType);
  for (const [name, value] of Object.entries(metadata.headers ?? {})) add(name, value);
  return attributes;
}
