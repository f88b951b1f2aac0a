import { isUtf8 } from 'node:buffer';
import type { BridgeEvent } from '@pg-event-bridge/core';

/**
 * What a Lambda function receives for one event (with `batchSize` above 1, an array of these).
 *
 * @example
 * ```json
 * {"id":"6f1c…","channel":"orders","routingKey":"order.created","body":"{\"id\":42}",
 *  "bodyEncoding":"utf8","contentType":"application/json","headers":{},"timestamp":"2024-05-01T12:00:00.000Z"}
 * ```
 */
export interface LambdaEnvelope {
  /** The event id (deterministic for WAL and outbox events: de-duplicate on it). */
  readonly id: string;
  /** The NOTIFY channel or WAL source (`wal2json`, `pgoutput`) the event came from. */
  readonly channel: string;
  /** The routing key (`signup` of `signup|body`, `public.customer.insert` for WAL); may be empty. */
  readonly routingKey: string;
  /** The body: the text itself when it is UTF-8, else its base64 (see `bodyEncoding`). */
  readonly body: string;
  /** `utf8`: `body` is the text. `base64`: decode `body` to get the bytes. */
  readonly bodyEncoding: 'utf8' | 'base64';
  /** The MIME type when known (`application/json` for WAL events). */
  readonly contentType?: string;
  /** The event's extra headers (empty object when none). */
  readonly headers: Readonly<Record<string, string>>;
  /** When the bridge received the event, or the commit time for WAL: ISO 8601, UTC. */
  readonly timestamp: string;
}

/** Builds the envelope of an event. */
export function toLambdaEnvelope(event: BridgeEvent): LambdaEnvelope {
  const utf8 = isUtf8(event.body);
  return {
    id: event.id,
    channel: event.source,
    routingKey: event.routingKey,
    body: event.body.toString(utf8 ? 'utf8' : 'base64'),
    bodyEncoding: utf8 ? 'utf8' : 'base64',
    ...(event.contentType !== undefined && { contentType: event.contentType }),
    headers: { ...event.headers },
    timestamp: event.timestamp.toISOString(),
  };
}
