/**
 * The bridge under test, alone in its own process (so its RSS and CPU profile are its own):
 * createBridge with one upstream's publisher, driven by the parent over IPC.
 *   parent → { type: 'start', config } | { type: 'await', published } | { type: 'stop' }
 *   child  → { type: 'started' } | { type: 'reached', published, cpuUs, loop } | { type: 'stopped', peakRssMiB } | { type: 'failed', message }
 */
import { createBridge, type Bridge } from '@pg-event-bridge/core';
import { sampleRss } from './measure.js';
import type { BridgeChildConfig } from './bridge-process.js';
import { loadUpstream } from './upstreams/index.js';

type Command = { type: 'start'; config: BridgeChildConfig } | { type: 'await'; published: number } | { type: 'stop' };

const send = (message: unknown) => process.send!(message);
let bridge: Bridge | undefined;
let rss: ReturnType<typeof sampleRss> | undefined;

process.on('message', (command: Command) => {
  handle(command).catch((error: unknown) => send({ type: 'failed', message: error instanceof Error ? error.stack : String(error) }));
});

async function handle(command: Command): Promise<void> {
  if (command.type === 'start') {
    const { config } = command;
    const scenario = await loadUpstream(config.upstream);
    bridge = createBridge({
      postgres: config.postgres,
      upstreams: [{ publisher: scenario.createPublisher(config.publisherOptions), rules: config.rules }],
      ...(config.wal ? { wal: config.wal } : {}),
    });
    bridge.on('failed', (report) => send({ type: 'failed', message: String(report.error) }));
    rss = sampleRss();
    await bridge.start();
    send({ type: 'started' });
  } else if (command.type === 'await') {
    // Polling the counter every 2 ms adds nothing per message to the path being measured.
    const target = command.published;
    const timer = setInterval(() => {
      const { published } = bridge!.stats();
      if (published >= target) {
        clearInterval(timer);
        const cpu = process.cpuUsage();
        const { active, idle } = performance.eventLoopUtilization();
        send({ type: 'reached', published, cpuUs: cpu.user + cpu.system, loop: { active, idle } });
      }
    }, 2);
  } else {
    await bridge?.stop({ timeoutMs: 5000 });
    send({ type: 'stopped', peakRssMiB: rss?.peakMiB() });
    // A normal exit, so that --cpu-prof writes its profile.
    process.disconnect();
  }
}
