export { createAmqpPublisher } from './amqp-publisher.js';
export type { AmqpDeliveryMode, AmqpPublisherOptions } from './amqp-options.js';
export { amqpUpstream } from './amqp-upstream.js';
