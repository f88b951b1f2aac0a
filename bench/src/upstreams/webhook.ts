/** NOTIFY → webhook: POST to an HTTP receiver in its own process, 2xx = accepted, one per URL at a time. */
import { createWebhookPublisher, type WebhookPublisherOptions } from '@pg-event-bridge/upstream-webhook';
import { bridgeMetadata } from '../bridge-metadata.js';
import { burstKey, probeKey } from '../payload.js';
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
        describe: 'fetch POST with the bridge’s headers, awaiting the 204, one request in flight (the publisher keeps one per URL)',
        send: async ([body]) => {
          const metadata = bridgeMetadata(channels[to], to === 'burst' ? burstKey : probeKey);
          const headers = {
            'user-agent': 'pg-event-bridge-webhook',
            'content-type': 'text/plain; charset=utf-8',
            'x-event-channel': metadata.source,
            'x-event-routing-key': metadata.routingKey,
            'x-event-id': metadata.id,
            'x-event-timestamp': metadata.timestamp.toISOString(),
          };
          const response = await fetch(urls[to], { method: 'POST', body: body!, headers });
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
