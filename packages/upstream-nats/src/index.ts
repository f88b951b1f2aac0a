export { createNatsPublisher } from './nats-publisher.js';
export {
  natsSubject,
  resolveNatsOptions,
  NATS_DEFAULT_MAX_PAYLOAD_BYTES,
  type NatsPublisherOptions,
  type ResolvedNatsOptions,
} from './nats-options.js';
export { invalidSubjectReason, encodeNatsHeaderValue, natsHeaderEntries, MAX_SUBJECT_BYTES } from './nats-headers.js';
export { natsUpstream } from './nats-upstream.js';
