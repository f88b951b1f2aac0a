/**
 * Every NOTIFY → upstream scenario, in report order. Loaded lazily so that the bridge's process
 * imports only its own upstream's client (it counts in peak RSS).
 */
import type { UpstreamScenario } from './upstream-scenario.js';

export const upstreamLoaders: Readonly<Record<string, () => Promise<UpstreamScenario>>> = {
  amqp: async () => (await import('./amqp.js')).amqp,
  mqtt: async () => (await import('./mqtt.js')).mqtt,
  'redis-pubsub': async () => (await import('./redis.js')).redisPubSub,
  'redis-stream': async () => (await import('./redis.js')).redisStream,
  nats: async () => (await import('./nats.js')).nats,
  sns: async () => (await import('./sns.js')).sns,
  sqs: async () => (await import('./sqs.js')).sqs,
  lambda: async () => (await import('./lambda.js')).lambda,
  webhook: async () => (await import('./webhook.js')).webhook,
};

export const upstreamNames = Object.keys(upstreamLoaders);

export function loadUpstream(name: string): Promise<UpstreamScenario> {
  const load = upstreamLoaders[name];
  if (!load) throw new Error(`unknown upstream "${name}"; known: ${upstreamNames.join(', ')}`);
  return load();
}
