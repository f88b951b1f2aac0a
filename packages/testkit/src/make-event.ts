import { randomUUID } from 'node:crypto';
import type { BridgeEvent } from '@pg-event-bridge/core';

/** What {@link makeEvent} accepts: any field of a BridgeEvent, with `body` also as a string. */
export interface TestEventInit extends Partial<Omit<BridgeEvent, 'body'>> {
  /** A string is encoded as UTF-8. @default 'hello' */
  readonly body?: Buffer | string;
}

/**
 * Builds a {@link BridgeEvent} for tests. Defaults: a random UUID `id`, source `test_channel`,
 * an empty routing key, body `hello`, timestamp now.
 *
 * @example
 * ```ts
 * const event = makeEvent({ routingKey: 'signup', body: 'A new user signup' });
 * ```
 */
export function makeEvent(init: TestEventInit = {}): BridgeEvent {
  const { body = 'hello', ...rest } = init;
  return {
    id: randomUUID(),
    source: 'test_channel',
    routingKey: '',
    timestamp: new Date(),
    ...rest,
    body: typeof body === 'string' ? Buffer.from(body) : body,
  };
}
