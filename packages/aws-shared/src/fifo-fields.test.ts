import { makeEvent } from '@pg-event-bridge/testkit';
import { describe, expect, it } from 'vitest';
import { fifoFields } from './fifo-fields.js';

describe('fifoFields', () => {
  const event = makeEvent({ id: 'evt-1', source: 'orders', routingKey: 'public.order.insert' });

  it('gives nothing for a standard target', () => {
    expect(fifoFields('orders', event, 'channel')).toEqual({});
  });

  it('groups by channel or by routing key, an empty key falling back to the channel', () => {
    expect(fifoFields('orders.fifo', event, 'channel')).toEqual({ MessageGroupId: 'orders', MessageDeduplicationId: 'evt-1' });
    expect(fifoFields('orders.fifo', event, 'routingKey').MessageGroupId).toBe('public.order.insert');
    expect(fifoFields('orders.fifo', makeEvent({ source: 'orders', routingKey: '' }), 'routingKey').MessageGroupId).toBe('orders');
  });

  it('turns values AWS would refuse into a stable SHA-256', () => {
    const spaced = fifoFields('q.fifo', makeEvent({ source: 'my channel' }), 'channel').MessageGroupId;
    expect(spaced).toMatch(/^[0-9a-f]{64}$/);
    expect(fifoFields('q.fifo', makeEvent({ source: 'my channel' }), 'channel').MessageGroupId).toBe(spaced);
    expect(fifoFields('q.fifo', makeEvent({ source: 'x'.repeat(129) }), 'channel').MessageGroupId).toMatch(/^[0-9a-f]{64}$/);
  });
});
