export { createSqsPublisher } from './sqs-publisher.js';
export { SQS_DEFAULT_MESSAGE_BYTES, SQS_MAX_BATCH_ENTRIES, SQS_MAX_MESSAGE_BYTES, type SqsPublisherOptions } from './sqs-options.js';
export { sqsUpstream } from './sqs-upstream.js';
