/**
 * The bridge's delivery path alone: events made as the NOTIFY source makes them, handed to the
 * delivery engine and one upstream's publisher, with no Postgres. Prints events per second and
 * CPU time per event (all threads of this process), the figures to compare when changing the
 * engine or a publisher; the broker is real.
 *   pnpm --filter @pg-event-bridge/bench delivery-cost -- --only amqp --size 100 --events 100000 --rounds 3
 * For counts that do not move with the machine's speed, run it under `perf stat -e instructions`
 * once with --rounds 0 and once with --rounds 1 and divide the difference by --events.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DeliveryEngine, silentLogger, splitRoutingBytes } from '@pg-event-bridge/core';
import { burstKey } from './payload.js';
import { startServices } from './services/start-services.js';
import { loadUpstream } from './upstreams/index.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    only: { type: 'string', default: 'amqp' },
    size: { type: 'string', default: '100' },
    events: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
  },
});
const events = Number(values.events);
const scenario = await loadUpstream(values.only!);
const services = await startServices(new Set(scenario.services));
const id = randomUUID().slice(0, 8);
const harness = await scenario.setup({ channels: { burst: `cost_${id}_burst`, probe: `cost_${id}_probe` }, id, services: services.services });
// The first rule of the harness is the throughput target: `<channel>->kind:name`.
const [, targetText = ''] = harness.rules.split(',')[0]!.trim().split('->');
const colon = targetText.indexOf(':');
const target = { kind: targetText.slice(0, colon), name: targetText.slice(colon + 1) };
const publisher = scenario.createPublisher(harness.publisherOptions);
const lifetime = new AbortController();
await publisher.start({ logger: silentLogger, targets: [target], signal: lifetime.signal });
const engine = new DeliveryEngine([{ source: 'cost', publisher, target }], {}, {
  published: () => undefined,
  retrying: () => undefined,
  // Nothing should fail here; a dead letter is reported, and the run goes on.
  deadLetter: async (letter) => console.error(`dead-lettered: ${letter.error.message}`),
});
// The payload's bytes as the NOTIFY source reads them off the socket.
const payload = Buffer.from(`${burstKey}|${'x'.repeat(Number(values.size))}`);

/** Delivers `count` events as fast as the engine takes them; resolves when all were accepted. */
async function deliver(count: number): Promise<void> {
  let settled = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  for (let i = 0; i < count; i++) {
    if (!engine.hasCapacity) await engine.waitForCapacity();
    const { routingKey, body } = splitRoutingBytes(payload);
    void engine.deliver({ id: randomUUID(), source: 'cost', routingKey, body, timestamp: new Date() }).then(() => {
      settled += 1;
      if (settled === count) done();
    });
  }
  await all;
}

try {
  await deliver(Math.round(events / 5)); // warm-up: JIT, connection
  for (let round = 0; round < Number(values.rounds); round++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    await deliver(events);
    const elapsedMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    console.log(
      `${scenario.name} ${values.size} B: ${Math.round((events * 1000) / elapsedMs)}/s, ${((used.user + used.system) / events).toFixed(1)} µs CPU/event (user ${(used.user / events).toFixed(1)}, system ${(used.system / events).toFixed(1)})`,
    );
  }
} finally {
  await publisher.stop();
  await harness.dispose();
  await services.stop();
}
