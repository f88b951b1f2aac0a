export { createWebhookPublisher, encodeHeaderValue, parseRetryAfter, retryAfterMsOf, WEBHOOK_HEADERS, type WebhookError } from './webhook-publisher.js';
export type { WebhookPublisherOptions } from './webhook-options.js';
export { webhookUpstream } from './webhook-upstream.js';
export { signWebhook } from './internal/standard-webhooks.js';
