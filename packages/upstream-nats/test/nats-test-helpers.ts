import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { MessageInbox, type ReceivedMessage, type TestTarget } from '@pg-event-bridge/testkit';

export const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** A unique subject name per test. */
export function uniqueSubject(prefix = 'pgeb-test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A stored message as the test consumer saw it. */
export interface StoredMessage extends ReceivedMessage {
  readonly seq: number;
}

export async function adminConnection(): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: natsUrl.replace(/^nats:\/\//, '') });
  return { nc, jsm: await jetstreamManager(nc) };
}

/**
 * Creates a JetStream stream capturing `name` and `name.>` and an ordered consumer reading it
 * from the start; dispose stops the consumer and deletes the stream.
 */
export async function provisionStream(name: string, streamConfig: { duplicate_window?: number; max_msg_size?: number } = {}): Promise<TestTarget<StoredMessage> & { stream: string }> {
  const { nc, jsm } = await adminConnection();
  const stream = `PGEB_${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  await jsm.streams.add({ name: stream, subjects: [name, `${name}.>`], ...streamConfig });
  const consumer = await jetstream(nc).consumers.get(stream);
  const messages = await consumer.consume();
  const inbox = new MessageInbox<StoredMessage>();
  const loop = (async () => {
    for await (const m of messages) {
      const headers: Record<string, string> = {};
      for (const key of m.headers?.keys() ?? []) headers[key] = m.headers!.get(key);
      inbox.push({ body: Buffer.from(m.data), routingKey: m.subject, headers, seq: m.seq });
    }
  })();
  return {
    stream,
    target: { kind: 'subject', name },
    inbox,
    async dispose() {
      await messages.close();
      await loop;
      await jsm.streams.delete(stream);
      await nc.close();
    },
  };
}
