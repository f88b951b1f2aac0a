import { createHash } from 'node:crypto';
import type { BridgeEvent } from '@pg-event-bridge/core';

// MessageGroupId and MessageDeduplicationId: 1 to 128 characters, alphanumerics and punctuation.
const validId = /^[\x21-\x7e]{1,128}$/;

/** What becomes the MessageGroupId of a FIFO topic or queue. */
export type FifoGroupBy = 'channel' | 'routingKey';

/** The FIFO fields of an SNS or SQS batch entry. */
export interface FifoFields {
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

/**
 * For a FIFO target (its name ends in `.fifo`): the MessageGroupId (the channel, or the routing key
 * with `groupBy: 'routingKey'`, an empty key falling back to the channel) and the event id as
 * MessageDeduplicationId. Values AWS would refuse become their SHA-256 (same input, same id).
 * Nothing for a standard target.
 *
 * @example
 * ```ts
 * fifoFields('orders.fifo', event, 'channel'); // { MessageGroupId: 'orders', MessageDeduplicationId: event.id }
 * ```
 */
export function fifoFields(targetName: string, event: BridgeEvent, groupBy: FifoGroupBy): FifoFields {
  if (!targetName.endsWith('.fifo')) return {};
  const group = groupBy === 'routingKey' && event.routingKey !== '' ? event.routingKey : event.source;
  return { MessageGroupId: fifoId(group === '' ? '-' : group), MessageDeduplicationId: fifoId(event.id) };
}

function fifoId(value: string): string {
  return validId.test(value) ? value : createHash('sha256').update(value).digest('hex');
}
