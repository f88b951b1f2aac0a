export { createRedisPublisher } from './redis-publisher.js';
export {
  redisChannel,
  redisStreamFields,
  resolveRedisOptions,
  REDIS_MAX_BULK_BYTES,
  type RedisClient,
  type RedisPublisherOptions,
  type ResolvedRedisOptions,
} from './redis-options.js';
export { redisUpstream } from './redis-upstream.js';
