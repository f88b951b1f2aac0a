export { createNatsPublisher } from './nats-publisher.js';
export {
  invalidSubjectReason,
  natsSubject,
  resolveNatsOptions,
  NATS_DEFAULT_MAX_PAYLOAD_BYTES,
  type NatsPublisherOptions,
  type ResolvedNatsOptions,
} from './nats-options.js';
export { natsUpstream } from './nats-upstream.js';
