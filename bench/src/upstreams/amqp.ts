/** NOTIFY → RabbitMQ topic exchange, publisher confirms with `mandatory`. */
import { createAmqpPublisher, type AmqpPublisherOptions } from '@pg-event-bridge/upstream-amqp';
import amqplib from 'amqplib';
import { bridgeHeaders, bridgeMetadata, type BridgeMetadata } from '../bridge-metadata.js';
import type { PublishPlan } from '../ceilings.js';
import { latencyRecorder } from '../latency.js';
import { burstKey, probeKey } from '../payload.js';
import type { UpstreamScenario } from './upstream-scenario.js';

export const rabbitUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/**
 * A topic exchange with a sink queue that keeps only the newest messages (RabbitMQ's memory stays
 * flat; `mandatory` needs a bound queue) and a probe queue the consumer reads.
 */
export async function declareSinkExchange(connection: amqplib.ChannelModel, exchange: string) {
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
  const sink = await channel.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 10_000, 'x-overflow': 'drop-head' } });
  await channel.bindQueue(sink.queue, exchange, `#`);
  return channel;
}

/**
 * amqplib alone: `mandatory`, publisher confirms, 1,000 in flight (the bridge's window), with the
 * properties and headers the bridge's publisher sets.
 */
export function confirmPlan(confirm: amqplib.ConfirmChannel, exchange: string, source: string, routingKey: string, extra: Pick<BridgeMetadata, 'contentType' | 'headers'> = {}): PublishPlan {
  return {
    batchSize: 1,
    inFlight: 1000,
    describe: 'amqplib confirm channel, mandatory, 1,000 in flight, the bridge’s properties and headers',
    send: ([body]) =>
      new Promise<void>((resolve, reject) => {
        const metadata = bridgeMetadata(source, routingKey, extra);
        const options = {
          mandatory: true,
          messageId: metadata.id,
          timestamp: Math.floor(metadata.timestamp.getTime() / 1000),
          contentType: metadata.contentType,
          appId: 'pg-event-bridge',
          headers: bridgeHeaders(metadata),
        };
        confirm.publish(exchange, routingKey, body!, options, (error) => (error ? reject(error) : resolve()));
      }),
  };
}

export const amqp: UpstreamScenario = {
  name: 'amqp',
  label: 'RabbitMQ exchange, publisher confirms',
  services: [],
  events: 30_000,
  async setup({ channels, id }) {
    const connection = await amqplib.connect(rabbitUrl);
    const exchange = `bench-${id}`;
    const admin = await declareSinkExchange(connection, exchange);
    const confirm = await connection.createConfirmChannel();
    return {
      rules: `${channels.burst}->exchange:${exchange}, ${channels.probe}->exchange:${exchange}`,
      publisherOptions: { url: rabbitUrl } satisfies AmqpPublisherOptions,
      client: (to) => confirmPlan(confirm, exchange, channels[to], to === 'burst' ? burstKey : probeKey),
      async consume() {
        const probe = await admin.assertQueue('', { exclusive: true });
        await admin.bindQueue(probe.queue, exchange, probeKey);
        const recorder = latencyRecorder();
        const { consumerTag } = await admin.consume(probe.queue, (message) => message && recorder.record(message.content), { noAck: true });
        return { latencies: recorder.latencies, stop: async () => void (await admin.cancel(consumerTag)) };
      },
      async dispose() {
        await admin.deleteExchange(exchange);
        await connection.close();
      },
    };
  },
  createPublisher: (options) => createAmqpPublisher(options as AmqpPublisherOptions),
};
