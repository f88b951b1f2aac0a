import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { MessageInbox, type ReceivedMessage, type TestTarget } from '@pg-event-bridge/testkit';

export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique channel or stream name per test. */
export function uniqueName(prefix = 'pgeb-test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A stream entry as the test reader saw it. */
export interface StreamEntry extends ReceivedMessage {
  readonly id: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** Subscribes to channel `name` and pattern `name.*`; `routingKey` is the channel a message came on. */
export async function subscribeChannel(name: string): Promise<TestTarget> {
  const subscriber = new Redis(redisUrl, { lazyConnect: true });
  subscriber.on('error', () => undefined);
  await subscriber.connect();
  const inbox = new MessageInbox();
  subscriber.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => {
    inbox.push({ body: message, routingKey: channel.toString(), headers: {} });
  });
  await subscriber.psubscribe(name, `${name}.*`);
  return {
    target: { kind: 'topic', name },
    inbox,
    async dispose() {
      subscriber.disconnect();
    },
  };
}

/** Every entry of a stream, oldest first. */
export async function readStream(client: Redis, key: string): Promise<StreamEntry[]> {
  const entries = await client.xrangeBuffer(key, '-', '+');
  return entries.map(([id, raw]) => toEntry(id.toString(), raw));
}

function toEntry(id: string, raw: Buffer[]): StreamEntry {
  const fields: Record<string, string> = {};
  let body: Buffer = Buffer.alloc(0);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const field = raw[i]!.toString();
    if (field === 'body') body = raw[i + 1]!;
    else fields[field] = raw[i + 1]!.toString();
  }
  return { id, body, routingKey: fields.routing_key ?? '', headers: fields, fields };
}

/** Follows stream `name` from its start with a blocking XREAD loop; deletes the stream on dispose. */
export async function followStream(name: string): Promise<TestTarget<StreamEntry>> {
  const reader = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
  reader.on('error', () => undefined);
  await reader.connect();
  const inbox = new MessageInbox<StreamEntry>();
  let stopped = false;
  let lastId = '0';
  const loop = (async () => {
    while (!stopped) {
      const result = await reader.xreadBuffer('BLOCK', 500, 'STREAMS', name, lastId).catch(() => null);
      for (const [, entries] of result ?? []) {
        for (const [id, raw] of entries) {
          lastId = id.toString();
          inbox.push(toEntry(lastId, raw));
        }
      }
    }
  })();
  return {
    target: { kind: 'stream', name },
    inbox,
    async dispose() {
      stopped = true;
      // Disconnecting ends the blocking XREAD at once instead of after its 500 ms.
      reader.disconnect();
      await loop;
      const admin = new Redis(redisUrl);
      admin.on('error', () => undefined);
      await admin.del(name);
      admin.disconnect();
    },
  };
}
