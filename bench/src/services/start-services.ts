/** Starts the emulators and receivers the selected upstreams need, once per run. */
import type { ServiceName, Services } from '../upstreams/upstream-scenario.js';
import { startServerlessOffline } from './serverless-offline.js';
import { spawnService, type RunningService } from './spawn-service.js';

export async function startServices(needed: ReadonlySet<ServiceName>): Promise<{ services: Services; stop(): Promise<void> }> {
  const running: RunningService[] = [];
  const services: { -readonly [K in keyof Services]: Services[K] } = {};
  try {
    if (needed.has('fauxqs')) running.push(await spawnService('./fauxqs-service.ts')), (services.fauxqs = running.at(-1)!.url);
    if (needed.has('receiver') || needed.has('lambda')) running.push(await spawnService('./receiver-service.ts')), (services.receiver = running.at(-1)!.url);
    if (needed.has('lambda')) running.push(await startServerlessOffline(services.receiver!)), (services.lambda = running.at(-1)!.url);
  } catch (error) {
    await Promise.allSettled(running.map((service) => service.stop()));
    throw error;
  }
  return { services, stop: async () => void (await Promise.allSettled(running.reverse().map((service) => service.stop()))) };
}
