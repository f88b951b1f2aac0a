/** NOTIFY → Redis: pub/sub (PUBLISH) and streams (XADD), both with ioredis auto-pipelining. */
import { createRedisPublisher, redisStreamFields, type RedisPublisherOptions } from '@pg-event-bridge/upstream-redis';
import { Redis } from 'ioredis';
import { bridgeMetadata } from '../bridge-metadata.js';
import { latencyRecorder } from '../latency.js';
import { burstKey, probeKey } from '../payload.js';
import type { UpstreamScenario } from './upstream-scenario.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Streams are trimmed (MAXLEN ~) so Redis's memory stays flat whatever N is. */
const streamMaxLen = 10_000;

export const redisPubSub: UpstreamScenario = {
  name: 'redis-pubsub',
  label: 'Redis PUBLISH (reply)',
  services: [],
  events: 30_000,
  async setup({ channels, id }) {
    const name = `bench-${id}`;
    const client = new Redis(redisUrl, { enableAutoPipelining: true });
    return {
      rules: `${channels.burst}->topic:${name}, ${channels.probe}->topic:${name}`,
      publisherOptions: { url: redisUrl } satisfies RedisPublisherOptions,
      client: (to) => ({
        batchSize: 1,
        inFlight: 1000,
        describe: 'ioredis PUBLISH, auto-pipelining, 1,000 in flight',
        send: async ([body]) => void (await client.publish(`${name}.${to === 'burst' ? burstKey : probeKey}`, body!)),
      }),
      async consume() {
        const subscriber = new Redis(redisUrl);
        const recorder = latencyRecorder();
        subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => recorder.record(message));
        await subscriber.subscribe(`${name}.${probeKey}`);
        return { latencies: recorder.latencies, stop: async () => void subscriber.disconnect() };
      },
      dispose: async () => void client.disconnect(),
    };
  },
  createPublisher: (options) => createRedisPublisher(options as RedisPublisherOptions),
};

export const redisStream: UpstreamScenario = {
  name: 'redis-stream',
  label: 'Redis XADD (reply), MAXLEN ~',
  services: [],
  events: 30_000,
  async setup({ channels, id }) {
    const sink = `bench-${id}-sink`;
    const probe = `bench-${id}-probe`;
    const client = new Redis(redisUrl, { enableAutoPipelining: true });
    return {
      rules: `${channels.burst}->stream:${sink}, ${channels.probe}->stream:${probe}`,
      publisherOptions: { url: redisUrl, streamMaxLen } satisfies RedisPublisherOptions,
      client: (to) => ({
        batchSize: 1,
        inFlight: 1000,
        describe: 'ioredis XADD MAXLEN ~ with the bridge’s fields, auto-pipelining, 1,000 in flight',
        send: async ([body]) => {
          const fields = redisStreamFields({ ...bridgeMetadata(channels[to], to === 'burst' ? burstKey : probeKey), body: body! });
          await client.xadd(to === 'burst' ? sink : probe, 'MAXLEN', '~', streamMaxLen, '*', ...fields);
        },
      }),
      async consume() {
        const reader = new Redis(redisUrl);
        const recorder = latencyRecorder();
        let stopping = false;
        // Only entries added from now on: the direct relay's run wrote to the same stream before.
        const [newest] = await reader.xrevrange(probe, '+', '-', 'COUNT', 1);
        const loop = (async () => {
          let last = newest?.[0] ?? '0-0';
          while (!stopping) {
            const reply = await reader.xreadBuffer('COUNT', 1000, 'BLOCK', 200, 'STREAMS', probe, last);
            for (const [, entries] of reply ?? []) {
              for (const [entryId, fields] of entries) {
                last = entryId.toString();
                const at = fields.findIndex((field, index) => index % 2 === 0 && field.toString() === 'body');
                recorder.record(fields[at + 1]!);
              }
            }
          }
        })();
        return {
          latencies: recorder.latencies,
          async stop() {
            stopping = true;
            await loop;
            reader.disconnect();
          },
        };
      },
      async dispose() {
        await client.del(sink, probe);
        client.disconnect();
      },
    };
  },
  createPublisher: (options) => createRedisPublisher(options as RedisPublisherOptions),
};
