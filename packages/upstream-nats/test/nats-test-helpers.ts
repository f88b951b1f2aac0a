import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { findFreePort, MessageInbox, waitFor, type ReceivedMessage, type TestTarget } from '@pg-event-bridge/testkit';

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

/**
 * A private nats-server with JetStream on a free loopback port and one user (`bridge`, password
 * `secret`), which may not publish to subjects matching `denyPublish`; `maxPayload` sets the
 * server's max_payload.
 */
export async function startPrivateNats(settings: { denyPublish?: string; maxPayload?: number } = {}): Promise<{ url: string; connect(): Promise<NatsConnection>; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pgeb-nats-'));
  const port = await findFreePort();
  const config = [
    `listen: 127.0.0.1:${port}`,
    `jetstream { store_dir: ${JSON.stringify(dir)} }`,
    `authorization { users = [ { user: bridge, password: secret${settings.denyPublish === undefined ? '' : `, permissions: { publish: { deny: [${JSON.stringify(settings.denyPublish)}] } }`} } ] }`,
    ...(settings.maxPayload === undefined ? [] : [`max_payload: ${settings.maxPayload}`]),
    '',
  ].join('\n');
  await writeFile(join(dir, 'nats.conf'), config);
  const child = spawn('nats-server', ['-c', join(dir, 'nats.conf')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `nats://bridge:secret@127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
        return connect({ servers: `127.0.0.1:${port}`, user: 'bridge', pass: 'secret' }).then(
          (nc) => nc.close().then(() => true),
          () => false,
        );
      },
      { timeoutMs: 15_000, what: `nats-server on ${port}` },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, connect: () => connect({ servers: `127.0.0.1:${port}`, user: 'bridge', pass: 'secret' }), stop };
}
