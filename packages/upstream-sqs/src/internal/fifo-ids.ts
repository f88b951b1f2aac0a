import { createHash } from 'node:crypto';
import type { BridgeEvent } from '@pg-event-bridge/core';

// MessageGroupId and MessageDeduplicationId: 1 to 128 characters, alphanumerics and punctuation.
const validId = /^[\x21-\x7e]{1,128}$/;

/** A valid FIFO id for `value`: itself when allowed, else a SHA-256 (same input, same id). */
export function fifoId(value: string): string {
  return validId.test(value) ? value : createHash('sha256').update(value).digest('hex');
}

/** The MessageGroupId of an event. An empty routing key falls back to the channel. */
export function groupIdOf(event: BridgeEvent, groupBy: 'channel' | 'routingKey'): string {
  const raw = groupBy === 'routingKey' && event.routingKey !== '' ? event.routingKey : event.source;
  return fifoId(raw === '' ? '-' : raw);
}
