export { createSnsPublisher } from './sns-publisher.js';
export { SNS_MAX_BATCH_ENTRIES, SNS_MAX_MESSAGE_BYTES, type SnsPublisherOptions } from './sns-options.js';
export { snsUpstream } from './sns-upstream.js';
