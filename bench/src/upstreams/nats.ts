/** NOTIFY → NATS JetStream (publish resolves on the stream's ack, message-id de-duplication). */
import { DeliverPolicy, DiscardPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, createInbox, headers } from '@nats-io/transport-node';
import { createNatsPublisher, type NatsPublisherOptions } from '@pg-event-bridge/upstream-nats';
import { bridgeHeaders, bridgeMetadata } from '../bridge-metadata.js';
import { latencyRecorder } from '../latency.js';
import { burstKey, probeKey } from '../payload.js';
import type { UpstreamScenario } from './upstream-scenario.js';

const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export const nats: UpstreamScenario = {
  name: 'nats',
  label: 'NATS JetStream, publish ack',
  services: [],
  events: 10_000,
  async setup({ channels, id }) {
    const subject = `bench-${id}`;
    const stream = `BENCH_${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    // Without per-request async stack traces, as the publisher connects: like for like.
    const nc = await connect({ servers: natsUrl.replace(/^nats:\/\//, ''), noAsyncTraces: true });
    const jsm = await jetstreamManager(nc);
    // A bounded stream (oldest discarded) keeps the server's store flat whatever N is.
    await jsm.streams.add({ name: stream, subjects: [subject, `${subject}.>`], max_msgs: 10_000, discard: DiscardPolicy.Old });
    const js = jetstream(nc);
    // The fastest way nats.js offers to publish awaiting each PubAck: core publishes with a reply
    // subject under one inbox subscription (js.publish makes a request object per message).
    const inbox = createInbox();
    const acks = new Map<string, (error?: Error) => void>();
    let next = 0;
    nc.subscribe(`${inbox}.*`, {
      callback: (_error, msg) => {
        const token = msg.subject.slice(inbox.length + 1);
        const settle = acks.get(token);
        acks.delete(token);
        const ack = msg.json<{ error?: { description?: string } }>();
        settle?.(ack.error ? new Error(ack.error.description) : undefined);
      },
    });
    // The bridge's headers, its event id as the message id (JetStream de-duplicates on it).
    const publish = (to: 'burst' | 'probe', body: Buffer) =>
      new Promise<void>((resolve, reject) => {
        const token = (next++).toString(36);
        acks.set(token, (error) => (error ? reject(error) : resolve()));
        const routingKey = to === 'burst' ? burstKey : probeKey;
        const metadata = bridgeMetadata(channels[to], routingKey);
        const h = headers();
        for (const [name, value] of Object.entries(bridgeHeaders(metadata))) h.set(name, value);
        h.set('Nats-Msg-Id', metadata.id);
        nc.publish(`${subject}.${routingKey}`, body, { reply: `${inbox}.${token}`, headers: h });
      });
    return {
      rules: `${channels.burst}->subject:${subject}, ${channels.probe}->subject:${subject}`,
      publisherOptions: { url: natsUrl } satisfies NatsPublisherOptions,
      client: (to) => ({
        batchSize: 1,
        inFlight: 1000,
        describe: 'nats.js core publish with the bridge’s headers (Nats-Msg-Id included) and a reply inbox, awaiting each PubAck, 1,000 in flight',
        send: ([body]) => publish(to, body!),
      }),
      async consume() {
        const consumer = await js.consumers.get(stream, { filter_subjects: `${subject}.${probeKey}`, deliver_policy: DeliverPolicy.New });
        const messages = await consumer.consume();
        const recorder = latencyRecorder();
        const loop = (async () => {
          for await (const message of messages) recorder.record(Buffer.from(message.data));
        })();
        return {
          latencies: recorder.latencies,
          async stop() {
            await messages.close();
            await loop;
          },
        };
      },
      async dispose() {
        await jsm.streams.delete(stream);
        await nc.close();
      },
    };
  },
  createPublisher: (options) => createNatsPublisher(options as NatsPublisherOptions),
};
