import { isMain, numberFromEnv, pause, runScript } from '@pg-event-bridge/example-support';

/** Signs up `count` users through the service's HTTP endpoint, one per `intervalMs`. */
export async function generateSignups(options: { serviceUrl: string; count?: number; intervalMs?: number; tag?: string; log?: (line: string) => void; signal?: AbortSignal }) {
  const { count = 10, intervalMs = 1000, log = console.log } = options;
  for (let i = 1; i <= count && !options.signal?.aborted; i++) {
    const email = `user${i}${options.tag ? `.${options.tag}` : ''}@example.com`;
    const response = await fetch(`${options.serviceUrl}/signups`, { method: 'POST', body: email });
    if (response.status !== 201) throw new Error(`POST /signups answered ${response.status}: ${await response.text()}`);
    log(`-> signed up ${email}: ${await response.text()}`);
    if (i < count) await pause(intervalMs, options.signal);
  }
}

if (isMain(import.meta.url)) {
  runScript(async (signal) => {
    const serviceUrl = process.env['SERVICE_URL'] || 'http://127.0.0.1:3000';
    await generateSignups({ serviceUrl, count: numberFromEnv('COUNT', 10), intervalMs: numberFromEnv('INTERVAL_MS', 1000), signal });
  });
}
