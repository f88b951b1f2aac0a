/** NOTIFY → webhook: POST to an HTTP receiver in its own process, 2xx = accepted, one per URL at a time. */
import { createWebhookPublisher, type WebhookPublisherOptions } from '@pg-event-bridge/upstream-webhook';
import { receiverLatencies } from '../services/receiver-latencies.js';
import type { UpstreamScenario } from './upstream-scenario.js';

export const webhook: UpstreamScenario = {
  name: 'webhook',
  label: 'Webhook POST (Node http receiver), 2xx',
  services: ['receiver'],
  events: 4_000,
  async setup({ channels, services }) {
    const urls = { burst: `${services.receiver!}/sink`, probe: `${services.receiver!}/probe` };
    return {
      rules: `${channels.burst}->url:${urls.burst}, ${channels.probe}->url:${urls.probe}`,
      publisherOptions: {} satisfies WebhookPublisherOptions,
      client: (to) => ({
        batchSize: 1,
        inFlight: 1,
        describe: 'fetch POST, awaiting the 204, one request in flight (the publisher keeps one per URL)',
        send: async ([body]) => {
          const response = await fetch(urls[to], { method: 'POST', body: body!, headers: { 'content-type': 'application/octet-stream' } });
          await response.arrayBuffer();
          if (!response.ok) throw new Error(`receiver answered ${response.status}`);
        },
      }),
      consume: () => receiverLatencies(services.receiver!),
      dispose: async () => undefined,
    };
  },
  createPublisher: (options) => createWebhookPublisher(options as WebhookPublisherOptions),
};
