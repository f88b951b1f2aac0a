/** Starts the emulators and receivers the selected upstreams need, once per run. */
import type { ServiceName, Services } from '../upstreams/upstream-scenario.js';
import { startServerlessOffline } from './serverless-offline.js';
import { spawnService, type RunningService } from './spawn-service.js';

export interface StartedServices {
  readonly services: Services;
  /**
   * Stops a service and starts it again on the same URL, fresh. Only serverless-offline needs it
   * (see `restartBeforeEachRun` of the upstream scenarios).
   */
  restart(name: 'lambda'): Promise<void>;
  stop(): Promise<void>;
}

export async function startServices(needed: ReadonlySet<ServiceName>): Promise<StartedServices> {
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
  return {
    services,
    async restart(name) {
      const at = running.findIndex((service) => service.url === services[name]);
      if (at === -1) throw new Error(`${name} is not running`);
      await running[at]!.stop();
      running[at] = await startServerlessOffline(services.receiver!, Number(new URL(services.lambda!).port));
    },
    stop: async () => void (await Promise.allSettled(running.reverse().map((service) => service.stop()))),
  };
}
